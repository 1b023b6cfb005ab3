"""What ``les_score`` means: LES(z) = −½ log det(JᵀJ), J the Jacobian of z ↦ (softmax ℓ_t, 1/Z_t)_t.

References: (1) a dense, naïve J = S·A (block-diagonal S, A from autograd) and slogdet in
float64; (2) autograd straight through the map φ — no S formula at all; (3) a linear decoder at
uniform logits, where JᵀJ is known in closed form. Then what the 1/Z row buys (a constant shift
of a position's logits is still seen), why far latents of a CPA decoder score high (saturation),
determinism and eval mode, the two gradients, the official-style plain implementation, and
one-line errors.
"""

import math

import numpy as np
import pytest
import torch
from torch import nn

from identifiable.metrics import metric_info
from identifiable.metrics.latent_exploration import les_gradient, les_score, les_score_plain

D, T, V = 3, 2, 4


def smooth_decoder(seed=0, d=D, t=T, v=V):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(d, 16), nn.Tanh(), nn.Linear(16, t * v)).double()
    return nn.Sequential(net, nn.Unflatten(1, (t, v)))


def cpa_decoder(seed=0, d=D, t=T, v=V):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(d, 32), nn.LeakyReLU(0.1), nn.Linear(32, t * v)).double()
    return nn.Sequential(net, nn.Unflatten(1, (t, v)))


def dense_reference(decoder, z):
    """−½ log det(JᵀJ) with J = S·A built densely, one latent at a time."""
    out = []
    for row in z:
        a = torch.autograd.functional.jacobian(lambda u: decoder(u[None])[0], row)  # (T, V, d)
        logits = decoder(row[None])[0].detach()
        t, v = logits.shape
        s = torch.zeros(t * (v + 1), t * v, dtype=torch.float64)
        for k in range(t):
            p = torch.softmax(logits[k], 0)
            z_k = torch.exp(logits[k]).sum()
            block = torch.cat(
                [torch.diag(p) - torch.outer(p, p), -(torch.exp(logits[k]) / z_k**2)[None]]
            )
            s[k * (v + 1) : (k + 1) * (v + 1), k * v : (k + 1) * v] = block
        j = s @ a.reshape(t * v, -1)
        out.append(-0.5 * torch.linalg.slogdet(j.T @ j)[1])
    return torch.stack(out)


def phi_reference(decoder, z):
    """−½ log det(JᵀJ) with J = jacrev of z ↦ (softmax(ℓ_t), 1/Z_t)_t."""

    def phi(u):
        logits = decoder(u[None])[0]
        return torch.cat(
            [torch.softmax(logits, -1), torch.exp(-torch.logsumexp(logits, -1))[:, None]], 1
        ).flatten()

    out = []
    for row in z:
        j = torch.func.jacrev(phi)(row)
        out.append(-0.5 * torch.linalg.slogdet(j.T @ j)[1])
    return torch.stack(out)


@pytest.fixture
def z():
    return torch.randn(6, D, dtype=torch.float64, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("make", [smooth_decoder, cpa_decoder])
def test_matches_the_dense_naive_construction(make, z):
    decoder = make()
    torch.testing.assert_close(
        les_score(decoder, z), dense_reference(decoder, z), rtol=0, atol=1e-8
    )


def test_matches_autograd_through_the_map_phi(z):
    decoder = smooth_decoder(seed=3)
    torch.testing.assert_close(les_score(decoder, z), phi_reference(decoder, z), rtol=0, atol=1e-8)


class Linear(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, z):
        return (z @ self.w.T)[:, None, :]  # T = 1


def test_linear_decoder_at_uniform_logits_in_closed_form():
    # ℓ = W z at z = 0: p = 1/V, Z = V. For W's columns orthonormal and ⟂ 1, JᵀJ = I/V² →
    # LES = d·log V; for W = c·1 (d = 1), only the 1/Z row sees it: JᵀJ = c²/V² → log V − log c.
    v = 5
    basis = torch.linalg.qr(
        torch.cat(
            [torch.ones(v, 1), torch.randn(v, 2, generator=torch.Generator().manual_seed(0))], 1
        ).double()
    )[0]
    w = basis[:, 1:]  # (V, 2) orthonormal, orthogonal to 1
    zero = torch.zeros(1, 2, dtype=torch.float64)
    assert les_score(Linear(w), zero).item() == pytest.approx(2 * math.log(v), abs=1e-10)
    c = 3.0
    shift = Linear(c * torch.ones(v, 1, dtype=torch.float64))
    assert les_score(shift, torch.zeros(1, 1, dtype=torch.float64)).item() == pytest.approx(
        math.log(v) - math.log(c), abs=1e-10
    )


def test_the_inverse_partition_row_keeps_a_constant_shift_visible():
    # ℓ_t(z) = b + z·1 leaves every softmax unchanged: without the 1/Z row J would be 0
    # (LES = +inf); with it LES is finite and moves with the shift's size.
    b = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)

    def decoder(z):
        return (b + z[:, :1])[:, None, :]

    z = torch.tensor([[0.0], [1.0], [-2.0]], dtype=torch.float64)
    scores = les_score(decoder, z)
    assert torch.isfinite(scores).all()
    # here J = −(p/Z)ᵀ1 = −1/Z, so LES = log Z(z) = logsumexp(b) + z
    torch.testing.assert_close(scores, torch.logsumexp(b, 0) + z[:, 0])


