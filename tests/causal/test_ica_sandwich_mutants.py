"""The ICA sandwich: the finer points of its definition that the estimator-level tests leave open
(found by mutation testing). Each test checks the module docstring's formula, a population value
computed independently (quadrature) or an invariance the covariance must have, on small data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from identifiable.causal._fastica import fit_fastica, whiten
from identifiable.causal._ica_sandwich import (
    estimating_functions,
    jacobian,
    sandwich,
    signs,
    weakly_identified,
)

ROOT3 = np.sqrt(3.0)


def laplace_uniform(n, seed=0):
    """Unit-variance Laplace and uniform sources (n, 2): one of each sign of κ."""
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [rng.laplace(scale=1 / np.sqrt(2), size=n), rng.uniform(-ROOT3, ROOT3, size=n)]
    )


def solved(n=2000, seed=0):
    """Data r = A s + m with distinct column means, and its tightly converged FastICA unmixing."""
    r = laplace_uniform(n, seed) @ np.array([[1.0, 0.5], [0.3, 1.0]]).T + np.array([1.0, -2.0])
    white, K, _ = whiten(r)
    run = fit_fastica(white, seeds=[0], tol=1e-10, max_iter=5000)
    assert run.converged
    return r, run.W @ K


def ratio(U):
    """A scale-free read-out (like the treatment effect): U_01 / U_00."""
    return np.array([U[0, 1] / U[0, 0]])


KAPPA = {  # s g(s) − g′(s), whose mean is κ (module docstring)
    "logcosh": lambda s: s * np.tanh(s) - (1 - np.tanh(s) ** 2),
    "exp": lambda s: (2 * s**2 - 1) * np.exp(-(s**2) / 2),
    "cube": lambda s: s**4 - 3 * s**2,
}


@pytest.mark.parametrize("fun", ["logcosh", "exp", "cube"])
def test_signs_are_the_signs_of_the_population_kappa(fun):
    # κ of unit-variance Laplace and uniform by quadrature; d is exactly ±1 (a weight, not a size)
    b = 1 / np.sqrt(2)
    k_laplace = quad(lambda s: KAPPA[fun](s) * np.exp(-abs(s) / b) / (2 * b), -np.inf, np.inf)[0]
    k_uniform = quad(lambda s: KAPPA[fun](s) / (2 * ROOT3), -ROOT3, ROOT3)[0]
    assert k_laplace * k_uniform < 0  # the two sources are on opposite sides of the Gaussian
    d = signs(laplace_uniform(20_000), fun)
    np.testing.assert_array_equal(d, np.sign([k_laplace, k_uniform]))


def test_the_default_algorithm_is_parallel_and_the_default_signs_come_from_the_data():
    r, U = solved(500)
    mu = r.mean(axis=0) + 0.1
    d = signs((r - mu) @ U.T, "logcosh")
    assert set(d) == {-1.0, 1.0}
    for f in (estimating_functions, jacobian):
        np.testing.assert_array_equal(f(r, mu, U, "logcosh"), f(r, mu, U, "logcosh", "parallel", d))


@pytest.mark.parametrize("algorithm", ["parallel", "deflation"])
def test_sandwich_is_the_delta_method_covariance_of_the_docstring(algorithm):
    # at any U (here not a solution, so the mean of ψ is not 0): Var φ̂ = ∇φᵀ J⁻¹ Ω J⁻ᵀ ∇φ / n with
    # Ω = Cov ψ (centred) and μ the column means; a linear read-out has an exact gradient C
    rng = np.random.default_rng(3)
    n, p = 600, 3
    r = rng.laplace(size=(n, p)) @ rng.normal(size=(p, p)) + np.array([1.0, -2.0, 5.0])
    U = rng.normal(size=(p, p))
    C = rng.normal(size=(2, p * p))
    mu = r.mean(axis=0)
    psi = estimating_functions(r, mu, U, "logcosh", algorithm)
    J_inv = np.linalg.inv(jacobian(r, mu, U, "logcosh", algorithm))
    cov = (J_inv @ np.cov(psi.T, bias=True) @ J_inv.T / n)[p:, p:]
    got = sandwich(r, U, lambda V: C @ V.ravel(), algorithm=algorithm)
    np.testing.assert_allclose(got, C @ cov @ C.T, rtol=1e-6)


def test_sandwich_does_not_depend_on_the_location_of_the_data():
    # θ = (μ, U): shifting r moves μ̂ only, so the covariance of a read-out of U is unchanged —
    # for a sub-/super-Gaussian pair (signs differ) as for two Gaussians (refused either way)
    r, U = solved()
    r = r - r.mean(axis=0)  # centred, then shifted far from the origin
    shift = np.array([10.0, -10.0])
    base = sandwich(r, U, ratio)
    assert base is not None
    np.testing.assert_allclose(sandwich(r + shift, U, ratio), base, rtol=1e-6)
    gauss = np.random.default_rng(0).normal(size=(2000, 2))
    assert sandwich(gauss, np.eye(2), ratio) is None
    assert sandwich(gauss + shift, np.eye(2), ratio) is None


@pytest.mark.parametrize("units", [1e-3, 1e3])
def test_sandwich_of_a_scale_free_readout_does_not_depend_on_the_units(units):
    # r → c r, U → U / c leaves the sources and U_01 / U_00 unchanged; the gradient's step is
    # relative to the rows of U, so it is as accurate in any units
    r, U = solved()
    np.testing.assert_allclose(sandwich(units * r, U / units, ratio), sandwich(r, U, ratio),
                               rtol=1e-5)  # fmt: skip


def test_a_singular_jacobian_is_refused():
    # a constant column: the weights U_·1 on it move no source, J has zero columns (J singular
    # with every entry finite) although the sources themselves are clearly non-Gaussian
    rng = np.random.default_rng(0)
    r = np.column_stack([rng.laplace(size=1000), np.full(1000, 3.0)])
    U = np.array([[1.0, 0.2], [0.5, 1.0]])
    assert not weakly_identified((r - r.mean(axis=0)) @ U.T, "logcosh")
    assert sandwich(r, U, ratio) is None


@pytest.mark.parametrize("algorithm", ["parallel", "deflation"])
def test_one_gaussian_source_is_still_identified(algorithm):
    # only a pair of Gaussians is unidentified; a single Gaussian source (extracted last in
    # deflation) pairs with a non-Gaussian one and its rotation is identified
    rng = np.random.default_rng(0)
    s = np.column_stack([rng.laplace(scale=1 / np.sqrt(2), size=5000), rng.normal(size=5000)])
    assert not weakly_identified(s, "logcosh", algorithm)


def test_each_pair_is_judged_against_its_own_standard_error():
    # a loud, clearly non-Gaussian third source must not make a well-separated uniform pair look
    # unidentified (its noise is not the pair's noise)
    rng = np.random.default_rng(0)
    pair = rng.uniform(-ROOT3, ROOT3, size=(2000, 2))
    assert not weakly_identified(pair, "logcosh")
    loud = np.column_stack([20 * rng.laplace(size=2000), pair])
    assert not weakly_identified(loud, "logcosh")
