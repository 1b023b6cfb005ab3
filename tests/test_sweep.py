import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from identifiable import experiments
from identifiable.cli import app
from identifiable.config import ConfigError, build_config, config_to_dict
from identifiable.run import INTERRUPTED
from identifiable.store import Store, run_key
from identifiable.sweep import SweepSpec, load_manifest, parse_axis, run_sweep, seeds_from

HERE = Path(__file__).parent


@pytest.fixture(autouse=True)
def toy(monkeypatch):
    monkeypatch.setattr(experiments, "_REGISTERED", {"toy": "toy_experiment"})


def test_expansion_order_and_keys_match_single_runs():
    spec = SweepSpec(
        "toy", base={"sleep": "0"}, grid={"value": ["1", "2"], "mode": ["ok"]}, seeds=(0, 1)
    )
    runs = spec.expand()
    assert [r.params for r in runs] == [
        {"value": "1", "mode": "ok", "seed": 0},
        {"value": "1", "mode": "ok", "seed": 1},
        {"value": "2", "mode": "ok", "seed": 0},
        {"value": "2", "mode": "ok", "seed": 1},
    ]
    module = experiments.get("toy")
    single = build_config(module.Config, {"value": "2"}, seed=1)
    assert runs[3].key == run_key("toy", config_to_dict(single))
    assert len({r.key for r in runs}) == 4


