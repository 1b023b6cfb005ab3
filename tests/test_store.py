import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

from identifiable.store import Store, run_key

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
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), name, "15"])
        for name in ("p0", "p1", "shared", "shared")
    ]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    store = Store(tmp_path)
    table = store.table()
    assert len(table) == 30 + 3  # 15 + 15 distinct, 3 shared keys
    assert set(table["status"]) == {"done"}
    # every finished run has exactly its own attempt's files
    for key in table["key"]:
        assert len(store.curves(key)) == 50
    assert not list(tmp_path.glob("*/.*.tmp"))


KILLED = textwrap.dedent(
    """
    import sys
    from identifiable.config import build_config
    from identifiable import experiments
    from identifiable.runner import execute
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
    time.sleep(1.0)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = Store(tmp_path)
    (record,) = store.records()
    assert record.status == "running" and record.effective_status() == "interrupted"
    assert not store.is_done(record.key)
    assert list(store.table()["status"]) == ["interrupted"]
    assert not list((tmp_path / record.key).glob("*.parquet"))
