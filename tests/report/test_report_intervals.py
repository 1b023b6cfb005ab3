import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from identifiable.metrics import metric_info
from identifiable.report.intervals import (
    STUDENT_T,
    WILSON,
    interval,
    method_for,
    student_t,
    student_t_half_width,
    wilson,
)


@pytest.mark.parametrize(
    "successes, n, low, high",
    [
        (0, 3, 0.0, 0.561497),  # no success: starts at 0, not a point
        (2, 3, 0.207660, 0.938508),
        (3, 3, 0.438503, 1.0),
        (5, 10, 0.236593, 0.763407),
    ],
)
def test_wilson_matches_the_score_interval(successes, n, low, high):
    assert wilson(successes, n) == pytest.approx((low, high), abs=1e-6)


def test_student_t_is_the_textbook_interval_and_clipped_to_bounds():
    values = [0.2, 0.4, 0.9]
    half = stats.t.ppf(0.975, 2) * np.std(values, ddof=1) / math.sqrt(3)
    assert student_t_half_width(values) == pytest.approx(half)
    assert student_t(values) == pytest.approx((np.mean(values) - half, np.mean(values) + half))
    low, high = student_t(values, bounds=(0.0, 1.0))
    assert low == 0.0 and high == 1.0  # the raw interval is wider than [0, 1] on both sides
    assert math.isnan(student_t([0.5])[0])  # undefined from one run


def test_a_yes_no_metric_gets_wilson_and_a_continuous_one_student_t():
    assert method_for(metric_info("converged"), [0.0, 1.0, 1.0]) == WILSON
    assert method_for(metric_info("accuracy"), [0.91, 0.93]) == WILSON
    assert method_for(metric_info("mcc"), [1.0, 1.0, 1.0]) == STUDENT_T  # continuous stays t
    assert method_for(None, [0.0, 1.0]) == WILSON  # an undeclared flag
    assert method_for(None, [1.0, 1.0]) == STUDENT_T  # constant: not taken for a flag
    assert method_for(None, [0.5, 2.0]) == STUDENT_T
    assert metric_info("e_converged_fraction").kind == "proportion"


@given(
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8),
    st.sampled_from([WILSON, STUDENT_T]),
)
def test_intervals_stay_inside_the_bounds_and_around_the_mean(values, method):
    low, high = interval(values, method, bounds=(0.0, 1.0))
    if math.isnan(low):
        assert method == STUDENT_T and len(values) == 1
        return
    mean = float(np.mean(values))
    assert 0.0 <= low <= high <= 1.0
    assert low - 1e-12 <= mean <= high + 1e-12
