"""What a finite world means beyond its splits: inputs are normalised once (tensors, a bool ood
mask, float fractions), errors name the argument at fault, the constructors share the class's
defaults and pass every setting through, and the limits (one row, one sample) are allowed."""

import numpy as np
import pytest
import torch

from identifiable.worlds.finite import FiniteWorld

Z = torch.arange(20)
X = torch.arange(40.0).reshape(20, 2)


def test_inputs_are_normalised_once():
    world = FiniteWorld(z=list(range(4)), x=[[0.0], [1.0], [2.0], [3.0]], fractions=[1, 0, 0])
    assert isinstance(world.z, torch.Tensor) and isinstance(world.x, torch.Tensor)
    assert world.ood.dtype == torch.bool and not bool(world.ood.any()) and world.ood.shape == (4,)
    assert world.fractions == (1.0, 0.0, 0.0) and isinstance(world.fractions, tuple)
    assert all(isinstance(f, float) for f in world.fractions)


@pytest.mark.parametrize("field", ["z", "x"])
def test_non_finite_values_are_counted_and_named(field):
    bad = X.clone()
    bad[3, 0], bad[5, 1] = float("nan"), float("inf")
    arrays = {"z": X, "x": X} | {field: bad}
    with pytest.raises(ValueError, match=rf"^{field} contains 2 NaN/inf values"):
        FiniteWorld(**arrays)
    with pytest.raises(ValueError, match=rf"^{field} contains 2 NaN/inf values"):
        FiniteWorld.from_arrays(**arrays)


def test_constructors_name_z_and_ood_in_their_errors():
    with pytest.raises(ValueError, match="^z contains 1 NaN"):
        FiniteWorld.from_rule(torch.tensor([0.0, float("nan")]), lambda z: z)
    with pytest.raises(ValueError, match="^ood must be a numeric array"):
        FiniteWorld(z=Z, x=X, ood=object())
    with pytest.raises(ValueError, match="^x must be a numeric array"):
        FiniteWorld(z=Z, x=object())


def test_a_single_row_world_is_allowed():
    world = FiniteWorld(z=[7], x=[[1.0]], fractions=(1.0, 0.0, 0.0))
    assert world.sizes["train"] == 1
    assert world.sample(1, generator=torch.Generator()).z.tolist() == [7]


def test_constructors_share_the_class_defaults_and_pass_settings_through():
    default = FiniteWorld(z=Z, x=X)
    for world in (FiniteWorld.from_arrays(Z, X), FiniteWorld.from_rule(Z, lambda z: X)):
        assert world.seed == default.seed == 0 and world.fractions == default.fractions
        assert torch.equal(world.indices("train"), default.indices("train"))
    given = dict(fractions=(0.5, 0.25, 0.25), seed=3, ood=Z < 4)
    rule = FiniteWorld.from_rule(Z, lambda z: X, **given)
    arrays = FiniteWorld(z=Z, x=X, **given)
    assert rule.fractions == (0.5, 0.25, 0.25) and rule.seed == 3
    for name in ("train", "validation", "test", "ood"):
        assert torch.equal(rule.indices(name), arrays.indices(name))


@pytest.mark.parametrize(
    "fractions",
    [(float("nan"), 0.5, 0.5), (True, 0, 0), (1, False, 0), ("1", 0, 0), (float("inf"), 0, 0)],
)
def test_fractions_must_be_three_real_numbers(fractions):
    with pytest.raises(ValueError, match="three numbers"):
        FiniteWorld(z=Z, x=X, fractions=fractions)


def test_fractions_may_carry_float_rounding():
    FiniteWorld(z=Z, x=X, fractions=(0.7, 0.2, 0.1))  # sums to 0.9999999999999999
    with pytest.raises(ValueError, match="sum to 1"):
        FiniteWorld(z=Z, x=X, fractions=(0.7, 0.2, 0.2))


@pytest.mark.parametrize("n", [0, -2, 1.5, True, np.float64(3.0)])
def test_sample_size_must_be_a_positive_int(n):
    with pytest.raises(ValueError, match="positive int"):
        FiniteWorld(z=Z, x=X).sample(n, generator=torch.Generator())


def test_one_sample_is_allowed():
    assert len(FiniteWorld(z=Z, x=X).sample(1, generator=torch.Generator()).z) == 1


def test_empty_ood_says_how_to_add_one():
    with pytest.raises(ValueError, match="no ood rows .pass ood="):
        FiniteWorld(z=Z, x=X).split("ood")
    with pytest.raises(ValueError, match="fraction is 0"):
        FiniteWorld(z=Z, x=X, fractions=(1.0, 0.0, 0.0)).split("test")
