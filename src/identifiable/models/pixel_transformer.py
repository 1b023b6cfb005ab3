"""A Transformer decoder whose pixel queries cross-attend to slots: ẑ ∈ R^{K×d} → x̂ ∈ R^{3×S×S}.

Brady, von Kügelgen, Lachapelle, Buchholz, Kipf, Brendel (2024), "Interaction Asymmetry: A
General Principle for Learning Composable Abstractions", arXiv:2411.07784 (official code
JackBrady/interaction-asymmetry, ``models/decoders.py::TransformerDecoder``):

    q_p   = MLP_q(γ(p))                       γ: Fourier features of the pixel's (row, col) in
                                              [0, 1]: sin, cos of 2^o·π·coordinate, o = 0..7
    s_k   = MLP_s(ẑ_k)                        d → 4·proj → proj, GELU
    h_p   = LN(Block_L(… Block_1(q_p; s) …))  cross-attention blocks (:mod:`.attention`)
    x̂_p   = MLP_out(h_p)                      query → query → query → 3, GELU

Every pixel is decoded by the same network, and slots enter only through the attention: pixel p
mixes the slots with weights A_k(p) — the quantity the interaction regulariser penalises
(:func:`identifiable.losses.interaction.cross_attention_interaction`).

Reference sizes (64×64, 4 objects): proj 516, query 180, query-MLP hidden 360, 12 heads, 2
layers. The sizes are parameters here; the experiment states the CPU-scaled ones it uses.
Initialisation: Xavier-uniform for every weight matrix of the attention blocks (as the
reference), PyTorch's default elsewhere, all drawn from ``generator``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from identifiable.models.attention import Block
from identifiable.models.decoders import seeded_init

__all__ = ["PixelTransformerDecoder", "fourier_grid"]


def fourier_grid(size: int, octaves: int = 8) -> torch.Tensor:
    """(S·S, 4·octaves) Fourier features of the pixel grid, rows then columns, in [0, 1]."""
    axis = torch.arange(size, dtype=torch.float32) / (size - 1)
    grid = torch.cartesian_prod(axis, axis)  # (S·S, 2): (row, col)
    scaled = grid[:, :, None] * (2.0 ** torch.arange(octaves) * math.pi)  # (P, 2, octaves)
    return torch.cat([torch.sin(scaled).flatten(1), torch.cos(scaled).flatten(1)], dim=1)


class PixelTransformerDecoder(nn.Module):
    """Slots (n, K, d) → images (n, 3, S, S); ``attend`` also returns the cross-attention."""

    def __init__(
        self,
        slot_dim: int,
        image_size: int,
        *,
        proj: int = 64,
        query: int = 32,
        query_hidden: int = 64,
        heads: int = 4,
        layers: int = 2,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        with torch.random.fork_rng(devices=[]):  # the global RNG is left alone
            self.image_size = image_size
            self.register_buffer("grid", fourier_grid(image_size), persistent=False)
            self.slot_mlp = nn.Sequential(
                nn.Linear(slot_dim, 4 * proj), nn.GELU(), nn.Linear(4 * proj, proj)
            )
            self.query_mlp = nn.Sequential(
                nn.Linear(self.grid.shape[1], query_hidden),
                nn.GELU(),
                nn.Linear(query_hidden, query),
            )
            self.blocks = nn.ModuleList(Block(query, proj, proj, heads) for _ in range(layers))
            self.norm = nn.LayerNorm(query)
            self.out = nn.Sequential(
                nn.Linear(query, query), nn.GELU(), nn.Linear(query, query), nn.GELU(),
                nn.Linear(query, 3),
            )  # fmt: skip
            seeded_init(self, generator)
            with torch.no_grad():
                for block in self.blocks:
                    for name, weight in block.named_parameters():
                        if weight.dim() > 1 and "norm" not in name:
                            bound = math.sqrt(6.0 / (weight.shape[0] + weight.shape[1]))
                            weight.uniform_(-bound, bound, generator=generator)

    def attend(self, slots: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(images (n, 3, S, S), weights (n, layers, heads, S·S, K))."""
        n = slots.shape[0]
        s = self.slot_mlp(slots)
        h = self.query_mlp(self.grid).expand(n, -1, -1)
        weights = []
        for block in self.blocks:
            h, w = block(h, s)
            weights.append(w)
        x = self.out(self.norm(h))  # (n, P, 3)
        images = x.transpose(1, 2).unflatten(-1, (self.image_size, self.image_size))
        return images, torch.stack(weights, dim=1)

    def forward(self, slots: torch.Tensor) -> torch.Tensor:
        return self.attend(slots)[0]

    def attention_masks(self, weights: torch.Tensor) -> torch.Tensor:
        """Weights (n, L, h, P, K) → (n, K, S, S): the heads' sum, the layers' mean — the
        reference's slot-to-pixel assignment."""
        masks = weights.sum(dim=2).mean(dim=1)  # (n, P, K)
        return masks.transpose(1, 2).unflatten(-1, (self.image_size, self.image_size))
