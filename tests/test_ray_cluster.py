"""The Ray path as a cluster runs it, on one machine: a simulated two-node cluster
(``ray.cluster_utils.Cluster``), the store written only by the driver, and one node removed
while its claim runs — that claim comes back as failed (ERROR), none is lost or recorded twice,
and a re-run finishes it."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
import toy_experiment

from identifiable import experiments
from identifiable.claims import Claim, Expectation
from identifiable.store import Store
from identifiable.sweep.reproduce import reproduce_claims

ray = pytest.importorskip("ray")
TESTS = Path(__file__).resolve().parent


def _wait_until(condition, seconds: float, what: str) -> None:
    """Poll until `condition()`; the limits are generous (worker processes start slowly on a
    loaded 2-core machine: 120 s was not enough with two claim runs beside the suite)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_node_removed_mid_run_loses_nothing(tmp_path):
    from ray.cluster_utils import Cluster

    experiments.register("toy", "toy_experiment")
    experiments.refresh()
    gate, started = tmp_path / "gate", tmp_path / "started"
    started.mkdir()
    claims = [
        Claim(
            name=f"toy/on-node-{i}",
            statement="s",
            paper="p",
            experiment="toy",
            overrides={
                "value": float(i),
                "mode": "wait",
                "wait_for": str(gate),
                "started": str(started),
            },
            expect=(Expectation("value", ">=", 0.0),),
        )  # fmt: skip
        for i in (1, 2)
    ]
    store = Store(tmp_path / "runs")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    try:
        cluster.add_node(num_cpus=1)
        doomed = cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        python_path = os.pathsep.join([str(TESTS), *filter(None, [os.environ.get("PYTHONPATH")])])
        ray.init(
            address=cluster.address,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            runtime_env={
                "env_vars": {"PYTHONPATH": python_path},
                "worker_process_setup_hook": f"{toy_experiment.__name__}.ray_setup",
            },
        )
        outcome = {}
        driver = threading.Thread(
            target=lambda: outcome.update(result=reproduce_claims(claims, store, backend="ray"))
        )
        driver.start()
        # both claims running, one per node (each node has one CPU): both have marked it
        _wait_until(lambda: len(list(started.iterdir())) == 2, 600, "both tasks to run")
        cluster.remove_node(doomed, allow_graceful=False)
        # the gate opens only once the cluster has seen the node go (its task cannot finish)
        _wait_until(lambda: ray.cluster_resources().get("CPU", 0) == 1, 600, "the node's removal")
        gate.touch()
        driver.join(600)
        assert not driver.is_alive()
        verdicts, summary = outcome["result"]
        assert (summary.done, summary.failed) == (1, 1)
        assert sorted(v.passed for v in verdicts) == [False, True]
        assert [bool(v.error) for v in verdicts if not v.passed] == [True]
        # the driver wrote every record; nothing was recorded twice
        records = list(store.records())
        assert len(records) == 2 and {r.status for r in records} == {"done", "failed"}
        assert all(r.pid == os.getpid() for r in records)
        # a re-run finishes the lost claim on the node that is left and skips the other
        again, summary = reproduce_claims(claims, store, backend="ray")
        assert (summary.done, summary.skipped, summary.failed) == (1, 1, 0)
        assert all(v.passed for v in again)
        assert len(store.table(status="done")) == 2 and len(list(store.records())) == 2
    finally:
        ray.shutdown()
        cluster.shutdown()
        experiments.unregister("toy")
        experiments.refresh()
