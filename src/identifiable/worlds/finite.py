"""Finite worlds: a fixed table of rows (truth z, observations x) with named, seeded splits.

Some worlds are finite: all p² pairs of modular arithmetic (Power et al. 2022, "Grokking:
Generalization Beyond Overfitting on Small Algorithmic Datasets", arXiv:2201.02177), every string
of a formal language up to a length, a grid over a latent space, a user's file. They expose the
split names of :data:`~identifiable.worlds.base.SPLITS` through one interface, so a learner fits
on ``split("train")`` and an experiment scores ``split("ood")`` without knowing how the split was
made:

    all   = every row i ∈ {0, …, N − 1}
    ood   = {i : ood(z_i)}                           (held out of everything else; may be empty)
    ID    = all ∖ ood, permuted by π ~ U(S_|ID|) drawn from ``seed``
    train = π[0 : a),  validation = π[a : b),  test = π[b : |ID|)
    with a = round(f_train · |ID|),  b = round((f_train + f_validation) · |ID|)

so train, validation, test and ood are disjoint and cover ``all``; the same ``seed`` gives the same
assignment, and each split lists its rows in their original order. ``sample(n, generator=...)``
draws n rows of ``train`` uniformly with replacement (the World protocol), so an i.i.d. learner
can train on a finite world as on any other.

Worked example — modular addition, a = b + c mod p, with the pairs whose b is 0 held out as ood:

>>> import torch
>>> p = 7
>>> pairs = torch.cartesian_prod(torch.arange(p), torch.arange(p))        # x: (49, 2) inputs
>>> world = FiniteWorld.from_arrays(
...     z=pairs.sum(1) % p, x=pairs, ood=pairs[:, 0] == 0, fractions=(0.5, 0.0, 0.5), seed=0
... )
>>> world.sizes
{'train': 21, 'validation': 0, 'test': 21, 'ood': 7, 'all': 49}
>>> train = world.split("train")                                           # Batch(z, x)
>>> batch = world.sample(32, generator=torch.Generator().manual_seed(0))  # rows of train only
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from identifiable.worlds.base import SPLITS, Batch

__all__ = ["FiniteWorld"]

_ID_SPLITS = ("train", "validation", "test")


def _as_tensor(name: str, value) -> torch.Tensor:
    """``value`` (tensor, numpy array or nested lists) as a CPU tensor with a row axis, finite."""
    try:
        tensor = torch.as_tensor(value).detach().cpu()
    except (TypeError, ValueError, RuntimeError) as error:
        raise ValueError(f"{name} must be a numeric array, got {type(value).__name__}") from error
    if tensor.ndim == 0:
        raise ValueError(f"{name} must have a row axis (shape (n, ...)), got a scalar")
    if tensor.is_complex():
        raise ValueError(f"{name} must be real (bool, int or float), got dtype {tensor.dtype}")
    if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
        bad = int((~torch.isfinite(tensor)).sum())
        raise ValueError(f"{name} contains {bad} NaN/inf values; remove or impute those rows first")
    return tensor


@dataclass(frozen=True, eq=False)
class FiniteWorld:
    """A fixed table of N rows (truth ``z``, observations ``x``) with seeded named splits.

    z:          (N, ...) the truth of every row (latents, labels, factors).
    x:          (N, ...) the observations of every row, what a learner sees.
    ood:        (N,) bool mask of rows held out of train/validation/test (the ``ood`` split);
                None: no ood rows.
    fractions:  (train, validation, test) shares of the in-distribution rows; each ≥ 0, summing
                to 1, train > 0. A share of 0 leaves that split empty.
    seed:       draws the assignment of in-distribution rows to train/validation/test (the
                world's fixed structure; ``sample``'s generator only picks rows of train).

    Build it with :meth:`from_arrays` (numpy, torch or lists; ``ood`` as a mask or a predicate
    on z) or :meth:`from_rule` (x = observe(z)); the formulas are in the module docstring.
    """

    z: torch.Tensor
    x: torch.Tensor
    ood: torch.Tensor | None = None
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    seed: int = 0
    _indices: dict[str, torch.Tensor] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        z, x = _as_tensor("z", self.z), _as_tensor("x", self.x)
        if z.shape[0] != x.shape[0]:
            raise ValueError(
                f"z and x must have the same number of rows, got {z.shape[0]} and {x.shape[0]}"
            )
        n_rows = z.shape[0]
        if n_rows < 1:
            raise ValueError("a FiniteWorld needs at least one row, got 0")
        if self.ood is None:
            ood = torch.zeros(n_rows, dtype=torch.bool)
        else:
            ood = _as_tensor("ood", self.ood)
            if ood.dtype != torch.bool or ood.shape != (n_rows,):
                raise ValueError(
                    f"ood must be a bool mask of shape ({n_rows},), "
                    f"got dtype {ood.dtype} and shape {tuple(ood.shape)}"
                )
        fractions = self._check_fractions(self.fractions)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer):
            raise ValueError(f"seed must be an int, got {self.seed!r}")
        object.__setattr__(self, "z", z)
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "ood", ood)
        object.__setattr__(self, "fractions", fractions)

        in_distribution = (~ood).nonzero().squeeze(1)
        n_in = len(in_distribution)
        if n_in == 0:
            raise ValueError(f"every one of the {n_rows} rows is ood; train would be empty")
        order = torch.randperm(n_in, generator=torch.Generator().manual_seed(int(self.seed)))
        cuts = [0, round(fractions[0] * n_in), round((fractions[0] + fractions[1]) * n_in), n_in]
        for i, name in enumerate(_ID_SPLITS):
            rows = in_distribution[order[cuts[i] : cuts[i + 1]]].sort().values
            if fractions[i] > 0 and len(rows) == 0:
                raise ValueError(
                    f"split {name!r} is empty: fraction {fractions[i]:g} of {n_in} "
                    f"in-distribution rows rounds to 0; add rows or set its fraction to 0"
                )
            self._indices[name] = rows
        self._indices["ood"] = ood.nonzero().squeeze(1)
        self._indices["all"] = torch.arange(n_rows)

    @staticmethod
    def _check_fractions(fractions) -> tuple[float, float, float]:
        ok = (
            isinstance(fractions, tuple | list)
            and len(fractions) == 3
            and all(
                isinstance(f, int | float) and not isinstance(f, bool) and math.isfinite(f)
                for f in fractions
            )
        )
        if not ok:
            raise ValueError(
                f"fractions must be three numbers (train, validation, test), got {fractions!r}"
            )
        if min(fractions) < 0 or not math.isclose(sum(fractions), 1.0, abs_tol=1e-9):
            raise ValueError(
                f"fractions must be >= 0 and sum to 1, got {tuple(fractions)} "
                f"(sum {sum(fractions):g})"
            )
        if fractions[0] <= 0:
            raise ValueError(f"the train fraction must be > 0, got {tuple(fractions)}")
        return tuple(float(f) for f in fractions)  # type: ignore[return-value]

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_arrays(
        cls,
        z,
        x,
        *,
        ood: torch.Tensor | np.ndarray | Callable[[torch.Tensor], torch.Tensor] | None = None,
        fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
        seed: int = 0,
    ) -> FiniteWorld:
        """A finite world from a table: ``z`` and ``x`` with the same number of rows (numpy,
        torch or nested lists); ``ood`` a bool mask (N,), a predicate ``z -> mask`` (e.g.
        ``lambda z: z[:, 0] > 0.5`` for a held-out region of latent space) or None."""
        z = _as_tensor("z", z)
        if callable(ood):
            ood = torch.as_tensor(ood(z))
        return cls(z=z, x=x, ood=ood, fractions=fractions, seed=seed)

    @classmethod
    def from_rule(
        cls,
        z,
        observe: Callable[[torch.Tensor], torch.Tensor],
        *,
        ood: torch.Tensor | np.ndarray | Callable[[torch.Tensor], torch.Tensor] | None = None,
        fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
        seed: int = 0,
    ) -> FiniteWorld:
        """A finite world whose observations follow from the truth, x = observe(z), row-wise
        (e.g. one-hot encodings of all p² pairs, or a rendering of a grid of latents)."""
        z = _as_tensor("z", z)
        return cls.from_arrays(z, observe(z), ood=ood, fractions=fractions, seed=seed)

    # ----------------------------------------------------------------- access
    def __len__(self) -> int:
        return self.z.shape[0]

    @property
    def sizes(self) -> dict[str, int]:
        """Rows per split, in :data:`SPLITS` order."""
        return {name: len(self._indices[name]) for name in SPLITS}

    def indices(self, name: str) -> torch.Tensor:
        """Row numbers (int64, ascending) of split ``name``, one of :data:`SPLITS`."""
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; choose one of {', '.join(SPLITS)}")
        return self._indices[name]

    def split(self, name: str) -> Batch:
        """The rows of split ``name`` as a ``Batch(z, x)``; an empty split raises."""
        rows = self.indices(name)
        if len(rows) == 0:
            if name == "ood":
                raise ValueError("split 'ood' is empty: this world has no ood rows (pass ood=...)")
            raise ValueError(f"split {name!r} is empty: its fraction is 0 in {self.fractions}")
        return Batch(self.z[rows], self.x[rows])

    def sample(self, n: int, *, generator: torch.Generator) -> Batch:
        """n rows of ``train`` drawn uniformly with replacement; randomness from ``generator``."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"number of samples must be a positive int, got {n!r}")
        train = self._indices["train"]
        pick = torch.randint(len(train), (n,), generator=generator, device=generator.device)
        rows = train[pick.cpu()]
        return Batch(self.z[rows], self.x[rows])
