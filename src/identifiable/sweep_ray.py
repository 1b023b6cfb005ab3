"""The Ray backend of :func:`identifiable.sweep.run_sweep` (``pip install identifiable[ray]``).

Each run is a Ray task that rebuilds its config, runs the experiment and *returns* metrics and
curves; the driver writes the store. So a cluster needs no shared filesystem, and the store keeps
its one-writer-per-record guarantee. ``address=None`` starts a local Ray instance; pass the head
node's address (``ray start --head`` prints it) to use a cluster.
"""

from __future__ import annotations

import time
from typing import Any

from identifiable.config import config_to_dict
from identifiable.metrics import metric_info


def _task(experiment: str, config: dict[str, Any], threads: int) -> dict[str, Any]:
    import torch

    from identifiable import experiments
    from identifiable.config import build_config

    torch.set_num_threads(threads)
    module = experiments.get(experiment)
    start = time.perf_counter()
    result = module.run(build_config(module.Config, config))
    return {
        "metrics": dict(result.metrics),
        "curves": result.curves,
        "seconds": time.perf_counter() - start,
    }


def run_ray(
    spec, store, todo, *, address, threads, cpus_per_run, gpus_per_run, summary, on_event
) -> None:
    try:
        import ray
    except ImportError:
        raise ValueError("the ray backend needs Ray: pip install 'identifiable[ray]'") from None
    from identifiable.sweep import _finish_event

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
        config = config_to_dict(run.config)
        record = store.start(spec.experiment, config)
        pending[remote.remote(spec.experiment, config, threads)] = (run, record)
        on_event("start", run, {})
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            for ref in ready:
                run, record = pending.pop(ref)
                try:
                    out = ray.get(ref)
                except Exception as error:  # RayTaskError, WorkerCrashedError, ...
                    cause = getattr(error, "cause", None) or error
                    store.fail(record, f"{type(cause).__name__}: {cause}")
                else:
                    store.finish(record, out["metrics"], out["curves"], metric_info)
                _finish_event(store, spec.experiment, run, summary, on_event, "ray task failed")
    except KeyboardInterrupt:
        for ref, (run, record) in pending.items():
            ray.cancel(ref, force=True)
            store.fail(record, "interrupted by the user (Ctrl-C)", interrupted=True)
            _finish_event(
                store, spec.experiment, run, summary, on_event, "interrupted by the user (Ctrl-C)"
            )
        raise