def test_far_latents_of_a_cpa_decoder_score_high_because_it_saturates():
    # Along a ray, a (Leaky)ReLU decoder's logits grow linearly, the softmax saturates and
    # J shrinks exponentially: LES rises with the radius (why LES alone does not flag them).
    decoder = cpa_decoder(seed=2)
    u = torch.randn(1, D, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    u = u / u.norm()
    radii = torch.tensor([5.0, 10.0, 20.0, 40.0, 80.0], dtype=torch.float64)
    scores = les_score(decoder, radii[:, None] * u)
    assert (scores.diff() > 0).all() and scores[-1] > scores[0] + 5


def test_deterministic_and_in_eval_mode(z):
    decoder = nn.Sequential(nn.Linear(D, 16), nn.Dropout(0.5), nn.Tanh(), nn.Linear(16, T * V),
                            nn.Unflatten(1, (T, V))).double()  # fmt: skip
    decoder.train()
    first = les_score(decoder, z)
    assert decoder.training  # mode restored
    torch.testing.assert_close(les_score(decoder, z), first, rtol=0, atol=0)
    decoder.eval()
    torch.testing.assert_close(les_score(decoder, z), first, rtol=0, atol=0)
    torch.testing.assert_close(les_score(decoder, z, chunk_size=2), first, rtol=0, atol=1e-12)


def test_cpa_gradient_with_the_jacobian_held_fixed_is_exact(z):
    decoder = cpa_decoder(seed=5)
    _, cheap = les_gradient(decoder, z, detach_jacobian=True)
    _, exact = les_gradient(decoder, z, detach_jacobian=False)
    torch.testing.assert_close(cheap, exact, rtol=1e-9, atol=1e-9)


def test_exact_gradient_matches_finite_differences_and_differs_from_cpa_when_smooth(z):
    decoder = smooth_decoder(seed=6)
    _, exact = les_gradient(decoder, z, detach_jacobian=False)
    _, cheap = les_gradient(decoder, z, detach_jacobian=True)
    eps = 1e-6
    numeric = torch.stack(
        [(les_score(decoder, z + eps * e) - les_score(decoder, z - eps * e)) / (2 * eps)
         for e in torch.eye(D, dtype=torch.float64)], 1
    )  # fmt: skip
    torch.testing.assert_close(exact, numeric, rtol=1e-5, atol=1e-6)
    assert (exact - cheap).abs().max() > 1e-3  # tanh is not CPA: the approximation shows


def test_prior_term_is_minus_half_squared_norm(z):
    decoder = smooth_decoder()
    torch.testing.assert_close(
        les_score(decoder, z, prior=True), les_score(decoder, z) - 0.5 * (z**2).sum(1)
    )


def test_plain_official_style_implementation_agrees_roughly():
    decoder = cpa_decoder(seed=7).float()
    z = torch.randn(5, D, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(
        les_score_plain(decoder, z).double(), les_score(decoder, z), rtol=1e-2, atol=1e-2
    )


def test_a_decoder_vmap_cannot_batch_falls_back_to_a_loop(z, monkeypatch):
    decoder = smooth_decoder(seed=8)
    expected = les_score(decoder, z)

    def refuse(*args, **kwargs):
        raise RuntimeError("vmap: not supported")

    monkeypatch.setattr(torch.func, "vmap", refuse)
    torch.testing.assert_close(les_score(decoder, z), expected, rtol=0, atol=1e-10)
    _, exact = les_gradient(decoder, z, detach_jacobian=False)
    assert torch.isfinite(exact).all()


def test_accepts_numpy_and_declares_its_meaning(z):
    decoder = smooth_decoder()
    np.testing.assert_allclose(les_score(decoder, z.numpy()).numpy(), les_score(decoder, z).numpy())
    info = metric_info("latent_exploration_score")
    assert info.higher_is_better is True


@pytest.mark.parametrize(
    "decoder, latents, message",
    [
        (lambda z: smooth_decoder()(z).argmax(-1), torch.zeros(2, D), "float logits"),
        (lambda z: smooth_decoder()(z).detach(), torch.zeros(2, D), "no gradient path"),
        (lambda z: smooth_decoder()(z).argmax(-1).double(), torch.zeros(2, D), "no gradient path"),
        (smooth_decoder(), torch.zeros(D), "shape"),
        (smooth_decoder(), torch.full((2, D), float("nan")), "NaN"),
        (smooth_decoder(d=9, t=1, v=4), torch.zeros(2, 9), "no wider"),
        (lambda z: z.sum(1), torch.zeros(2, D), "logits"),
    ],
)
def test_bad_input_is_a_one_line_value_error(decoder, latents, message):
    with pytest.raises(ValueError, match=message) as error:
        les_score(decoder, latents.double())
    assert "\n" not in str(error.value)
