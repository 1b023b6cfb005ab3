"""What ALLoRA's rule means: row i of ∂L/∂(BA) is scaled by c_i = 1/√(‖(BA)_i‖₂ + 1/η²), only
A's and B's gradients change (not the input's), and where the factor goes decides what an
optimizer step does: under SGD it rescales the step, under Adam the gradient placement is divided
out at B = 0 while the update placement is not.

Reference: autograd on the product D = BA as a leaf (g = ∂L/∂D), the row norms of D computed
directly, and g̃ = diag(c) g pushed through the product by hand (∂B = g̃ Aᵀ, ∂A = Bᵀ g̃).
"""

import pytest
import torch

from identifiable.models.lora import LoRALinear, allora_factors, allora_product, row_norms
from identifiable.optim.allora import ALLoRAUpdate

ETA2 = 2.0


class Layer:
    """The least an ALLoRAUpdate needs: A, B and the row factors."""

    def __init__(self, A, B, eta2=ETA2):
        self.A, self.B, self.eta2 = A, B, eta2

    def row_factors(self):
        return allora_factors(self.A, self.B, self.eta2)


def factors(n_in=6, n_out=5, rank=3, seed=0, zero_b=False):
    generator = torch.Generator().manual_seed(seed)
    A = torch.randn(rank, n_in, generator=generator, dtype=torch.float64)
    B = torch.zeros(n_out, rank, dtype=torch.float64)
    if not zero_b:
        B = torch.randn(n_out, rank, generator=generator, dtype=torch.float64)
    return A.requires_grad_(), B.requires_grad_()


def batch(n_in=6, n_out=5, seed=1):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(4, 3, n_in, generator=generator, dtype=torch.float64)  # (batch, seq, n_in)
    weights = torch.randn(4, 3, n_out, generator=generator, dtype=torch.float64)
    return x, weights


def loss_of(out, weights):
    return (torch.tanh(out) * weights).sum()


def reference_gradients(x, A, B, weights, eta2):
    """g = ∂L/∂(BA) by autograd, scaled per row by c from the rows of BA, pushed through."""
    D = (B @ A).detach().requires_grad_()
    loss_of(x @ D.T, weights).backward()
    g = D.grad
    c = 1.0 / torch.sqrt(torch.linalg.vector_norm(D.detach(), dim=1) + 1.0 / eta2)
    scaled = c[:, None] * g
    return scaled @ A.detach().T, B.detach().T @ scaled, c


def test_row_norms_and_factors_match_the_product_without_forming_it():
    A, B = factors()
    direct = torch.linalg.vector_norm(B @ A, dim=1)
    torch.testing.assert_close(row_norms(A, B), direct.detach())
    torch.testing.assert_close(allora_factors(A, B, ETA2), 1 / torch.sqrt(direct.detach() + 0.5))


def test_the_norm_is_not_squared_and_a_zero_row_gives_eta():
    A = torch.tensor([[1.0, 0.0]])
    B = torch.tensor([[4.0], [0.0]])  # rows of BA: (4, 0) with norm 4, and (0, 0)
    c = allora_factors(A, B, 4.0)
    torch.testing.assert_close(c, torch.tensor([1 / 4.25**0.5, 2.0]))  # not 1/√(16 + 1/4)
    assert float(allora_factors(A, torch.zeros(3, 1), 1.0).max()) == 1.0


