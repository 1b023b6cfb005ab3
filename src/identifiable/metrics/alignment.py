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
  ``kernel="rbf"``: K_ij = exp(−‖a_i − a_j‖² / (2σ²)), σ = 1 by default (the reference's).
* ``cknna`` = CKA (unbiased) restricted to mutual neighbours: HSIC_u(M∘K, M∘L), M_ij = 1[j among
  the k nearest of i under K and under L] (row-wise, self excluded), normalised by the same with
  each kernel's own mask. Computed from the n·k listed entries (every term of HSIC_u of
  matrices that vanish off the neighbour lists), so no n × n matrix is formed.
* ``cycle_knn`` = (1/n) Σ_i 1[∃ j ∈ N_B(i): i ∈ N_A(j)] — can i be found again by going to a
  B-neighbour and back through A? Not symmetric, and < 1 even for identical inputs (k-NN is not
  a symmetric relation).
* ``lcs_knn`` = (1/n) Σ_i LCS(N_A(i), N_B(i)): the longest common subsequence of the two
  *ordered* neighbour lists — in [0, k], not divided by k, as the reference (``normalise=True``
  divides).
* ``edit_distance_knn`` = 1 − (1/n) Σ_i Lev(N_A(i), N_B(i)) / k, Lev the Levenshtein distance of
  the ordered lists (unit costs).
* ``svcca`` (Raghu et al. 2017, arXiv:1706.05806) = mean canonical correlation of the top
  ``dims`` = 10 left singular vectors U_A, U_B of each column-standardised side (std with
  ddof 1, +10⁻⁸). Deviations, stated: the reference takes a *randomised* SVD
  (``torch.svd_lowrank``), runs sklearn's iterative CCA and adds 10⁻¹⁰ Gaussian noise from the
  global RNG, so it is not reproducible; we take the exact SVD and the exact canonical
  correlations — the singular values of U_Aᵀ U_B (both orthonormal and centred), which sklearn's
  CCA converges to.

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
    "cycle_knn",
    "edit_distance_knn",
    "hsic_biased",
    "hsic_unbiased",
    "lcs_knn",
    "mutual_knn",
    "nearest_neighbours",
    "prepare_features",
    "svcca",
    "unbiased_cka",
]

EPS = 1e-6  # the reference's guard, outside the square root
#: Up to this many rows the null of a wide linear CKA (d_A·d_B > 64 n) permutes the n × n
#: kernels (O(n²) memory-bound work per shuffle) instead of recomputing the d_A × d_B
#: cross-covariance (O(n·d_A·d_B) flops); beyond it the features are used whatever the width,
#: so memory stays O(n·d).
KERNEL_NULL_ROWS = 4096


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


