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


@pytest.mark.parametrize("bad_side", ["x_true", "x_hat"])
def test_a_non_numeric_input_is_named_in_the_error(bad_side):
    words = [["a", "b"], ["c", "d"], ["e", "f"]]
    numbers = np.arange(6.0).reshape(3, 2)
    args = (words, numbers) if bad_side == "x_true" else (numbers, words)
    for score in (reconstruction_r2, reconstruction_mse):
        with pytest.raises(ValueError, match=f"^{bad_side} must be a numeric array$"):
            score(*args)


def test_python_lists_are_read_in_double_precision_like_numpy_arrays():
    """Nested lists of floats give exactly the float64 array's scores (no float32 rounding)."""
    noisy = X + 1e-9 * rng.normal(size=X.shape)
    assert reconstruction_r2(X.tolist(), noisy.tolist()) == reconstruction_r2(X, noisy)
    assert reconstruction_mse(X.tolist(), noisy.tolist()) == reconstruction_mse(X, noisy)
    assert 0 < reconstruction_mse(X.tolist(), noisy.tolist()) < 1e-16


def test_tensors_that_require_grad_are_scored_without_their_graph():
    x = torch.tensor(X, requires_grad=True)
    h = torch.tensor(X + 0.1, requires_grad=True)
    assert reconstruction_r2(x, h) == reconstruction_r2(X, X + 0.1)
    assert reconstruction_mse(x, h) == pytest.approx(0.01)


def test_two_rows_and_a_single_vector_of_rows_are_enough():
    """n ≥ 2 rows; a 1-D input is n rows of one coordinate (scikit-learn's r2_score)."""
    x, h = np.array([0.0, 1.0]), np.array([0.25, 0.5])
    assert reconstruction_r2(x, h) == pytest.approx(r2_score(x, h))
    assert reconstruction_r2(x[:, None], h[:, None]) == reconstruction_r2(x, h)
    y = rng.random(50)
    y_hat = y + rng.normal(0, 0.1, 50)
    assert reconstruction_r2(y, y_hat) == pytest.approx(r2_score(y, y_hat), rel=1e-12)
    assert reconstruction_mse(x, h) == pytest.approx((0.25**2 + 0.5**2) / 2)
    with pytest.raises(ValueError, match="at least 2 rows"):
        reconstruction_r2(np.float64(1.0), np.float64(1.0))


def test_r2_is_scale_free_down_to_tiny_variances():
    """R² is unchanged when x and x̂ are scaled together, however small their total variance."""
    noisy = X + rng.normal(0, 0.3, X.shape)
    for scale in (1e-3, 1e-6):
        assert reconstruction_r2(scale * X, scale * noisy) == pytest.approx(
            reconstruction_r2(X, noisy), rel=1e-9
        )
