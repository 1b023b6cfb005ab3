"""Linear ICA world: independent sources mixed by a random square matrix.

    s_i ~ p(s) i.i.d. per coordinate,   x = A s

Comon (1994), "Independent component analysis, a new concept?", Signal Processing 36(3);
Hyvärinen & Oja (2000), "Independent component analysis: algorithms and applications", Neural
Networks 13. A is identifiable up to permutation and scaling of its columns iff at most one source
is Gaussian (Darmois–Skitovich): with all-Gaussian sources any rotation of s is as likely, so
ICA must fail — the toolkit's smallest negative control.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from identifiable.worlds.mixing import LinearMixing
from identifiable.worlds.world import Batch

SOURCES = ("laplace", "uniform", "gaussian")


@dataclass(frozen=True)
class LinearICAWorld:
    """``n_sources`` unit-variance i.i.d. sources of ``source`` family, mixed by A (seeded)."""

    n_sources: int = 5
    source: Literal["laplace", "uniform", "gaussian"] = "laplace"
    mixing_seed: int = 0

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {self.source!r}")
        if not isinstance(self.n_sources, int) or self.n_sources < 2:
            raise ValueError(f"n_sources must be an int >= 2, got {self.n_sources!r}")

    def sample(self, n: int, *, generator: torch.Generator) -> Batch:
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
        mixing = LinearMixing(seed=self.mixing_seed).build(self.n_sources)
        return Batch(s, mixing(s))
