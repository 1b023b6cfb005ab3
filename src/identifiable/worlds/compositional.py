"""Compositional worlds: K slots of latents, a renderer per slot, a known composition.

    x = C(φ_1(z_1), …, φ_K(z_K)),   z_k ∈ [0, 1]^d,   training latents from a support

Wiedemer, Mayilvahanan, Bethge, Brendel (2023), "Compositional Generalization from First
Principles", NeurIPS, arXiv:2307.05596 (code brendel-group/compositional-ood-generalization):
a model with the same composition C and one learned φ̂_k per slot, fitted on a support whose
per-slot marginals cover each slot's range (:mod:`identifiable.worlds.supports`), generalises to
every combination; a monolithic model need not.

Renderers φ_k (``renderer``):

* ``"mlp"`` — the cheap vector variant: slot k's renderer is its own random MLP
  φ_k(z) = relu(W₂ leaky_relu(W₁(2z − 1) + b₁) + b₂) into ``pixels`` "pixels" × ``channels``
  (W ~ N(0, 1/fan_in), b ~ N(0, 0.1²), leaky slope 0.2; drawn from ``seed``);
  ``shared_renderer=True`` renders every slot with the first slot's MLP (objects of one kind, as
  sprites are, the setting of an additive decoder with one φ̂ for all slots). The ReLU leaves
  about half of a slot's pixels at 0 (background), so occlusion has something to hide.
  Observation x: (n, channels, pixels). ``"alpha"`` adds an opacity channel σ(·) per slot.
* ``"sprites"`` — one sprite per slot on black (:class:`identifiable.worlds.sprites.SpritesWorld`),
  the 2023 reference's latents and ranges: d = 5 latents (x, y, shape, scale, hue) mapped from
  [0, 1] to x ∈ [0.1, 0.9], y ∈ [0.2, 0.8], shape = round(2z) ∈ (triangle, square, circle),
  scale ∈ [0.09, 0.22], hue ∈ [0.05, 0.95]; no rotation, full saturation and value. Observation:
  (n, 3, S, S). ``"alpha"`` uses each sprite's coverage as its opacity. ``no_overlap=True`` is
  the 2024 reference's way to keep objects apart: slot k's x latent is shifted by k/K (mod 1)
  and the scale latent shrunk by 1/(K + 1) before the ranges are applied (the latents z
  themselves are unchanged, so supports keep their meaning).

Composition C (``composition``, :mod:`identifiable.worlds.composition`): ``sum``, ``occlude``
(the reference's sigmoid OccludeAdd, slot 0 in front; the default) or ``alpha``.

Splits (fixed, seeded from ``seed``; the spine's names): ``train`` (``n_train`` rows of the
support), ``test`` (``n_test`` more rows of the support), ``ood`` (``n_test`` rows off it),
``all`` (``n_test`` rows uniform on the cube), ``validation`` (empty). ``z`` has shape
(n, K, d) and lives in the unit cube; :meth:`sample` draws fresh rows of the training support.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

import torch

from identifiable.worlds.base import SPLITS, Batch, seeded_generator
from identifiable.worlds.composition import COMPOSITIONS, compose, n_channels_in
from identifiable.worlds.sprites import SpritesWorld
from identifiable.worlds.supports import (
    SUPPORTS,
    check_delta,
    check_planes,
    default_planes,
    sample_ood,
    sample_support,
)

__all__ = ["SPRITE_RANGES", "CompositionalWorld"]

RENDERERS = ("mlp", "sprites")
#: the 2023 reference's ranges of the five sprite latents (``scale_latents``)
SPRITE_RANGES = {
    "position_x": (0.1, 0.9),
    "position_y": (0.2, 0.8),
    "scale": (0.09, 0.22),
    "hue": (0.05, 0.95),
}
SPRITE_SHAPES = ("triangle", "square", "circle")


@dataclass(frozen=True)
class CompositionalWorld:
    """Scenes of ``n_slots`` slots (module docstring).

    n_slots:      K, slots per scene (≥ 1).
    slot_dim:     d, latents per slot (5 for sprites: x, y, shape, scale, hue).
    renderer:     ``"mlp"`` (vector variant) or ``"sprites"``.
    composition:  ``"sum"``, ``"occlude"`` or ``"alpha"``.
    support:      training support: ``random``, ``orthogonal``, ``orthogonal_gap``, ``diagonal``.
    delta:        δ of ``diagonal`` (distance to the diagonal; the 2024 paper's band is 2δ), and
                  of the off-diagonal ``ood`` rows for ``random``.
    planes:       planes of ``orthogonal``: pairs (varying slot, fixed values); None: default.
    pixels, channels, hidden: the vector variant's observation ("pixels" × channels) and the
                  random renderers' hidden width.
    shared_renderer: the vector variant renders every slot with one MLP (slot 0's).
    image_size:   canvas side of the sprites renderer.
    no_overlap:   sprites: shift slot k by k/K in x and shrink the scales (module docstring).
    n_train, n_test: rows of the ``train`` split and of each test split.
    seed:         the renderers' weights and the splits.
    """

    n_slots: int = 2
    slot_dim: int = 5
    renderer: Literal["mlp", "sprites"] = "mlp"
    composition: Literal["sum", "occlude", "alpha"] = "occlude"
    support: Literal["random", "orthogonal", "orthogonal_gap", "diagonal"] = "orthogonal"
    delta: float = 0.1
    planes: tuple | None = None
    pixels: int = 32
    channels: int = 3
    hidden: int = 64
    shared_renderer: bool = False
    image_size: int = 32
    no_overlap: bool = False
    n_train: int = 10_000
    n_test: int = 2_000
    seed: int = 0

    def __post_init__(self) -> None:
        for name, low in (("n_slots", 1), ("slot_dim", 1), ("pixels", 1), ("channels", 1),
                          ("hidden", 1), ("image_size", 8), ("n_train", 1), ("n_test", 1),
                          ("seed", 0)):  # fmt: skip
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        for name, allowed in (("renderer", RENDERERS), ("composition", COMPOSITIONS),
                              ("support", SUPPORTS)):  # fmt: skip
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}"
                )
        if self.renderer == "sprites" and self.slot_dim != 5:
            raise ValueError(
                f"renderer='sprites' has 5 latents per slot (x, y, shape, scale, hue); "
                f"set slot_dim=5, got {self.slot_dim}"
            )
        if self.support in ("diagonal", "random"):
            if self.n_slots < 2:
                raise ValueError("a diagonal (or off-diagonal ood) needs n_slots >= 2")
            check_delta(self.delta, self.n_slots)
        if self.support in ("orthogonal", "orthogonal_gap") and self.planes is not None:
            check_planes(self.planes, self.n_slots, self.slot_dim)

    # -- rendering ---------------------------------------------------------------------------

    def render_slots(self, z: torch.Tensor) -> torch.Tensor:
        """φ_k(z_k) for every slot: (n, K, d) → (n, K, C', *rest), C' = channels (+1 opacity
        for ``alpha``)."""
        z = self._check_latents(z)
        if self.renderer == "sprites":
            return _render_sprites(
                z,
                self.image_size,
                with_opacity=self.composition == "alpha",
                no_overlap=self.no_overlap,
            )
        channels = n_channels_in(self.composition, self.channels)
        weights = _slot_mlps(
            self.seed, self.n_slots, self.slot_dim, self.hidden, channels * self.pixels
        )
        w1, b1, w2, b2 = (w.to(z.device) for w in weights)
        if self.shared_renderer:
            w1, b1, w2, b2 = (w[:1].expand(self.n_slots, *w.shape[1:]) for w in (w1, b1, w2, b2))
        h = torch.nn.functional.leaky_relu(torch.einsum("khd,nkd->nkh", w1, 2 * z - 1) + b1, 0.2)
        out = torch.einsum("koh,nkh->nko", w2, h) + b2
        out = out.view(len(z), self.n_slots, channels, self.pixels)
        if self.composition == "alpha":
            return torch.cat([out[:, :, :-1].relu(), torch.sigmoid(out[:, :, -1:])], dim=2)
        return out.relu()

    def observe(self, z: torch.Tensor) -> torch.Tensor:
        """x = C(φ_1(z_1), …, φ_K(z_K)): (n, K, d) → (n, C, *rest)."""
        return compose(self.render_slots(z), self.composition)

    def _check_latents(self, z) -> torch.Tensor:
        z = torch.as_tensor(z, dtype=torch.float32)
        if z.ndim != 3 or z.shape[1:] != (self.n_slots, self.slot_dim):
            raise ValueError(
                f"z must have shape (n, {self.n_slots}, {self.slot_dim}), got {tuple(z.shape)}"
            )
        if not torch.isfinite(z).all():
            raise ValueError("z contains NaN or inf")
        return z

    # -- data ---------------------------------------------------------------------------------

    @property
    def planes_used(self) -> tuple:
        return tuple(self.planes) if self.planes else default_planes(self.n_slots, self.slot_dim)

    def sample_latents(self, which: str, n: int, *, generator: torch.Generator) -> torch.Tensor:
        """n latent rows of ``support`` (train/test), ``ood`` or ``all`` (uniform)."""
        kwargs = dict(generator=generator, delta=self.delta, planes=self.planes_used)
        if which in ("train", "test"):
            return sample_support(self.support, n, self.n_slots, self.slot_dim, **kwargs)
        if which == "ood":
            return sample_ood(self.support, n, self.n_slots, self.slot_dim, **kwargs)
        if which == "all":
            return torch.rand(n, self.n_slots, self.slot_dim, generator=generator)
        raise ValueError(f"which must be train, test, ood or all, got {which!r}")

    def sample(self, n: int, *, generator: torch.Generator) -> Batch:
        """n fresh rows of the training support: Batch(z (n, K, d), x)."""
        z = self.sample_latents("train", n, generator=generator)
        return Batch(z=z, x=self.observe(z))

    @property
    def sizes(self) -> dict[str, int]:
        sizes = {"train": self.n_train, "validation": 0, "test": self.n_test, "ood": self.n_test}
        return sizes | {"all": self.n_test}

    def split(self, name: str) -> Batch:
        """The fixed, seeded split ``name`` (one of ``SPLITS``)."""
        if name not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {name!r}")
        return _split(self, name)


@functools.lru_cache(maxsize=16)
def _split(world: CompositionalWorld, name: str) -> Batch:
    if name == "validation":
        empty = torch.empty(0, world.n_slots, world.slot_dim)
        return Batch(z=empty, x=world.observe(empty))
    generator = seeded_generator(world.seed, SPLITS.index(name))
    z = world.sample_latents(name, world.sizes[name], generator=generator)
    return Batch(z=z, x=world.observe(z))


@functools.lru_cache(maxsize=8)
def _slot_mlps(seed: int, n_slots: int, slot_dim: int, hidden: int, out: int):
    """The vector variant's random renderers, one MLP per slot, stacked over slots."""
    generator = seeded_generator(seed, 7919)
    w1 = torch.randn(n_slots, hidden, slot_dim, generator=generator) / slot_dim**0.5
    b1 = 0.1 * torch.randn(n_slots, hidden, generator=generator)
    w2 = torch.randn(n_slots, out, hidden, generator=generator) / hidden**0.5
    b2 = 0.1 * torch.randn(n_slots, out, generator=generator)
    return w1, b1, w2, b2


def _render_sprites(
    z: torch.Tensor, image_size: int, *, with_opacity: bool, no_overlap: bool = False
) -> torch.Tensor:
    """One sprite per slot on black: (n, K, 5) in [0, 1] → (n, K, 3 (+1), S, S)."""
    n, k, _ = z.shape
    if no_overlap:
        z = z.clone()
        z[..., 0] = torch.remainder(z[..., 0] + torch.arange(k, dtype=z.dtype) / k, 1.0)
        z[..., 3] = z[..., 3] / (k + 1)
    flat = z.reshape(n * k, 1, 5)

    def scaled(index: int, name: str) -> torch.Tensor:
        low, high = SPRITE_RANGES[name]
        return low + flat[..., index] * (high - low)

    world = SpritesWorld(image_size=image_size, n_objects=1, shapes=SPRITE_SHAPES)
    images, masks = world.render(
        shape=torch.round(2 * flat[..., 2]).long().clamp(0, 2),
        position_x=scaled(0, "position_x"),
        position_y=scaled(1, "position_y"),
        scale=scaled(3, "scale"),
        rotation=torch.zeros(n * k, 1),
        hue=scaled(4, "hue"),
    )
    if with_opacity:
        images = torch.cat([images, masks], dim=1)
    return images.view(n, k, *images.shape[1:])
