import math

import pytest
import torch

from identifiable.losses import info_nce, similarity_matrix


def manual_info_nce(h, hp, tau, sim):
    b = len(h)
    total = 0.0
    for i in range(b):
        s = [float(sim(h[i], hp[j])) / tau for j in range(b)]
        total += -s[i] + math.log(sum(math.exp(v) for v in s))
    return total / b


@pytest.mark.parametrize(
    "name, sim",
    [
        ("dot", lambda a, b: a @ b),
        ("l1", lambda a, b: -(a - b).abs().sum()),
        ("l2", lambda a, b: -(a - b).square().sum()),
    ],
)
def test_matches_the_formula(name, sim):
    gen = torch.Generator().manual_seed(0)
    h, hp = (
        torch.randn(6, 3, generator=gen, dtype=torch.float64),
        torch.randn(6, 3, generator=gen, dtype=torch.float64),
    )
    got = float(info_nce(h, hp, 0.7, name))
    assert got == pytest.approx(manual_info_nce(h, hp, 0.7, sim), rel=1e-9)


def test_aligned_pairs_score_better_than_shuffled():
    gen = torch.Generator().manual_seed(0)
    h = torch.nn.functional.normalize(torch.randn(256, 8, generator=gen), dim=1)
    aligned = info_nce(h, h, 0.1)
    shuffled = info_nce(h, h[torch.randperm(256, generator=gen)], 0.1)
    assert float(aligned) < 1.0 < float(shuffled)
    # chance level for unrelated pairs is about log(B)
    assert float(shuffled) > math.log(256) - 1.0


def test_dot_loss_is_rotation_invariant_and_l1_is_not():
    gen = torch.Generator().manual_seed(1)
    h, hp = torch.randn(32, 4, generator=gen), torch.randn(32, 4, generator=gen)
    q, _ = torch.linalg.qr(torch.randn(4, 4, generator=gen))
    assert float(info_nce(h @ q, hp @ q, 0.5)) == pytest.approx(float(info_nce(h, hp, 0.5)), 1e-5)
    assert float(info_nce(h @ q, hp @ q, 0.5, "l1")) != pytest.approx(
        float(info_nce(h, hp, 0.5, "l1")), 1e-3
    )


def test_stable_at_tiny_temperature():
    h = torch.randn(16, 4)
    value = info_nce(h, h + 0.1, 1e-4, "l2")
    assert torch.isfinite(value)


def test_similarity_matrix_l2_is_nonpositive_and_zero_on_diagonal():
    h = torch.randn(10, 3)
    s = similarity_matrix(h, h, "l2")
    assert float(s.max()) <= 0
    assert torch.allclose(s.diagonal(), torch.zeros(10), atol=1e-5)


@pytest.mark.parametrize(
    "h, hp, tau, sim, message",
    [
        (torch.randn(4, 3), torch.randn(5, 3), 0.1, "dot", "same shape|shape"),
        (torch.randn(1, 3), torch.randn(1, 3), 0.1, "dot", "at least 2"),
        (torch.randn(4, 3), torch.randn(4, 3), 0.0, "dot", "tau"),
        (torch.randn(4, 3), torch.randn(4, 3), 0.1, "cosine", "similarity"),
    ],
)
def test_bad_input(h, hp, tau, sim, message):
    with pytest.raises(ValueError, match=message):
        info_nce(h, hp, tau, sim)


def _autograd_dot_info_nce(h, hp, tau):
    """The dot InfoNCE exactly as written before the fused path (autograd does the backward)."""
    logits = (h @ hp.T) / tau
    return (torch.logsumexp(logits, dim=1) - logits.diagonal()).mean()


@pytest.mark.parametrize(
    "batch, dim, tau, dtype, grad_scale",
    [
        (2, 2, 0.1, torch.float32, 1.0),
        (3, 10, 0.1, torch.float32, 1.0),
        (257, 10, 0.1, torch.float32, 1.0),
        (1024, 10, 0.1, torch.float32, 1.0),
        (131, 5, 0.37, torch.float64, 1.0),
        (50, 10, 0.01, torch.float32, -2.0),  # exp underflows to 0 and the gradient is negative
        (13, 3, 1e-4, torch.float32, 1.0),
        (40, 300, 0.5, torch.float32, 1.0),
    ],
)
def test_fused_dot_info_nce_is_bit_identical(batch, dim, tau, dtype, grad_scale):
    """The fused CPU path (losses._DotInfoNCE) must give the very same bits as the autograd
    expression, for the loss and for the gradients (signs of zeros included)."""
    gen = torch.Generator().manual_seed(batch)
    base = torch.nn.functional.normalize(torch.randn(2 * batch, dim, generator=gen, dtype=dtype))
    results = []
    for loss_fn in (_autograd_dot_info_nce, info_nce):
        x = base.clone().requires_grad_(True)
        loss = loss_fn(x[:batch], x[batch:], tau)
        (grad_scale * loss).backward()
        results.append((loss.detach(), x.grad))
    (loss_ref, grad_ref), (loss_new, grad_new) = results
    assert torch.equal(loss_new, loss_ref)
    assert torch.equal(grad_new, grad_ref)
    assert torch.equal(torch.signbit(grad_new), torch.signbit(grad_ref))


def test_fused_dot_info_nce_trains_bit_identically(monkeypatch):
    """Same seed -> identical encoder weights after Adam steps with the fused path on and off."""
    import identifiable.losses.contrastive as losses

    def train() -> list[torch.Tensor]:
        torch.manual_seed(0)
        net = torch.nn.Sequential(
            torch.nn.Linear(6, 64), torch.nn.LeakyReLU(0.01), torch.nn.Linear(64, 6)
        )
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
        gen = torch.Generator().manual_seed(1)
        for _ in range(5):
            x = torch.randn(2 * 300, 6, generator=gen)
            h = torch.nn.functional.normalize(net(x), dim=1)
            loss = info_nce(h[:300], h[300:], 0.1)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return [p.detach().clone() for p in net.parameters()]

    fused = train()
    monkeypatch.setattr(losses, "_fused_dot_applies", lambda *_: False)
    plain = train()
    assert all(torch.equal(a, b) for a, b in zip(fused, plain, strict=True))


def test_fused_dot_info_nce_supports_a_second_backward():
    """backward recomputes the logits into its buffer, so retain_graph gives the same gradient."""
    h = torch.nn.functional.normalize(torch.randn(8, 3)).requires_grad_(True)
    loss = info_nce(h[:4], h[4:], 0.1)
    (first,) = torch.autograd.grad(loss, h, retain_graph=True)
    (second,) = torch.autograd.grad(loss, h)
    assert torch.equal(first, second)


def test_fused_dot_info_nce_gives_no_silent_second_derivatives():
    h = torch.nn.functional.normalize(torch.randn(8, 3)).requires_grad_(True)
    (grad,) = torch.autograd.grad(info_nce(h[:4], h[4:], 0.1), h, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable|does not require grad"):
        grad.sum().backward()


def test_fused_dot_info_nce_falls_back_for_other_layouts():
    """Non-contiguous inputs take the autograd expression (same value either way)."""
    gen = torch.Generator().manual_seed(3)
    h, hp = torch.randn(3, 16, generator=gen).T, torch.randn(3, 16, generator=gen).T
    assert not h.is_contiguous()
    assert torch.equal(info_nce(h, hp, 0.2), _autograd_dot_info_nce(h, hp, 0.2))
