"""Decoders z → x: an MLP into any output shape, and an upsampling MLP-to-image decoder.

``UpsampleDecoder`` follows the generator of Wiedemer, Mayilvahanan, Bethge, Brendel (2023),
arXiv:2307.05596 (reference ``UpsampleMLP``): Linear layers (ELU) into a 32 × 4 × 4 feature map,
then [ELU → bilinear ×2 upsampling → 2×2 convolution ('same')] until the image size, the last
convolution into the output channels; no output activation. ``MLPDecoder`` is the vector
analogue: Linear → ELU → … → Linear, reshaped to ``out_shape``.

Slot decoders (Wiedemer, Brady et al. 2024, arXiv:2310.05327) wrap one of them, φ̂, for slots
ẑ (n, K, d): ``AdditiveDecoder`` x̂ = Σ_k φ̂(ẑ_k) (one φ̂ for all slots), ``MonolithicDecoder``
x̂ = φ̂(ẑ_1, …, ẑ_K) (φ̂ on the K·d concatenated values).

Init: PyTorch's default for ``nn.Linear``/``nn.Conv2d`` (weights and biases U(±1/√fan_in)) drawn
from ``generator``, so a seed fixes a decoder without the global RNG.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = [
    "AdditiveDecoder",
    "MLPDecoder",
    "MonolithicDecoder",
    "UpsampleDecoder",
    "n_parameters",
    "seeded_init",
]


def n_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def seeded_init(module: nn.Module, generator: torch.Generator | None) -> None:
    """Redraw every Linear/Conv2d weight and bias from U(±1/√fan_in) (PyTorch's default)."""
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.Linear | nn.Conv2d):
                fan_in = layer.weight[0].numel()
                bound = 1.0 / math.sqrt(fan_in)
                layer.weight.uniform_(-bound, bound, generator=generator)
                if layer.bias is not None:
                    layer.bias.uniform_(-bound, bound, generator=generator)


class MLPDecoder(nn.Module):
    """z (n, d_in) → x (n, *out_shape): ``depth`` Linear layers of width ``hidden``, ELU."""

    def __init__(
        self,
        d_in: int,
        out_shape: tuple[int, ...],
        hidden: int = 256,
        depth: int = 4,
        *,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        self.out_shape = tuple(out_shape)
        widths = (d_in, *([hidden] * (depth - 1)), math.prod(self.out_shape))
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            layers.append(nn.Linear(a, b))
            if i < len(widths) - 2:
                layers.append(nn.ELU())
        self.net = nn.Sequential(*layers)
        seeded_init(self, generator)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(len(z), *self.out_shape)


class UpsampleDecoder(nn.Module):
    """z (n, d_in) → image (n, channels, S, S), S = 4·2^m ≥ 8 (module docstring)."""

    def __init__(
        self,
        d_in: int,
        image_size: int,
        channels: int = 3,
        hidden: int = 256,
        depth: int = 4,
        feature_channels: int = 32,
        *,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        steps = math.log2(image_size / 4)
        if image_size < 8 or steps != int(steps):
            raise ValueError(f"image_size must be 4·2^m >= 8 (8, 16, 32, 64, …), got {image_size}")
        self.feature_channels = feature_channels
        self.mlp = MLPDecoder(d_in, (feature_channels * 16,), hidden, depth)
        blocks: list[nn.Module] = []
        for i in range(int(steps)):
            out = channels if i == int(steps) - 1 else feature_channels
            blocks += [
                nn.ELU(),
                nn.UpsamplingBilinear2d(scale_factor=2),
                nn.ZeroPad2d((0, 1, 0, 1)),  # = padding="same" for k = 2, without its copy
                nn.Conv2d(feature_channels, out, kernel_size=2),
            ]
        self.upsample = nn.Sequential(*blocks)
        seeded_init(self, generator)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        features = self.mlp(z).view(len(z), self.feature_channels, 4, 4)
        return self.upsample(features)


class AdditiveDecoder(nn.Module):
    """x̂ = Σ_k φ̂(ẑ_k) for slots (n, K, d); ``render_slots`` gives each φ̂(ẑ_k) (n, K, ...)."""

    def __init__(self, phi: nn.Module):
        super().__init__()
        self.phi = phi

    def render_slots(self, slots: torch.Tensor) -> torch.Tensor:
        n, k, d = slots.shape
        out = self.phi(slots.reshape(n * k, d))
        return out.view(n, k, *out.shape[1:])

    def forward(self, slots: torch.Tensor) -> torch.Tensor:
        return self.render_slots(slots).sum(dim=1)


class MonolithicDecoder(nn.Module):
    """x̂ = φ̂(ẑ_1, …, ẑ_K): φ̂ on the flattened slots (n, K·d)."""

    def __init__(self, phi: nn.Module):
        super().__init__()
        self.phi = phi

    def forward(self, slots: torch.Tensor) -> torch.Tensor:
        return self.phi(slots.flatten(1))
