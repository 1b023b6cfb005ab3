"""Two-object sprite scenes with captions of their concepts, Zipfian concept frequencies and
concept combinations held out of pretraining.

For Wiedemer, Sharma, Prabhu, Bethge, Brendel (2025), "Pretraining Frequency Predicts
Compositional Generalization of CLIP on Real-World Tasks", arXiv:2502.18326: a CLIP-like model is
pretrained on image–caption pairs and evaluated on images whose *combination* of concepts never
occurred in pretraining; its performance there is predicted by the pretraining frequencies of
the single concepts (the geometric mean of the constituents' frequencies, on a log scale).

Concepts are objects: C = |shapes| × |hues| categories (a shape in a colour). A scene shows two
distinct concepts (c₁, c₂) rendered by :class:`~identifiable.worlds.sprites.SpritesWorld` at
random positions, sizes and rotations; its caption is the bag {c₁, c₂}. Pretraining draws

    p(c) ∝ rank(c)^(−zipf)   (ranks a seeded permutation of the concepts; zipf = 0: uniform)
    (c₁, c₂) ~ p × p, c₁ ≠ c₂, {c₁, c₂} ∉ H                    (rejection)

with H a seeded set of ``n_held_out`` unordered pairs never shown (every concept still occurs
in some shown pair). The pretraining frequency of a concept is its exact share of caption slots,
f(c) = Σ_{c'} P(pair {c, c'}) / 2 under the distribution above.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
import torch

from identifiable.worlds.sprites import SpritesWorld

__all__ = ["ConceptBatch", "ConceptScenes"]


class ConceptBatch(NamedTuple):
    """Scenes x (n, 3, S, S) and their two concepts (n, 2) (int, smaller first)."""

    x: torch.Tensor
    concepts: torch.Tensor


@dataclass(frozen=True)
class ConceptScenes:
    """Captioned two-object scenes (module docstring).

    shapes:       sprite shapes (see ``SpritesWorld``).
    hues:         colours (HSV hue in [0, 1)).
    image_size:   canvas side in pixels.
    zipf:         exponent of the concept frequencies (0: uniform).
    n_held_out:   concept pairs never shown in pretraining.
    seed:         draws the frequency ranks and the held-out pairs.
    """

    shapes: tuple[str, ...] = ("square", "circle", "triangle", "cross")
    hues: tuple[float, ...] = (0.0, 0.17, 0.33, 0.5, 0.67)
    image_size: int = 32
    zipf: float = 1.0
    n_held_out: int = 40
    seed: int = 0

    def __post_init__(self) -> None:
        if len(self.shapes) < 1 or len(self.hues) < 1 or self.n_concepts < 3:
            raise ValueError("need at least 3 concepts (shapes × hues)")
        if len(set(self.hues)) != len(self.hues) or any(not 0 <= h < 1 for h in self.hues):
            raise ValueError(f"hues must be distinct values in [0, 1), got {self.hues}")
        if self.zipf < 0:
            raise ValueError(f"zipf must be >= 0, got {self.zipf}")
        n_pairs = self.n_concepts * (self.n_concepts - 1) // 2
        if not 0 <= self.n_held_out <= n_pairs - self.n_concepts:
            raise ValueError(
                f"n_held_out must be in 0..{n_pairs - self.n_concepts} (of {n_pairs} pairs, "
                "leaving every concept shown), got " + str(self.n_held_out)
            )
        _ = self._sprites  # validates shapes and image size

    @property
    def n_concepts(self) -> int:
        return len(self.shapes) * len(self.hues)

    @cached_property
    def _sprites(self) -> SpritesWorld:
        return SpritesWorld(image_size=self.image_size, n_objects=2, shapes=tuple(self.shapes),
                            scale_range=(0.14, 0.22))  # fmt: skip

    def concept_name(self, c: int) -> str:
        return f"{self.shapes[c // len(self.hues)]}-{self.hues[c % len(self.hues)]:g}"

    @cached_property
    def _draw(self) -> tuple[np.ndarray, list[tuple[int, int]], list[tuple[int, int]]]:
        rng = np.random.default_rng([self.seed, 3])
        ranks = rng.permutation(self.n_concepts) + 1
        weights = ranks.astype(float) ** (-self.zipf)
        pairs = list(itertools.combinations(range(self.n_concepts), 2))
        while True:  # hold out pairs, keeping every concept in some shown pair
            chosen = set(rng.choice(len(pairs), self.n_held_out, replace=False).tolist())
            shown = [p for i, p in enumerate(pairs) if i not in chosen]
            if len({c for p in shown for c in p}) == self.n_concepts:
                break
        held = [p for i, p in enumerate(pairs) if i in chosen]
        return weights / weights.sum(), shown, held

    @property
    def concept_probabilities(self) -> np.ndarray:
        """p(c) before the rejection of held-out pairs."""
        return self._draw[0]

    @property
    def held_out_pairs(self) -> list[tuple[int, int]]:
        return self._draw[2]

    @property
    def shown_pairs(self) -> list[tuple[int, int]]:
        return self._draw[1]

    @cached_property
    def pair_probabilities(self) -> np.ndarray:
        """P(pair) over ``shown_pairs`` (unordered, after rejection)."""
        p = self.concept_probabilities
        weights = np.array([2 * p[a] * p[b] for a, b in self.shown_pairs])
        return weights / weights.sum()

    @cached_property
    def frequencies(self) -> np.ndarray:
        """f(c): each concept's exact share of pretraining caption slots."""
        f = np.zeros(self.n_concepts)
        for (a, b), w in zip(self.shown_pairs, self.pair_probabilities, strict=True):
            f[a] += w / 2
            f[b] += w / 2
        return f

    def _render(self, pairs: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        n = len(pairs)
        order = torch.rand((n, 2), generator=generator).argsort(dim=1)  # which object on top
        concepts = torch.gather(pairs, 1, order)
        shape = concepts // len(self.hues)
        hue = torch.tensor(self.hues, dtype=torch.float32)[concepts % len(self.hues)]
        u = torch.rand((n, 2, 4), generator=generator)
        w = self._sprites
        position_x = (
            w.position_x_range[0] + (w.position_x_range[1] - w.position_x_range[0]) * u[..., 0]
        )
        position_y = (
            w.position_y_range[0] + (w.position_y_range[1] - w.position_y_range[0]) * u[..., 1]
        )
        scale = w.scale_range[0] + (w.scale_range[1] - w.scale_range[0]) * u[..., 2]
        rotation = 2 * math.pi * u[..., 3]
        images, _ = w.render(shape, position_x, position_y, scale, rotation, hue)
        return images

    def sample(self, n: int, *, generator: torch.Generator) -> ConceptBatch:
        """n pretraining scenes (pairs from the shown ones, by ``pair_probabilities``)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"number of samples must be a positive int, got {n!r}")
        index = torch.multinomial(torch.as_tensor(self.pair_probabilities), n, replacement=True,
                                  generator=generator)  # fmt: skip
        pairs = torch.as_tensor(self.shown_pairs)[index]
        return ConceptBatch(self._render(pairs, generator), pairs)

    def scenes_of(self, pairs, per_pair: int, *, generator: torch.Generator) -> ConceptBatch:
        """``per_pair`` scenes of each given pair (e.g. the held-out ones), in order."""
        pairs = torch.as_tensor(pairs, dtype=torch.int64).sort(dim=1).values
        repeated = pairs.repeat_interleave(per_pair, dim=0)
        return ConceptBatch(self._render(repeated, generator), repeated)
