"""Meaning of the object-scenes world: every setting reaches the scenes, the fixed splits are a
function of the world alone (not of the global RNG, not of the other split's size) and drawn
independently of each other, ``sample`` draws from the generator it is given, and sizes and seed
are ints."""

import pytest
import torch

from identifiable.worlds.object_scenes import ObjectScenesWorld


def test_every_setting_reaches_the_scenes():
    world = ObjectScenesWorld(
        n_objects=3, image_size=12, shapes=("circle",), scale_range=(0.25, 0.3), n_train=40,
        n_test=10, seed=3,
    )  # fmt: skip
    fresh = world.sample(40, generator=torch.Generator().manual_seed(0))
    for batch, n in ((world.split("train"), 40), (world.split("test"), 10), (fresh, 40)):
        assert batch.x.shape == (n, 3, 12, 12) and batch.masks.shape == (n, 3, 12, 12)
        assert (batch.shape == 0).all()  # the one shape given
        assert 0.25 <= batch.scale.min() < 0.26 and 0.29 < batch.scale.max() <= 0.3


def test_the_test_split_is_drawn_independently_of_the_training_split():
    """No test object repeats the factors of a training object in the same slot."""
    world = ObjectScenesWorld(n_objects=2, image_size=8, n_train=30, n_test=10, seed=4)
    train, test = world.split("train").factors(), world.split("test").factors()
    for scene in test:
        assert not (train == scene).all(dim=-1).any(), "a test object is a training object"


def test_a_split_depends_on_the_seed_and_its_own_size_only():
    """Not on the global RNG, not on the other split's size; drawing it leaves the global RNG
    alone."""
    torch.manual_seed(0)
    state = torch.get_rng_state()
    a = ObjectScenesWorld(image_size=8, n_train=6, n_test=2, seed=7)
    train, test = a.split("train"), a.split("test")
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(1)
    b = ObjectScenesWorld(image_size=8, n_train=6, n_test=3, seed=7)
    c = ObjectScenesWorld(image_size=8, n_train=5, n_test=2, seed=7)
    assert torch.equal(b.split("train").x, train.x)
    assert torch.equal(c.split("test").x, test.x)


def test_sample_draws_from_the_generator_given():
    world = ObjectScenesWorld(image_size=8, n_train=2, n_test=2)
    torch.manual_seed(0)
    state = torch.get_rng_state()
    first = world.sample(5, generator=torch.Generator().manual_seed(1))
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(2)
    again = world.sample(5, generator=torch.Generator().manual_seed(1))
    assert torch.equal(first.x, again.x) and torch.equal(first.factors(), again.factors())
    other = world.sample(5, generator=torch.Generator().manual_seed(2))
    assert not torch.equal(first.factors(), other.factors())


@pytest.mark.parametrize(
    "settings",
    [{"n_train": True}, {"n_train": 2.0}, {"n_test": 2.5}, {"seed": True}, {"seed": 1.0}],
)
def test_sizes_and_seed_must_be_ints(settings):
    with pytest.raises(ValueError, match="must be an int"):
        ObjectScenesWorld(**settings)
