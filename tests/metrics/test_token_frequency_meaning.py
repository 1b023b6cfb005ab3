"""Per-token-class loss and the frequency slope: what they mean.

ℓ̄_k is the mean loss over the positions whose target is k (NaN where k never is a target), and
b is the ordinary least-squares slope of the loss change on log frequency over the tokens where
both are finite and f_k > 0 (module docstring of identifiable.metrics.token_frequency).
"""

import numpy as np
import pytest

from identifiable.metrics.token_frequency import frequency_slope, per_token_loss


def brute_per_token_loss(losses, targets, n_tokens):
    """ℓ̄_k by a Python loop over the positions: the textbook definition."""
    out = []
    for k in range(n_tokens):
        values = [v for v, t in zip(losses, targets, strict=True) if t == k and not np.isnan(v)]
        out.append(sum(values) / len(values) if values else np.nan)
    return np.array(out)


def test_per_token_loss_is_the_class_mean_on_random_input():
    rng = np.random.default_rng(1)
    losses = rng.exponential(size=300)
    losses[rng.random(300) < 0.1] = np.nan
    targets = rng.integers(0, 12, 300)
    got = per_token_loss(losses, targets, 15)  # tokens 12 … 14 never are targets
    np.testing.assert_allclose(got, brute_per_token_loss(losses, targets, 15), rtol=1e-12)
    assert np.isnan(got[12:]).all()


def test_per_token_loss_accepts_the_last_token_and_integer_losses():
    # the valid range is 0 … n_tokens − 1, both ends included
    np.testing.assert_allclose(per_token_loss([1, 2, 4], [2, 2, 0], 3), [4.0, np.nan, 1.5])
    # integer losses are averaged as numbers, not truncated
    assert per_token_loss(np.array([1, 2]), np.array([0, 0]), 1)[0] == 1.5


def test_per_token_loss_refuses_the_first_id_past_the_vocabulary():
    with pytest.raises(ValueError, match="0 … 2"):
        per_token_loss([1.0, 1.0], [0, 3], 3)
    with pytest.raises(ValueError, match="0 … 2"):
        per_token_loss([1.0], [-1], 3)


def test_no_positions_means_no_class_has_a_loss():
    got = per_token_loss(np.array([]), np.array([], dtype=np.int64), 3)
    assert got.shape == (3,) and np.isnan(got).all()
    # every loss NaN: the same
    assert np.isnan(per_token_loss([np.nan, np.nan], [0, 1], 2)).all()


def test_slope_is_the_least_squares_slope_by_hand():
    # two tokens: the slope through two points, (c₂ − c₁) / (log f₂ − log f₁)
    f = np.array([np.e**-1, np.e**-3])
    assert frequency_slope([0.5, 1.5], f) == pytest.approx((1.5 - 0.5) / (-3 + 1))
    # three points, log f = 0, 1, 2, change 0, 1, 5: slope Σ(x − x̄)(y − ȳ)/Σ(x − x̄)² = 5/2
    f = np.exp([0.0, 1.0, 2.0])
    assert frequency_slope([0.0, 1.0, 5.0], f) == pytest.approx(2.5)


def test_slope_does_not_depend_on_the_frequency_unit_or_a_constant_change():
    rng = np.random.default_rng(2)
    f = rng.dirichlet(np.ones(20))
    change = rng.normal(size=20)
    b = frequency_slope(change, f)
    # counts instead of frequencies shift log f by a constant; a uniform shift of the change
    # moves the intercept a only
    assert frequency_slope(change, 1000 * f) == pytest.approx(b, rel=1e-12)
    assert frequency_slope(change + 3.0, f) == pytest.approx(b, rel=1e-12)
    assert frequency_slope(2 * change, f) == pytest.approx(2 * b, rel=1e-12)


def test_slope_ignores_tokens_without_a_usable_frequency_or_change():
    f = np.array([0.5, 0.2, 0.1, 0.05])
    change = np.array([0.1, 0.4, 0.2, 0.7])
    b = frequency_slope(change, f)
    for extra_change, extra_f in ((5.0, 0.0), (5.0, np.inf), (np.inf, 0.3), (np.nan, 0.3)):
        got = frequency_slope(np.r_[change, extra_change], np.r_[f, extra_f])
        assert got == pytest.approx(b, rel=1e-12), (extra_change, extra_f)


def test_slope_refuses_tables_rather_than_vectors():
    f = np.array([[0.5, 0.2], [0.1, 0.05]])
    with pytest.raises(ValueError, match="vectors of one length"):
        frequency_slope(np.ones((2, 2)), f)


def test_slope_is_computed_in_double_precision_whatever_the_input_dtype():
    # float32 tensors/arrays (a model's losses) give the float64 answer, not a float32 rounding
    rng = np.random.default_rng(3)
    f = rng.dirichlet(np.ones(50)).astype(np.float32)
    change = rng.normal(size=50).astype(np.float32)
    expected = frequency_slope(change.astype(np.float64), f.astype(np.float64))
    assert frequency_slope(change, f) == pytest.approx(expected, rel=1e-13)
    assert frequency_slope(change, f.astype(np.float64)) == pytest.approx(expected, rel=1e-13)
    assert frequency_slope(change.astype(np.float64), f) == pytest.approx(expected, rel=1e-13)
