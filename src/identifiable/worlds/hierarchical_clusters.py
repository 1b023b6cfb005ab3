"""A world of classes inside super-classes on the sphere, seen through an invertible mixing.

The setting of X-Sample contrastive learning (Sobal et al. 2024, "X-Sample Contrastive Loss:
Improving Contrastive Learning with Sample Similarity Graphs", arXiv:2407.18134), where classes
are related (ImageNet's classes share super-classes, their names have similar captions), built on
the cluster world of Reizinger et al. (2024), arXiv:2410.21869, and the positive pairs of
Zimmermann et al. (2021), arXiv:2102.08850:

    u_1 … u_S ~ U(S^{n−1})                          (super-class vectors, drawn once from ``seed``)
    v_c ~ vMF(u_{s(c)}, κ_class),  s(c) = ⌊c / K⌋   (K class vectors around each super-class vector)
    c ~ U{0, …, S·K − 1},  z ~ vMF(v_c, κ),  x = g(z)
    a view of z:  z̃ ~ vMF(z, κ_view),  x̃ = g(z̃)      (an "augmentation", fresh at every draw)

:meth:`HierarchicalClusterWorld.class_graph` is the class-relation graph a user would build from
such a hierarchy (1 same class, ``super_weight`` same super-class, 0 otherwise).
:meth:`HierarchicalClusterWorld.dataset` draws a finite training set; its :meth:`pairs` returns
two fresh views of a batch of its samples with their class labels, as a data loader with
augmentations would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import torch

from identifiable.worlds.latents import sample_vmf
from identifiable.worlds.mixing import LeakyMLPMixing, Mixing

__all__ = ["HierarchicalBatch", "HierarchicalClusterWorld", "LabelledPairs", "ViewedDataset"]


class HierarchicalBatch(NamedTuple):
    z: torch.Tensor  # (n, n_latents) true latents on S^{n−1}
    x: torch.Tensor  # (n, n_latents) observations g(z)
    label: torch.Tensor  # (n,) int64 class c
    superclass: torch.Tensor  # (n,) int64 super-class s(c) = c // classes_per_superclass


class LabelledPairs(NamedTuple):
    x: torch.Tensor  # (B, n_latents) first views
    x_pos: torch.Tensor  # (B, n_latents) second views of the same samples
    label: torch.Tensor  # (B,) int64 class labels


@dataclass(frozen=True)
class HierarchicalClusterWorld:
    """S·K vMF classes in S super-classes on S^{n−1}, through ``mixing`` (module docstring).

    n_latents:               dimension n of the sphere (≥ 2).
    n_superclasses:          S (≥ 2).
    classes_per_superclass:  K (≥ 2); class c belongs to super-class c // K.
    kappa_class:             vMF concentration of the class vectors around their super-class
                             vector (> 0; larger = super-classes more distinct in the geometry;
                             the default 1 makes membership mostly a relation, not a distance).
    kappa:                   vMF concentration of samples around their class vector (> 0).
    kappa_view:              vMF concentration of a view around its sample (> 0; the
                             "augmentation" strength, larger = weaker).
    seed:                    draws the super-class and class vectors (the mixing has its own).

    >>> world = HierarchicalClusterWorld()
    >>> train = world.dataset(400, generator=torch.Generator().manual_seed(0))
    >>> pairs = train.pairs(256, generator=torch.Generator().manual_seed(1))
    """

    n_latents: int = 8
    n_superclasses: int = 4
    classes_per_superclass: int = 5
    kappa_class: float = 1.0
    kappa: float = 30.0
    kappa_view: float = 100.0
    mixing: Mixing = field(default_factory=lambda: LeakyMLPMixing(n_layers=3))
    seed: int = 0
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        for name in ("n_latents", "n_superclasses", "classes_per_superclass"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 2:
                raise ValueError(f"{name} must be an int >= 2, got {value!r}")
        for name in ("kappa_class", "kappa", "kappa_view"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")

    @property
    def n_classes(self) -> int:
        return self.n_superclasses * self.classes_per_superclass

    def superclass_of(self, label: torch.Tensor) -> torch.Tensor:
        """s(c) = c // K for class labels c."""
        return torch.div(label, self.classes_per_superclass, rounding_mode="floor")

    @property
    def superclass_vectors(self) -> torch.Tensor:
        """u_s, shape (n_superclasses, n_latents), uniform on the sphere."""
        self._draw_vectors()
        return self._cache["u"]

    @property
    def class_vectors(self) -> torch.Tensor:
        """v_c, shape (n_classes, n_latents): vMF(u_{s(c)}, κ_class) draws."""
        self._draw_vectors()
        return self._cache["v"]

    def _draw_vectors(self) -> None:
        if "v" in self._cache:
            return
        generator = torch.Generator().manual_seed(self.seed)
        u = torch.randn((self.n_superclasses, self.n_latents), generator=generator)
        u = u / u.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        parents = u.repeat_interleave(self.classes_per_superclass, dim=0)
        self._cache["u"] = u
        self._cache["v"] = sample_vmf(parents, float(self.kappa_class), generator)

    def class_graph(self, super_weight: float = 0.5) -> torch.Tensor:
        """G[c, c'] = 1 if c = c', ``super_weight`` if s(c) = s(c'), else 0; shape (C, C)."""
        if not 0.0 <= super_weight <= 1.0:
            raise ValueError(f"super_weight must be in [0, 1], got {super_weight}")
        classes = torch.arange(self.n_classes)
        same_super = self.superclass_of(classes)[:, None] == self.superclass_of(classes)[None, :]
        graph = same_super.to(torch.get_default_dtype()) * super_weight
        graph.fill_diagonal_(1.0)
        return graph

    def observe(self, z: torch.Tensor) -> torch.Tensor:
        """x = g(z)."""
        return self.mixing.build(self.n_latents)(z)

    def sample(self, n: int, *, generator: torch.Generator) -> HierarchicalBatch:
        """n draws: class c uniform, z ~ vMF(v_c, κ), x = g(z)."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"number of samples must be a positive int, got {n!r}")
        label = torch.randint(0, self.n_classes, (n,), generator=generator)
        z = sample_vmf(self.class_vectors[label], float(self.kappa), generator)
        return HierarchicalBatch(z, self.observe(z), label, self.superclass_of(label))

    def view(self, z: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        """One fresh view x̃ = g(z̃), z̃ ~ vMF(z, κ_view), of every row of z."""
        return self.observe(sample_vmf(z, float(self.kappa_view), generator))

    def dataset(self, n: int, *, generator: torch.Generator) -> ViewedDataset:
        """A finite training set of n draws whose :meth:`ViewedDataset.pairs` gives fresh views."""
        return ViewedDataset(self, self.sample(n, generator=generator))


@dataclass(frozen=True)
class ViewedDataset:
    """A finite set of samples of a :class:`HierarchicalClusterWorld` and their fresh views."""

    world: HierarchicalClusterWorld
    data: HierarchicalBatch

    def __len__(self) -> int:
        return int(self.data.z.shape[0])

    @property
    def n_classes(self) -> int:
        return self.world.n_classes

    def sample(self, n: int, *, generator: torch.Generator) -> HierarchicalBatch:
        """n rows of the dataset drawn uniformly with replacement (as a finite world's sample)."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"number of samples must be a positive int, got {n!r}")
        index = torch.randint(0, len(self), (n,), generator=generator)
        return HierarchicalBatch(*(field[index] for field in self.data))

    def pairs(self, n: int, *, generator: torch.Generator) -> LabelledPairs:
        """Two fresh views of n distinct samples (a random subset; n ≤ the dataset's size)."""
        if not isinstance(n, int) or not 1 <= n <= len(self):
            raise ValueError(f"can draw 1 to {len(self)} distinct samples per batch, got {n!r}")
        index = torch.randperm(len(self), generator=generator)[:n]
        z = self.data.z[index]
        x = self.world.view(z, generator=generator)
        return LabelledPairs(x, self.world.view(z, generator=generator), self.data.label[index])
