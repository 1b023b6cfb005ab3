"""ALLoRAUpdate: the finer points the main tests leave open (found by mutation testing): the
optimizer's closure protocol (the loss it returns, None without a closure)."""

from __future__ import annotations

import torch

from identifiable.models.lora import allora_factors
from identifiable.optim.allora import ALLoRAUpdate


class Layer:
    def __init__(self, A, B):
        self.A, self.B = A, B

    def row_factors(self):
        return allora_factors(self.A, self.B, 2.0)


def test_step_returns_the_closures_loss_and_none_without_one():
    """torch's Optimizer.step(closure) protocol: the closure re-evaluates the loss with gradients
    on (step itself runs under no_grad), the step uses those gradients, and step returns that
    loss; without a closure it returns None. With a closure the step equals backward + step."""
    generator = torch.Generator().manual_seed(0)
    A0 = torch.randn(2, 3, generator=generator, dtype=torch.float64)
    B0 = torch.randn(4, 2, generator=generator, dtype=torch.float64)
    x = torch.randn(5, 3, generator=generator, dtype=torch.float64)

    def make():
        A, B = A0.clone().requires_grad_(), B0.clone().requires_grad_()
        return A, B, ALLoRAUpdate(torch.optim.SGD([A, B], lr=0.1), [Layer(A, B)])

    A, B, optimizer = make()

    def closure():
        optimizer.zero_grad()
        loss = ((x @ A.T) @ B.T).square().sum()
        loss.backward()
        return loss

    loss = optimizer.step(closure)
    assert isinstance(loss, torch.Tensor)
    torch.testing.assert_close(loss, ((x @ A0.T) @ B0.T).square().sum())

    A2, B2, plain = make()
    ((x @ A2.T) @ B2.T).square().sum().backward()
    assert plain.step() is None
    torch.testing.assert_close(A.detach(), A2.detach())
    torch.testing.assert_close(B.detach(), B2.detach())
    assert not torch.equal(B.detach(), B0)
