"""An encoder of observations into K slots: x → ẑ ∈ R^{K×d}.

The encoder of the additive autoencoder of Wiedemer*, Brady*, Panfilov*, Juhos*, Bethge,
Brendel (2024), arXiv:2310.05327 (reference ``SlotMLPAdditive``): for images (3, S, S),
4 × [Conv 4×4, stride 2, padding 1 → ELU] with 32 channels (S → S/16), then Linear
256 → 256 → 128 → K·d with ELU; for vector observations the MLP alone. The output is split into
K slots by position — it is not permutation-equivariant. Init: PyTorch's default, drawn from
``generator``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from identifiable.models.decoders import seeded_init

__all__ = ["SlotEncoder"]


class SlotEncoder(nn.Module):
    """x → (n, K, d): conv stack (images) or nothing (vectors), then an ELU MLP."""

    def __init__(
        self,
        x_shape: tuple[int, ...],
        n_slots: int,
        slot_dim: int,
        *,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        self.n_slots, self.slot_dim = n_slots, slot_dim
        layers: list[nn.Module] = []
        if len(x_shape) == 3:  # images: 4 stride-2 convolutions (64 → 4, 32 → 2 pixels)
            channels = x_shape[0]
            for _ in range(4):
                layers += [nn.Conv2d(channels, 32, 4, stride=2, padding=1), nn.ELU()]
                channels = 32
            flat = 32 * (x_shape[1] // 16) * (x_shape[2] // 16)
        else:
            flat = math.prod(x_shape)
        widths = (flat, 256, 256, 128)
        layers.append(nn.Flatten())
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Linear(a, b), nn.ELU()]
        layers.append(nn.Linear(widths[-1], n_slots * slot_dim))
        self.net = nn.Sequential(*layers)
        seeded_init(self, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(len(x), self.n_slots, self.slot_dim)
