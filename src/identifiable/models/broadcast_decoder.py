"""Spatial broadcast decoder: each slot rendered on its own into RGB + a mask logit, masks
normalised over slots, images mixed by them — an explicit object-centric prior.

Watters, Matthey, Burgess, Lerchner (2019), "Spatial Broadcast Decoder", arXiv:1901.07017; as
used with slots by Locatello et al. (2020), "Object-Centric Learning with Slot Attention",
arXiv:2006.15055, and as the baseline of Brady et al. (2024), arXiv:2411.07784 (official code
JackBrady/interaction-asymmetry, ``SpatialBroadcastDecoder``):

    g_k        = broadcast(ẑ_k) to an 8×8 grid + W_pos [u, v, 1−u, 1−v]
    (r_k, l_k) = ConvT stack(g_k)              5×5 stride-2 up-convolutions to S×S, GELU,
                                               then 5×5 and 3×3 stride-1, 4 output channels
    m_k        = softmax_k(l_k)                 per pixel, over slots
    x̂          = Σ_k m_k · r_k

Each pixel depends on every slot only through the softmax of the masks, so slots that own
different pixels barely interact (Brady et al.'s "explicit object-centric prior"). Init:
PyTorch's default, drawn from ``generator``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from identifiable.models.decoders import seeded_init

__all__ = ["BroadcastDecoder"]

_START = 8  # side of the broadcast grid


class BroadcastDecoder(nn.Module):
    """Slots (n, K, d) → images (n, 3, S, S); ``render`` also returns the masks (n, K, S, S)."""

    def __init__(
        self,
        slot_dim: int,
        image_size: int,
        *,
        channels: int = 32,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        with torch.random.fork_rng(devices=[]):  # the global RNG is left alone
            ups = math.log2(image_size / _START)
            if image_size < _START or ups != int(ups):
                raise ValueError(f"image_size must be 8 times a power of 2, got {image_size}")
            self.image_size = image_size
            axis = torch.linspace(0.0, 1.0, _START)
            u, v = torch.meshgrid(axis, axis, indexing="ij")
            self.register_buffer(
                "grid", torch.stack([u, v, 1 - u, 1 - v], dim=-1), persistent=False
            )
            self.position = nn.Linear(4, slot_dim)
            layers: list[nn.Module] = []
            width = slot_dim
            for _ in range(int(ups)):
                layers += [
                    nn.ConvTranspose2d(width, channels, 5, stride=2, padding=2, output_padding=1),
                    nn.GELU(),
                ]
                width = channels
            layers += [nn.ConvTranspose2d(width, channels, 5, padding=2), nn.GELU()]
            layers.append(nn.ConvTranspose2d(channels, 4, 3, padding=1))
            self.net = nn.Sequential(*layers)
            seeded_init(self, generator)
            with (
                torch.no_grad()
            ):  # seeded_init covers Linear/Conv2d; the transposed convolutions too
                for layer in self.net:
                    if isinstance(layer, nn.ConvTranspose2d):
                        bound = 1.0 / math.sqrt(layer.weight[0].numel())
                        layer.weight.uniform_(-bound, bound, generator=generator)
                        layer.bias.uniform_(-bound, bound, generator=generator)

    def render(self, slots: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(images (n, 3, S, S), masks (n, K, S, S))."""
        n, k, d = slots.shape
        grid = slots.reshape(n * k, 1, 1, d) + self.position(self.grid)  # (n·K, 8, 8, d)
        out = self.net(grid.permute(0, 3, 1, 2)).unflatten(0, (n, k))  # (n, K, 4, S, S)
        masks = torch.softmax(out[:, :, 3], dim=1)
        return (out[:, :, :3] * masks[:, :, None]).sum(dim=1), masks

    def forward(self, slots: torch.Tensor) -> torch.Tensor:
        return self.render(slots)[0]
