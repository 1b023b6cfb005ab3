"""Bivariate exchangeable worlds: the finer points tests/worlds/test_exchangeable.py leaves open
(found by mutation testing): the structural equations hold exactly with integer weights in
1 … 9, the quadratic switch is m_e · c with c in 1 … 9 on exactly E // 2 environments, the
parameters are U[−1, 1], a fixed mechanism's coin is fair, every draw comes from the generator,
and the type checks.

Exact checks use *coupled* worlds: with a fixed structure the same seed gives the same weights,
parameters, Laplace draws and switch whatever the structure, so the ``independent`` world
(X = N₀, Y = N₁) shows the noises the ``x->y`` and ``y->x`` worlds are made of; and the Laplace
draw scales with ``laplace_scale`` around the same parameters, N(b) = θ + b·L, so two scales
give θ = 2 N(1) − N(2)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from identifiable.worlds.exchangeable import BivariateExchangeableWorld


def draw(seed, **kwargs):
    world = BivariateExchangeableWorld(**kwargs)
    return world.sample(generator=torch.Generator().manual_seed(seed))


def integer(value):
    rounded = round(float(value))
    assert abs(value - rounded) < 1e-6, value
    return rounded


def solve(n0, n1, target):
    """(α, β) with target = α n0 + β n1 exactly (least squares over every draw)."""
    design = np.stack([n0.reshape(-1), n1.reshape(-1)], axis=1)
    coefficients, *_ = np.linalg.lstsq(design, target.reshape(-1), rcond=None)
    np.testing.assert_allclose(design @ coefficients, target.reshape(-1), rtol=0, atol=1e-9)
    return [integer(c) for c in coefficients]


def switch_factor(residual, quadratic):
    """m_e · c per environment: the residual over its quadratic form, the same for both draws."""
    ratio = residual / quadratic
    np.testing.assert_allclose(ratio[:, 0], ratio[:, 1], rtol=0, atol=1e-6)
    return np.array([integer(r) for r in ratio[:, 0]])


def test_structural_equations_hold_exactly_with_weights_and_c_in_one_to_nine():
    """For 100 seeds (E = 8): X → Y is X = N₀, Y = a₂₁N₀ + a₂₂N₁ + m_e c (a₂₁N₀² + (a₂₂ − 1)N₁²);
    Y → X is Y = N₁, X = a₁₁N₀ + a₁₂N₁ + m_e c ((a₁₁ − 1)N₀² + a₁₂N₁²); m_e = 1 on exactly
    E // 2 = 4 environments (mechanism varies). The 400 weights and 100 c's take every value
    1 … 9 and nothing else; two weights of one matrix are independent draws (equal in about
    1/9 of the data sets, not always)."""
    weights, cs, equal = [], [], {"x->y": 0, "y->x": 0}
    for seed in range(100):
        kwargs = {"n_environments": 8, "laplace_scale": 1.0}
        noise = draw(seed, structure="independent", switch=False, **kwargs)
        n0, n1 = noise.x, noise.y
        off = draw(seed, structure="x->y", switch=False, **kwargs)
        on = draw(seed, structure="x->y", **kwargs)
        np.testing.assert_array_equal(off.x, n0)
        np.testing.assert_array_equal(on.x, n0)
        a21, a22 = solve(n0, n1, off.y)
        mc_xy = switch_factor(on.y - off.y, a21 * n0**2 + (a22 - 1) * n1**2)
        off = draw(seed, structure="y->x", switch=False, **kwargs)
        on = draw(seed, structure="y->x", **kwargs)
        np.testing.assert_array_equal(off.y, n1)
        np.testing.assert_array_equal(on.y, n1)
        a11, a12 = solve(n0, n1, off.x)
        mc_yx = switch_factor(on.x - off.x, (a11 - 1) * n0**2 + a12 * n1**2)
        for mc in (mc_xy, mc_yx):
            (c,) = set(mc[mc != 0].tolist())  # one c per data set ...
            assert (mc != 0).sum() == 4  # ... on half the environments
        assert mc_xy.tolist() == mc_yx.tolist()  # the same c and switch in both structures
        weights += [a21, a22, a11, a12]
        cs.append(c)
        equal["x->y"] += a21 == a22
        equal["y->x"] += a11 == a12
    assert set(weights) == set(range(1, 10)) and set(cs) == set(range(1, 10))
    # P(equal) = 1/9: 100/9 ± 5·√(100·(1/9)(8/9)) ≈ 11 ± 16
    assert equal["x->y"] < 30 and equal["y->x"] < 30


def test_parameters_are_uniform_on_minus_one_to_one():
    """θ_e = 2 N₀(b=1) − N₀(b=2) for 20 000 environments: inside [−1, 1], reaching both ends,
    mean 0 within 5 standard errors (2/√12/√20 000 ≈ 0.004); likewise ψ_e."""
    kwargs = {"n_environments": 20_000, "structure": "independent", "switch": False}
    one = draw(7, laplace_scale=1.0, **kwargs)
    two = draw(7, laplace_scale=2.0, **kwargs)
    for theta in (2 * one.x - two.x, 2 * one.y - two.y):
        np.testing.assert_allclose(theta[:, 0], theta[:, 1], rtol=0, atol=1e-9)
        theta = theta[:, 0]
        assert -1 - 1e-9 <= theta.min() < -0.99 and 0.99 < theta.max() <= 1 + 1e-9
        assert abs(theta.mean()) < 5 * (2 / 12**0.5) / 20_000**0.5


def test_a_fixed_mechanism_is_switched_by_one_fair_coin():
    """variability='cause': the quadratic part is on in every environment or in none, on in
    about half of 200 data sets (100 ± 5·√50 ≈ 100 ± 35), and the data stay finite."""
    switched = 0
    for seed in range(200):
        on = draw(seed, n_environments=4, structure="x->y", variability="cause")
        off = draw(seed, n_environments=4, structure="x->y", variability="cause", switch=False)
        assert np.isfinite(on.y).all()
        changed = ~np.isclose(on.y, off.y).all(axis=1)
        assert changed.all() or not changed.any()
        switched += bool(changed.all())
    assert abs(switched - 100) < 5 * 50**0.5


@pytest.mark.parametrize("variability", ["both", "cause"])
def test_every_draw_comes_from_the_generator(variability):
    """Structure, weights, c, parameters, noise and switch: the same generator seed gives the
    same data set whatever the global RNG did in between."""
    world = BivariateExchangeableWorld(n_environments=6, variability=variability)
    with torch.random.fork_rng():
        results = []
        for global_seed in (1, 2):
            torch.manual_seed(global_seed)
            results.append([world.sample(generator=torch.Generator().manual_seed(s))
                            for s in range(12)])  # fmt: skip
    for first, again in zip(*results, strict=True):
        assert first.structure == again.structure
        np.testing.assert_array_equal(first.x, again.x)
        np.testing.assert_array_equal(first.y, again.y)


def test_counts_and_scale_must_be_real_numbers():
    """n_environments/samples must be ints (300.0 and 2.5 refused), laplace_scale a number
    (True and '1' refused); the smallest valid world and an int scale are accepted."""
    for kwargs in ({"n_environments": 300.0}, {"samples": 2.5}):
        with pytest.raises(ValueError, match="must be an int >= "):
            BivariateExchangeableWorld(**kwargs)
    for scale in (True, "1"):
        with pytest.raises(ValueError, match="laplace_scale must be a number > 0"):
            BivariateExchangeableWorld(laplace_scale=scale)
    world = BivariateExchangeableWorld(n_environments=4, samples=2, laplace_scale=1)
    assert world.sample(generator=torch.Generator().manual_seed(0)).x.shape == (4, 2)
