"""Accuracy under an ℓ∞ projected-gradient-descent (PGD) attack.

Madry, Makelov, Schmidt, Tsipras, Vladu (2018), "Towards Deep Learning Models Resistant to
Adversarial Attacks", ICLR, arXiv:1706.06083; the attack of Humayun, Balestriero, Baraniuk
(2024), arXiv:2402.15555 (grok-adversarial ``attacks.py``: ℓ∞, untargeted cross-entropy, no
random start). From x⁰ = x, for t = 1 … T:

    x^t = clip_[lo, hi]( x + clip_[−ε, ε]( x^{t−1} + α·sign ∇_x CE(f(x^{t−1}), y) − x ) )

and the score is the accuracy of f on x^T. With ε = 0 it is the clean accuracy.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from identifiable.metrics._registry import declare

__all__ = ["pgd_accuracy", "pgd_attack"]

declare(
    "pgd_accuracy",
    higher_is_better=True,
    kind="proportion",
    description="accuracy on ℓ∞ PGD adversarial examples",
)


def _check(eps: float, step: float, iterations: int) -> None:
    for name, value in (("eps", eps), ("step", step)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
        raise ValueError(f"iterations must be an int >= 0, got {iterations!r}")


def pgd_attack(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    eps: float,
    step: float,
    iterations: int,
    bounds: tuple[float, float] | None = (0.0, 1.0),
) -> torch.Tensor:
    """The adversarial inputs x^T (same shape as x); ``bounds`` the valid input range or None."""
    _check(eps, step, iterations)
    was_training = model.training
    model.eval()
    x = x.detach()
    adversarial = x.clone()
    try:
        for _ in range(iterations):
            adversarial.requires_grad_(True)
            loss = nn.functional.cross_entropy(model(adversarial), y, reduction="sum")
            (grad,) = torch.autograd.grad(loss, adversarial)
            with torch.no_grad():
                moved = adversarial + step * grad.sign()
                adversarial = x + (moved - x).clamp(-eps, eps)
                if bounds is not None:
                    adversarial = adversarial.clamp(*bounds)
    finally:
        model.train(was_training)
    return adversarial.detach()


def pgd_accuracy(
    model: nn.Module,
    x,
    y,
    *,
    eps: float,
    step: float,
    iterations: int,
    bounds: tuple[float, float] | None = (0.0, 1.0),
    chunk_size: int = 4096,
) -> float:
    """Accuracy of ``model`` on :func:`pgd_attack` examples of (x, y), chunk by chunk."""
    x = torch.as_tensor(x, dtype=torch.float32)
    y = torch.as_tensor(y).long().reshape(-1)
    if x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError(f"need n >= 1 inputs and as many labels, got {x.shape[0]} and {len(y)}")
    parameter = next(model.parameters())
    correct = 0
    for xs, ys in zip(x.split(chunk_size), y.split(chunk_size), strict=True):
        xs, ys = xs.to(parameter.device), ys.to(parameter.device)
        adversarial = pgd_attack(
            model, xs, ys, eps=eps, step=step, iterations=iterations, bounds=bounds
        )
        with torch.no_grad():
            was_training = model.training
            model.eval()
            correct += int((model(adversarial).argmax(1) == ys).sum())
            model.train(was_training)
    return correct / x.shape[0]
