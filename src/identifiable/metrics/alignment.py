"""Representation alignment: how alike two representations A (n, d_A) and B (n, d_B) of the same n
samples are — the scores of the Platonic Representation Hypothesis, with permutation nulls.

Huh, Cheung, Wang, Isola (2024), "The Platonic Representation Hypothesis", ICML,
arXiv:2405.07987; official code minyoungg/platonic-rep (``metrics.py``, read for the
definitions). Gröger, Wen, Brbić (2026), "Revisiting the Platonic Representation Hypothesis: an
Aristotelian view": raw scores grow with width and depth, so read them against a permutation
null. Definitions exactly as the reference's (on whatever features are passed: the reference
L2-normalises each sample after clamping outliers — :func:`prepare_features`, off unless asked):

* ``mutual_knn`` = (1/n) Σ_i |N_A(i) ∩ N_B(i)| / k, N_X(i) the k rows of largest inner product
  x_i·x_j, j ≠ i (self excluded); 1 for identical inputs, ≈ k/(n − 1) for independent ones.
* ``cka`` = HSIC(K, L) / √(HSIC(K, K) HSIC(L, L)), linear kernels K = AAᵀ, L = BBᵀ; biased
  HSIC = tr(KHLH), H = I − 11ᵀ/n (the 1/(n−1)² cancels); invariant to orthogonal maps and
  isotropic scaling of either side. ``unbiased_cka`` uses Song et al.'s (2012) unbiased HSIC,
  HSIC_u = [tr(K̃L̃) + 1ᵀK̃1·1ᵀL̃1/((n−1)(n−2)) − 2·1ᵀK̃L̃1/(n−2)] / (n(n−3)), K̃ = K with a zero
  diagonal — ≈ 0 for independent inputs. The reference adds 10⁻⁶ outside the square root; so
  do we.
* ``cknna`` = CKA (unbiased) restricted to mutual neighbours: HSIC_u(M∘K, M∘L), M_ij = 1[j among
  the k nearest of i under K and under L] (row-wise, self excluded), normalised by the same with
  each kernel's own mask.

Null calibration (:func:`calibrate`): the score of A against B with B's rows shuffled (seeded,
``permutations`` times) gives the null mean μ₀ and std σ₀; p = (1 + #{null ≥ score}) /
(1 + permutations); calibrated = (score − μ₀) / (max − μ₀) with max the score of identical
inputs (1 here) — 0 at chance, 1 at perfect agreement, whatever the width.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from identifiable._validation import as_2d_array, check_same_rows
from identifiable.metrics._registry import metric

__all__ = [
    "Calibrated",
    "calibrate",
    "cka",
    "cknna",
    "hsic_biased",
    "hsic_unbiased",
    "mutual_knn",
    "nearest_neighbours",
    "prepare_features",
    "unbiased_cka",
]

EPS = 1e-6  # the reference's guard, outside the square root


def _pair(a, b, min_rows: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    x = as_2d_array("A", a, min_rows=min_rows)
    y = as_2d_array("B", b, min_rows=min_rows)
    check_same_rows("A", x, "B", y)
    return torch.from_numpy(x), torch.from_numpy(y)


def _check_k(k: int, n: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n - 1:
        raise ValueError(f"k must be an int in 1 … n − 1 = {n - 1}, got {k!r}")


def prepare_features(x, q: float = 0.95) -> np.ndarray:
    """The reference pipeline's preparation: clamp every entry to ±t, t the mean over samples of
    each sample's q-quantile of |x| (its CLI default), then L2-normalise each sample (q = 1:
    no clamp)."""
    x = torch.from_numpy(as_2d_array("x", x))
    if not 0 < q <= 1:
        raise ValueError(f"q must be in (0, 1], got {q!r}")
    if q < 1:
        t = torch.quantile(x.abs(), q, dim=1).mean()
        x = x.clamp(-t, t)
    return torch.nn.functional.normalize(x, dim=1).numpy()


def nearest_neighbours(x: torch.Tensor, k: int, chunk: int = 2048) -> torch.Tensor:
    """(n, k) indices of each row's k largest inner products with the other rows (self
    excluded), in decreasing order; computed ``chunk`` rows at a time (memory chunk × n)."""
    n = len(x)
    out = torch.empty((n, k), dtype=torch.long)
    for start in range(0, n, chunk):
        rows = torch.arange(start, min(start + chunk, n))
        similarity = x[rows] @ x.T
        similarity[torch.arange(len(rows)), rows] = -torch.inf
        out[rows] = similarity.topk(k, dim=1).indices
    return out


@metric(
    higher_is_better=True,
    bounds=(0.0, 1.0),
    forgives="any map that keeps each sample's k nearest neighbours",
)
def mutual_knn(a, b, k: int = 10) -> float:
    """Mean share of each sample's k nearest neighbours (inner product) that A and B agree on."""
    x, y = _pair(a, b, min_rows=3)
    _check_k(k, len(x))
    knn_a, knn_b = nearest_neighbours(x, k), nearest_neighbours(y, k)
    shared = (knn_a[:, :, None] == knn_b[:, None, :]).any(dim=2).sum(dim=1)
    return float(shared.double().mean() / k)


