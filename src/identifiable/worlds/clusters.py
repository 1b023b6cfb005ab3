"""A cluster-centric world on the sphere: class labels and sample indices come with the latents.

Reizinger, Bizeul, Juhos, Vogt, Balestriero, Brendel, Klindt (2024), "Cross-Entropy Is All You Need
To Invert the Data Generating Process", arXiv:2410.21869; official code klindtlab/csi
(``simulation/main_sup.py``, ``simulation/main_diet.py``):

    v_1 … v_C ~ U(S^{n−1})                  (cluster vectors, drawn once from ``seed``)
    i ~ U{0, …, N − 1},  c = i mod C          (sample index and its cluster label)
    z ~ vMF(v_c, κ),     x = g(z)             (g: random invertible leaky-ReLU MLP)

``pairs`` adds contrastive positives around each draw, z̃ ~ vMF(z, κ_pair) (Zimmermann et al.
(2021), arXiv:2102.08850), so InfoNCE, cross-entropy and DIET learners can share one world.

As in the reference, an index is a label, not a stored point: every draw of index i gets a fresh
z from its cluster's vMF, so indices of the same cluster are exchangeable (DIET then has N classes
with C distinct distributions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import torch

from identifiable.worlds.base import PairBatch
from identifiable.worlds.latents import sample_vmf
from identifiable.worlds.mixing import LeakyMLPMixing, Mixing

__all__ = ["ClusterBatch", "ClusterWorld"]


class ClusterBatch(NamedTuple):
    z: torch.Tensor  # (n, n_latents) true latents on S^{n−1}
    x: torch.Tensor  # (n, n_latents) observations g(z)
    index: torch.Tensor  # (n,) int64 sample index i in [0, n_indices)
    label: torch.Tensor  # (n,) int64 cluster label c = i mod n_clusters


@dataclass(frozen=True)
class ClusterWorld:
    """C vMF clusters on S^{n−1} seen through ``mixing`` (see the module docstring).

    n_latents:   dimension n of the sphere S^{n−1} (≥ 2).
    n_clusters:  number of cluster vectors C (≥ 2); the classes of the supervised task.
    n_indices:   number of sample indices N (≥ C); the classes of DIET.
    kappa:       vMF concentration around each cluster vector (> 0; larger = tighter clusters).
    seed:        draws the cluster vectors (the mixing has its own seed).
    pair_kappa:  vMF concentration of the positives of :meth:`pairs` around each draw (> 0).

    >>> world = ClusterWorld(n_latents=5, n_clusters=100, kappa=10.0)
    >>> batch = world.sample(1024, generator=torch.Generator().manual_seed(0))
    """

    n_latents: int = 5
    n_clusters: int = 100
    n_indices: int = 10_240
    kappa: float = 10.0
    mixing: Mixing = field(default_factory=lambda: LeakyMLPMixing(n_layers=4))
    seed: int = 0
    pair_kappa: float = 10.0
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.n_latents, int) or self.n_latents < 2:
            raise ValueError(f"n_latents must be an int >= 2, got {self.n_latents!r}")
        if not isinstance(self.n_clusters, int) or self.n_clusters < 2:
            raise ValueError(f"n_clusters must be an int >= 2, got {self.n_clusters!r}")
        if not isinstance(self.n_indices, int) or self.n_indices < self.n_clusters:
            raise ValueError(
                f"n_indices must be an int >= n_clusters = {self.n_clusters}, "
                f"got {self.n_indices!r}"
            )
        for name in ("kappa", "pair_kappa"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value)):
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
            if value <= 0:
                raise ValueError(f"{name} must be > 0, got {value}")

    @property
    def cluster_vectors(self) -> torch.Tensor:
        """The C cluster vectors v_c, shape (n_clusters, n_latents), uniform on the sphere."""
        if "v" not in self._cache:
            generator = torch.Generator().manual_seed(self.seed)
            v = torch.randn((self.n_clusters, self.n_latents), generator=generator)
            self._cache["v"] = v / v.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        return self._cache["v"]

    def observe(self, z: torch.Tensor) -> torch.Tensor:
        """x = g(z)."""
        return self.mixing.build(self.n_latents)(z)

    def sample(self, n: int, *, generator: torch.Generator) -> ClusterBatch:
        """n draws: index i uniform, label c = i mod C, z ~ vMF(v_c, κ), x = g(z)."""
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"number of samples must be a positive int, got {n!r}")
        index = torch.randint(0, self.n_indices, (n,), generator=generator, device=generator.device)
        label = index % self.n_clusters
        centres = self.cluster_vectors.to(generator.device)[label]
        z = sample_vmf(centres, float(self.kappa), generator)
        return ClusterBatch(z, self.observe(z), index, label)

    def pairs(self, n: int, *, generator: torch.Generator) -> PairBatch:
        """n draws (as :meth:`sample`) and a positive for each, z̃ ~ vMF(z, pair_kappa)."""
        batch = self.sample(n, generator=generator)
        z_pos = sample_vmf(batch.z, float(self.pair_kappa), generator)
        return PairBatch(batch.z, z_pos, batch.x, self.observe(z_pos))
