import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest
import torch

from identifiable.run import execute
from identifiable.store import Store, load_manifest, run_key, write_manifest

CONFIG = {"a": 1, "seed": 0}


def finish(store, config=CONFIG, value=0.5, experiment="contrastive"):
    record = store.start(experiment, config)
    store.finish(record, {"linear_r2": value}, pd.DataFrame({"step": [1, 2], "loss": [2.0, 1.0]}))
    return record


def test_key_is_stable_and_config_sensitive():
    assert run_key("x", {"a": 1, "b": 2}) == run_key("x", {"b": 2, "a": 1})
    assert run_key("x", {"a": 1}) != run_key("x", {"a": 2})
    assert run_key("x", {"a": 1}) != run_key("y", {"a": 1})


def test_finish_then_read_back_and_query_with_duckdb(tmp_path):
    store = Store(tmp_path)
    record = finish(store)
    assert store.is_done(record.key)
    assert store.metrics(record.key) == {"linear_r2": 0.5}
    assert list(store.curves(record.key)["loss"]) == [2.0, 1.0]
    con = store.connect()
    row = con.sql(
        "select r.status, r.config->>'a' as a, m.value, m.higher_is_better from runs r "
        "join metrics m using (key, attempt)"
    ).fetchall()
    assert row == [("done", "1", 0.5, None)]
    meta = json.loads((tmp_path / record.key / "run.json").read_text())
    assert meta["versions"]["torch"] and meta["host"] and meta["wall_seconds"] >= 0
    # where it ran: some verdicts depend on the CPU and torch's thread count
    assert meta["machine"]["cpu"] and meta["machine"]["cores"] == os.cpu_count()
    assert meta["machine"]["torch_threads"] == torch.get_num_threads()
    threads = con.execute("select machine->>'torch_threads' from runs").fetchone()[0]
    assert threads == str(torch.get_num_threads())


def test_a_record_without_a_machine_still_reads(tmp_path):
    """Records written before the machine was recorded read back with ``machine`` None."""
    store = Store(tmp_path)
    record = finish(store)
    path = tmp_path / record.key / "run.json"
    meta = json.loads(path.read_text())
    del meta["machine"]
    path.write_text(json.dumps(meta))
    assert store.get(record.key).machine is None and store.is_done(record.key)
    assert store.connect().execute("select machine from runs").fetchone() == (None,)


def test_failure_never_replaces_a_finished_run(tmp_path):
    store = Store(tmp_path)
    record = finish(store, value=0.9)
    again = store.start("contrastive", CONFIG)
    store.fail(again, "boom")
    assert store.get(record.key).status == "done"
    assert store.metrics(record.key) == {"linear_r2": 0.9}


def test_forced_rerun_replaces_results_and_removes_old_files(tmp_path):
    store = Store(tmp_path)
    first = finish(store, value=0.1)
    running = store.start("contrastive", CONFIG)
    # while the new attempt runs, the finished record stays visible
    assert store.get(first.key).status == "done"
    store.finish(running, {"linear_r2": 0.2}, pd.DataFrame({"step": [1]}))
    assert store.metrics(first.key) == {"linear_r2": 0.2}
    assert len(list((tmp_path / first.key).glob("*.parquet"))) == 2
    assert store.connect().execute("select count(*) from metrics").fetchone() == (1,)


def test_failed_run_is_listed_with_its_error(tmp_path):
    store = Store(tmp_path)
    record = store.start("contrastive", CONFIG)
    store.fail(record, "ValueError: bad")
    table = store.table()
    assert list(table["status"]) == ["failed"]
    assert table["error"][0].startswith("ValueError")
    with pytest.raises(KeyError):
        store.metrics(record.key)


def test_empty_store_queries(tmp_path):
    store = Store(tmp_path / "nothing")
    assert store.table().empty
    assert store.connect().execute("select count(*) from metrics").fetchone() == (0,)


WRITER = textwrap.dedent(
    """
    import sys, pandas as pd
    from identifiable.store import Store
    store = Store(sys.argv[1])
    for i in range(int(sys.argv[3])):
        cfg = {"i": i % 3 if sys.argv[2] == "shared" else f"{sys.argv[2]}-{i}"}
        r = store.start("contrastive", cfg)
        store.finish(r, {"linear_r2": float(i)}, pd.DataFrame({"step": range(50)}))
    """
)


