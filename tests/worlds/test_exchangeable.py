"""Bivariate exchangeable worlds: shapes, the structures' equations, which parameters vary."""

import numpy as np
import pytest
import torch

from identifiable.worlds.exchangeable import STRUCTURES, VARIABILITY, BivariateExchangeableWorld


def draw(seed=0, **kwargs):
    return BivariateExchangeableWorld(**kwargs).sample(
        generator=torch.Generator().manual_seed(seed)
    )


SHARED = [("both", 1 / 7, 1 / 7), ("cause", 1 / 7, 0.0), ("mechanism", 0.0, 1 / 7),
          ("none", 0.0, 0.0)]  # fmt: skip


@pytest.mark.parametrize("variability, cause_shared, mechanism_shared", SHARED)
def test_what_two_draws_of_an_environment_share(variability, cause_shared, mechanism_shared):
    """Independent structure, no switch: X = N₀, Y = N₁; the two draws of an environment share a
    varying parameter (corr = Var U[−1,1] / (Var U + Var Laplace(1)) = (1/3)/(7/3) = 1/7) and
    nothing else."""
    d = draw(n_environments=20000, variability=variability, structure="independent", switch=False)
    assert np.corrcoef(d.x[:, 0], d.x[:, 1])[0, 1] == pytest.approx(cause_shared, abs=0.02)
    assert np.corrcoef(d.y[:, 0], d.y[:, 1])[0, 1] == pytest.approx(mechanism_shared, abs=0.02)
    assert np.corrcoef(d.x[:, 0], d.y[:, 0])[0, 1] == pytest.approx(0.0, abs=0.02)


def test_structures_follow_their_equations():
    """Without the switch the data are linear in the noises: for X → Y, X is one noise and Y
    a combination; the residual of Y on X is independent of X's draw in the other sample."""
    x_to_y = draw(n_environments=5000, structure="x->y", switch=False)
    y_to_x = draw(n_environments=5000, structure="y->x", switch=False)
    assert STRUCTURES[x_to_y.structure] == "x->y" and STRUCTURES[y_to_x.structure] == "y->x"
    assert abs(np.corrcoef(x_to_y.x[:, 0], x_to_y.y[:, 0])[0, 1]) > 0.1  # Y depends on X
    assert abs(np.corrcoef(y_to_x.x[:, 0], y_to_x.y[:, 0])[0, 1]) > 0.1
    assert x_to_y.x.shape == (5000, 2) and x_to_y.pooled().shape == (10000, 2)
    assert np.array_equal(x_to_y.pooled()[:2, 0], x_to_y.x[0])  # environment-major rows


def test_the_switch_adds_the_quadratic_part_in_half_the_environments():
    on, off = draw(3, structure="x->y"), draw(3, structure="x->y", switch=False)
    differs = ~np.isclose(on.y, off.y).all(axis=1)
    assert differs.sum() == 150 and np.array_equal(on.x, off.x)  # X = N₀ has no quadratic part
    shared = draw(3, structure="x->y", variability="cause")  # fixed mechanism: one coin for all
    other = draw(3, structure="x->y", variability="cause", switch=False)
    changed = ~np.isclose(shared.y, other.y).all(axis=1)
    assert changed.all() or not changed.any()


def test_random_structure_is_uniform_and_seeded():
    drawn = [draw(s, n_environments=8).structure for s in range(600)]
    assert np.bincount(drawn, minlength=3) / 600 == pytest.approx([1 / 3] * 3, abs=0.06)
    assert np.array_equal(draw(5).x, draw(5).x)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_environments": 3}, "n_environments must be an int >= 4"),
    ({"samples": 1}, "samples must be an int >= 2"),
    ({"variability": "cuase"}, "variability must be one of both, cause, mechanism, none"),
    ({"structure": "x<-y"}, "structure must be 'random' or one of"),
    ({"laplace_scale": 0}, "laplace_scale must be a number > 0")])  # fmt: skip
def test_bad_worlds_are_one_line_errors(kwargs, message):
    with pytest.raises(ValueError, match=message) as error:
        BivariateExchangeableWorld(**kwargs)
    assert "\n" not in str(error.value)
    assert VARIABILITY == ("both", "cause", "mechanism", "none")
