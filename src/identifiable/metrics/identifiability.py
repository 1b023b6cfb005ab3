"""Identifiability metrics: how well learned representations ẑ recover the true latents z.

Each metric forgives a different indeterminacy — the set of maps ẑ = h(z) that it still scores
as perfect recovery. Which one to read depends on what the theory promises for a setting
(e.g. InfoNCE on the sphere promises recovery up to an orthogonal map, so read ``linear_r2``;
on the box with an L1 model, up to permutation and sign, so read ``mcc``).

==================  ===============  =========================================================
metric              higher better    forgives (scores 1.0 for ẑ = h(z) with h ...)
==================  ===============  =========================================================
``mcc`` pearson     yes, in [0, 1]   permutation, sign and per-dimension affine rescaling
``mcc`` spearman    yes, in [0, 1]   permutation and per-dimension strictly monotone maps
``linear_r2``       yes, ≤ 1         any invertible affine map (rotations included)
``nonlinear_r2``    yes, ≤ 1         any smooth invertible map
==================  ===============  =========================================================

Zimmermann et al. (2021), arXiv:2102.08850, Sec. 5: "Lin. Disentanglement" is R² of a linear
regression ẑ -> z; "Perm. Disentanglement" is ``mcc(method="pearson")`` (their least-squares
rescaling before the correlation leaves |corr| unchanged). Hyvärinen & Morioka (2016),
arXiv:1605.06336, introduced the MCC for nonlinear ICA.

Inputs may be numpy arrays or torch tensors of shape (n_samples, n_dims); NaN/inf, mismatched
sample counts and too few samples raise a one-line ``ValueError``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.stats import rankdata
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score

from identifiable._validation import as_2d_array, check_same_rows
from identifiable.metrics._registry import declare, metric

__all__ = [
    "correlation_matrix",
    "linear_r2",
    "matching",
    "mcc",
    "nonlinear_r2",
    "per_latent_r2",
]

declare(
    "mcc_spearman",
    higher_is_better=True,
    bounds=(0.0, 1.0),
    forgives="permutation + per-dimension monotone map",
    description="mcc(method='spearman'): correlation of ranks after the best matching",
)


def _inputs(z_true, z_hat, min_rows: int = 2) -> tuple[np.ndarray, np.ndarray]:
    z = as_2d_array("z_true", z_true, min_rows=min_rows)
    h = as_2d_array("z_hat", z_hat, min_rows=min_rows)
    check_same_rows("z_true", z, "z_hat", h)
    return z, h


def correlation_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|Pearson correlation| between every column of a and every column of b; 0 for constants."""
    a = a - a.mean(0)
    b = b - b.mean(0)
    norm_a = np.linalg.norm(a, axis=0)
    norm_b = np.linalg.norm(b, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = (a.T @ b) / np.outer(norm_a, norm_b)
    return np.abs(np.nan_to_num(c, nan=0.0, posinf=0.0, neginf=0.0))


def matching(z_true, z_hat) -> np.ndarray:
    """π with π[k] = the column of ẑ matched to latent k by :func:`mcc` (Hungarian on |corr|).

    Latents left unmatched (ẑ has fewer columns than z) get −1.
    """
    z, h = _inputs(z_true, z_hat)
    rows, cols = linear_sum_assignment(-correlation_matrix(z, h))
    matched = np.full(z.shape[1], -1)
    matched[rows] = cols
    return matched


@metric(
    higher_is_better=True,
    bounds=(0.0, 1.0),
    forgives="permutation + sign + per-dimension affine map",
)
def mcc(z_true, z_hat, method: str = "pearson") -> float:
    """Mean correlation coefficient after the best one-to-one matching of dimensions.

        C_ij = |corr(z_i, ẑ_j)|,   π* = argmax_π Σ_i C_{i,π(i)}  (Hungarian algorithm),
        MCC = (1/n) Σ_i C_{i,π*(i)}

    over the n true latents (an unmatched true latent, when ẑ has fewer dimensions, counts 0).
    ``method="spearman"`` correlates ranks. Higher is better; 1.0 means ẑ equals z up to
    permutation and sign and, per dimension, an affine (pearson) or monotone (spearman) map.
    """
    if method not in ("pearson", "spearman"):
        raise ValueError(f"method must be 'pearson' or 'spearman', got {method!r}")
    z, h = _inputs(z_true, z_hat)
    if method == "spearman":
        z = rankdata(z, axis=0)
        h = rankdata(h, axis=0)
    c = correlation_matrix(z, h)
    rows, cols = linear_sum_assignment(-c)
    return float(c[rows, cols].sum() / z.shape[1])


def _split(n: int, test_size: float, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    if not 0.0 <= test_size < 1.0:
        raise ValueError(f"test_size must be in [0, 1), got {test_size}")
    if test_size == 0.0:
        index = np.arange(n)
        return index, index
    order = np.random.default_rng(random_state).permutation(n)
    n_test = max(1, int(round(n * test_size)))
    return order[n_test:], order[:n_test]


@metric(higher_is_better=True, bounds=(None, 1.0), forgives="invertible affine map")
def linear_r2(z_true, z_hat, *, test_size: float = 0.25, random_state: int = 0) -> float:
    """R² of the best affine map ẑ -> z, fitted on a train split and scored on the rest.

        z ≈ A ẑ + b  (least squares on the train split),
        R² = (1/n) Σ_i [1 − Σ (z_i − ẑ'_i)² / Σ (z_i − mean z_i)²]   on held-out samples

    (mean of the per-dimension R², sklearn's ``uniform_average``). ``test_size=0`` scores
    in-sample, as the cl-ica reference does. Higher is better; 1.0 means z is an affine function
    of ẑ (any invertible linear map is forgiven); independent noise scores ≈ 0 or below.
    """
    z, h = _inputs(z_true, z_hat)
    train, test = _split(len(z), test_size, random_state)
    if len(train) <= h.shape[1]:
        raise ValueError(
            f"linear_r2 needs more training samples ({len(train)}) than dimensions of z_hat "
            f"({h.shape[1]}); pass more samples"
        )
    model = LinearRegression().fit(h[train], z[train])
    return float(r2_score(z[test], model.predict(h[test])))


@metric(higher_is_better=True, bounds=(None, 1.0), forgives="smooth invertible map")
def nonlinear_r2(
    z_true,
    z_hat,
    *,
    test_size: float = 0.25,
    max_samples: int = 3000,
    random_state: int = 0,
) -> float:
    """R² of a kernel ridge regression (RBF kernel) ẑ -> z, scored on held-out samples.

    ẑ is standardised; the ridge penalty α ∈ {1e-3, 1e-2, 1e-1} and bandwidth
    γ ∈ {0.1, 0.5, 2}/d are chosen on a validation part of the train split. At most
    ``max_samples`` samples are used (kernel ridge is O(n³)). Higher is better; ≈ 1.0 means z is
    a smooth function of ẑ (any smooth invertible map is forgiven).
    """
    z, h = _inputs(z_true, z_hat, min_rows=8)
    if len(z) > max_samples:
        keep = np.random.default_rng(random_state).choice(len(z), max_samples, replace=False)
        z, h = z[keep], h[keep]
    scale = h.std(0)
    h = (h - h.mean(0)) / np.where(scale > 0, scale, 1.0)
    train, test = _split(len(z), test_size, random_state)
    fit, valid = train[: int(len(train) * 0.8)], train[int(len(train) * 0.8) :]
    d = h.shape[1]
    best, best_score = (1e-2, 1.0 / d), -np.inf
    for alpha in (1e-3, 1e-2, 1e-1):
        for gamma in (0.1 / d, 0.5 / d, 2.0 / d):
            model = KernelRidge(alpha=alpha, kernel="rbf", gamma=gamma).fit(h[fit], z[fit])
            score = r2_score(z[valid], model.predict(h[valid]))
            if score > best_score:
                best, best_score = (alpha, gamma), score
    model = KernelRidge(alpha=best[0], kernel="rbf", gamma=best[1]).fit(h[train], z[train])
    return float(r2_score(z[test], model.predict(h[test])))


def per_latent_r2(z_true, z_hat) -> np.ndarray:
    """R² of the best affine map ẑ -> z_k, per latent k (75/25 train/test split, as linear_r2).

    An array of n values (one per true latent), each ≤ 1; the mean of the array is close to
    :func:`linear_r2` (same kind of split, same estimator).
    """
    z = as_2d_array("z_true", z_true, min_rows=8)
    h = as_2d_array("z_hat", z_hat, min_rows=8)
    check_same_rows("z_true", z, "z_hat", h)
    order = np.random.default_rng(0).permutation(len(z))
    test, train = order[: len(z) // 4], order[len(z) // 4 :]
    predicted = LinearRegression().fit(h[train], z[train]).predict(h[test])
    return np.asarray(r2_score(z[test], predicted, multioutput="raw_values"))
