"""A small convolutional encoder with explicit, generator-seeded initialisation."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["ConvEncoder"]


def _init_uniform_(module: nn.Conv2d | nn.Linear, generator: torch.Generator | None) -> None:
    """PyTorch's default init (Kaiming-uniform, a = √5: U(±1/√fan_in) weights and biases)."""
    fan_in = module.weight[0].numel()
    bound = 1.0 / math.sqrt(fan_in)
    with torch.no_grad():
        module.weight.uniform_(-bound, bound, generator=generator)
        module.bias.uniform_(-bound, bound, generator=generator)


class ConvEncoder(nn.Module):
    """images (n, C, S, S) -> features (n, feature_dim): strided convs, flatten, Linear, ReLU.

    The image encoder of the disentanglement benchmarks (Higgins et al. 2017 β-VAE;
    Locatello et al. 2019, "Challenging Common Assumptions in the Unsupervised Learning of
    Disentangled Representations", arXiv:1811.12359, Table 1): per entry of ``channels`` a
    4×4 convolution with stride 2 and padding 1 (halving the side) and a ReLU, then a flatten,
    a Linear layer to ``feature_dim`` and a ReLU. There is no global pooling, so the features
    keep where things are. The init is PyTorch's default drawn from ``generator``, so a seed
    fixes the network without touching the global RNG.
    """

    def __init__(
        self,
        image_size: int,
        feature_dim: int = 128,
        channels: tuple[int, ...] = (32, 32, 64, 64),
        in_channels: int = 3,
        *,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        side = image_size
        for _ in channels:
            side //= 2
        if not channels or side < 1:
            raise ValueError(
                f"image_size {image_size} is too small for {len(channels)} stride-2 convolutions; "
                "use fewer channels entries or a larger image"
            )
        layers: list[nn.Module] = []
        widths = (in_channels, *channels)
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            conv = nn.Conv2d(a, b, kernel_size=4, stride=2, padding=1)
            _init_uniform_(conv, generator)
            layers += [conv, nn.ReLU()]
        linear = nn.Linear(channels[-1] * side * side, feature_dim)
        _init_uniform_(linear, generator)
        layers += [nn.Flatten(), linear, nn.ReLU()]
        self.net = nn.Sequential(*layers)
        self.feature_dim = feature_dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)
