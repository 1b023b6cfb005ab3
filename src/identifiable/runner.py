"""Run one experiment config through the store: skip if finished, record success or failure.

This is the only place that joins experiments and the store; the CLI, ``reproduce`` and sweeps
call :func:`execute`.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

from identifiable import experiments
from identifiable.config import config_to_dict
from identifiable.experiments._result import Result
from identifiable.metrics import metric_info
from identifiable.progress import Progress, no_progress
from identifiable.store import RunRecord, Store, run_key

__all__ = ["Outcome", "execute"]


@dataclass
class Outcome:
    """What happened to one requested run."""

    key: str
    status: str  # "done" (ran now), "skipped" (already finished), "failed", "interrupted"
    metrics: dict[str, float]
    result: Result | None = None
    error: str | None = None


def execute(
    experiment: str,
    config,
    store: Store,
    *,
    force: bool = False,
    progress: Progress = no_progress,
    tags: dict | None = None,
) -> Outcome:
    """Run ``config`` of ``experiment`` unless its key is already finished in ``store``.

    Exceptions are recorded as ``failed`` (with the error text) and re-raised; Ctrl-C is recorded
    as ``interrupted`` and re-raised. A finished record is never replaced by a failed one.
    """
    module = experiments.get(experiment)
    resolved = config_to_dict(config)
    key = run_key(experiment, resolved)
    if not force and store.is_done(key):
        return Outcome(key, "skipped", store.metrics(key))
    record: RunRecord = store.start(experiment, resolved, tags=tags)
    try:
        result = module.run(config, progress=progress)
    except KeyboardInterrupt:
        store.fail(record, "interrupted by the user (Ctrl-C)", interrupted=True)
        raise
    except Exception as error:
        text = f"{type(error).__name__}: {error}"
        store.fail(record, text + "\n" + traceback.format_exc(limit=8))
        raise
    store.finish(record, result.metrics, result.curves, metric_info)
    return Outcome(key, "done", dict(result.metrics), result=result)
