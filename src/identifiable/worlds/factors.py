"""Worlds of discrete factors that can be resampled with some factors held fixed.

The sampler metrics of disentanglement_lib (BetaVAE, FactorVAE scores in
:mod:`identifiable.metrics.disentanglement`) need more than ``sample(n)``: they draw *factor
values* themselves (e.g. a batch with one factor fixed) and ask the world for the observations
of exactly those factors. This is disentanglement_lib's ``sample_factors`` /
``sample_observations_from_factors`` pair (Locatello et al. (2019), "Challenging Common
Assumptions in the Unsupervised Learning of Disentangled Representations", ICML,
arXiv:1811.12359), without its global random state:

    world.factor_sizes                                # (s_1, ..., s_F): factor f takes s_f values
    f = sample_factors(world, n, generator=g)         # (n, F) long, f[:, j] uniform on 0..s_j − 1
    x = world.observe(f, generator=g)                 # (n, ...) observations of those factors

A world satisfies :class:`FactorWorld` by having those two members; ``generator`` is the only
source of randomness (observation noise, if any).

:class:`GridWorld` is the smallest such world, the dSprites idea (Matthey, Higgins, Hassabis,
Lerchner (2017), "dSprites: Disentanglement testing Sprites dataset": every combination of a few
discrete factors, each on a regular grid) without the rendering: factor f with index
i_f ∈ {0, …, s_f − 1} has the latent value

    z_f = −1 + (2 i_f + 1) / s_f        (the centre of bin i_f when [−1, 1] is cut into s_f bins)

and the observation is x = g(z) for one random invertible mixing g drawn once from ``seed``
(by default :class:`~identifiable.worlds.mixing.LeakyMLPMixing`, square: x has F dimensions).
:class:`SpriteFactors` is dSprites itself on our renderer: shape, position, scale, rotation and
hue of one sprite, each on a grid, observed as images.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol, runtime_checkable

import torch

from identifiable.worlds.base import Batch
from identifiable.worlds.mixing import LeakyMLPMixing, Mixing, MixingFunction
from identifiable.worlds.sprites import FACTORS, SpritesWorld

__all__ = ["FactorWorld", "GridWorld", "SpriteFactors", "sample_factors"]


@runtime_checkable
class FactorWorld(Protocol):
    """Discrete factors and the observations of given factor values.

    ``factor_sizes[j]`` is the number of values of factor j (indices 0 … s_j − 1);
    ``observe(factors, *, generator)`` maps an (n, F) long tensor of indices to n observations,
    drawing any noise from ``generator`` only.
    """

    factor_sizes: tuple[int, ...]

    def observe(self, factors: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor: ...


def _check_sizes(sizes) -> tuple[int, ...]:
    sizes = tuple(sizes)
    if not sizes or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes):
        raise ValueError(f"factor_sizes must be one or more ints >= 1, got {sizes!r}")
    return sizes


def sample_factors(world: FactorWorld, n: int, *, generator: torch.Generator) -> torch.Tensor:
    """(n, F) long tensor: column j uniform on 0 … s_j − 1, all entries independent."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"number of samples must be a positive int, got {n!r}")
    sizes = _check_sizes(world.factor_sizes)
    u = torch.rand((n, len(sizes)), generator=generator, dtype=torch.float64)
    top = torch.tensor(sizes, dtype=torch.float64)
    return torch.minimum((u * top).floor(), top - 1).long()