def test_zipped_axes_vary_together():
    spec = SweepSpec("toy", zipped={"value": [1.0, 2.0], "sleep": [0.0, 0.01]}, seeds=(0,))
    assert [(r.config.value, r.config.sleep) for r in spec.expand()] == [(1.0, 0.0), (2.0, 0.01)]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"zipped": {"value": [1, 2], "sleep": [0]}}, "equal lengths"),
        ({"grid": {"seed": [1, 2]}}, "--seeds"),
        ({"grid": {"colour": ["red"]}}, "unknown config key 'colour'"),
        ({"grid": {"value": []}}, "empty"),
        ({"grid": {"value": [1]}, "base": {"value": 2}}, "set twice"),
    ],
)
def test_bad_specs(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        SweepSpec("toy", **kwargs).expand()


def test_parsers():
    assert parse_axis(["a=1,2", "b=x"]) == {"a": ["1", "2"], "b": ["x"]}
    assert seeds_from(3) == (0, 1, 2) and seeds_from("3,7") == (3, 7)
    with pytest.raises(ConfigError):
        parse_axis(["nothing"])


def test_toml_file(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text('experiment = "toy"\nname = "t"\nseeds = 2\n[grid]\nvalue = [1.0, 3.0]\n')
    spec = SweepSpec.from_file(path)
    assert spec.sweep_name == "t" and len(spec.expand()) == 4
    path.write_text('experiment = "toy"\nbogus = 1\n')
    with pytest.raises(ConfigError, match="unknown keys"):
        SweepSpec.from_file(path)


def test_local_sweep_records_failure_and_crash_and_goes_on(tmp_path):
    store = Store(tmp_path)
    spec = SweepSpec("toy", grid={"mode": ["ok", "fail", "crash"]}, seeds=(0, 1), name="mixed")
    summary = run_sweep(spec, store, workers=2)
    assert (summary.done, summary.failed, summary.skipped) == (2, 4, 0)
    assert not summary.ok
    statuses = {r.config["mode"]: r.status for r in store.records()}
    assert statuses == {"ok": "done", "fail": "failed", "crash": "failed"}
    errors = {r.config["mode"]: r.error for r in store.records() if r.error}
    assert "deliberate failure" in errors["fail"]
    assert "SIGSEGV" in errors["crash"]
    # resume: finished runs are skipped, failed ones are tried again
    again = run_sweep(spec, store, workers=2)
    assert (again.done, again.failed, again.skipped) == (0, 4, 2)
    manifest = load_manifest(store, "mixed")
    assert len(manifest["runs"]) == 6


KILLABLE = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, sys.argv[2])
    from identifiable import experiments
    experiments.register("toy", "toy_experiment")
    from identifiable.store import Store
    from identifiable.sweep import SweepSpec, run_sweep
    spec = json.loads(sys.argv[3])
    run_sweep(SweepSpec(**spec, seeds=(0,)), Store(sys.argv[1]), workers=2)
    """
)


def gated_sweep(name, gate, n_ok, n_waiting):
    """``n_ok`` runs that finish at once, then ``n_waiting`` that block until ``gate`` exists:
    with 2 workers, once the ok runs are done exactly 2 runs are in flight, and stay so."""
    return {
        "experiment": "toy",
        "name": name,
        "base": {"wait_for": str(gate)},
        "zipped": {
            "value": [str(v) for v in range(n_ok + n_waiting)],
            "mode": ["ok"] * n_ok + ["wait"] * n_waiting,
        },
    }


def start_driver(tmp_path, spec, **popen):
    return subprocess.Popen(
        [sys.executable, "-c", KILLABLE, str(tmp_path), str(HERE), json.dumps(spec)], **popen
    )


def wait_for_state(store, done, running, proc):
    """Until ``done`` runs finished and ``running`` are in flight (no sleeps tuned to a speed)."""
    deadline, statuses = time.time() + 120, []
    while time.time() < deadline and proc.poll() is None:
        statuses = [r.status for r in store.records()]
        if statuses.count("done") >= done and statuses.count("running") >= running:
            return
        time.sleep(0.05)
    raise AssertionError(f"sweep never got to {done} done + {running} running: {statuses}")


def test_sigkill_of_the_driver_then_resume_loses_and_duplicates_nothing(tmp_path):
    gate = tmp_path / "gate"
    spec = gated_sweep("killed", gate, n_ok=3, n_waiting=9)
    store = Store(tmp_path / "runs")
    proc = start_driver(tmp_path / "runs", spec)
    wait_for_state(store, done=3, running=2, proc=proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 30  # the workers die with the driver (PR_SET_PDEATHSIG)
    while any(r.effective_status() == "running" for r in store.records()):
        assert time.time() < deadline, "workers outlived the driver"
        time.sleep(0.05)
    finished_before = {r.key for r in store.records() if r.status == "done"}
    assert 3 <= len(finished_before) < 12
    for key in finished_before:  # every finished row is intact
        assert store.metrics(key)["value"] >= 0 and len(store.curves(key)) == 3
    assert [r.effective_status() for r in store.records()].count("interrupted") == 2

    gate.touch()  # the waiting runs may finish now
    summary = run_sweep(SweepSpec(**spec, seeds=(0,)), store, workers=2)
    assert summary.skipped == len(finished_before)
    assert summary.done == 12 - len(finished_before) and summary.ok
    records = store.records()
    assert len(records) == 12 and {r.status for r in records} == {"done"}
    assert store.connect().execute("select count(*) from metrics").fetchone() == (24,)


def test_inline_backend_and_cli(tmp_path):
    runner = CliRunner()
    store = str(tmp_path)
    dry = runner.invoke(
        app, ["sweep", "toy", "--grid", "value=1,2", "--seeds", "2", "--store", store, "--dry-run"]
    )
    assert dry.exit_code == 0 and "4 runs" in dry.output
    assert not Store(store).records()
    ok = runner.invoke(
        app,
        [
            "sweep",
            "toy",
            "--grid",
            "value=1,2",
            "--seeds",
            "2",
            "--name",
            "c",
            "--backend",
            "inline",
            "--store",
            store,
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "4 done" in ok.output
    bad = runner.invoke(
        app, ["sweep", "toy", "--grid", "mode=fail", "--store", store, "--backend", "inline"]
    )
    assert bad.exit_code == 1 and "deliberate failure" in bad.output
    wrong = runner.invoke(app, ["sweep", "toy", "--grid", "colour=red", "--store", store])
    assert wrong.exit_code == 2 and "unknown config key 'colour'" in wrong.output

    out = tmp_path / "report"
    rep = runner.invoke(app, ["report", "--sweep", "c", "--store", store, "--out", str(out)])
    assert rep.exit_code == 0, rep.output
    csv = (out / "c.csv").read_text()
    assert "value,metric,mean,std,n,ci95" in csv.splitlines()[0]
    html = (out / "c.html").read_text()
    assert "data:image/png;base64," in html and "provenance" in html
    missing = runner.invoke(app, ["report", "--sweep", "nope", "--store", store])
    assert missing.exit_code == 2 and "no sweep named 'nope'" in missing.output


def test_report_aggregates_mean_and_ci(tmp_path):
    from identifiable.report import aggregate

    store = Store(tmp_path)
    spec = SweepSpec("toy", grid={"value": ["1", "5"]}, seeds=(0, 1, 2), name="agg")
    run_sweep(spec, store, backend="inline")
    table, swept = aggregate(store, "agg")
    row = table[(table["metric"] == "seed_plus_value") & (table["value"] == 5.0)].iloc[0]
    assert swept == ["value"]
    assert row["mean"] == pytest.approx(6.0) and row["n"] == 3
    assert row["ci95"] == pytest.approx(4.302653 * 1.0 / 3**0.5, rel=1e-5)


def test_ray_backend_on_a_local_instance(tmp_path):
    ray = pytest.importorskip("ray")
    store = Store(tmp_path)
    spec = SweepSpec(
        "linear-ica",
        base={"n_samples": "500"},
        grid={"source": ["laplace", "gaussian"]},
        seeds=(0, 1),
        name="ray",
    )
    try:
        summary = run_sweep(spec, store, backend="ray", threads=1)
    finally:
        ray.shutdown()
    assert summary.done == 4 and summary.ok
    metrics = {r.config["source"]: store.metrics(r.key)["mcc"] for r in store.records()}
    assert metrics["laplace"] > 0.95


def test_sweep_html_renders_in_headless_chromium(tmp_path):
    import shutil

    import matplotlib.image

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (.ci/run installs it: apt-get install chromium)")
    from identifiable.report import write_sweep_report

    store = Store(tmp_path / "runs")
    run_sweep(
        SweepSpec("toy", grid={"value": ["1", "2", "4"]}, seeds=(0, 1), name="web"),
        store,
        backend="inline",
    )
    page = write_sweep_report(store, "web", tmp_path / "out")
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1000,1400",
            f"--screenshot={shot}",
            page.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pixels = matplotlib.image.imread(shot)
    # a rendered page with a table and embedded figures is far from a blank screen
    assert pixels.shape[0] >= 1000 and pixels.std() > 0.05
    assert (pixels[..., :3].mean(-1) < 0.5).mean() > 0.005  # some dark text/lines


@pytest.mark.parametrize("inherited", [signal.SIG_DFL, signal.SIG_IGN], ids=["default", "ignored"])
def test_ctrl_c_marks_in_flight_runs_interrupted_and_keeps_finished_ones(tmp_path, inherited):
    """Also when the driver starts with SIGINT ignored, as a script's background job does (and
    as this test's own process does when the suite itself runs in the background)."""
    # the waiting runs never finish (no gate file), so Ctrl-C always lands mid-sweep
    spec = gated_sweep("ctrl-c", tmp_path / "gate", n_ok=3, n_waiting=3)
    store = Store(tmp_path / "runs")
    proc = start_driver(tmp_path / "runs", spec, start_new_session=True, stderr=subprocess.PIPE,
                        preexec_fn=lambda: signal.signal(signal.SIGINT, inherited))  # fmt: skip
    wait_for_state(store, done=3, running=2, proc=proc)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    proc.communicate(timeout=30)
    assert proc.returncode != 0
    statuses = [r.status for r in store.records()]
    assert statuses.count("done") >= 2
    assert "interrupted" in statuses and "running" not in statuses
    assert sorted(statuses) == ["done"] * 3 + ["interrupted"] * 2  # the 6th never started
    for record in store.records():
        if record.status == "done":
            assert len(store.curves(record.key)) == 3
        else:
            assert record.error == INTERRUPTED


def test_a_sweep_moves_a_corrupt_run_aside_reports_it_and_runs_it_again(tmp_path):
    store = Store(tmp_path)
    spec = SweepSpec("toy", grid={"value": ["1", "2", "3"]}, seeds=(0,), name="heal")
    assert run_sweep(spec, store, backend="inline").done == 3
    bad = spec.expand()[1].key
    attempt = store.get(bad).attempt
    (tmp_path / bad / f"metrics-{attempt}.parquet").write_bytes(b"")
    (tmp_path / "stray.txt").write_text("ignored")
    events = []
    summary = run_sweep(spec, store, workers=2, on_event=lambda *e: events.append(e))
    assert (summary.done, summary.skipped, summary.failed) == (1, 2, 0)
    moved = tmp_path / "_corrupt" / bad
    assert summary.quarantined == {bad: str(moved)}
    (start,) = [info for kind, run, info in events if kind == "start"]
    assert start["quarantined"] == str(moved) and "empty file" in start["reason"]
    assert (moved / f"metrics-{attempt}.parquet").read_bytes() == b""
    assert store.is_done(bad) and store.check() == []


def test_interrupted_is_an_explicit_status_not_a_word_in_the_error(tmp_path):
    from identifiable.sweep import SweepSummary, _Bookkeeping
    from identifiable.sweep.local import _exit_reason

    assert _exit_reason(130) == ("interrupted", INTERRUPTED)
    assert _exit_reason(-signal.SIGINT) == ("interrupted", INTERRUPTED)
    assert _exit_reason(-signal.SIGSEGV) == ("failed", "worker died with signal SIGSEGV")
    assert _exit_reason(1)[0] == "failed"

    store = Store(tmp_path)
    first, second = SweepSpec("toy", grid={"value": ["1", "2"]}).expand()
    events = []
    summary = SweepSummary(total=2)
    books = _Bookkeeping("toy", store, summary, lambda *e: events.append(e))
    books.finished(first, "failed", "ValueError: an interrupt handler was missing")
    books.finished(second, "interrupted", "the worker got SIGTERM")
    assert (summary.failed, summary.interrupted) == (1, 1)
    assert store.get(first.key).status == "failed"
    assert store.get(second.key).status == "interrupted"
    assert [kind for kind, _, _ in events] == ["failed", "interrupted"]


def test_backends_share_run_py_and_never_import_each_other():
    import ast

    import identifiable.sweep as package

    folder = Path(package.__file__).parent
    for name in ("local.py", "ray.py"):
        tree = ast.parse((folder / name).read_text())
        imported = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        } | {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        assert not {m for m in imported if m.startswith("identifiable.sweep")}, name
        assert "identifiable.run" in imported, name
        calls = {
            (getattr(node.func.value, "id", ""), node.func.attr)
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        }
        # no module.run(...), no store.start/finish/fail(...): those live in identifiable.run
        assert not {attr for _, attr in calls} & {"run", "finish", "fail"}, (name, calls)
        assert ("store", "start") not in calls, name
