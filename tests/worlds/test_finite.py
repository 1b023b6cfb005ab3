"""Finite worlds: disjoint seeded splits that cover all, ood held out, sample from train, errors."""

import numpy as np
import pytest
import torch

from identifiable.worlds.base import SPLITS, Batch, World
from identifiable.worlds.finite import FiniteWorld


def modular(p=11, **kwargs) -> FiniteWorld:
    """All p² pairs (b, c) with truth (b + c) mod p; pairs with b = 0 are ood."""
    pairs = torch.cartesian_prod(torch.arange(p), torch.arange(p))
    kwargs.setdefault("ood", pairs[:, 0] == 0)
    return FiniteWorld.from_arrays(pairs.sum(1) % p, pairs, **kwargs)


def rows(world, name) -> set[int]:
    return set(world.indices(name).tolist())


def test_splits_are_disjoint_and_cover_all():
    world = modular(fractions=(0.6, 0.2, 0.2))
    parts = [rows(world, name) for name in ("train", "validation", "test", "ood")]
    assert sum(map(len, parts)) == len(world) == 121
    assert set().union(*parts) == rows(world, "all") == set(range(121))
    assert world.sizes == {"train": 66, "validation": 22, "test": 22, "ood": 11, "all": 121}
    for name in SPLITS:
        batch = world.split(name)
        assert isinstance(batch, Batch) and len(batch.z) == len(batch.x) == world.sizes[name]
        torch.testing.assert_close(batch.x, world.x[world.indices(name)])


def test_same_seed_same_split_and_other_seed_other_split():
    a, b, c = modular(seed=0), modular(seed=0), modular(seed=1)
    for name in SPLITS:
        assert torch.equal(a.indices(name), b.indices(name))
    assert not torch.equal(a.indices("train"), c.indices("train"))
    assert torch.equal(a.indices("ood"), c.indices("ood"))  # ood is a rule, not a draw


def test_ood_rows_never_appear_in_train_validation_or_test():
    world = modular()
    ood = rows(world, "ood")
    assert ood == {i for i in range(121) if world.x[i, 0] == 0}
    for name in ("train", "validation", "test"):
        assert not rows(world, name) & ood
    assert (world.split("ood").x[:, 0] == 0).all()


def test_ood_can_be_a_predicate_on_z_a_held_out_region_of_latent_space():
    z = torch.rand((500, 2), generator=torch.Generator().manual_seed(0))
    world = FiniteWorld.from_rule(z, lambda z: z @ torch.ones(2, 3), ood=lambda z: z[:, 0] > 0.8)
    assert (world.split("ood").z[:, 0] > 0.8).all()
    assert (world.split("train").z[:, 0] <= 0.8).all()
    torch.testing.assert_close(world.split("test").x, world.split("test").z @ torch.ones(2, 3))


def test_sample_draws_only_train_rows_and_follows_the_generator():
    world = modular()
    train = {tuple(pair) for pair in world.split("train").x.tolist()}
    batch = world.sample(2000, generator=torch.Generator().manual_seed(0))
    assert {tuple(pair) for pair in batch.x.tolist()} <= train
    assert len({tuple(pair) for pair in batch.x.tolist()}) == len(train)  # all rows reachable
    torch.testing.assert_close(batch.z, batch.x.sum(1) % 11)  # rows stay whole
    again = world.sample(2000, generator=torch.Generator().manual_seed(0))
    other = world.sample(2000, generator=torch.Generator().manual_seed(1))
    assert torch.equal(batch.x, again.x) and not torch.equal(batch.x, other.x)
    assert isinstance(world, World)


def test_numpy_inputs_keep_their_dtype_and_one_dimensional_truth():
    z = np.arange(40)
    x = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    world = FiniteWorld.from_arrays(z, x, fractions=(0.5, 0.25, 0.25), seed=3)
    assert world.z.dtype == torch.int64 and world.x.dtype == torch.float32
    assert world.sizes == {"train": 20, "validation": 10, "test": 10, "ood": 0, "all": 40}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fractions": (0.8, 0.1, 0.2)}, "sum to 1"),
        ({"fractions": (1.1, -0.1, 0.0)}, "sum to 1"),
        ({"fractions": (0.0, 0.5, 0.5)}, "train fraction must be > 0"),
        ({"fractions": (0.5, 0.5)}, "three numbers"),
        ({"fractions": (0.998, 0.001, 0.001)}, "split 'validation' is empty"),
        ({"ood": torch.ones(121, dtype=torch.bool)}, "train would be empty"),
        ({"ood": torch.ones(7, dtype=torch.bool)}, "bool mask of shape"),
        ({"ood": torch.ones(121)}, "bool mask of shape"),
        ({"seed": 1.5}, "seed must be an int"),
    ],
)
def test_bad_settings_raise_one_line_errors(kwargs, message):
    with pytest.raises(ValueError, match=message) as error:
        modular(**kwargs)
    assert "\n" not in str(error.value)


def test_bad_arrays_and_split_names_raise_one_line_errors():
    x = torch.zeros(10, 2)
    cases = [
        (lambda: FiniteWorld.from_arrays(torch.zeros(9), x), "same number of rows"),
        (
            lambda: FiniteWorld.from_arrays(
                torch.zeros(10), x.index_fill(0, torch.tensor([3]), float("nan"))
            ),
            "NaN",
        ),
        (lambda: FiniteWorld.from_arrays(np.array(["a"] * 10), x), "numeric array"),
        (lambda: FiniteWorld.from_arrays(torch.tensor(1.0), x), "row axis"),
        (lambda: FiniteWorld.from_arrays(torch.zeros(0), torch.zeros(0, 2)), "at least one row"),
        (lambda: modular().split("training"), "unknown split 'training'; choose one of train"),
        (lambda: modular(ood=None).split("ood"), "split 'ood' is empty"),
        (lambda: modular(fractions=(0.9, 0.0, 0.1)).split("validation"), "fraction is 0"),
        (lambda: modular().sample(0, generator=torch.Generator()), "positive int"),
    ]
    for make, message in cases:
        with pytest.raises(ValueError, match=message) as error:
            make()
        assert "\n" not in str(error.value), message