def test_concurrent_writers_never_corrupt_the_store(tmp_path):
    # three writers finish the same three keys over and over: without the run lock, two finishes
    # of one key could each delete the other's files, leaving a done record without results
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), name, "15"])
        for name in ("p0", "p1", "shared", "shared", "shared")
    ]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    store = Store(tmp_path)
    assert store.check() == []
    table = store.table()
    assert len(table) == 30 + 3  # 15 + 15 distinct, 3 shared keys
    assert set(table["status"]) == {"done"}
    # every finished run has exactly its own attempt's files
    for key in table["key"]:
        assert len(store.curves(key)) == 50
        attempt = store.get(key).attempt
        assert sorted(p.name for p in (tmp_path / key).glob("*.parquet")) == [
            f"curves-{attempt}.parquet",
            f"metrics-{attempt}.parquet",
        ]
    assert not list(tmp_path.glob("*/.*.tmp"))


def test_a_superseded_attempt_vanishing_while_reading_is_not_damage(tmp_path, monkeypatch):
    store = Store(tmp_path)
    old = finish(store, value=0.1)
    stale = store.get(old.key)
    finish(store, value=0.2)  # a forced re-run: the old attempt's files are gone
    assert not (tmp_path / old.key / f"metrics-{stale.attempt}.parquet").exists()
    real_read = Store._read
    calls = []

    def read_stale_first(self, key):  # as if run.json was read just before the re-run committed
        calls.append(key)
        return stale if len(calls) == 1 else real_read(self, key)

    monkeypatch.setattr(Store, "_read", read_stale_first)
    assert store.metrics(old.key) == {"linear_r2": 0.2}
    calls.clear()
    assert store.get(old.key).status == "done"


KILLED = textwrap.dedent(
    """
    import sys
    from identifiable.config import build_config
    from identifiable import experiments
    from identifiable.run import execute
    from identifiable.store import Store
    cfg = build_config(experiments.get("contrastive").Config,
                       {"steps": "100000", "eval_every": "100000", "batch_size": "64"})
    execute("contrastive", cfg, Store(sys.argv[1]))
    """
)


def test_sigkill_mid_run_leaves_an_interrupted_record_and_reruns(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(tmp_path)])
    deadline = time.time() + 60
    while not list(tmp_path.glob("*/run.json")) and time.time() < deadline:
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)  # 100 000 steps: it is still running, however slow we are
    proc.wait()
    store = Store(tmp_path)
    (record,) = store.records()
    assert record.status == "running" and record.effective_status() == "interrupted"
    assert not store.is_done(record.key)
    assert list(store.table()["status"]) == ["interrupted"]
    assert not list((tmp_path / record.key).glob("*.parquet"))


# -- damaged stores degrade per run ---------------------------------------------------------------
def three_runs(store):
    """Three finished runs; returns their records."""
    return [finish(store, {"a": i, "seed": 0}, value=i / 10) for i in range(3)]


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def corrupt_listing_and_queries(store, bad_key, reason):
    """The damaged run is listed as corrupt with ``reason``; the others stay fully queryable."""
    records = {r.key: r for r in store.records()}
    assert records[bad_key].status == "corrupt" and reason in records[bad_key].error
    good = [k for k, r in records.items() if k != bad_key]
    assert all(records[k].status == "done" for k in good)
    assert not store.is_done(bad_key)
    with pytest.raises(KeyError, match="no finished results"):
        store.metrics(bad_key)
    table = store.table()
    assert dict(zip(table["key"], table["status"], strict=True))[bad_key] == "corrupt"
    assert set(table[table["status"] == "done"]["key"]) == set(good)
    con = store.connect()
    assert {k for (k,) in con.sql("select distinct key from metrics").fetchall()} == set(good)
    assert {k for (k,) in con.sql("select distinct key from curves").fetchall()} == set(good)
    status = con.execute("select status from runs where key = ?", [bad_key]).fetchone()
    assert status == ("corrupt",)
    (problem,) = store.check()
    assert problem.key == bad_key and reason in problem.reason
    return problem


