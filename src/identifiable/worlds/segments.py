"""Nonstationary sources: independent sources whose distribution changes from segment to segment
(environment to environment), mixed by one invertible leaky-ReLU MLP.

    e ~ U{0, …, E − 1}                   (the segment / environment label)
    s_i = λ_{e,i} · ℓ_i,  ℓ_i ~ Laplace(0, 1/√2)   (unit-variance Laplace, independent)
    x = g(s)                             ("source" variability)

Time-contrastive learning (Hyvärinen & Morioka 2016, "Unsupervised Feature Extraction by
Time-Contrastive Learning and Nonlinear ICA", NeurIPS, arXiv:1605.06336; official code
hmorioka/TCL) identifies s up to elementwise maps when the segment-wise log-densities vary
enough: the scales λ_{e,i} ~ U[scale_low, scale_high] (TCL's code: U[0, 1]) are drawn once per
world. Reizinger, Guo, Huszár, Schölkopf, Brendel (2025), "Identifiable Exchangeable Mechanisms
for Causal Structure and Representation Learning", ICLR, arXiv:2406.14302, read this as the
representation-learning side of exchangeable, non-i.i.d. data: source variability identifies.

``variability``:

* ``"source"``: λ_{e,i} as above (the TCL / IEM setting);
* ``"none"``: λ_{e,i} = (scale_low + scale_high) / 2 for every segment — i.i.d. data, the
  control (nothing to contrast: the segment label carries no information about x);
* ``"mechanism"``: fixed sources s_i = λ̄ ℓ_i (λ̄ the mean scale) and an environment-specific
  linear map before the shared mixing, x = g(A_e s), A_e = I + σ G_e / √n with G_e i.i.d.
  N(0, 1) entries (σ = ``mechanism_strength``; drawn once per world). The encoder sees only x.

The segment structure (λ, A_e) and the mixing g are fixed by the world's ``seed``; the draws
come from the generator given to :meth:`SegmentWorld.sample`. Batches carry ``z`` = s (the truth
measured against), ``x``, ``label`` = e and ``y`` = A_e s (= s unless ``"mechanism"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

import torch

from identifiable.worlds.mixing import LeakyMLPMixing, Mixing

__all__ = ["VARIABILITY", "SegmentBatch", "SegmentWorld"]

VARIABILITY = ("source", "none", "mechanism")


class SegmentBatch(NamedTuple):
    """n draws: sources z = s, observations x, segment labels, and y = A_e s (the mixing input)."""

    z: torch.Tensor  # (n, n_sources)
    x: torch.Tensor  # (n, n_sources)
    label: torch.Tensor  # (n,) int64 segment e
    y: torch.Tensor  # (n, n_sources) A_e s ("mechanism"), s otherwise


@dataclass(frozen=True)
class SegmentWorld:
    """Segment-wise modulated Laplace sources through an invertible mixing (module docstring).

    n_sources:          number of sources n (= observed dimensions), ≥ 2.
    n_segments:         number of segments / environments E, ≥ 2 (the classes TCL predicts).
    variability:        "source", "none" or "mechanism".
    scale_low, scale_high: range of the segment-wise source scales λ (TCL: 0 and 1).
    mechanism_strength: σ of A_e = I + σ G_e / √n ("mechanism" only).
    mixing:             the shared invertible map g (default: 3-layer leaky-ReLU MLP).
    seed:               draws λ, A_e (the mixing has its own seed).
    """

    n_sources: int = 5
    n_segments: int = 32
    variability: str = "source"
    scale_low: float = 0.0
    scale_high: float = 1.0
    mechanism_strength: float = 0.5
    mixing: Mixing = field(default_factory=lambda: LeakyMLPMixing(n_layers=3))
    seed: int = 0

    def __post_init__(self) -> None:
        if self.variability not in VARIABILITY:
            raise ValueError(
                f"variability must be one of {', '.join(VARIABILITY)}, got {self.variability!r}"
            )
        for name, low in (("n_sources", 2), ("n_segments", 2)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        if not 0 <= self.scale_low < self.scale_high:
            raise ValueError(
                "source scales need 0 <= scale_low < scale_high, got "
                f"{self.scale_low} and {self.scale_high}"
            )
        if not self.mechanism_strength >= 0:
            raise ValueError(f"mechanism_strength must be >= 0, got {self.mechanism_strength}")

    @property
    def mean_scale(self) -> float:
        return (self.scale_low + self.scale_high) / 2

    @cached_property
    def scales(self) -> torch.Tensor:
        """λ (E, n): the source scale of every segment (constant unless "source")."""
        generator = torch.Generator().manual_seed(self.seed)
        draw = torch.rand((self.n_segments, self.n_sources), generator=generator)
        if self.variability != "source":
            return torch.full_like(draw, self.mean_scale)
        return self.scale_low + (self.scale_high - self.scale_low) * draw

    @cached_property
    def maps(self) -> torch.Tensor:
        """A_e (E, n, n): identity unless "mechanism"."""
        n = self.n_sources
        eye = torch.eye(n).expand(self.n_segments, n, n)
        if self.variability != "mechanism":
            return eye.clone()
        generator = torch.Generator().manual_seed(self.seed + 1)
        noise = torch.randn((self.n_segments, n, n), generator=generator)
        return eye + self.mechanism_strength * noise / math.sqrt(n)

    def observe(self, y: torch.Tensor) -> torch.Tensor:
        """x = g(y) for mixing inputs y (n, n_sources)."""
        return self.mixing.build(self.n_sources)(y)

    def sample(self, n: int, *, generator: torch.Generator) -> SegmentBatch:
        """n draws: a uniform segment each, its sources, and x (module docstring)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"number of samples must be a positive int, got {n!r}")
        shape = (n, self.n_sources)
        label = torch.randint(0, self.n_segments, (n,), generator=generator)
        # unit-variance Laplace as a difference of two exponentials (no log(0) at the edges)
        first = -torch.log1p(-torch.rand(shape, generator=generator))
        second = -torch.log1p(-torch.rand(shape, generator=generator))
        laplace = (first - second) / math.sqrt(2)
        s = laplace * self.scales[label]
        y = (
            s
            if self.variability != "mechanism"
            else torch.einsum("nij,nj->ni", self.maps[label], s)
        )
        return SegmentBatch(s, self.observe(y), label, y)