def _neighbour_lists(a, b, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Checked inputs → each side's (n, k) ordered neighbour lists."""
    x, y = _pair(a, b, min_rows=3)
    _check_k(k, len(x))
    return nearest_neighbours(x, k), nearest_neighbours(y, k)


@metric(
    higher_is_better=True,
    bounds=(0.0, 1.0),
    forgives="any map that keeps each sample's k nearest neighbours",
)
def mutual_knn(a, b, k: int = 10) -> float:
    """Mean share of each sample's k nearest neighbours (inner product) that A and B agree on."""
    return _mutual(*_neighbour_lists(a, b, k))


def _mutual(knn_a: torch.Tensor, knn_b: torch.Tensor) -> float:
    shared = (knn_a[:, :, None] == knn_b[:, None, :]).any(dim=2).sum(dim=1)
    return float(shared.double().mean() / knn_a.shape[1])


@metric(
    higher_is_better=True,
    bounds=(0.0, 1.0),
    forgives="any map that keeps each sample's k nearest neighbours",
)
def cycle_knn(a, b, k: int = 10) -> float:
    """Share of samples found again among the A-neighbours of their B-neighbours (asymmetric)."""
    return _cycle(*_neighbour_lists(a, b, k))


def _cycle(knn_a: torch.Tensor, knn_b: torch.Tensor) -> float:
    back = knn_a[knn_b]  # (n, k, k): the A-neighbours of each B-neighbour of i
    found = (back == torch.arange(len(knn_a))[:, None, None]).flatten(1).any(dim=1)
    return float(found.double().mean())


def _ordered_list_dp(first: torch.Tensor, second: torch.Tensor, levenshtein: bool) -> torch.Tensor:
    """Row-wise LCS length (or Levenshtein distance) of two (n, k) integer lists: the textbook
    dynamic programme over (i, j), each cell computed for every row at once."""
    n, k = first.shape
    table = torch.zeros((n, k + 1, k + 1), dtype=torch.long)
    if levenshtein:
        table[:, :, 0] = torch.arange(k + 1)
        table[:, 0, :] = torch.arange(k + 1)
    for i in range(1, k + 1):
        for j in range(1, k + 1):
            same = first[:, i - 1] == second[:, j - 1]
            if levenshtein:
                substitute = table[:, i - 1, j - 1] + (~same).long()
                gap = torch.minimum(table[:, i - 1, j], table[:, i, j - 1]) + 1
                table[:, i, j] = torch.minimum(substitute, gap)
            else:
                extend = table[:, i - 1, j - 1] + 1
                skip = torch.maximum(table[:, i - 1, j], table[:, i, j - 1])
                table[:, i, j] = torch.where(same, extend, skip)
    return table[:, k, k]


@metric(
    higher_is_better=True,
    bounds=(0.0, None),
    forgives="any map that keeps each sample's k nearest neighbours in order",
)
def lcs_knn(a, b, k: int = 10, normalise: bool = False) -> float:
    """Mean longest common subsequence of the ordered k-NN lists (in [0, k]; ``normalise``: /k)."""
    return _lcs(*_neighbour_lists(a, b, k), normalise)


def _lcs(knn_a: torch.Tensor, knn_b: torch.Tensor, normalise: bool = False) -> float:
    lengths = _ordered_list_dp(knn_a, knn_b, False)
    return float(lengths.double().mean()) / (knn_a.shape[1] if normalise else 1)


@metric(
    higher_is_better=True,
    bounds=(0.0, 1.0),
    forgives="any map that keeps each sample's k nearest neighbours in order",
)
def edit_distance_knn(a, b, k: int = 10) -> float:
    """1 − mean Levenshtein distance of the ordered k-NN lists / k."""
    return _edit(*_neighbour_lists(a, b, k))


def _edit(knn_a: torch.Tensor, knn_b: torch.Tensor) -> float:
    distance = _ordered_list_dp(knn_a, knn_b, True)
    return 1.0 - float(distance.double().mean()) / knn_a.shape[1]


@metric(higher_is_better=True, bounds=(0.0, 1.0), forgives="invertible linear map (all dims kept)")
def svcca(a, b, dims: int = 10) -> float:
    """Mean canonical correlation of the top ``dims`` singular directions of each side."""
    x, y = _pair(a, b, min_rows=3)
    if isinstance(dims, bool) or not isinstance(dims, int) or dims < 1:
        raise ValueError(f"dims must be an int >= 1, got {dims!r}")
    if dims > min(x.shape[1], y.shape[1], len(x) - 1):
        raise ValueError(
            f"dims={dims} needs both sides to have at least {dims} columns and {dims + 1} rows, "
            f"got A {tuple(x.shape)}, B {tuple(y.shape)}; lower dims"
        )

    def top(v: torch.Tensor) -> np.ndarray:
        standardised = (v - v.mean(dim=0)) / (v.std(dim=0) + 1e-8)
        return torch.linalg.svd(standardised, full_matrices=False).U[:, :dims].numpy()

    u_a, u_b = top(x), top(y)  # orthonormal, centred columns
    correlations = np.linalg.svd(u_a.T @ u_b, compute_uv=False).clip(0.0, 1.0)  # canonical corr.
    return float(correlations.mean())


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


def _kernel(x: torch.Tensor, kernel: str, sigma: float) -> torch.Tensor:
    if kernel == "linear":
        return x @ x.T
    squared = torch.cdist(x, x).square()
    return torch.exp(-squared / (2 * sigma**2))


def _check_kernel(kernel: str, sigma: float) -> None:
    if kernel not in ("linear", "rbf"):
        raise ValueError(f"kernel must be 'linear' or 'rbf', got {kernel!r}")
    if isinstance(sigma, bool) or not isinstance(sigma, int | float) or not sigma > 0:
        raise ValueError(f"sigma must be a number > 0, got {sigma!r}")


def _linear_hsic(x: torch.Tensor, y: torch.Tensor, unbiased: bool) -> torch.Tensor:
    """HSIC of the linear kernels K = XXᵀ, L = YYᵀ from the features, O(n·d_x·d_y), no n × n
    matrix: biased tr(KHLH) = ‖(HX)ᵀ(HY)‖²_F; unbiased from tr(K̃L̃) = ‖XᵀY‖²_F − Σ_i K_ii L_ii,
    1ᵀK̃1 = ‖Xᵀ1‖² − Σ_i K_ii and K̃1 = X(Xᵀ1) − diag K (the same numbers as the kernel form)."""
    if not unbiased:
        return (x - x.mean(dim=0)).T.matmul(y - y.mean(dim=0)).square().sum()
    n = len(x)
    k_diag, l_diag = x.square().sum(dim=1), y.square().sum(dim=1)
    first = x.T.matmul(y).square().sum() - (k_diag * l_diag).sum()
    k_row = x @ x.sum(dim=0) - k_diag  # K̃1
    l_row = y @ y.sum(dim=0) - l_diag
    second = k_row.sum() * l_row.sum() / ((n - 1) * (n - 2))
    third = 2 * (k_row @ l_row) / (n - 2)
    return (first + second - third) / (n * (n - 3))


def _linear_cka(x: torch.Tensor, y: torch.Tensor, unbiased: bool) -> float:
    cross = _linear_hsic(x, y, unbiased)
    own = _linear_hsic(x, x, unbiased) * _linear_hsic(y, y, unbiased)
    return float(cross / (torch.sqrt(own) + EPS))


def _cka(x: torch.Tensor, y: torch.Tensor, hsic: Callable, kernel: str, sigma: float) -> float:
    _check_kernel(kernel, sigma)
    if kernel == "linear":
        return _linear_cka(x, y, unbiased=hsic is hsic_unbiased)
    return _cka_of_kernels(_kernel(x, kernel, sigma), _kernel(y, kernel, sigma), hsic)


def _cka_of_kernels(k_mat: torch.Tensor, l_mat: torch.Tensor, hsic: Callable) -> float:
    value = hsic(k_mat, l_mat) / (torch.sqrt(hsic(k_mat, k_mat) * hsic(l_mat, l_mat)) + EPS)
    return float(value)


@metric(higher_is_better=True, bounds=(None, 1.0), forgives="orthogonal map + isotropic scaling")
def cka(a, b, kernel: str = "linear", sigma: float = 1.0) -> float:
    """CKA with the biased HSIC (the reference's ``cka``; linear kernel unless ``kernel="rbf"``)."""
    x, y = _pair(a, b)
    return _cka(x, y, hsic_biased, kernel, sigma)


@metric(higher_is_better=True, bounds=(None, 1.0), forgives="orthogonal map + isotropic scaling")
def unbiased_cka(a, b, kernel: str = "linear", sigma: float = 1.0) -> float:
    """CKA with the unbiased HSIC of Song et al. (2012); ≈ 0 for independent inputs."""
    x, y = _pair(a, b, min_rows=4)
    return _cka(x, y, hsic_unbiased, kernel, sigma)


@metric(higher_is_better=True, bounds=(None, 1.0), forgives="orthogonal map + isotropic scaling")
def cknna(a, b, k: int = 10) -> float:
    """Unbiased linear CKA restricted to pairs that are k-nearest neighbours under both kernels."""
    x, y = _pair(a, b, min_rows=4)
    _check_k(k, len(x))
    return _cknna_of_lists(*_cknna_side(x, k), nearest_neighbours(y, k), y)


def _pair_products(x: torch.Tensor, lists: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
    """(n, k) inner products x_i · x_j for j in row i of ``lists``, ``chunk`` rows at a time."""
    out = torch.empty(lists.shape, dtype=x.dtype)
    for start in range(0, len(x), chunk):
        rows = slice(start, start + chunk)
        out[rows] = torch.einsum("nd,nkd->nk", x[rows], x[lists[rows]])
    return out


def _sparse_hsic_unbiased(lists: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """HSIC_u(A, B) of two n × n matrices that are zero outside the positions (i, lists[i, t])
    (values ``a``, ``b`` there; the diagonal is not among them): the terms of
    :func:`hsic_unbiased` from the n·k entries — tr(AB) = Σ_it a_it B[lists_it, i] by matching
    i in the lists of its neighbours, column sums of A by scatter-add, row sums of B."""
    n = len(lists)
    back = lists[lists] == torch.arange(n)[:, None, None]  # (i, t, s): lists[lists[i, t], s] == i
    first = (a[:, :, None] * b[lists] * back).sum()
    columns_a = torch.zeros(n, dtype=a.dtype).index_add_(0, lists.flatten(), a.flatten())
    second = a.sum() * b.sum() / ((n - 1) * (n - 2))
    third = 2 * (columns_a @ b.sum(dim=1)) / (n - 2)
    return (first + second - third) / (n * (n - 3))


def _cknna_cross(
    knn_a: torch.Tensor, products_a: torch.Tensor, knn_b: torch.Tensor, products_b_at_a
) -> torch.Tensor:
    """HSIC_u(M∘K, M∘L) from A's lists and products, B's lists and L at A's listed pairs."""
    both = (knn_a[:, :, None] == knn_b[:, None, :]).any(dim=2)  # j among B's neighbours too
    return _sparse_hsic_unbiased(knn_a, products_a * both, products_b_at_a * both)


def _cknna_of_lists(
    knn_a: torch.Tensor, products_a: torch.Tensor, own_a: torch.Tensor, knn_b, y: torch.Tensor
) -> float:
    """CKNNA given A's neighbour lists with their products and own term, and B."""
    cross = _cknna_cross(knn_a, products_a, knn_b, _pair_products(y, knn_a))
    products_b = _pair_products(y, knn_b)
    own_b = _sparse_hsic_unbiased(knn_b, products_b, products_b)
    return float(cross / (torch.sqrt(own_a * own_b) + EPS))


def _cknna_side(x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    knn = nearest_neighbours(x, k)
    products = _pair_products(x, knn)
    return knn, products, _sparse_hsic_unbiased(knn, products, products)


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
    score: Callable,
    a,
    b,
    *,
    permutations: int = 100,
    seed: int = 0,
    maximum: float | None = None,
    **kwargs,
) -> Calibrated:
    """``score(a, b, **kwargs)`` and its null: B's rows shuffled ``permutations`` times (seeded).

    ``maximum``: the score of perfect agreement, 1 unless given (k for unnormalised ``lcs_knn``).
    Our scores are computed once per side and relabelled per shuffle (same numbers, far faster);
    any other callable is recomputed on every shuffled copy.
    """
    if maximum is None:
        unnormalised_lcs = score is lcs_knn and not kwargs.get("normalise", False)
        maximum = float(kwargs.get("k", 10)) if unnormalised_lcs else 1.0
    if isinstance(permutations, bool) or not isinstance(permutations, int) or permutations < 1:
        raise ValueError(f"permutations must be an int >= 1, got {permutations!r}")
    x, y = _pair(a, b)
    generator = np.random.default_rng(seed)
    orders = [torch.from_numpy(generator.permutation(len(y))) for _ in range(permutations)]
    fast = _permuted_scores(score, x, y, orders, kwargs)
    if fast is not None:
        observed, null = fast
    else:  # any other score: recompute it on every shuffle
        observed = score(x.numpy(), y.numpy(), **kwargs)
        null = np.array([score(x.numpy(), y.numpy()[order], **kwargs) for order in orders])
    mean = float(null.mean())
    p_value = float((1 + (null >= observed).sum()) / (1 + permutations))
    spread = maximum - mean
    calibrated = (observed - mean) / spread if spread > 0 else float("nan")
    return Calibrated(observed, mean, float(null.std(ddof=1)) if permutations > 1 else 0.0,
                      p_value, float(calibrated), permutations)  # fmt: skip


def _permuted_scores(score: Callable, x, y, orders, kwargs) -> tuple[float, np.ndarray] | None:
    """The score and its null from one pass over A and B: shuffling B's rows by π relabels B's
    neighbour lists (π⁻¹ ∘ N_B ∘ π) and permutes its kernel (L[π][:, π]) — the same numbers as
    recomputing them on B[π], without the n²·d work per shuffle. ``None`` for other scores."""
    kwargs = dict(kwargs)
    if score in _FROM_NEIGHBOURS and set(kwargs) <= {"k", "normalise"}:
        if score is not lcs_knn and "normalise" in kwargs:
            return None
        k = kwargs.pop("k", 10)
        _check_k(k, len(x))
        from_lists = _FROM_NEIGHBOURS[score]
        knn_a, knn_b = nearest_neighbours(x, k), nearest_neighbours(y, k)
        observed = from_lists(knn_a, knn_b, **kwargs)
        null = [from_lists(knn_a, torch.argsort(order)[knn_b[order]], **kwargs) for order in orders]
        return observed, np.array(null)
    if score in (cka, unbiased_cka) and set(kwargs) <= {"kernel", "sigma"}:
        kernel, sigma = kwargs.get("kernel", "linear"), kwargs.get("sigma", 1.0)
        _check_kernel(kernel, sigma)
        if score is unbiased_cka and len(x) < 4:
            return None  # the metric's own message
        narrow = x.shape[1] * y.shape[1] <= 64 * len(x) or len(x) > KERNEL_NULL_ROWS
        if kernel == "linear" and narrow:  # from the features: one d_A × d_B product a shuffle
            return _linear_null(x, y, orders, unbiased=score is unbiased_cka)
        k_mat, l_mat = _kernel(x, kernel, sigma), _kernel(y, kernel, sigma)
        return _kernel_null(k_mat, l_mat, orders, unbiased=score is unbiased_cka)
    if score is cknna and set(kwargs) <= {"k"} and len(x) >= 4:
        k = kwargs.get("k", 10)
        _check_k(k, len(x))
        (knn_a, products_a, own_a), (knn_b, _, own_b) = _cknna_side(x, k), _cknna_side(y, k)
        scale = float(torch.sqrt(own_a * own_b)) + EPS  # both own terms: permutation-invariant
        l_mat = y @ y.T if len(y) <= KERNEL_NULL_ROWS else None
        null = []
        for order in [torch.arange(len(y)), *orders]:
            lists_b = torch.argsort(order)[knn_b[order]]  # B[π]'s lists: π⁻¹ ∘ N_B ∘ π
            rows, cols = order[:, None], order[knn_a]  # L of B[π] at A's pairs (i, j)
            at_a = l_mat[rows, cols] if l_mat is not None else torch.einsum(
                "nd,nkd->nk", y[order], y[cols])  # fmt: skip
            null.append(float(_cknna_cross(knn_a, products_a, lists_b, at_a)) / scale)
        return null[0], np.array(null[1:])
    return None


def _linear_null(x, y, orders, unbiased: bool) -> tuple[float, np.ndarray]:
    """Linear CKA of A and B and of A against each B[π] from the features, with everything a
    permutation leaves unchanged computed once (the own HSICs, centred columns, K's diagonal and
    row sums): per shuffle one Xᵀ Y[π] product — the terms of :func:`_linear_hsic`."""
    n = len(x)
    scale = float(torch.sqrt(_linear_hsic(x, x, unbiased) * _linear_hsic(y, y, unbiased))) + EPS
    if unbiased:
        k_diag, l_diag = x.square().sum(dim=1), y.square().sum(dim=1)
        k_row, l_row = x @ x.sum(dim=0) - k_diag, y @ y.sum(dim=0) - l_diag
        second = k_row.sum() * l_row.sum() / ((n - 1) * (n - 2))
    else:
        x, y = x - x.mean(dim=0), y - y.mean(dim=0)  # column means do not change under π
    values = []
    for order in [torch.arange(n), *orders]:
        cross = x.T.matmul(y[order]).square().sum()
        if unbiased:
            first = cross - (k_diag * l_diag[order]).sum()
            third = 2 * (k_row @ l_row[order]) / (n - 2)
            cross = (first + second - third) / (n * (n - 3))
        values.append(float(cross) / scale)
    return values[0], np.array(values[1:])


def _kernel_null(k_mat, l_mat, orders, unbiased: bool) -> tuple[float, np.ndarray]:
    """CKA of K and L and of K against each L[π][:, π], with everything that a permutation
    does not change computed once: HSIC(K, K), HSIC(L, L), the centred (biased) or zero-diagonal
    (unbiased) K, the sums of K̃ and L̃ and L̃'s row sums (permuted, not recomputed); per shuffle
    one n² product — the same terms as :func:`hsic_biased` / :func:`hsic_unbiased`."""
    hsic = hsic_unbiased if unbiased else hsic_biased
    scale = float(torch.sqrt(hsic(k_mat, k_mat) * hsic(l_mat, l_mat))) + EPS
    n = len(k_mat)
    if unbiased:
        kt = k_mat - torch.diag(torch.diagonal(k_mat))
        lt = l_mat - torch.diag(torch.diagonal(l_mat))
        second = kt.sum() * lt.sum() / ((n - 1) * (n - 2))
        columns_k, rows_l = kt.sum(dim=0), lt.sum(dim=1)
    else:
        centred = k_mat - k_mat.mean(dim=0) - k_mat.mean(dim=1, keepdim=True) + k_mat.mean()
    values = []
    for order in [torch.arange(n), *orders]:
        permuted = l_mat[order][:, order]
        if unbiased:
            lp = permuted - torch.diag(torch.diagonal(permuted))
            third = 2 * (columns_k @ rows_l[order]) / (n - 2)
            value = ((kt * lp.T).sum() + second - third) / (n * (n - 3))
        else:
            value = (centred * permuted.T).sum()
        values.append(float(value) / scale)
    return values[0], np.array(values[1:])


_FROM_NEIGHBOURS: dict[Callable, Callable] = {
    mutual_knn: _mutual,
    cycle_knn: _cycle,
    lcs_knn: _lcs,
    edit_distance_knn: _edit,
}
