import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from identifiable.cli import app

runner = CliRunner()
TINY = [
    "--set",
    "steps=60",
    "--set",
    "eval_every=30",
    "--set",
    "batch_size=64",
    "--set",
    "eval_size=400",
    "--set",
    "encoder_width=32",
]


@pytest.fixture
def store(tmp_path):
    return str(tmp_path / "runs")


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_list_shows_experiments():
    result = invoke("list")
    assert result.exit_code == 0
    assert "contrastive" in result.output


def test_run_records_then_skips_then_forces(store):
    first = invoke("run", "contrastive", *TINY, "--store", store)
    assert first.exit_code == 0, first.output
    assert "linear_r2" in first.output
    second = invoke("run", "contrastive", *TINY, "--store", store)
    assert second.exit_code == 0 and "already finished" in second.output
    forced = invoke("run", "contrastive", *TINY, "--store", store, "--force")
    assert forced.exit_code == 0 and "already finished" not in forced.output

    csv = invoke("runs", "--store", store, "--format", "csv")
    assert csv.exit_code == 0
    assert len(csv.output.strip().splitlines()) == 2  # header + one run (same key)
    records = json.loads(invoke("runs", "--store", store, "--format", "json").output)
    assert records[0]["status"] == "done" and records[0]["config"]["steps"] == 60
    assert invoke("runs", "--store", store).exit_code == 0


def test_threads_option_sets_torch_threads_for_the_run_only(store):
    """`run --threads 1` trains with one torch thread (recorded with the run's machine) and
    leaves the process's thread count as it was; 0 exits 2 before anything is stored."""
    import torch

    before = torch.get_num_threads()
    result = invoke("run", "contrastive", *TINY, "--threads", "1", "--store", store)
    assert result.exit_code == 0, result.output
    (record,) = Path(store).glob("*/run.json")
    assert json.loads(record.read_text())["machine"]["torch_threads"] == 1
    assert torch.get_num_threads() == before
    bad = invoke("run", "contrastive", *TINY, "--threads", "0", "--store", store + "-bad")
    assert bad.exit_code == 2 and "threads must be >= 1, got 0" in bad.output
    assert not Path(store + "-bad").exists()


def test_seed_option_changes_the_key(store):
    assert invoke("run", "contrastive", *TINY, "--seed", "1", "--store", store).exit_code == 0
    assert invoke("run", "contrastive", *TINY, "--seed", "2", "--store", store).exit_code == 0
    assert len(json.loads(invoke("runs", "--store", store, "--format", "json").output)) == 2


def test_report_writes_markdown_and_figure(store, tmp_path):
    invoke("run", "contrastive", *TINY, "--store", store)
    out = tmp_path / "report"
    result = invoke("report", "contrastive", "--store", store, "--out", out)
    assert result.exit_code == 0, result.output
    text = (out / "report.md").read_text()
    assert "## contrastive" in text and "contrastive-curves.png" in text
    assert (out / "contrastive-curves.png").stat().st_size > 5000


@pytest.mark.parametrize(
    "args, message",
    [
        (["--set", "colour=red"], "unknown config key 'colour'; valid keys: world"),
        (["--set", "kappa=-1"], "kappa must be > 0"),
        (["--set", "n_latents=1"], "n_latents must be >= 2"),
        (["--set", "world=torus"], "world must be one of sphere, box, gaussian"),
        (["--set", "steps=many"], "steps must be an integer"),
        (["--set", "steps"], "key=value"),
    ],
)
def test_bad_settings_exit_2_with_one_line_and_write_nothing(store, args, message):
    result = invoke("run", "contrastive", *args, "--store", store)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.output.strip().count("\n") == 0
    assert not Path(store).exists()


def test_unknown_experiment_and_claim(store):
    result = invoke("run", "nope", "--store", store)
    assert (
        result.exit_code == 2
        and "choose one of: " in result.output
        and "contrastive" in result.output
    )
    result = invoke("reproduce", "nope/none", "--store", store)
    assert result.exit_code == 2 and "no claim matches" in result.output


def test_runs_rejects_bad_format(store):
    result = invoke("runs", "--format", "xml", "--store", store)
    assert result.exit_code == 2 and "table, csv, json or parquet" in result.output
