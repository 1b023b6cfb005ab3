"""Frequency → performance fits: the finer points the main tests leave open (found by mutation
testing): every aggregate's line against an independent least-squares fit, the paired bootstrap
against a loop over the same resamples, a constant predictor, and the edges of the input checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import linregress

from identifiable.analysis.frequency import AGGREGATES, aggregate_frequencies, frequency_fit

FREQ = {"a": 2.0, "b": 30.0, "c": 7.0, "d": 500.0, "e": 90.0}


def small_world(n=25, seed=0):
    rng = np.random.default_rng(seed)
    names = list(FREQ)
    concepts = [list(rng.choice(names, int(rng.integers(1, 4)), replace=False)) for _ in range(n)]
    gm = aggregate_frequencies(concepts, FREQ)["geometric_mean"].to_numpy()
    return concepts, 0.3 + 0.05 * np.log(gm) + rng.normal(0, 0.1, n)


def test_every_line_is_the_least_squares_fit_on_the_log():
    concepts, y = small_world()
    table, summary = frequency_fit(concepts, FREQ, y, n_bootstrap=0)
    logs = np.log(aggregate_frequencies(concepts, FREQ))
    for row in table.itertuples():
        fit = linregress(logs[row.aggregate], y)
        assert row.slope == pytest.approx(fit.slope, rel=1e-9)
        assert row.intercept == pytest.approx(fit.intercept, rel=1e-9)
        assert row.r2 == pytest.approx(fit.rvalue**2, rel=1e-9)
        assert np.isnan(row.r2_ci_low) and np.isnan(row.r2_ci_high)  # no bootstrap, no interval
    r2 = table.set_index("aggregate")["r2"]
    assert summary == pytest.approx(
        {"samples": 25.0, **{f"gm_minus_{a}": r2["geometric_mean"] - r2[a] for a in AGGREGATES[1:]}}
    )


def test_the_bootstrap_is_paired_percentile_intervals_of_the_same_resamples():
    concepts, y = small_world(n=20, seed=1)
    level, n_boot, seed = 0.8, 200, 7
    table, summary = frequency_fit(concepts, FREQ, y, n_bootstrap=n_boot, level=level, seed=seed)
    logs = np.log(aggregate_frequencies(concepts, FREQ))
    resample = np.random.default_rng(seed).integers(0, len(y), size=(n_boot, len(y)))
    boot = {
        a: np.array([np.corrcoef(logs[a].to_numpy()[r], y[r])[0, 1] ** 2 for r in resample])
        for a in AGGREGATES
    }
    quantiles = [10, 90]  # (1 − level)/2 on each side
    for row in table.itertuples():
        low, high = np.percentile(boot[row.aggregate], quantiles)
        assert (row.r2_ci_low, row.r2_ci_high) == pytest.approx((low, high), rel=1e-9)
    for a in AGGREGATES[1:]:
        low, high = np.percentile(boot["geometric_mean"] - boot[a], quantiles)
        assert summary[f"gm_minus_{a}_ci_low"] == pytest.approx(low, rel=1e-9, abs=1e-12)
        assert summary[f"gm_minus_{a}_ci_high"] == pytest.approx(high, rel=1e-9, abs=1e-12)


def test_a_constant_predictor_has_slope_zero_and_r2_zero():
    # "a" is the rarest concept of every sample: its minimum never varies
    concepts = [["a", "b"], ["a", "c"], ["a", "d"], ["a", "e"], ["a", "b", "d"]]
    y = np.array([0.1, 0.4, 0.2, 0.9, 0.3])
    table, summary = frequency_fit(concepts, FREQ, y, n_bootstrap=50)
    row = table.set_index("aggregate").loc["min"]
    assert row["slope"] == 0.0 and row["intercept"] == pytest.approx(y.mean())
    assert row["r2"] == 0.0 and row["r2_ci_low"] == 0.0 and row["r2_ci_high"] == 0.0
    gm_r2 = table.set_index("aggregate").loc["geometric_mean", "r2"]
    assert summary["gm_minus_min"] == pytest.approx(gm_r2)


def test_the_edges_of_the_input_checks():
    three = [["a"], ["b"], ["c"]]
    table, _ = frequency_fit(three, FREQ, [0.1, 0.5, 0.3], n_bootstrap=10)  # 3 is enough
    assert len(table) == len(AGGREGATES)
    for level in (0.0, 1.0):
        with pytest.raises(ValueError, match="level must be in"):
            frequency_fit(three, FREQ, [0.1, 0.5, 0.3], level=level)
    with pytest.raises(ValueError, match="finite and > 0"):
        aggregate_frequencies(three, {**FREQ, "b": np.inf})
    with pytest.raises(ValueError, match="performance has 2 NaN/inf"):
        frequency_fit(three, FREQ, [np.nan, 0.5, np.inf])
    with pytest.raises(ValueError, match="one value per sample"):
        frequency_fit(three, FREQ, np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"2 concept\(s\) have no .*\['x', 'y'\]"):
        aggregate_frequencies([["x", "a"], ["y"], ["a"]], FREQ)


def test_units_do_not_matter_and_a_narrow_range_is_still_fitted():
    # R² is free of the units of performance (here 1000× smaller: Σ(x−x̄)²Σ(y−ȳ)² < 1), and a
    # predictor whose logs span less than 1 is fitted, not treated as constant
    concepts, y = small_world(n=30, seed=2)
    narrow = {"a": 10.0, "b": 11.0, "c": 12.5, "d": 14.0, "e": 9.5}  # logs span 0.39
    table, _ = frequency_fit(concepts, FREQ, y, n_bootstrap=0)
    small, _ = frequency_fit(concepts, FREQ, y / 1000, n_bootstrap=0)
    np.testing.assert_allclose(small["r2"], table["r2"], rtol=1e-9)
    np.testing.assert_allclose(small["slope"], table["slope"] / 1000, rtol=1e-9)
    logs = np.log(aggregate_frequencies(concepts, narrow))
    for row in frequency_fit(concepts, narrow, y / 1000, n_bootstrap=0)[0].itertuples():
        fit = linregress(logs[row.aggregate], y / 1000)
        assert row.slope == pytest.approx(fit.slope, rel=1e-9) and row.slope != 0
        assert row.r2 == pytest.approx(fit.rvalue**2, rel=1e-9) and row.r2 > 0


def test_counts_as_integers_and_performance_as_an_object_column():
    concepts, y = small_world(n=12, seed=3)
    counts = {name: int(f) for name, f in FREQ.items()}  # pretraining counts are integers
    floats = aggregate_frequencies(concepts, {name: float(f) for name, f in counts.items()})
    assert aggregate_frequencies(concepts, counts).equals(floats)
    as_objects = np.array(list(y), dtype=object)  # as pandas hands over a mixed column
    table, summary = frequency_fit(concepts, FREQ, as_objects, n_bootstrap=20)
    expected_table, expected_summary = frequency_fit(concepts, FREQ, y, n_bootstrap=20)
    assert table.equals(expected_table) and summary == expected_summary


def test_the_default_bootstrap_is_1000_resamples_from_seed_0():
    concepts, y = small_world(n=10, seed=4)
    table, summary = frequency_fit(concepts, FREQ, y)
    again = frequency_fit(concepts, FREQ, y, n_bootstrap=1000, seed=0)
    assert table.equals(again[0]) and summary == again[1]