def test_gradients_equal_the_row_scaled_product_gradient_and_the_input_gradient_is_plain():
    A, B = factors()
    x, weights = batch()
    x.requires_grad_()
    out = allora_product(x, A, B, ETA2)
    torch.testing.assert_close(out, (x @ A.T) @ B.T)
    loss_of(out, weights).backward()
    expected_b, expected_a, c = reference_gradients(x.detach(), A, B, weights, ETA2)
    torch.testing.assert_close(B.grad, expected_b, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(A.grad, expected_a, rtol=1e-12, atol=1e-12)
    assert not torch.allclose(c, c[0].expand_as(c))  # rows really are scaled differently

    plain_x = x.detach().clone().requires_grad_()
    loss_of((plain_x @ A.detach().T) @ B.detach().T, weights).backward()
    torch.testing.assert_close(x.grad, plain_x.grad, rtol=1e-12, atol=1e-12)


def test_at_b_zero_an_sgd_step_is_the_plain_step_at_eta_times_the_rate():
    A, B = factors(zero_b=True)
    x, weights = batch()
    loss_of(allora_product(x, A, B, 4.0), weights).backward()
    A2, B2 = (t.detach().clone().requires_grad_() for t in (A, B))
    loss_of((x @ A2.T) @ B2.T, weights).backward()
    lr = 0.1
    torch.testing.assert_close(lr * B.grad, (2.0 * lr) * B2.grad)  # η = 2
    assert float(A.grad.abs().max()) == 0.0  # B = 0: A gets no gradient either way


def sgd_steps(placement, A, B, x, weights, lr=0.1):
    """One SGD step of an ALLoRA layer; returns the new (A, B)."""
    A, B = (t.detach().clone().requires_grad_() for t in (A, B))
    layer = Layer(A, B)
    optimizer = torch.optim.SGD([A, B], lr=lr)
    if placement == "update":
        optimizer = ALLoRAUpdate(optimizer, [layer])
        out = (x @ A.T) @ B.T
    else:
        out = allora_product(x, A, B, ETA2)
    loss_of(out, weights).backward()
    optimizer.step()
    return A.detach(), B.detach()


def test_under_sgd_the_update_placement_gives_the_gradient_rules_step_on_b():
    A, B = factors()
    x, weights = batch()
    new_a, new_b = sgd_steps("gradient", A, B, x, weights)
    other_a, other_b = sgd_steps("update", A, B, x, weights)
    torch.testing.assert_close(new_b, other_b, rtol=1e-12, atol=1e-12)
    assert not torch.allclose(new_a, other_a)  # rows differ: the mean factor on A is not exact
    # rows of BA with one norm (identical rows of B): A's steps agree too
    same = B.detach()[:1].expand_as(B).clone().requires_grad_()
    new_a, new_b = sgd_steps("gradient", A, same, x, weights)
    other_a, other_b = sgd_steps("update", A, same, x, weights)
    torch.testing.assert_close(new_a, other_a, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(new_b, other_b, rtol=1e-12, atol=1e-12)


def adam_step(placement, A, B, x, weights, lr=0.01):
    """One AdamW step; returns (ΔA, ΔB). ``placement``: plain, gradient or update."""
    A0, B0 = A.detach().clone(), B.detach().clone()
    A, B = (t.detach().clone().requires_grad_() for t in (A, B))
    optimizer = torch.optim.AdamW([A, B], lr=lr, weight_decay=0.0)
    if placement == "update":
        optimizer = ALLoRAUpdate(optimizer, [Layer(A, B)])
    out = allora_product(x, A, B, ETA2) if placement == "gradient" else (x @ A.T) @ B.T
    loss_of(out, weights).backward()
    optimizer.step()
    return A.detach() - A0, B.detach() - B0


def test_under_adam_the_gradient_rule_is_divided_out_at_b_zero_and_the_update_placement_is_not():
    A, B = factors(zero_b=True)
    x, weights = batch()
    plain = adam_step("plain", A, B, x, weights)
    gradient = adam_step("gradient", A, B, x, weights)
    update = adam_step("update", A, B, x, weights)
    torch.testing.assert_close(gradient[1], plain[1])  # every c_i = η: Adam cancels it
    torch.testing.assert_close(update[1], ETA2**0.5 * plain[1])  # lr · η per row
    assert float(plain[1].abs().max()) > 0


def test_under_adam_the_update_placement_scales_row_i_by_c_i_and_a_by_their_mean():
    A, B = factors()
    x, weights = batch()
    c = allora_factors(A, B, ETA2)
    plain_a, plain_b = adam_step("plain", A, B, x, weights)
    update_a, update_b = adam_step("update", A, B, x, weights)
    torch.testing.assert_close(update_b, c[:, None] * plain_b, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(update_a, c.mean() * plain_a, rtol=1e-10, atol=1e-12)
    assert not torch.allclose(update_b, plain_b)


def test_update_wrapper_shares_state_and_refuses_what_it_cannot_wrap():
    A, B = factors()
    layer = Layer(A, B)
    base = torch.optim.AdamW([A, B], lr=1e-3)
    wrapped = ALLoRAUpdate(base, [layer])
    assert wrapped.param_groups is base.param_groups and wrapped.state is base.state
    assert "ALLoRAUpdate(AdamW" in repr(wrapped)
    x, weights = batch()
    loss_of((x @ A.T) @ B.T, weights).backward()
    wrapped.step()
    fresh = ALLoRAUpdate(torch.optim.AdamW([A, B], lr=1.0), [layer])
    fresh.load_state_dict(wrapped.state_dict())
    assert fresh.param_groups[0]["lr"] == 1e-3 and fresh.state is fresh.base.state
    with pytest.raises(ValueError, match="wraps a torch.optim.Optimizer"):
        ALLoRAUpdate([A, B], [layer])
    with pytest.raises(ValueError, match="at least one ALLoRA layer"):
        ALLoRAUpdate(torch.optim.SGD([A], lr=0.1), [])
    with pytest.raises(ValueError, match=r"eta2 \(η²\) must be > 0"):
        ALLoRAUpdate(torch.optim.SGD([A], lr=0.1), [Layer(A, B, 0.0)])
    lora = LoRALinear(torch.nn.Linear(3, 2), 1)
    with pytest.raises(ValueError, match="row_factors are ALLoRA's"):
        ALLoRAUpdate(torch.optim.SGD([lora.A], lr=0.1), [lora])
    gradient = LoRALinear(torch.nn.Linear(3, 2), 1, kind="allora")
    with pytest.raises(ValueError, match="needs layers with placement='update'"):
        ALLoRAUpdate(torch.optim.SGD([gradient.A], lr=0.1), [gradient])


def test_product_refuses_mismatched_shapes():
    A, B = factors()
    with pytest.raises(ValueError, match=r"need x \(\.\.\., n_in\)"):
        allora_product(torch.ones(2, 5, dtype=torch.float64), A, B, ETA2)
    with pytest.raises(ValueError, match="need x"):
        allora_product(torch.ones(2, 6, dtype=torch.float64), A, B.T, ETA2)
