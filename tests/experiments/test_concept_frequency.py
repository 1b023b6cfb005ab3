"""concept-frequency: a tiny run end to end, the pooled fit's bookkeeping, bad configs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from identifiable.experiments import concept_frequency as exp
from identifiable.experiments.concept_frequency import Config, run, summarise

TINY = {"steps": 3, "batch_size": 16, "per_pair": 2, "seeds": 2, "n_held_out": 5,
        "image_size": 16, "n_bootstrap": 50, "dim": 8}  # fmt: skip


def test_tiny_run_scores_every_held_out_pair(tmp_path):
    result = run(Config(**TINY))
    curves = result.curves
    assert len(curves) == 2 * 2 * 5  # exponents × seeds × held-out pairs
    assert curves["performance"].between(0, 1).all()
    m = result.metrics
    for key in ("zipf2_geometric_mean_r2", "zipf2_gm_minus_min_ci_low", "zipf0_performance_sd"):
        assert np.isfinite(m[key])
    assert "spread_ratio" in m
    # uniform p(c), but held-out pairs take unequal shares: frequencies differ a little
    assert "zipf0_performance_mean" in m
    assert pd.Series(run(Config(**TINY)).metrics).equals(pd.Series(m))  # NaN-aware
    assert [p.name for p in exp.figures(curves, tmp_path)] == ["concept_frequency.png"]


def test_pooled_fit_keeps_each_seeds_own_frequencies():
    rows = []
    rng = np.random.default_rng(0)
    for seed in (0, 1):
        f = rng.uniform(0.01, 0.2, 6)
        for a, b in [(0, 1), (2, 3), (4, 5), (0, 5), (1, 4)]:
            gm = np.sqrt(f[a] * f[b])
            rows.append({"zipf": 1.0, "seed": seed, "a": a, "b": b, "performance": np.log(gm),
                         "frequency_a": f[a], "frequency_b": f[b]})  # fmt: skip
    m = summarise(pd.DataFrame(rows), n_bootstrap=100)
    assert m["zipf1_geometric_mean_r2"] == pytest.approx(1.0)
    assert m["zipf1_geometric_mean_slope"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "override, message",
    [
        ({"zipf": (-1.0,)}, "zipf must be exponents >= 0"),
        ({"zipf": ()}, "zipf must be exponents"),
        ({"n_held_out": 500}, "n_held_out must be in"),
        ({"per_pair": 0}, "per_pair"),
    ],
)
def test_bad_configs(override, message):
    with pytest.raises(ValueError, match=message):
        Config(**override)
