"""What ⊥Grad means: per tensor, the step direction is orthogonal to θ and has the norm of the
gradient; the base optimizer then steps on it with its own settings, and state round-trips.

Reference: the formula g⊥ = g − (θᵀg/θᵀθ) θ, rescaled to ‖g‖, computed in float64 with numpy-free
Python sums, and one SGD step θ ← θ − lr·g⊥ written out by hand.
"""

import pytest
import torch

from identifiable.optim import OrthoGrad, orthogonal_gradient


def reference(w: list[float], g: list[float]) -> list[float]:
    wg = sum(a * b for a, b in zip(w, g, strict=True))
    ww = sum(a * a for a in w)
    proj = [b - wg / ww * a for a, b in zip(w, g, strict=True)]
    scale = sum(b * b for b in g) ** 0.5 / sum(p * p for p in proj) ** 0.5
    return [p * scale for p in proj]


def test_projection_is_orthogonal_to_the_weights_with_the_gradients_norm():
    generator = torch.Generator().manual_seed(0)
    w = torch.randn(7, 5, generator=generator, dtype=torch.float64)
    g = torch.randn(7, 5, generator=generator, dtype=torch.float64) + 0.8 * w
    g_perp = orthogonal_gradient(w, g)
    assert g_perp.shape == g.shape
    cosine = float((g_perp * w).sum() / (g_perp.norm() * w.norm()))
    assert abs(cosine) < 1e-12
    assert float(g_perp.norm()) == pytest.approx(float(g.norm()), rel=1e-12)
    expected = reference(w.reshape(-1).tolist(), g.reshape(-1).tolist())
    torch.testing.assert_close(g_perp.reshape(-1), torch.tensor(expected, dtype=torch.float64))


def test_a_gradient_along_the_weights_is_removed_and_an_orthogonal_one_kept():
    w = torch.tensor([3.0, 4.0], dtype=torch.float64)
    assert float(orthogonal_gradient(w, 2 * w).norm()) < 1e-6  # only the ε-guarded residue
    ortho = torch.tensor([-4.0, 3.0], dtype=torch.float64)
    torch.testing.assert_close(orthogonal_gradient(w, ortho), ortho)
    # zero weights: nothing to project out
    torch.testing.assert_close(
        orthogonal_gradient(torch.zeros(2), torch.tensor([1.0, 2.0])), torch.tensor([1.0, 2.0])
    )


def test_each_tensor_is_projected_on_its_own_weights_then_the_base_steps():
    torch.manual_seed(0)
    a = torch.nn.Parameter(torch.randn(3, dtype=torch.float64))
    b = torch.nn.Parameter(torch.randn(2, dtype=torch.float64))
    ga, gb = torch.randn(3, dtype=torch.float64), torch.randn(2, dtype=torch.float64)
    before_a, before_b = a.detach().clone(), b.detach().clone()
    optimizer = OrthoGrad(torch.optim.SGD([a, b], lr=0.1))
    a.grad, b.grad = ga.clone(), gb.clone()
    optimizer.step()
    for p, before, g in ((a, before_a, ga), (b, before_b, gb)):
        step = torch.tensor(reference(before.tolist(), g.tolist()), dtype=torch.float64)
        torch.testing.assert_close(p.detach(), before - 0.1 * step)


def test_eps_is_the_configured_one_and_step_without_closure_returns_none():
    w = torch.nn.Parameter(torch.tensor([1.0, 0.0]))
    optimizer = OrthoGrad(torch.optim.SGD([w], lr=1.0), eps=1.0)
    w.grad = torch.tensor([1.0, 1.0])
    assert optimizer.step() is None
    # eps = 1: g − (θᵀg/(θᵀθ + 1))θ = (0.5, 1), rescaled to ‖g‖ = √2 by ‖·‖ + 1
    expected = orthogonal_gradient(torch.tensor([1.0, 0.0]), torch.tensor([1.0, 1.0]), eps=1.0)
    torch.testing.assert_close(w.detach(), torch.tensor([1.0, 0.0]) - expected)
    assert not torch.allclose(
        expected, orthogonal_gradient(torch.tensor([1.0, 0.0]), torch.tensor([1.0, 1.0]))
    )


def test_parameters_without_gradients_are_left_alone_and_closure_is_called():
    a = torch.nn.Parameter(torch.ones(2))
    b = torch.nn.Parameter(torch.ones(2))
    optimizer = OrthoGrad(torch.optim.SGD([a, b], lr=1.0))

    def closure():
        optimizer.zero_grad()
        loss = (a * torch.tensor([1.0, -1.0])).sum()
        loss.backward()
        return loss

    assert float(optimizer.step(closure).detach()) == 0.0
    torch.testing.assert_close(b.detach(), torch.ones(2))
    torch.testing.assert_close(a.detach(), torch.tensor([0.0, 2.0]))


def test_settings_pass_through_and_state_round_trips():
    model = torch.nn.Linear(4, 3)
    base = torch.optim.AdamW(
        model.parameters(), lr=5e-3, betas=(0.9, 0.99), eps=1e-25, weight_decay=0.1
    )
    optimizer = OrthoGrad(base)
    assert optimizer.param_groups is base.param_groups and optimizer.state is base.state
    group = optimizer.param_groups[0]
    assert (group["lr"], group["betas"], group["eps"], group["weight_decay"]) == (
        5e-3,
        (0.9, 0.99),
        1e-25,
        0.1,
    )
    for _ in range(3):
        optimizer.zero_grad()
        model(torch.randn(8, 4)).pow(2).sum().backward()
        optimizer.step()
    saved = optimizer.state_dict()
    fresh = OrthoGrad(torch.optim.AdamW(model.parameters(), lr=1.0))
    fresh.load_state_dict(saved)
    assert fresh.param_groups is fresh.base.param_groups and fresh.state is fresh.base.state
    assert fresh.param_groups[0]["lr"] == 5e-3 and fresh.param_groups[0]["betas"] == (0.9, 0.99)
    for p in model.parameters():
        torch.testing.assert_close(fresh.state[p]["exp_avg"], optimizer.state[p]["exp_avg"])
    scheduler = torch.optim.lr_scheduler.StepLR(fresh, step_size=1, gamma=0.5)
    fresh.step()
    scheduler.step()
    assert fresh.base.param_groups[0]["lr"] == 2.5e-3
    assert "OrthoGrad(AdamW" in repr(fresh)


def test_refuses_what_it_cannot_wrap():
    params = [torch.nn.Parameter(torch.ones(2))]
    with pytest.raises(ValueError, match="wraps a torch.optim.Optimizer"):
        OrthoGrad(params)
    base = torch.optim.SGD(params, lr=0.1)
    with pytest.raises(ValueError, match="already applied"):
        OrthoGrad(OrthoGrad(base))
    with pytest.raises(ValueError, match="eps must be > 0"):
        OrthoGrad(torch.optim.SGD(params, lr=0.1), eps=0.0)
