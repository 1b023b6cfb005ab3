"""Local complexity: how many ReLU neurons switch on or off in a small neighbourhood of a point.

Humayun, Balestriero, Baraniuk (2024), "Deep Networks Always Grok and Here is Why", ICML (as
"Grokking Happens All the Time and Here is Why"), arXiv:2402.15555; official code
AhmedImtiazPrio/grok-adversarial (``local_complexity.py``, ``samplers.py``), read for the facts.

A ReLU network is affine on each region of a partition of input space; a neuron's pre-activation
a(x) = 0 is one of the partition's boundaries. Around a point x, take k random orthonormal
directions v_1 … v_k (one frame, shared by every point, as the reference) and the 2k vertices of
the cross-polytope of radius r,

    V(x) = { x + r·v_j, x − r·v_j : j = 1 … k },

and count, per layer ℓ, the neurons whose pre-activation sign is not constant over V(x):

    LC_ℓ(x) = #{ i : sign a_ℓi(u) ≠ sign a_ℓi(u') for some u, u' ∈ V(x) },   LC(x) = Σ_ℓ LC_ℓ(x)

(the vertices themselves are pushed through the network, the reference's approximation of the
neighbourhood's image in deeper layers). A dense region of boundaries near x gives a large LC.

Which neurons: the inputs of every ``nn.ReLU`` / ``nn.LeakyReLU`` module (forward pre-hooks), i.e.
exactly the units that define the linear regions. The reference's MNIST script also counts the
output logits; its CIFAR script counts the pre-ReLU activations as here. Activations called as
functions inside ``forward`` (``F.relu``) cannot be seen by hooks: use modules. Networks with other
nonlinearities (GELU, tanh, …) have no linear regions and are refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from identifiable.metrics._registry import declare

__all__ = ["LocalComplexity", "local_complexity", "orthonormal_frame"]

PIECEWISE_LINEAR = (nn.ReLU, nn.LeakyReLU)
SMOOTH = (nn.GELU, nn.Tanh, nn.Sigmoid, nn.SiLU, nn.ELU, nn.Softplus, nn.Mish, nn.SELU, nn.CELU)

declare(
    "local_complexity",
    higher_is_better=None,
    bounds=(0.0, None),
    kind="diagnostic",
    description="mean number of ReLU neurons whose sign changes within radius r of a point",
)


@dataclass(frozen=True)
class LocalComplexity:
    """Counts per point and layer: ``per_layer`` (n_points, n_layers), ``layers`` their names."""

    per_layer: np.ndarray
    layers: tuple[str, ...]

    @property
    def total(self) -> np.ndarray:
        """LC(x) per point, summed over layers, shape (n_points,)."""
        return self.per_layer.sum(axis=1)

    def mean(self) -> float:
        """LC averaged over the points (the number the reference plots)."""
        return float(self.total.mean())

    def layer_means(self) -> dict[str, float]:
        return {name: float(v) for name, v in zip(self.layers, self.per_layer.mean(0), strict=True)}


def orthonormal_frame(dim: int, k: int, generator: torch.Generator) -> torch.Tensor:
    """k orthonormal rows in R^dim (k ≤ dim), uniformly random (QR of a Gaussian matrix)."""
    if not 1 <= k <= dim:
        raise ValueError(f"need 1 <= n_directions <= input dimension {dim}, got {k}")
    gaussian = torch.randn(dim, k, generator=generator, dtype=torch.float64)
    q, r = torch.linalg.qr(gaussian)
    return (q * torch.sign(torch.diagonal(r))).T  # sign fix: Haar-uniform frame


def _activations(network: nn.Module) -> list[tuple[str, nn.Module]]:
    named = list(network.named_modules())
    smooth = [f"{name} ({type(m).__name__})" for name, m in named if isinstance(m, SMOOTH)]
    if smooth:
        raise ValueError(
            "local complexity needs a piecewise-linear network (nn.ReLU or nn.LeakyReLU "
            f"modules); found {', '.join(smooth)}"
        )
    return [(name, m) for name, m in named if isinstance(m, PIECEWISE_LINEAR)]


@torch.no_grad()
def local_complexity(
    network: nn.Module,
    points,
    radius: float,
    n_directions: int = 25,
    *,
    seed: int = 0,
    chunk_size: int = 16384,
) -> LocalComplexity:
    """LC of ``network`` around each row of ``points`` (n, *input_shape); formula in the module.

    ``radius`` r > 0 in input units; ``n_directions`` k (2k vertices); ``seed`` draws the frame.
    Vertices are evaluated in eval mode, in chunks of about ``chunk_size`` rows, on the device of
    ``points`` (put them where the network is, as for any call of it). Counts are integers.
    """
    if not (isinstance(radius, int | float) and math.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be a finite number > 0, got {radius!r}")
    if isinstance(n_directions, bool) or not isinstance(n_directions, int):
        raise ValueError(f"n_directions must be an int >= 1, got {n_directions!r}")
    x = torch.as_tensor(points).float()
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(
            f"points must have shape (n, *input_shape) with n >= 1, got {tuple(x.shape)}"
        )
    if not bool(torch.isfinite(x).all()):
        raise ValueError("points contain NaN/inf values")
    activations = _activations(network)

    shape = x.shape[1:]
    frame = orthonormal_frame(
        int(np.prod(shape)), n_directions, torch.Generator().manual_seed(seed)
    )
    offsets = torch.cat([frame, -frame]).reshape(2 * n_directions, *shape) * radius
    offsets = offsets.to(x.device, torch.float32)
    n_vertices = 2 * n_directions

    captured: list[torch.Tensor] = []
    hooks = [
        module.register_forward_pre_hook(lambda _m, args: captured.append(args[0].detach()))
        for _, module in activations
    ]
    was_training = network.training
    network.eval()
    blocks = []
    try:
        for block in x.split(max(1, chunk_size // n_vertices)):
            captured.clear()
            network((block[:, None] + offsets[None]).reshape(-1, *shape))
            if len(captured) != len(activations):
                raise ValueError(
                    "an activation module ran more or less than once per forward pass; give each "
                    "layer its own nn.ReLU (local complexity counts one layer per module)"
                )
            signs = [torch.sign(pre.reshape(len(block), n_vertices, -1)) for pre in captured]
            per_layer = [(s != s[:, :1]).any(dim=1).sum(dim=1) for s in signs]
            blocks.append(torch.stack(per_layer, 1) if per_layer else torch.zeros(len(block), 0))
    finally:
        for hook in hooks:
            hook.remove()
        network.train(was_training)
    counts = torch.cat(blocks).to(torch.int64).cpu()
    names = tuple(name or type(m).__name__ for name, m in activations)
    return LocalComplexity(per_layer=counts.numpy(), layers=names)
