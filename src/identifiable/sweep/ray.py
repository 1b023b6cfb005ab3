"""The Ray backend of :func:`identifiable.sweep.run_sweep` (``pip install identifiable[ray]``).

Each run is a Ray task that rebuilds its config, runs the experiment
(:func:`identifiable.run.run_experiment`) and *returns* its metrics and curves; the driver records
the run (:func:`identifiable.run.record_start` when the task is submitted,
:func:`identifiable.run.record_end` when it returns or fails). So a cluster needs no shared
filesystem, and the store keeps its one-writer-per-record guarantee. ``address=None`` starts a
local Ray instance; pass the head node's address (``ray start --head`` prints it) to use a cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from identifiable.config import config_to_dict
from identifiable.experiments import Result
from identifiable.run import INTERRUPTED, record_end, record_start, run_experiment
from identifiable.store import Store

__all__ = ["run_ray"]

# started(run) and finished(run, status, error), from identifiable.sweep; a run is a RunSpec
Started = Callable[[Any], None]
Finished = Callable[[Any, str, str], None]


def _task(experiment: str, config: dict[str, Any], threads: int) -> Result:
    """Runs on a Ray worker: the run's result without its in-memory ``artifacts``."""
    import torch

    from identifiable import experiments
    from identifiable.config import build_config

    torch.set_num_threads(threads)
    result = run_experiment(experiment, build_config(experiments.get(experiment).Config, config))
    return Result(metrics=dict(result.metrics), curves=result.curves)


def run_ray(
    experiment: str,
    store: Store,
    todo: list,
    *,
    address: str | None,
    threads: int,
    cpus_per_run: float,
    gpus_per_run: float,
    started: Started,
    finished: Finished,
) -> None:
    """Run ``todo`` (RunSpecs) as Ray tasks; the driver writes every record."""
    try:
        import ray
    except ImportError:
        raise ValueError("the ray backend needs Ray: pip install 'identifiable[ray]'") from None

    if not ray.is_initialized():
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            ignore_reinit_error=True,
            configure_logging=False,
        )
    remote = ray.remote(num_cpus=cpus_per_run, num_gpus=gpus_per_run, max_retries=0)(_task)
    pending: dict[Any, tuple[Any, Any]] = {}
    for run in todo:
        name = run.experiment or experiment
        attempt = record_start(store, name, run.config)
        pending[remote.remote(name, config_to_dict(run.config), threads)] = (run, attempt)
        started(run)
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            for ref in ready:
                run, attempt = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as error:  # RayTaskError, WorkerCrashedError, ...
                    cause = getattr(error, "cause", None) or error
                    record_end(store, attempt, error=f"{type(cause).__name__}: {cause}")
                else:
                    record_end(store, attempt, result)
                finished(run, "failed", "ray task failed")
    except KeyboardInterrupt:
        for ref, (run, attempt) in pending.items():
            ray.cancel(ref, force=True)
            record_end(store, attempt, error=INTERRUPTED, interrupted=True)
            finished(run, "interrupted", INTERRUPTED)
        raise
