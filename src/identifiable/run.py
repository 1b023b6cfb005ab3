"""Run an experiment (pure) and record it: the one join between experiments and the store.

* :func:`run_experiment` — ``name, config -> Result``; knows nothing of the store.
* :func:`record_start` / :func:`record_end` — the only writers of a run's record: the ``running``
  record of a new attempt, then ``done`` with its results (metric rows carry
  :func:`identifiable.metrics.metric_info`), or ``failed`` / ``interrupted`` with the error.
* :func:`execute` — both, for one config: skip a finished key, move a damaged one aside
  (:meth:`identifiable.store.Store.quarantine`), run, record success or failure.

The CLI, :func:`reproduce` and the sweep's local backend call :func:`execute`; the sweep's Ray
backend runs :func:`run_experiment` in its tasks and records with :func:`record_start` /
:func:`record_end` in the driver. Claims run through here too: :func:`claim_key` is the one place a
claim's run key is computed, :func:`stored_verdicts` judges the claims already in a store and
:func:`reproduce` runs them.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from identifiable import experiments
from identifiable.claims import Claim, Verdict, judge
from identifiable.config import build_config, config_to_dict
from identifiable.experiments import Result
from identifiable.metrics import metric_info
from identifiable.progress import Progress, no_progress
from identifiable.store import RunRecord, Store, run_key

__all__ = [
    "INTERRUPTED",
    "Outcome",
    "claim_config",
    "claim_key",
    "describe_error",
    "execute",
    "record_end",
    "record_start",
    "reproduce",
    "run_experiment",
    "stored_verdicts",
]

INTERRUPTED = "interrupted by the user (Ctrl-C)"


@dataclass
class Outcome:
    """What happened to one requested run.

    status:       ``done`` (ran now) or ``skipped`` (already finished); a failure raises.
    quarantined:  where a damaged earlier record of this key was moved before running, if any.
    """

    key: str
    status: str
    metrics: dict[str, float]
    result: Result | None = None
    error: str | None = None
    quarantined: Path | None = None


def run_experiment(name: str, config: Any, *, progress: Progress = no_progress) -> Result:
    """Run experiment ``name`` on ``config`` (its ``Config`` dataclass); no store involved."""
    return experiments.get(name).run(config, progress=progress)


def record_start(
    store: Store, experiment: str, config: Any, *, tags: dict[str, Any] | None = None
) -> RunRecord:
    """Begin a recorded attempt of ``config`` (a ``Config`` dataclass); the ``running`` record is
    written unless the key already finished. Pass the returned record to :func:`record_end`."""
    return store.start(experiment, config_to_dict(config), tags=tags)


def record_end(
    store: Store,
    attempt: RunRecord,
    result: Result | None = None,
    *,
    error: str | None = None,
    interrupted: bool = False,
) -> None:
    """End ``attempt``: with a ``result`` it becomes ``done`` (the commit point); otherwise
    ``interrupted`` (``interrupted=True``) or ``failed``, with ``error`` — never replacing a
    finished record."""
    if result is not None:
        store.finish(attempt, result.metrics, result.curves, metric_info)
    else:
        store.fail(attempt, error or "unknown error", interrupted=interrupted)


def describe_error(error: BaseException) -> str:
    """``Type: message`` on the first line (what tables show), then the traceback."""
    return f"{type(error).__name__}: {error}\n" + traceback.format_exc(limit=8)


def execute(
    experiment: str,
    config: Any,
    store: Store,
    *,
    force: bool = False,
    progress: Progress = no_progress,
    tags: dict[str, Any] | None = None,
) -> Outcome:
    """Run ``config`` of ``experiment`` unless its key is already finished in ``store``.

    A ``corrupt`` record of the key is moved aside first (``Outcome.quarantined`` says where).
    Exceptions are recorded as ``failed`` (with the error text) and re-raised; Ctrl-C is recorded
    as ``interrupted`` and re-raised. A finished record is never replaced by a failed one.
    """
    experiments.get(experiment)  # an unknown name fails here, before anything is recorded
    key = run_key(experiment, config_to_dict(config))
    current = store.get(key)
    quarantined = None
    if current is not None and current.status == "corrupt":
        quarantined = store.quarantine(key)
    elif not force and current is not None and current.status == "done":
        return Outcome(key, "skipped", store.metrics(key))
    attempt = record_start(store, experiment, config, tags=tags)
    try:
        result = run_experiment(experiment, config, progress=progress)
    except KeyboardInterrupt:
        record_end(store, attempt, error=INTERRUPTED, interrupted=True)
        raise
    except Exception as error:
        record_end(store, attempt, error=describe_error(error))
        raise
    record_end(store, attempt, result)
    return Outcome(key, "done", dict(result.metrics), result=result, quarantined=quarantined)


# -- claims -------------------------------------------------------------------------------------
def claim_config(claim: Claim) -> Any:
    """The ``Config`` a claim runs: its experiment's defaults with ``claim.overrides``."""
    return build_config(experiments.get(claim.experiment).Config, claim.overrides)


def claim_key(claim: Claim) -> str:
    """The store key of a claim's run (the only place it is computed)."""
    return run_key(claim.experiment, config_to_dict(claim_config(claim)))


def stored_verdict(claim: Claim, store: Store, key: str | None = None) -> Verdict | None:
    """The verdict of ``claim`` from its run in ``store``: judged on the metrics when the run is
    done, an ERROR verdict (``Verdict.error``, the first line of the run's error) when it failed,
    ``None`` when it has not run (or was interrupted, or its files are damaged)."""
    key = key or claim_key(claim)
    record = store.get(key)
    if record is None:
        return None
    if record.status == "done":
        try:
            return judge(claim, store.metrics(key))
        except KeyError:  # damaged since
            return None
    if record.status == "failed":
        error = (record.error or record.status).splitlines()[0]
        return Verdict(claim, {}, False, (f"run failed: {error}",), error=error)
    return None


def stored_verdicts(store: Store, claims: Iterable[Claim]) -> list[Verdict]:
    """Verdicts for the ``claims`` whose run has finished in ``store`` (the others are left out)."""
    found = (stored_verdict(claim, store) for claim in claims)
    return [v for v in found if v is not None and not v.error]


ProgressFor = Callable[[Claim], AbstractContextManager[Progress] | None]


def reproduce(
    claims: Iterable[Claim],
    store: Store,
    *,
    force: bool = False,
    progress_for: ProgressFor | None = None,
    on_error: Callable[[Claim, Exception], None] | None = None,
) -> list[Verdict]:
    """Run each claim (finished ones are read from ``store`` unless ``force``) and judge it.

    ``progress_for(claim)`` gives a context manager that yields the progress callback for that
    claim's run; ``None`` (from either) means no progress. A run that fails is a failed verdict
    with no metrics (``on_error(claim, error)`` hears why) and the next claim runs; Ctrl-C
    propagates, with the finished claims kept in the store.
    """
    verdicts = []
    for claim in claims:
        context = progress_for(claim) if progress_for is not None else None
        try:
            with context if context is not None else contextlib.nullcontext(no_progress) as shown:
                outcome = execute(
                    claim.experiment,
                    claim_config(claim),
                    store,
                    force=force,
                    progress=shown or no_progress,
                )
        except Exception as error:  # recorded as failed by execute
            if on_error is not None:
                on_error(claim, error)
            verdicts.append(judge(claim, {}))
            continue
        verdicts.append(judge(claim, outcome.metrics))
    return verdicts
