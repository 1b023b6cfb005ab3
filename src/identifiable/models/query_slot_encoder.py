"""A slot encoder with learned slot queries: image → features → K slots by attention.

The "transformer" encoder of Brady, von Kügelgen, Lachapelle, Buchholz, Kipf, Brendel (2024),
arXiv:2411.07784 (official code JackBrady/interaction-asymmetry, ``models/encoders.py``):

    F     = CNN(x)                            GELU convolutions, 5×5
    t_j   = MLP(LN(F_j + W_pos [u, v, 1−u, 1−v]))   one token per feature-map position
    ŝ     = LN(Block_L(… Block_1(Q; t) …))    learned queries Q ∈ R^{K×w}: cross-attention to
                                              the tokens, then self-attention among the slots

The reference keeps the full resolution (four stride-1 convolutions, 64×64 tokens); here the
second and third convolutions have stride 2 (S×S → S/4 × S/4 tokens), a CPU scaling the
experiment states. Slot k is the output of query k: slots are ordered by their queries, not
exchangeable. Init: Xavier-uniform for the attention blocks' matrices, the queries U[0, 1) (as
the reference; ``query_init="normal"``: N(0, 1) — U[0, 1) queries are alike (cosine ≈ 0.75 in 64
dimensions) and the slots start, and on a short run stay, nearly identical), PyTorch's default
elsewhere, all drawn from ``generator``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from identifiable.models.attention import Block
from identifiable.models.decoders import seeded_init

__all__ = ["QuerySlotEncoder"]


class QuerySlotEncoder(nn.Module):
    """Images (n, 3, S, S) → slots (n, K, width)."""

    def __init__(
        self,
        image_size: int,
        n_slots: int,
        width: int,
        *,
        channels: int = 32,
        heads: int = 4,
        layers: int = 2,
        query_init: str = "uniform",
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        if query_init not in ("uniform", "normal"):
            raise ValueError(f"query_init must be uniform or normal, got {query_init!r}")
        if image_size % 4:
            raise ValueError(f"image_size must be a multiple of 4, got {image_size}")
        with torch.random.fork_rng(devices=[]):  # the global RNG is left alone
            convs: list[nn.Module] = []
            c_in = 3
            for stride, c_out in zip(
                (1, 2, 2, 1), (channels, channels, channels, width), strict=True
            ):
                convs += [nn.Conv2d(c_in, c_out, 5, stride=stride, padding=2), nn.GELU()]
                c_in = c_out
            self.cnn = nn.Sequential(*convs)
            side = image_size // 4
            axis = torch.linspace(0.0, 1.0, side)
            u, v = torch.meshgrid(axis, axis, indexing="ij")
            grid = torch.stack([u, v, 1 - u, 1 - v], dim=-1).reshape(side * side, 4)
            self.register_buffer("grid", grid, persistent=False)
            self.position = nn.Linear(4, width)
            self.norm_tokens = nn.LayerNorm(width)
            self.token_mlp = nn.Sequential(
                nn.Linear(width, width), nn.GELU(), nn.Linear(width, width)
            )
            self.queries = nn.Parameter(torch.empty(n_slots, width))
            self.blocks = nn.ModuleList(
                Block(width, width, width, heads, self_attention=True) for _ in range(layers)
            )
            self.norm = nn.LayerNorm(width)
            seeded_init(self, generator)
            with torch.no_grad():
                if query_init == "uniform":
                    self.queries.uniform_(0.0, 1.0, generator=generator)
                else:
                    self.queries.normal_(0.0, 1.0, generator=generator)
                for block in self.blocks:
                    for name, weight in block.named_parameters():
                        if weight.dim() > 1 and "norm" not in name:
                            bound = math.sqrt(6.0 / (weight.shape[0] + weight.shape[1]))
                            weight.uniform_(-bound, bound, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.cnn(x).flatten(2).transpose(1, 2) + self.position(self.grid)
        tokens = self.token_mlp(self.norm_tokens(tokens))
        slots = self.queries.expand(len(x), -1, -1)
        for block in self.blocks:
            slots = block(slots, tokens)[0]
        return self.norm(slots)