def hsic_biased(k_mat: torch.Tensor, l_mat: torch.Tensor) -> torch.Tensor:
    """tr(K H L H), H = I − 11ᵀ/n (no 1/(n − 1)² factor, as the reference)."""
    centred = k_mat - k_mat.mean(dim=0) - k_mat.mean(dim=1, keepdim=True) + k_mat.mean()
    return (centred * l_mat.T).sum()  # tr(KHLH) = Σ (HKH) ∘ Lᵀ


def hsic_unbiased(k_mat: torch.Tensor, l_mat: torch.Tensor) -> torch.Tensor:
    """Song et al. (2012) unbiased HSIC (module docs); needs n ≥ 4."""
    n = len(k_mat)
    kt = k_mat - torch.diag(torch.diagonal(k_mat))
    lt = l_mat - torch.diag(torch.diagonal(l_mat))
    first = (kt * lt.T).sum()
    second = kt.sum() * lt.sum() / ((n - 1) * (n - 2))
    third = 2 * (kt.sum(dim=0) @ lt.sum(dim=1)) / (n - 2)
    return (first + second - third) / (n * (n - 3))


def _cka(x: torch.Tensor, y: torch.Tensor, hsic: Callable) -> float:
    k_mat, l_mat = x @ x.T, y @ y.T
    value = hsic(k_mat, l_mat) / (torch.sqrt(hsic(k_mat, k_mat) * hsic(l_mat, l_mat)) + EPS)
    return float(value)


@metric(higher_is_better=True, bounds=(None, 1.0), forgives="orthogonal map + isotropic scaling")
def cka(a, b) -> float:
    """Linear CKA with the biased HSIC (the reference's ``cka``, kernel ``ip``)."""
    x, y = _pair(a, b)
    return _cka(x, y, hsic_biased)


@metric(higher_is_better=True, bounds=(None, 1.0), forgives="orthogonal map + isotropic scaling")
def unbiased_cka(a, b) -> float:
    """Linear CKA with the unbiased HSIC of Song et al. (2012); ≈ 0 for independent inputs."""
    x, y = _pair(a, b, min_rows=4)
    return _cka(x, y, hsic_unbiased)


@metric(higher_is_better=True, bounds=(None, 1.0), forgives="orthogonal map + isotropic scaling")
def cknna(a, b, k: int = 10) -> float:
    """Unbiased linear CKA restricted to pairs that are k-nearest neighbours under both kernels."""
    x, y = _pair(a, b, min_rows=4)
    _check_k(k, len(x))
    k_mat, l_mat = x @ x.T, y @ y.T
    n = len(x)

    def mask(kernel: torch.Tensor) -> torch.Tensor:
        masked = kernel.clone().fill_diagonal_(-torch.inf)
        return torch.zeros(n, n, dtype=kernel.dtype).scatter_(1, masked.topk(k, dim=1).indices, 1)

    m_k, m_l = mask(k_mat), mask(l_mat)
    both = m_k * m_l
    cross = hsic_unbiased(both * k_mat, both * l_mat)
    own = hsic_unbiased(m_k * k_mat, m_k * k_mat) * hsic_unbiased(m_l * l_mat, m_l * l_mat)
    return float(cross) / (float(torch.sqrt(own)) + EPS)


@dataclass(frozen=True)
class Calibrated:
    """A score against its permutation null: ``score``, null ``null_mean`` and ``null_std``,
    one-sided ``p_value`` and ``calibrated`` = (score − null_mean) / (maximum − null_mean)."""

    score: float
    null_mean: float
    null_std: float
    p_value: float
    calibrated: float
    permutations: int


def calibrate(
    score: Callable, a, b, *, permutations: int = 100, seed: int = 0, maximum: float = 1.0, **kwargs
) -> Calibrated:
    """``score(a, b, **kwargs)`` and its null: B's rows shuffled ``permutations`` times (seeded)."""
    if isinstance(permutations, bool) or not isinstance(permutations, int) or permutations < 1:
        raise ValueError(f"permutations must be an int >= 1, got {permutations!r}")
    x, y = _pair(a, b)
    observed = score(x.numpy(), y.numpy(), **kwargs)
    generator = np.random.default_rng(seed)
    null = np.array([score(x.numpy(), y.numpy()[generator.permutation(len(y))], **kwargs)
                     for _ in range(permutations)])  # fmt: skip
    mean = float(null.mean())
    p_value = float((1 + (null >= observed).sum()) / (1 + permutations))
    spread = maximum - mean
    calibrated = (observed - mean) / spread if spread > 0 else float("nan")
    return Calibrated(observed, mean, float(null.std(ddof=1)) if permutations > 1 else 0.0,
                      p_value, float(calibrated), permutations)  # fmt: skip
