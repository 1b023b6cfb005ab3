"""Meaning of the reconstruction metrics: perfect case, useless cases, the reference formula
(scikit-learn's variance-weighted R²), invariances and bad input."""

import numpy as np
import pytest
import torch
from sklearn.metrics import r2_score

from identifiable.metrics import metric_info
from identifiable.metrics.reconstruction import reconstruction_mse, reconstruction_r2

rng = np.random.default_rng(0)
X = rng.random((300, 3, 8)) * rng.random((1, 3, 8)) * 4  # coordinates of unequal variance


def test_perfect_reconstruction_scores_one_and_zero_error():
    assert reconstruction_r2(X, X) == 1.0 and reconstruction_mse(X, X) == 0.0


def test_the_mean_image_scores_zero_and_noise_scores_below():
    mean = np.broadcast_to(X.mean(0), X.shape)
    assert reconstruction_r2(X, mean) == pytest.approx(0.0, abs=1e-12)
    assert reconstruction_r2(X, rng.permutation(X)) < 0  # right marginals, wrong rows


def test_it_is_scikit_learns_variance_weighted_r2():
    noisy = X + rng.normal(0, 0.3, X.shape)
    flat = X.reshape(300, -1), noisy.reshape(300, -1)
    expected = r2_score(*flat, multioutput="variance_weighted")
    assert reconstruction_r2(X, noisy) == pytest.approx(expected, rel=1e-10)
    assert reconstruction_mse(X, noisy) == pytest.approx(((X - noisy) ** 2).mean())
    # variance weighting: an error on a high-variance coordinate costs as much as on any other
    uniform = r2_score(*flat, multioutput="uniform_average")
    assert expected != pytest.approx(uniform)


def test_constant_pixels_add_nothing_and_torch_equals_numpy():
    padded = np.concatenate([X, np.zeros((300, 1, 8))], axis=1)
    noisy = X + 0.1
    noisy_padded = np.concatenate([noisy, np.zeros((300, 1, 8))], axis=1)
    assert reconstruction_r2(padded, noisy_padded) == pytest.approx(reconstruction_r2(X, noisy))
    assert reconstruction_r2(torch.tensor(X), torch.tensor(noisy)) == reconstruction_r2(X, noisy)


def test_declared_meaning():
    info = metric_info("compositional_reconstruction_r2_ood")  # a derived name finds its base
    assert info.higher_is_better and info.bounds == (None, 1.0)
    assert info.description == metric_info("reconstruction_r2").description
    assert metric_info("reconstruction_mse").higher_is_better is False


@pytest.mark.parametrize(
    "x_hat, message",
    [
        (X[:10], "same shape"),
        (np.where(X > 3, np.nan, X), "NaN"),
    ],
)
def test_bad_input(x_hat, message):
    with pytest.raises(ValueError, match=message):
        reconstruction_r2(X, x_hat)
    with pytest.raises(ValueError, match="no variance"):
        reconstruction_r2(np.ones((5, 3)), np.ones((5, 3)))
    with pytest.raises(ValueError, match="at least 2 rows"):
        reconstruction_mse(X[:1], X[:1])
