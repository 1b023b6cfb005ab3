"""Whitening and ``sklearn.decomposition.FastICA`` runs with explicit convergence reporting.

The ICA iteration itself is scikit-learn's (``FastICA(whiten=False)`` on data we whiten here, so
that a bootstrap replicate can be warm-started from the full-sample solution in its own whitened
coordinates). What this module adds is bookkeeping: scikit-learn signals non-convergence only by a
``ConvergenceWarning``; :func:`fit_fastica` captures it, retries from new random starts and returns
an explicit ``converged`` flag instead.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import FastICA
from sklearn.exceptions import ConvergenceWarning

_EIGENVALUE_FLOOR = 1e-10


def whiten(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre Z and return (whitened data, K, K⁻¹) with K = Λ^{-1/2} Eᵀ from Cov(Z) = E Λ Eᵀ."""
    centred = Z - Z.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred / Z.shape[0])
    if eigenvalues[0] <= _EIGENVALUE_FLOOR * eigenvalues[-1]:
        raise ValueError(
            "the columns of [X, T, Y] are (nearly) linearly dependent, e.g. a treatment without "
            "noise; drop redundant covariates"
        )
    K = eigenvectors.T / np.sqrt(eigenvalues)[:, None]
    K_inverse = eigenvectors * np.sqrt(eigenvalues)[None, :]
    return centred @ K.T, K, K_inverse


@dataclass(frozen=True)
class FastICARun:
    """Result of :func:`fit_fastica`: orthonormal unmixing W (p, p) of the whitened data (ŝ = W z),
    total FastICA iterations, runs used (1 + retries) and whether the last run converged."""

    W: np.ndarray
    n_iter: int
    n_runs: int
    converged: bool


def fit_fastica(
    whitened: np.ndarray,
    *,
    seeds: np.ndarray | list[int],
    fun: str = "logcosh",
    algorithm: str = "parallel",
    tol: float = 1e-4,
    max_iter: int = 1000,
    w_init: np.ndarray | None = None,
) -> FastICARun:
    """sklearn FastICA on already whitened data; one run per seed until one converges.

    The first run starts from ``w_init`` when given (a warm start), the others from
    ``random_state=seed``. A run has converged when scikit-learn raised no ``ConvergenceWarning``
    (``parallel``) or, for ``deflation`` (which never warns), when its slowest component stopped
    before ``max_iter``.
    """
    n_iter = 0
    for attempt, seed in enumerate(seeds, start=1):
        ica = FastICA(
            whiten=False,
            fun=fun,
            algorithm=algorithm,
            tol=tol,
            max_iter=max_iter,
            w_init=w_init if attempt == 1 else None,
            random_state=int(seed),
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            ica.fit(whitened)
        n_iter += ica.n_iter_
        converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        if algorithm == "deflation":  # scikit-learn's deflation solver never warns: a component
            converged = converged and ica.n_iter_ < max_iter  # that used every step did not stop
        if converged:
            break
    return FastICARun(W=ica.components_, n_iter=n_iter, n_runs=attempt, converged=converged)


# E G(ν), ν ~ N(0, 1), for scikit-learn's contrasts G: logcosh (by quadrature), −exp(−ν²/2)
# (= −1/√2) and ν⁴/4 (= 3/4)
_GAUSSIAN_CONTRAST = {"logcosh": 0.3745672075, "exp": -1 / np.sqrt(2), "cube": 0.75}


def negentropy(sources: np.ndarray, fun: str = "logcosh") -> float:
    """Σ_i (E G(s_i) − E G(ν))² over unit-variance sources (n, p): Hyvärinen & Oja's (2000)
    negentropy approximation with FastICA's contrast G; larger is more non-Gaussian."""
    if fun == "logcosh":
        G = np.logaddexp(sources, -sources) - np.log(2.0)
    elif fun == "exp":
        G = -np.exp(-(sources**2) / 2)
    elif fun == "cube":
        G = sources**4 / 4
    else:
        raise ValueError(f"fun must be 'logcosh', 'exp' or 'cube', got {fun!r}")
    return float(np.sum((G.mean(axis=0) - _GAUSSIAN_CONTRAST[fun]) ** 2))
