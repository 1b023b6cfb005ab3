"""Object scenes: fixed seeded splits with masks, bad settings refused."""

import pytest
import torch

from identifiable.worlds.object_scenes import ObjectScenesWorld


def test_splits_are_fixed_seeded_and_carry_masks():
    world = ObjectScenesWorld(n_objects=3, image_size=16, n_train=20, n_test=5, seed=1)
    train, test = world.split("train"), world.split("test")
    assert train.x.shape == (20, 3, 16, 16) and train.masks.shape == (20, 3, 16, 16)
    assert test.x.shape == (5, 3, 16, 16)
    again = ObjectScenesWorld(n_objects=3, image_size=16, n_train=20, n_test=5, seed=1)
    torch.testing.assert_close(again.split("train").x, train.x)
    other = ObjectScenesWorld(n_objects=3, image_size=16, n_train=20, n_test=5, seed=2)
    assert not torch.equal(other.split("train").x, train.x)
    assert not torch.equal(train.x[:5], test.x)
    assert (train.masks.sum(1) <= 1 + 1e-5).all()
    assert world.sample(4, generator=torch.Generator().manual_seed(0)).x.shape == (4, 3, 16, 16)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"n_train": 0}, "n_train must be an int >= 1"),
        ({"seed": -1}, "seed must be an int >= 0"),
        ({"n_objects": 9}, "n_objects"),
        ({"image_size": 4}, "image_size"),
        ({"shapes": ("hexagon",)}, "shapes"),
    ],
)
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        ObjectScenesWorld(**settings)


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match="split must be one of train, test"):
        ObjectScenesWorld(n_train=2, n_test=2).split("ood")