@dataclass(frozen=True)
class GridWorld:
    """F discrete factors on regular grids in [−1, 1], observed through a random mixing.

    factor_sizes:  number of values of each factor, e.g. ``(3, 6, 10)``.
    mixing:        the mixing g (square: x has F dimensions); ``None``: ``LeakyMLPMixing(seed)``;
                   :class:`~identifiable.worlds.mixing.IdentityMixing` observes z itself.
    seed:          draws the default mixing (a mixing passed in carries its own seed).

    >>> world = GridWorld((3, 6, 10), seed=0)
    >>> g = torch.Generator().manual_seed(0)
    >>> f = sample_factors(world, 100, generator=g)      # (100, 3) indices
    >>> x = world.observe(f, generator=g)                # (100, 3) observations
    >>> batch = world.sample(100, generator=g)           # batch.z: latent values, batch.x
    """

    factor_sizes: tuple[int, ...]
    mixing: Mixing | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "factor_sizes", _check_sizes(self.factor_sizes))
        if self.mixing is not None and not isinstance(self.mixing, Mixing):
            raise ValueError(f"mixing must be a Mixing, got {type(self.mixing).__name__}")

    @property
    def n_factors(self) -> int:
        return len(self.factor_sizes)

    @cached_property
    def mixing_function(self) -> MixingFunction:
        """g, built once per world (the default mixing's candidate draws are not cheap)."""
        mixing = self.mixing if self.mixing is not None else LeakyMLPMixing(seed=self.seed)
        return mixing.build(self.n_factors)

    def latents(self, factors: torch.Tensor) -> torch.Tensor:
        """z_f = −1 + (2 i_f + 1) / s_f for an (n, F) tensor of indices (float32)."""
        factors = torch.as_tensor(factors)
        if factors.ndim != 2 or factors.shape[1] != self.n_factors:
            raise ValueError(
                f"factors must have shape (n, {self.n_factors}), got {tuple(factors.shape)}"
            )
        if factors.is_floating_point() or factors.is_complex():
            raise ValueError("factors must be integer indices (a long tensor), got floats")
        sizes = torch.tensor(self.factor_sizes, device=factors.device)
        if ((factors < 0) | (factors >= sizes)).any():
            raise ValueError(f"factor indices must lie in 0 … size − 1, sizes {self.factor_sizes}")
        return -1.0 + (2.0 * factors.float() + 1.0) / sizes.float()

    def observe(self, factors: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        """x = g(z) (noise-free: ``generator`` is not used)."""
        return self.mixing_function(self.latents(factors))

    def sample(self, n: int, *, generator: torch.Generator) -> Batch:
        """n uniform draws: ``z`` the latent values, ``x`` = g(z)."""
        factors = sample_factors(self, n, generator=generator)
        z = self.latents(factors)
        return Batch(z, self.mixing_function(z))


@dataclass(frozen=True)
class SpriteFactors:
    """Single-sprite scenes with every factor on a grid — dSprites' design on our renderer
    (:class:`~identifiable.worlds.sprites.SpritesWorld`): factor 0 is the shape (one value per
    name in ``sprites.shapes``), factors 1–5 are position x, position y, scale, rotation and hue,
    each at ``sizes[f]`` bin centres of its range in ``sprites``. Observations are the rendered
    images (n, 3, S, S), noise-free.

    >>> world = SpriteFactors(SpritesWorld(image_size=32), sizes=(4, 4, 3, 4, 5))
    >>> world.factor_sizes
    (3, 4, 4, 3, 4, 5)
    """

    sprites: SpritesWorld = field(default_factory=lambda: SpritesWorld(image_size=32))
    sizes: tuple[int, int, int, int, int] = (8, 8, 4, 6, 6)

    def __post_init__(self) -> None:
        if self.sprites.n_objects != 1 or self.sprites.min_objects is not None:
            raise ValueError(
                "SpriteFactors needs a SpritesWorld with n_objects=1, min_objects=None"
            )
        if len(tuple(self.sizes)) != len(FACTORS):
            raise ValueError(f"sizes must give {len(FACTORS)} counts ({', '.join(FACTORS)})")
        object.__setattr__(self, "sizes", _check_sizes(self.sizes))

    @property
    def factor_sizes(self) -> tuple[int, ...]:
        return (self.sprites.n_shapes, *self.sizes)

    def values(self, factors: torch.Tensor) -> dict[str, torch.Tensor]:
        """The shape index and the five continuous factor values of (n, 6) indices."""
        factors = torch.as_tensor(factors)
        if factors.ndim != 2 or factors.shape[1] != len(self.factor_sizes):
            raise ValueError(f"factors must have shape (n, 6), got {tuple(factors.shape)}")
        sizes = torch.tensor(self.factor_sizes)
        if factors.is_floating_point() or ((factors < 0) | (factors >= sizes)).any():
            raise ValueError(
                f"factors must be integer indices in 0 … size − 1, {self.factor_sizes}"
            )
        out = {"shape": factors[:, 0]}
        for j, name in enumerate(FACTORS, start=1):
            low, high = getattr(self.sprites, f"{name}_range")
            centre = (2.0 * factors[:, j].float() + 1.0) / (2.0 * self.factor_sizes[j])
            out[name] = low + (high - low) * centre
        return out

    def observe(self, factors: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        """The rendered images of the given factor indices (``generator`` is not used)."""
        v = self.values(factors)
        images, _ = self.sprites.render(
            v["shape"][:, None], *(v[name][:, None] for name in FACTORS)
        )
        return images
