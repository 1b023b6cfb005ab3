"""Per-token-class loss and the frequency slope: hand values, the perfect and the useless case."""

import numpy as np
import pytest

from identifiable.metrics.token_frequency import frequency_slope, per_token_loss


def test_per_token_loss_by_hand():
    losses = np.array([[1.0, 2.0, np.nan], [3.0, 5.0, 7.0]])
    targets = np.array([[0, 1, 1], [0, 2, 1]])
    np.testing.assert_allclose(per_token_loss(losses, targets, 4), [2.0, 4.5, 5.0, np.nan])


def test_slope_recovers_a_linear_dependence_and_reads_zero_for_a_uniform_change():
    f = np.array([0.5, 0.2, 0.1, 0.05, 0.01])
    assert frequency_slope(0.3 - 0.7 * np.log(f), f) == pytest.approx(-0.7)
    assert frequency_slope(np.full(5, 0.4), f) == pytest.approx(0.0, abs=1e-12)
    change = np.array([0.1, np.nan, 0.3, 0.2, 0.5])
    keep = ~np.isnan(change)
    assert frequency_slope(change, f) == pytest.approx(
        np.polyfit(np.log(f[keep]), change[keep], 1)[0]
    )


def test_useless_input_gives_no_slope():
    rng = np.random.default_rng(0)
    f = rng.dirichlet(np.ones(2000))
    assert abs(frequency_slope(rng.normal(size=2000), f)) < 0.05  # unrelated changes


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: per_token_loss([1.0, 2.0], [0], 2), "same shape"),
        (lambda: per_token_loss([1.0], [0.5], 2), "integer token ids"),
        (lambda: per_token_loss([1.0], [3], 2), "0 … 1"),
        (lambda: frequency_slope([1.0, 2.0], [0.5]), "vectors of one length"),
        (lambda: frequency_slope([1.0, 2.0], [0.5, 0.5]), "different frequency"),
        (lambda: frequency_slope([np.nan, 2.0], [0.5, 0.1]), "at least two"),
    ],
)
def test_bad_input_is_a_one_line_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
