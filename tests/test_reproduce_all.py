"""``reproduce --all`` through the sweep machinery: shared runs, resume, ERROR verdicts, CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
import pytest
import toy_experiment
from typer.testing import CliRunner

from identifiable import experiments
from identifiable.claims import Claim, Expectation
from identifiable.cli import app
from identifiable.store import Store
from identifiable.sweep import RunSpec
from identifiable.sweep.reproduce import (
    claim_runs,
    estimate_claim_seconds,
    reproduce_claims,
    run_estimates,
)


@pytest.fixture(autouse=True)
def toy():
    experiments.register("toy", "toy_experiment")
    experiments.refresh()
    yield
    experiments.unregister("toy")
    experiments.refresh()


def _claim(name, value=1.0, mode="ok", op=">=", threshold=0.5, **kwargs):
    return Claim(
        name=f"toy/{name}", statement="s", paper="p", experiment="toy",
        overrides={"value": value, "mode": mode},
        expect=(Expectation("value", op, threshold),), **kwargs,
    )  # fmt: skip


def test_claims_with_one_config_share_one_run():
    claims = [_claim("a"), _claim("b", op="<=", threshold=2.0), _claim("c", value=3.0)]
    plan = claim_runs(claims)
    assert len(plan.runs) == 2
    assert plan.key_of["toy/a"] == plan.key_of["toy/b"] != plan.key_of["toy/c"]
    assert plan.claims_of[plan.key_of["toy/a"]] == ["toy/a", "toy/b"]
    assert all(run.experiment == "toy" for run in plan.runs)


@pytest.mark.parametrize("backend, workers", [("inline", 1), ("local", 2)])
def test_verdicts_resume_and_errors(tmp_path, backend, workers):
    store = Store(tmp_path)
    claims = [_claim("pass"), _claim("fail", value=0.1), _claim("broken", mode="fail")]
    events = []
    verdicts, summary = reproduce_claims(
        claims, store, backend=backend, workers=workers,
        on_event=lambda kind, run, info: events.append((kind, run.params["claim"])),
    )  # fmt: skip
    assert [v.passed for v in verdicts] == [True, False, False]
    assert verdicts[1].error == "" and verdicts[1].measured["value"] == pytest.approx(0.1)
    assert "deliberate failure" in verdicts[2].error and verdicts[2].measured == {}
    assert (summary.done, summary.failed, summary.skipped) == (2, 1, 0)
    assert ("start", "toy/pass") in events and ("failed", "toy/broken") in events
    # resumable: finished runs are read back, the failed one runs again
    again, summary = reproduce_claims(claims, store, backend=backend, workers=workers)
    assert (summary.done, summary.failed, summary.skipped) == (0, 1, 2)
    assert [v.passed for v in again] == [True, False, False]
    assert len(store.table(status="done")) == 2  # nothing recorded twice


def test_estimate_from_past_wall_times(tmp_path):
    store = Store(tmp_path)
    plan = claim_runs([_claim("a"), _claim("b", value=2.0)])
    assert estimate_claim_seconds(plan.runs, store, workers=1) is None
    reproduce_claims([_claim("a")], store, backend="inline")
    one = estimate_claim_seconds(plan.runs[:1], store, workers=1)
    both = estimate_claim_seconds(plan.runs, store, workers=1)
    assert one is not None and one >= 0 and both == pytest.approx(2 * one, rel=1e-6, abs=1e-6)
    assert estimate_claim_seconds(plan.runs, store, workers=2) == pytest.approx(both / 2)


@dataclass(frozen=True)
class _Budgeted:
    epochs: int = 100
    width: int = 8


class _PastStore:
    """A stand-in for a store's table of finished runs."""

    def __init__(self, rows):
        self.rows = pd.DataFrame(rows, columns=["key", "experiment", "wall_seconds", "config"])

    def table(self, status):
        assert status == "done"
        return self.rows


def test_estimate_scales_with_the_run_budget():
    """Runs of one experiment that differ in epochs: seconds per epoch times the run's epochs,
    not the median wall time (which would guess 10 s for a 10 000-epoch run here)."""
    store = _PastStore([
        ("k1", "g", 10.0, json.dumps({"epochs": 100, "width": 8})),
        ("k2", "g", 24.0, json.dumps({"epochs": 200, "width": 8})),
        ("k3", "g", 7.0, json.dumps({"epochs": 50, "width": 8})),
        ("k4", "h", 3.0, json.dumps({"width": 8})),
    ])  # fmt: skip
    runs = [
        RunSpec(0, {}, _Budgeted(epochs=10_000), "new", experiment="g"),
        RunSpec(1, {}, _Budgeted(), "k2", experiment="g"),  # its own past wins
        RunSpec(2, {}, _Budgeted(), "other", experiment="h"),  # no budget there: the median
        RunSpec(3, {}, _Budgeted(), "none", experiment="unseen"),  # nothing to go by
    ]
    estimates = run_estimates(runs, store)
    assert estimates["new"] == pytest.approx(0.12 * 10_000)  # median of 0.1, 0.12, 0.14 s/epoch
    assert estimates["k2"] == 24.0 and estimates["other"] == 3.0
    assert "none" not in estimates


def test_cli_runs_claims_on_a_backend_and_exits_1_on_failure(tmp_path, monkeypatch):
    monkeypatch.setattr(toy_experiment, "CLAIMS", [_claim("pass"), _claim("broken", mode="fail")],
                        raising=False)  # fmt: skip
    experiments.refresh()
    result = CliRunner().invoke(
        app, ["reproduce", "toy", "--backend", "inline", "--store", str(tmp_path)]
    )
    assert result.exit_code == 1, result.output
    assert "ERROR" in result.output and "PASS" in result.output
    assert "2 claims: 1 PASS, 0 FAIL, 0 FAIL (known), 1 ERROR" in result.output
    monkeypatch.setattr(toy_experiment, "CLAIMS", [_claim("pass")])
    experiments.refresh()
    ok = CliRunner().invoke(app, ["reproduce", "toy", "--workers", "1", "--store", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert "1 finished in the store, 0 to run" in ok.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["reproduce", "toy", "--all"], "not both"),
        (["reproduce", "--fast", "--slow"], "exclude each other"),
        (["reproduce", "toy", "--backend", "slurm"], "backend must be one of"),
        (["reproduce", "toy", "--workers", "0"], "workers and threads must be >= 1"),
        (["reproduce", "toy", "--all", "--threads", "0"], "not both"),
        (["reproduce", "--all", "--fast", "--threads", "0"], "workers and threads must be >= 1"),
    ],
)
def test_cli_bad_options(tmp_path, monkeypatch, args, message):
    monkeypatch.setattr(toy_experiment, "CLAIMS", [_claim("pass")], raising=False)
    experiments.refresh()
    result = CliRunner().invoke(app, [*args, "--store", str(tmp_path)])
    assert result.exit_code == 2 and message in result.output


def test_reproduction_page_from_an_empty_store_is_refused(tmp_path):
    """A mistyped --store must not blank a committed snapshot (exit 2, nothing written)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "reproduction.md").write_text("snapshot")
    result = CliRunner().invoke(
        app, ["report", "--reproduction", str(docs), "--store", str(tmp_path / "typo")]
    )
    assert result.exit_code == 2
    assert "holds no runs" in result.output and "Traceback" not in result.output
    assert (docs / "reproduction.md").read_text() == "snapshot"
    assert sorted(p.name for p in docs.iterdir()) == ["reproduction.md"]
