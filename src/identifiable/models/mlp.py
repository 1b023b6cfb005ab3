"""Encoders: small MLPs with explicit, generator-seeded initialisation."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["MLPEncoder"]


class MLPEncoder(nn.Module):
    """x -> Linear -> LeakyReLU -> ... -> Linear (-> h/‖h‖ when ``normalize``).

    ``hidden`` lists the hidden widths. The init is PyTorch's default for ``nn.Linear``
    (Kaiming-uniform weights with a = √5, uniform biases) drawn from ``generator``, so a seed fixes
    the encoder without touching the global RNG. With ``normalize=True`` the output lies on the
    unit sphere, as in the sphere model of Zimmermann et al. (2021), arXiv:2102.08850.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        hidden: tuple[int, ...],
        *,
        normalize: bool,
        negative_slope: float = 0.01,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        widths = (n_in, *hidden, n_out)
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            linear = nn.Linear(a, b)
            bound = 1.0 / math.sqrt(a)
            with torch.no_grad():
                linear.weight.uniform_(-bound, bound, generator=generator)
                linear.bias.uniform_(-bound, bound, generator=generator)
            layers.append(linear)
            if i < len(widths) - 2:
                layers.append(nn.LeakyReLU(negative_slope))
        self.net = nn.Sequential(*layers)
        self.normalize = normalize

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.net(x)
        if self.normalize:
            h = h / h.norm(dim=-1, keepdim=True).clamp_min(1e-8)
        return h
