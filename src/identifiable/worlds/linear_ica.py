"""Linear ICA world: independent sources mixed by a random square matrix.

    s_i ~ p(s) i.i.d. per coordinate,   x = A s

Comon (1994), "Independent component analysis, a new concept?", Signal Processing 36(3);
Hyvärinen & Oja (2000), "Independent component analysis: algorithms and applications", Neural
Networks 13. A is identifiable up to permutation and scaling of its columns iff at most one source
is Gaussian (Darmois–Skitovich): with all-Gaussian sources any rotation of s is as likely, so
ICA must fail — the toolkit's smallest negative control.

A (``LinearMixing``: entries U(−1, 1), unit columns, the best-conditioned of 1 000 draws) is a
fixed function of the world's ``seed``, built once per world; the sources come from the generator
handed to :meth:`LinearICAWorld.sample`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import torch

from identifiable.worlds.base import Batch
from identifiable.worlds.mixing import LinearMixing

SOURCES = ("laplace", "uniform", "gaussian")


@dataclass(frozen=True)
class LinearICAWorld:
    """``n_sources`` unit-variance i.i.d. sources of ``source`` family, mixed by A.

    n_sources:  number of sources s (= observed dimensions), ≥ 2.
    source:     family of every s_i: "laplace", "uniform" or "gaussian" (the negative control).
    seed:       draws the mixing matrix A (the samples come from ``sample``'s generator).

    >>> world = LinearICAWorld(n_sources=5, source="laplace", seed=0)
    >>> batch = world.sample(1000, generator=torch.Generator().manual_seed(0))  # batch.z, batch.x
    """

    n_sources: int = 5
    source: Literal["laplace", "uniform", "gaussian"] = "laplace"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {self.source!r}")
        if not isinstance(self.n_sources, int) or self.n_sources < 2:
            raise ValueError(f"n_sources must be an int >= 2, got {self.n_sources!r}")

    @cached_property
    def mixing(self) -> LinearMixing:
        """The mixing A, one per world: it draws A from ``seed`` on first use and caches it, so
        the 1 000 candidate matrices and their SVDs are computed once, not on every ``sample``."""
        return LinearMixing(seed=self.seed)

    def sample(self, n: int, *, generator: torch.Generator) -> Batch:
        """n draws: z = s (the sources, unit variance) and x = A s."""
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"number of samples must be a positive int, got {n!r}")
        shape = (n, self.n_sources)
        if self.source == "gaussian":
            s = torch.randn(shape, generator=generator)
        elif self.source == "uniform":  # U(−√3, √3) has variance 1
            s = (torch.rand(shape, generator=generator) * 2 - 1) * 3**0.5
        else:  # Laplace with scale 1/√2 has variance 1
            u = torch.rand(shape, generator=generator) - 0.5
            s = -torch.sign(u) * torch.log1p(-2 * u.abs().clamp(max=0.5 - 1e-7)) / 2**0.5
        return Batch(s, self.mixing.build(self.n_sources)(s))