@pytest.mark.parametrize("kind", ["metrics", "curves"])
def test_truncated_parquet_makes_only_its_run_corrupt(tmp_path, kind):
    store = Store(tmp_path)
    runs = three_runs(store)
    bad = runs[1]
    truncate(tmp_path / bad.key / f"{kind}-{bad.attempt}.parquet")
    problem = corrupt_listing_and_queries(store, bad.key, "unreadable Parquet")
    assert problem.path.name == f"{kind}-{bad.attempt}.parquet"


def test_empty_files_make_only_their_run_corrupt(tmp_path):
    store = Store(tmp_path)
    runs = three_runs(store)
    (tmp_path / runs[0].key / f"metrics-{runs[0].attempt}.parquet").write_bytes(b"")
    corrupt_listing_and_queries(store, runs[0].key, "empty file")
    (tmp_path / runs[0].key).rename(tmp_path / "elsewhere")  # (a stray folder now)
    (tmp_path / runs[2].key / "run.json").write_bytes(b"")
    corrupt_listing_and_queries(store, runs[2].key, "empty file")


@pytest.mark.parametrize(
    "text, reason",
    [
        ('{"key": "abc", "status": "do', "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"status": "done"}', "lacks key"),
    ],
)
def test_broken_run_json_makes_only_its_run_corrupt(tmp_path, text, reason):
    store = Store(tmp_path)
    runs = three_runs(store)
    (tmp_path / runs[1].key / "run.json").write_text(text)
    corrupt_listing_and_queries(store, runs[1].key, reason)
    bad = store.get(runs[1].key)
    assert bad.experiment == "" and bad.config == {}


def test_run_json_missing_next_to_results_is_corrupt(tmp_path):
    store = Store(tmp_path)
    runs = three_runs(store)
    (tmp_path / runs[0].key / "run.json").unlink()
    corrupt_listing_and_queries(store, runs[0].key, "missing, next to 2 result file(s)")


def test_stray_files_and_folders_are_ignored(tmp_path):
    store = Store(tmp_path)
    runs = three_runs(store)
    (tmp_path / "notes.txt").write_text("my notes")
    (tmp_path / ".DS_Store").write_bytes(b"\0\1")
    (tmp_path / "scratch").mkdir()
    (tmp_path / "scratch" / "run.json").write_text("{not json")
    (tmp_path / "scratch" / "metrics-x.parquet").write_bytes(b"junk")
    (tmp_path / "0123456789abcdef").mkdir()  # a run folder being created: nothing in it yet
    (tmp_path / "fedcba9876543210").write_text("a file named like a key")
    (tmp_path / "_corrupt" / runs[0].key).mkdir(parents=True)
    (tmp_path / "_corrupt" / runs[0].key / "run.json").write_text("{")
    (tmp_path / runs[1].key / "notes.txt").write_text("beside a run")
    (tmp_path / runs[1].key / ".metrics-x.parquet.123.tmp").write_bytes(b"left by a crash")
    write_manifest(store, "s", {"runs": []})
    assert [r.key for r in store.records()] == sorted(r.key for r in runs)
    assert {r.status for r in store.records()} == {"done"}
    assert len(store.table()) == 3 and store.check() == []
    assert store.connect().execute("select count(*) from metrics").fetchone() == (3,)
    assert load_manifest(store, "s") == {"runs": []}


def test_a_damaged_manifest_is_a_one_line_error_and_a_problem(tmp_path):
    store = Store(tmp_path)
    write_manifest(store, "s", {"runs": []})
    (tmp_path / "_sweeps" / "s.json").write_text("{")
    with pytest.raises(ValueError, match="sweep manifest .* is damaged"):
        load_manifest(store, "s")
    (problem,) = store.check()
    assert problem.key is None and problem.path.name == "s.json"
    with pytest.raises(ValueError, match="no sweep named 'other' in .*; known sweeps: s"):
        load_manifest(store, "other")


def test_check_reads_files_in_full(tmp_path):
    store = Store(tmp_path)
    (run,) = three_runs(store)[:1]
    path = tmp_path / run.key / f"curves-{run.attempt}.parquet"
    data = bytearray(path.read_bytes())
    data[4:40] = b"\xff" * 36  # a damaged data page; the footer is intact
    path.write_bytes(bytes(data))
    assert store.get(run.key).status == "done"  # listings only look at the footer ...
    (problem,) = store.check()  # ... the check reads everything
    assert problem.path == path and "unreadable Parquet" in problem.reason


def test_quarantine_moves_a_corrupt_run_aside_and_keeps_every_file(tmp_path):
    store = Store(tmp_path)
    runs = three_runs(store)
    with pytest.raises(ValueError, match="not corrupt"):
        store.quarantine(runs[0].key)
    with pytest.raises(KeyError):
        store.quarantine("0" * 16)
    bad = runs[0]
    truncate(tmp_path / bad.key / f"metrics-{bad.attempt}.parquet")
    files = sorted(p.name for p in (tmp_path / bad.key).iterdir())
    moved = store.quarantine(bad.key)
    assert moved == tmp_path / "_corrupt" / bad.key
    assert sorted(p.name for p in moved.iterdir()) == files
    assert store.get(bad.key) is None and len(store.records()) == 2
    # damaged again after a re-run: the second copy goes beside the first
    again = finish(store, {"a": 0, "seed": 0})
    (tmp_path / again.key / "run.json").write_text("{")
    assert store.quarantine(bad.key) == tmp_path / "_corrupt" / f"{bad.key}-1"
    assert store.check() == []


def test_execute_quarantines_a_corrupt_run_then_runs_it_again(tmp_path, monkeypatch):
    from identifiable import experiments

    monkeypatch.setattr(experiments, "_REGISTERED", {"toy": "toy_experiment"})
    module = experiments.get("toy")
    config = module.Config(value=2.0)
    store = Store(tmp_path)
    first = execute("toy", config, store)
    assert first.status == "done" and first.quarantined is None
    record = store.get(first.key)
    (tmp_path / first.key / f"curves-{record.attempt}.parquet").write_bytes(b"")
    assert execute("toy", config, store).status == "done"  # not "skipped": it was damaged
    moved = tmp_path / "_corrupt" / first.key
    assert (moved / f"curves-{record.attempt}.parquet").read_bytes() == b""
    assert store.is_done(first.key) and store.metrics(first.key)["value"] == 2.0
    (tmp_path / first.key / "run.json").write_text("{")
    outcome = execute("toy", config, store)
    assert outcome.quarantined == tmp_path / "_corrupt" / f"{first.key}-1"
    assert store.check() == []


def test_start_moves_a_corrupt_run_aside_so_nothing_is_lost(tmp_path):
    store = Store(tmp_path)
    record = finish(store)
    (tmp_path / record.key / f"metrics-{record.attempt}.parquet").write_bytes(b"")
    again = finish(store, value=0.7)
    assert store.metrics(again.key) == {"linear_r2": 0.7}
    assert (tmp_path / "_corrupt" / record.key / f"metrics-{record.attempt}.parquet").exists()


def test_cli_runs_lists_corrupt_runs_and_check_reports_them(tmp_path):
    from typer.testing import CliRunner

    from identifiable.cli import app

    cli = CliRunner()
    store = Store(tmp_path)
    runs = three_runs(store)
    ok = cli.invoke(app, ["runs", "--check", "--store", str(tmp_path)])
    assert ok.exit_code == 0 and "store OK: 3 runs" in ok.output
    truncate(tmp_path / runs[2].key / f"metrics-{runs[2].attempt}.parquet")
    (tmp_path / runs[0].key / "run.json").write_text("{")
    (tmp_path / "stray").mkdir()
    listing = cli.invoke(app, ["runs", "--store", str(tmp_path)])
    assert listing.exit_code == 0, listing.output
    assert listing.output.count("corrupt") >= 2 and "Traceback" not in listing.output
    rows = json.loads(
        cli.invoke(app, ["runs", "--format", "json", "--store", str(tmp_path)]).output
    )
    by_key = {row["key"]: row for row in rows}
    assert by_key[runs[1].key]["status"] == "done" and by_key[runs[1].key]["linear_r2"] == 0.1
    assert by_key[runs[0].key]["status"] == "corrupt"
    assert "not valid JSON" in by_key[runs[0].key]["error"]
    assert "unreadable Parquet" in by_key[runs[2].key]["error"]
    only = cli.invoke(
        app, ["runs", "--status", "corrupt", "--format", "csv", "--store", str(tmp_path)]
    )
    assert len(only.output.strip().splitlines()) == 3
    bad = cli.invoke(app, ["runs", "--check", "--store", str(tmp_path)])
    assert bad.exit_code == 1
    assert runs[0].key in bad.output and runs[2].key in bad.output and "2 damaged" in bad.output
