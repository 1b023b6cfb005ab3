"""What the digits world means: scikit-learn's 1 797 images scaled to [0, 1], their labels, and a
seeded split with exactly ``n_train`` training rows."""

import pytest
import torch
from sklearn.datasets import load_digits

from identifiable.worlds.digits import N_DIGITS, digits


def test_images_are_sklearns_pixels_over_16_with_their_labels():
    data = load_digits()
    world = digits()
    assert world.x.shape == (N_DIGITS, 64) and world.x.dtype == torch.float32
    torch.testing.assert_close(world.x, torch.as_tensor(data.data, dtype=torch.float32) / 16)
    assert world.z.tolist() == data.target.tolist()
    assert float(world.x.min()) == 0.0 and float(world.x.max()) == 1.0


@pytest.mark.parametrize("n_train", [1, 1000, 1796])
def test_exactly_n_train_rows_train_and_the_rest_test(n_train):
    world = digits(n_train, seed=0)
    assert world.sizes["train"] == n_train and world.sizes["test"] == N_DIGITS - n_train


def test_the_split_is_seeded_and_the_default_is_1000_rows_seed_0():
    assert torch.equal(digits().indices("train"), digits(1000, seed=0).indices("train"))
    assert not torch.equal(digits(seed=0).indices("train"), digits(seed=1).indices("train"))


@pytest.mark.parametrize("n_train", [0, N_DIGITS, 10.0, True])
def test_refuses_impossible_sizes(n_train):
    with pytest.raises(ValueError, match="n_train must be an int"):
        digits(n_train)
