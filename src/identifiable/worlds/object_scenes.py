"""Multi-object scenes with their object masks, in fixed seeded splits: the data of object-discovery
experiments.

Scenes of ``n_objects`` sprites (:class:`identifiable.worlds.sprites.SpritesWorld`: shape,
position, scale, rotation and hue of each object uniform in their ranges, soft occlusion, black
background), the world behind the 4-object Sprites data of Brady, von Kügelgen, Lachapelle,
Buchholz, Kipf, Brendel (2024), "Interaction Asymmetry", arXiv:2411.07784 (there 64×64, 100 000
images from Spriteworld; here generated in code at any size). ``split(name)`` gives the same
:class:`~identifiable.worlds.sprites.SpritesBatch` every time for a given world: ``x`` the
images, ``masks`` the visible object masks (background = 1 − Σ masks), the factors per object.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from identifiable.worlds.base import seeded_generator
from identifiable.worlds.sprites import SpritesBatch, SpritesWorld

__all__ = ["SCENE_SPLITS", "ObjectScenesWorld"]

SCENE_SPLITS = ("train", "test")


@dataclass(frozen=True)
class ObjectScenesWorld:
    """``n_train`` training and ``n_test`` test scenes of ``n_objects`` sprites, S×S pixels.

    n_objects:   objects per scene (1–8).
    image_size:  S (≥ 8).
    shapes:      sprite shapes (see :data:`identifiable.worlds.sprites.SHAPES`).
    scale_range: circumradius as a fraction of S.
    n_train, n_test, seed: split sizes and the seed of both splits.
    """

    n_objects: int = 2
    image_size: int = 32
    shapes: tuple[str, ...] = ("square", "circle", "triangle")
    scale_range: tuple[float, float] = (0.1, 0.2)
    n_train: int = 5000
    n_test: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n_train", "n_test", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (name != "seed"):
                low = 0 if name == "seed" else 1
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        _ = self.sprites  # the sprites world checks the rest with its own messages

    @property
    def sprites(self) -> SpritesWorld:
        return SpritesWorld(
            image_size=self.image_size,
            n_objects=self.n_objects,
            shapes=tuple(self.shapes),
            scale_range=tuple(self.scale_range),
        )

    def sample(self, n: int, *, generator: torch.Generator) -> SpritesBatch:
        """n fresh scenes."""
        return self.sprites.sample(n, generator=generator)

    def split(self, name: str) -> SpritesBatch:
        """The fixed split ``name`` (``train`` or ``test``)."""
        if name not in SCENE_SPLITS:
            raise ValueError(f"split must be one of {', '.join(SCENE_SPLITS)}, got {name!r}")
        return _split(self, name)


@functools.lru_cache(maxsize=8)
def _split(world: ObjectScenesWorld, name: str) -> SpritesBatch:
    n = world.n_train if name == "train" else world.n_test
    generator = seeded_generator(world.seed, 31, SCENE_SPLITS.index(name))
    return world.sprites.sample(n, generator=generator)
