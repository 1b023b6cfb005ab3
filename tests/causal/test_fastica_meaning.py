"""What the FastICA helpers mean: whitening gives identity covariance with K⁻¹ its exact inverse
and refuses (nearly) dependent columns; ``fit_fastica`` is scikit-learn's FastICA with exactly the
arguments given, warm-started only on its first run, retried from the next seed until one
converges, with the iterations of every run counted."""

import warnings

import numpy as np
import pytest
from sklearn.decomposition import FastICA

from identifiable.causal._fastica import fit_fastica, whiten


def laplace_mixture(n=3000, p=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.laplace(size=(n, p)) @ rng.normal(size=(p, p)) + 5.0


def test_whitened_data_has_identity_covariance_and_k_inverse_undoes_k():
    Z = laplace_mixture()
    w, K, K_inverse = whiten(Z)
    np.testing.assert_allclose(w.mean(0), 0, atol=1e-10)
    np.testing.assert_allclose(w.T @ w / len(w), np.eye(3), atol=1e-10)
    np.testing.assert_allclose(K @ K_inverse, np.eye(3), atol=1e-10)
    np.testing.assert_allclose(w @ K_inverse.T, Z - Z.mean(0), atol=1e-8)


@pytest.mark.parametrize(
    "variances, dependent",
    [((1e-5, 1.0, 1e6), True), ((1.0, 1e-5, 1e6), True), ((1e-3, 1.0, 1e6), False)],
)
def test_nearly_dependent_columns_are_refused_by_the_eigenvalue_ratio(variances, dependent):
    # independent columns with these variances: the smallest/largest eigenvalue ratio of the
    # covariance is ≈ 1e-11 (refused, floor 1e-10) or ≈ 1e-9 (kept)
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(5000, 3)) * np.sqrt(variances)
    if dependent:
        with pytest.raises(ValueError, match="linearly dependent"):
            whiten(Z)
    else:
        whiten(Z)


def reference(w, *, seed, max_iter=1000, w_init=None, **kwargs):
    ica = FastICA(whiten=False, random_state=seed, max_iter=max_iter, w_init=w_init, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ica.fit(w)
    return ica


@pytest.mark.parametrize(
    "kwargs", [{"fun": "cube"}, {"algorithm": "deflation"}, {"tol": 0.05}, {"fun": "exp"}]
)
def test_runs_scikit_learn_with_exactly_the_arguments_given(kwargs):
    w, _, _ = whiten(laplace_mixture())
    run = fit_fastica(w, seeds=[3], **kwargs)
    ica = reference(w, seed=3, **kwargs)
    np.testing.assert_allclose(run.W, ica.components_)
    assert run.n_iter == ica.n_iter_ and run.n_runs == 1 and run.converged


def test_a_warm_start_from_the_solution_converges_at_once():
    w, _, _ = whiten(laplace_mixture())
    cold = fit_fastica(w, seeds=[0])
    warm = fit_fastica(w, seeds=[0], w_init=cold.W)
    assert cold.n_iter > 3 and warm.n_iter <= 3
    np.testing.assert_allclose(np.abs(warm.W @ cold.W.T), np.eye(3), atol=1e-3)


def test_a_run_that_never_converges_tries_every_seed():
    w, _, _ = whiten(laplace_mixture(n=500))
    run = fit_fastica(w, seeds=[0, 1], tol=0.0)  # tol 0 is never met; default max_iter = 1000
    assert not run.converged and run.n_runs == 2 and run.n_iter == 2000


def test_only_the_first_run_is_warm_started():
    rng = np.random.default_rng(1)
    w, _, _ = whiten(rng.normal(size=(2000, 3)))
    start = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    run = fit_fastica(w, seeds=[0, 1], w_init=start, max_iter=5)
    last = reference(w, seed=1, max_iter=5)  # the second run: random start from seed 1
    np.testing.assert_allclose(run.W, last.components_)
    first = fit_fastica(w, seeds=[0], w_init=start, max_iter=5)
    np.testing.assert_allclose(first.W, reference(w, seed=0, max_iter=5, w_init=start).components_)


def test_deflation_that_runs_out_of_steps_is_not_converged():
    # scikit-learn's deflation solver never warns; one step is not enough on this data
    w, _, _ = whiten(laplace_mixture())
    run = fit_fastica(w, seeds=[0, 1], algorithm="deflation", max_iter=1)
    assert not run.converged and run.n_runs == 2
    assert fit_fastica(w, seeds=[0], algorithm="deflation").converged
