"""Plain ReLU MLPs, optionally without biases: the networks of the grokking papers.

    f(x) = W_L σ(W_{L−1} ⋯ σ(W_1 x + b_1) ⋯) + b_L,   σ = ReLU

Prieto et al. (2025), arXiv:2501.04697, use 226 → 200 → 200 → 113 without biases on modular
arithmetic; Humayun, Balestriero, Baraniuk (2024), arXiv:2402.15555, count the linear regions of
such piecewise-linear networks. Init is PyTorch's ``nn.Linear`` default (weights and biases
U(±1/√fan_in)) drawn from ``generator``, so a seed fixes the network without the global RNG.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["relu_mlp"]


def relu_mlp(
    n_in: int,
    n_out: int,
    hidden: tuple[int, ...],
    *,
    bias: bool = True,
    generator: torch.Generator | None = None,
) -> nn.Sequential:
    """``Linear → ReLU → … → Linear`` with widths (n_in, *hidden, n_out)."""
    widths = (n_in, *hidden, n_out)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        linear = nn.Linear(a, b, bias=bias)
        bound = 1.0 / math.sqrt(a)
        with torch.no_grad():
            linear.weight.uniform_(-bound, bound, generator=generator)
            if bias:
                linear.bias.uniform_(-bound, bound, generator=generator)
        layers.append(linear)
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)
