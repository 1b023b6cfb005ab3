"""exchangeable-ica: a tiny run end to end, the summary's arithmetic, bad configs, the claims."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from identifiable.experiments import exchangeable_ica as exp
from identifiable.experiments.exchangeable_ica import CLAIMS, THRESHOLD, Config, run, summarise

TINY = {"steps": 30, "batch_size": 64, "eval_size": 400, "seeds": 2, "n_sources": 2,
        "n_segments": 4, "hidden": (8,)}  # fmt: skip


def test_tiny_run_scores_every_mode_and_method(tmp_path):
    result = run(Config(**TINY))
    scores = result.curves[result.curves["table"] == "scores"]
    assert len(scores) == 3 * 2 * 3  # modes × seeds × methods
    for mode in ("source", "none", "mechanism"):
        for method in exp.METHODS:
            value = result.metrics[f"{mode}_{method}_mcc"]
            assert 0.0 <= value <= 1.0
        assert math.isfinite(result.metrics[f"{mode}_tcl_mcc_gap_ci_low"])
    history = result.curves[result.curves["table"] == "history"]
    assert {"mcc", "segment_accuracy", "step"} <= set(history.columns) and len(history) > 0
    again = run(Config(**TINY))
    assert again.metrics == result.metrics  # seeded and deterministic
    assert [p.name for p in exp.figures(result.curves, tmp_path)] == ["exchangeable_ica.png"]


def test_summary_pairs_the_gap_by_seed():
    rows = []
    for seed, (tcl, untrained) in enumerate([(0.9, 0.2), (0.8, 0.3), (0.95, 0.25)]):
        for method, value in (("tcl", tcl), ("untrained", untrained), ("ica_x", 0.5)):
            rows.append({"variability": "source", "seed": seed, "method": method, "mcc": value,
                         "segment_accuracy": 0.2, "mcc_y": tcl})  # fmt: skip
    metrics = summarise(pd.DataFrame(rows).assign(table="scores"))
    assert metrics["source_tcl_mcc"] == pytest.approx(0.8833333)
    assert metrics["source_tcl_min_mcc"] == pytest.approx(0.8)
    gaps = np.array([0.7, 0.5, 0.7])
    assert metrics["source_tcl_mcc_gap"] == pytest.approx(gaps.mean())
    half = metrics["source_tcl_mcc_gap"] - metrics["source_tcl_mcc_gap_ci_low"]
    assert half == pytest.approx(4.302653 * gaps.std(ddof=1) / np.sqrt(3), rel=1e-5)


@pytest.mark.parametrize(
    "override, message",
    [
        ({"variability": ("both",)}, "variability must be some of source, none, mechanism"),
        ({"variability": ()}, "variability must be some of"),
        ({"n_segments": 1}, "n_segments"),
        ({"seeds": 0}, "seeds"),
        ({"nonlinearity": "relu"}, "nonlinearity"),
        ({"eval_size": 5}, "eval_size"),
        ({"n_segments": 100, "steps": 1, "batch_size": 64}, "segments but only 64 training draws"),
        ({"mechanism_strength": -0.5}, "mechanism_strength must be >= 0"),
    ],
)
def test_bad_configs_are_one_line_errors(override, message):
    with pytest.raises(ValueError, match=message) as error:
        Config(**override)
    assert "\n" not in str(error.value)


def test_claims_threshold_is_the_pilots_and_beats_what_untrained_models_reach():
    assert 0.8 <= THRESHOLD <= exp.PILOT_MCC - 0.05
    names = [c.name for c in CLAIMS]
    assert names == ["exchangeable-ica/source-variability-identifies",
                     "exchangeable-ica/no-variability-control",
                     "exchangeable-ica/mechanism-variability"]  # fmt: skip
    assert [c.control for c in CLAIMS] == [False, True, False]
    # an untrained encoder (MCC ≈ 0.2–0.3 in the tiny run above and the pilot) fails claim 1
    untrained = {"source_tcl_mcc": 0.3, "source_tcl_mcc_gap_ci_low": 0.0}
    assert not all(e.holds(untrained[e.metric]) for e in CLAIMS[0].expect)


def test_the_cli_refuses_a_bad_mode_with_exit_2_and_stores_nothing(tmp_path):
    from typer.testing import CliRunner

    from identifiable.cli import app

    store = tmp_path / "runs"
    result = CliRunner().invoke(
        app, ["run", "exchangeable-ica", "--set", "variability=both", "--store", str(store)]
    )
    assert result.exit_code == 2 and "variability must be some of" in result.output
    assert result.output.strip().count("\n") == 0
    assert not store.exists() or not any(store.glob("*/run.json"))
