"""What a declaration means: every field given is the field stored, derived names resolve to the
longest declared base, a gain keeps only the direction. Names starting ``zz_`` are test-only."""

import numpy as np
import pytest

from identifiable.metrics import METRICS, accuracy, declare, metric, metric_info
from identifiable.metrics._registry import MetricInfo


@pytest.fixture
def scratch():
    before = dict(METRICS)
    yield
    for name in set(METRICS) - set(before):
        METRICS.pop(name)


def test_declare_stores_every_field(scratch):
    info = declare(
        "zz_error",
        higher_is_better=False,
        bounds=(0.0, 5.0),
        kind="continuous",
        forgives="a sign",
        description="one line",
    )
    assert (
        METRICS["zz_error"]
        == info
        == MetricInfo("zz_error", False, (0.0, 5.0), "continuous", "a sign", "one line")
    )
    bare = declare("zz_bare", higher_is_better=None)
    assert (bare.bounds, bare.kind, bare.forgives, bare.description) == (
        (None, None),
        "continuous",
        "",
        "",
    )


def test_a_proportion_without_bounds_gets_the_unit_interval(scratch):
    assert declare("zz_share", higher_is_better=True, kind="proportion").bounds == (0.0, 1.0)
    assert declare("zz_open", higher_is_better=True, kind="continuous").bounds == (None, None)
    assert declare("zz_half", higher_is_better=True, bounds=(0.0, 0.5)).bounds == (0.0, 0.5)


@pytest.mark.parametrize("bounds", [(0.0, 2.0), (None, 1.0), (0.0, None)])
def test_a_proportion_with_other_bounds_is_refused(scratch, bounds):
    with pytest.raises(ValueError, match="proportion"):
        declare("zz_bad", higher_is_better=True, kind="proportion", bounds=bounds)


def test_empty_bounds_interval_is_refused():
    with pytest.raises(ValueError, match="low < high"):
        MetricInfo("zz_point", True, (1.0, 1.0))


def test_decorator_declares_every_field_and_attaches_it(scratch):
    @metric(
        name="zz_decorated",
        higher_is_better=False,
        bounds=(0.0, None),
        kind="diagnostic",
        forgives="nothing",
    )
    def scored(a, b):
        """First line.

        More."""
        return 0.0

    assert scored.metric_info is METRICS["zz_decorated"]
    assert scored.metric_info == MetricInfo(
        "zz_decorated", False, (0.0, None), "diagnostic", "nothing", "First line."
    )

    @metric(higher_is_better=True)
    def zz_undocumented(a, b):
        return 1.0

    assert METRICS["zz_undocumented"].description == ""
    assert METRICS["zz_undocumented"].forgives == ""


def test_longest_base_wins_and_earliest_among_equals(scratch):
    declare("zz_p_q", higher_is_better=True, description="pq")
    declare("zz_q_r", higher_is_better=False, description="qr")
    declare("zz_p", higher_is_better=None, description="p")
    # "zz_p_q" (3 words, from word 0) beats "zz_p" (2 words, same start): longest first
    assert metric_info("zz_p_q_extra").description == "pq"
    # role prefix: "role_zz_q_r" resolves to zz_q_r
    assert metric_info("role_zz_q_r").description == "qr"
    # two bases of equal length: "x_zz_p_q" → zz_p_q (from word 1); no base later in the name
    # of the same length displaces it
    assert metric_info("zz_p_q_zz_q_r").description == "pq"


def test_gains_keep_direction_drop_bounds_and_forgiveness():
    gain = metric_info("mcc_gain")
    assert gain.name == "mcc_gain" and gain.higher_is_better is True
    assert (gain.bounds, gain.kind, gain.forgives) == ((None, None), "continuous", "")
    assert gain.description == "difference of two mcc values"
    assert metric_info("accuracy_gain").kind == "continuous"  # a difference of proportions
    assert metric_info("loss_gain").kind == "diagnostic"  # a diagnostic stays one


def test_accuracy_flattens_both_sides_and_counts_one_label():
    labels = np.array([[0], [1], [2], [2]])  # a column
    assert accuracy(labels, np.array([0, 1, 2, 0])) == 0.75
    assert accuracy(np.array([0, 1, 2, 0]), labels) == 0.75
    assert accuracy([3], [3]) == 1.0 and accuracy([3], [4]) == 0.0
    with pytest.raises(ValueError, match="at least one"):
        accuracy([], [])
