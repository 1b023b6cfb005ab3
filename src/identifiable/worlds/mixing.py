"""Mixing functions g: latents z -> observations x = g(z).

Every mixing is a frozen dataclass that describes a *random* invertible map; the map itself is
drawn from ``seed`` the first time it is used for a given latent dimension (and cached), so a world
is a fixed function while its samples come from the caller's generator.

``LeakyMLPMixing`` follows Zimmermann et al. (2021), arXiv:2102.08850 (cl-ica
``invertible_network_utils.construct_invertible_mlp``), after Hyvärinen & Morioka's PCL code:

    g(z) = W_L σ(W_{L−1} ⋯ σ(W_1 z)),   σ = LeakyReLU(slope 0.2), no bias, W_l ∈ R^{n×n}

Each W_l has entries U(−1, 1) with L2-normalised columns. The reference draws 25 000 such
matrices, takes the smallest condition number as a threshold and redraws each layer until it is
at most that threshold; here each layer is the best-conditioned of ``n_candidates`` draws (one
batched SVD), which gives the same well-conditioned layers (κ(W) ≈ 3.5–4 for n = 10) without the
reference's 5–17 s random-length loop. g is exactly invertible (:meth:`MixingFunction.inverse`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

__all__ = ["IdentityMixing", "LeakyMLPMixing", "LinearMixing", "Mixing", "MixingFunction"]


class MixingFunction:
    """A drawn invertible map: ``f(z)``, ``f.inverse(x)``, its layer matrices in ``weights``."""

    def __init__(self, weights: list[torch.Tensor], negative_slope: float | None):
        self.weights = weights
        self.negative_slope = negative_slope
        self._inverses = [torch.linalg.inv(w) for w in weights]
        self._cache: dict[torch.device, tuple[list[torch.Tensor], list[torch.Tensor]]] = {}

    def _on(self, device: torch.device) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        if device not in self._cache:
            self._cache[device] = (
                [w.to(device) for w in self.weights],
                [w.to(device) for w in self._inverses],
            )
        return self._cache[device]

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        weights, _ = self._on(z.device)
        x = z
        for i, w in enumerate(weights):
            x = x @ w.to(x.dtype).T
            if i < len(weights) - 1 and self.negative_slope is not None:
                x = torch.nn.functional.leaky_relu(x, self.negative_slope)
        return x

    def inverse(self, x: torch.Tensor) -> torch.Tensor:
        _, inverses = self._on(x.device)
        z = x
        for i in reversed(range(len(inverses))):
            if i < len(inverses) - 1 and self.negative_slope is not None:
                z = torch.where(z >= 0, z, z / self.negative_slope)
            z = z @ inverses[i].to(z.dtype).T
        return z

    def condition_numbers(self) -> list[float]:
        return [float(torch.linalg.cond(w)) for w in self.weights]


class Mixing:
    """Interface: ``build(n_latents) -> MixingFunction`` (cached per dimension)."""

    def build(self, n_latents: int) -> MixingFunction:
        raise NotImplementedError


def _pcl_candidates(k: int, n: int, generator: torch.Generator) -> torch.Tensor:
    """k matrices (k, n, n) with entries U(−1, 1) and L2-normalised columns."""
    a = torch.rand((k, n, n), generator=generator, dtype=torch.float64) * 2.0 - 1.0
    return a / a.norm(dim=1, keepdim=True)


def _best_conditioned(k: int, n: int, generator: torch.Generator) -> torch.Tensor:
    candidates = _pcl_candidates(k, n, generator)
    return candidates[int(torch.argmin(torch.linalg.cond(candidates)))]


@dataclass(frozen=True)
class LeakyMLPMixing(Mixing):
    """Random invertible leaky-ReLU MLP with ``n_layers`` square layers (see module docstring)."""

    n_layers: int = 3
    negative_slope: float = 0.2
    n_candidates: int = 25_000
    seed: int = 0
    _built: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.n_layers, int) or self.n_layers < 1:
            raise ValueError(f"mixing n_layers must be an int >= 1, got {self.n_layers!r}")
        if not 0 < self.negative_slope <= 1:
            raise ValueError(
                f"negative_slope must be in (0, 1] for an invertible map, got {self.negative_slope}"
            )
        if self.n_candidates < 1:
            raise ValueError(f"n_candidates must be >= 1, got {self.n_candidates}")

    def build(self, n_latents: int) -> MixingFunction:
        if n_latents not in self._built:
            generator = torch.Generator().manual_seed(self.seed)
            # cap the batch so large n does not need gigabytes for the candidate SVDs
            k = max(1, min(self.n_candidates, 50_000_000 // max(1, n_latents * n_latents)))
            weights = [
                _best_conditioned(k, n_latents, generator).float() for _ in range(self.n_layers)
            ]
            self._built[n_latents] = MixingFunction(weights, self.negative_slope)
        return self._built[n_latents]


@dataclass(frozen=True)
class LinearMixing(Mixing):
    """x = A z with one random square A (entries U(−1, 1), unit columns, best-conditioned of
    ``n_candidates`` draws). The setting of linear ICA."""

    n_candidates: int = 1_000
    seed: int = 0
    _built: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def build(self, n_latents: int) -> MixingFunction:
        if n_latents not in self._built:
            generator = torch.Generator().manual_seed(self.seed)
            weight = _best_conditioned(self.n_candidates, n_latents, generator).float()
            self._built[n_latents] = MixingFunction([weight], None)
        return self._built[n_latents]


@dataclass(frozen=True)
class IdentityMixing(Mixing):
    """x = z: the encoder sees the latents themselves (a sanity baseline)."""

    def build(self, n_latents: int) -> MixingFunction:
        return MixingFunction([torch.eye(n_latents)], None)
