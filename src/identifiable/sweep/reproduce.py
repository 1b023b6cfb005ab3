"""Every claim through the sweep machinery: ``identifiable reproduce --all``.

Claims become runs (:class:`~identifiable.sweep.RunSpec`, one per distinct experiment + config:
claims that share a configuration share one run), the runs go to a sweep backend
(:func:`~identifiable.sweep.execute_runs`: ``local`` forked workers, ``ray``, or ``inline``), and
each claim is judged on its run's stored metrics. It is resumable like a sweep: a finished run
is read from the store, a failed or interrupted one runs again; Ctrl-C keeps what finished.

A claim whose run failed gets an ``ERROR`` verdict (:attr:`Verdict.error`) rather than a FAIL:
nothing was measured.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from identifiable import run as run_module
from identifiable.claims import Claim, Verdict
from identifiable.config import config_to_dict
from identifiable.store import Store
from identifiable.sweep import Event, RunSpec, SweepSummary, _ignore, execute_runs

__all__ = [
    "ClaimRuns",
    "claim_runs",
    "estimate_claim_seconds",
    "reproduce_claims",
    "run_estimates",
]


@dataclass(frozen=True)
class ClaimRuns:
    """The distinct runs of some claims and which run each claim reads (claim name -> key)."""

    runs: list[RunSpec]
    key_of: dict[str, str]
    claims_of: dict[str, list[str]]  # run key -> the names of the claims it serves


def claim_runs(claims: Iterable[Claim]) -> ClaimRuns:
    """One :class:`RunSpec` per distinct (experiment, resolved config) among ``claims``."""
    runs: list[RunSpec] = []
    key_of: dict[str, str] = {}
    claims_of: dict[str, list[str]] = {}
    for claim in claims:
        key = run_module.claim_key(claim)
        key_of[claim.name] = key
        if key not in claims_of:
            config = run_module.claim_config(claim)
            params = {"claim": claim.name, "seed": config_to_dict(config).get("seed")}
            runs.append(RunSpec(len(runs), params, config, key, experiment=claim.experiment))
            claims_of[key] = []
        claims_of[key].append(claim.name)
    return ClaimRuns(runs, key_of, claims_of)


def run_estimates(runs: Iterable[RunSpec], store: Store) -> dict[str, float]:
    """Expected wall seconds per run key, from ``store``: the run's own earlier wall time when it
    has one, else the median of the finished runs of its experiment; runs without a past to go
    by are left out."""
    past = store.table(status="done")
    if not len(past) or "wall_seconds" not in past:
        return {}
    own = dict(zip(past["key"], past["wall_seconds"], strict=False))
    by_experiment = past.groupby("experiment")["wall_seconds"].apply(list).to_dict()
    estimates = {}
    for run in runs:
        if run.key in own:
            estimates[run.key] = float(own[run.key])
        elif run.experiment in by_experiment:
            estimates[run.key] = float(statistics.median(by_experiment[run.experiment]))
    return estimates


def estimate_claim_seconds(runs: Iterable[RunSpec], store: Store, workers: int) -> float | None:
    """Wall seconds for ``runs`` on ``workers``: the :func:`run_estimates` summed and divided by
    ``workers``; ``None`` when no run has a past to go by."""
    estimates = run_estimates(runs, store)
    return sum(estimates.values()) / max(workers, 1) if estimates else None


def reproduce_claims(
    claims: list[Claim],
    store: Store,
    *,
    backend: str = "local",
    workers: int = 1,
    threads: int = 1,
    force: bool = False,
    address: str | None = None,
    on_event: Event = _ignore,
) -> tuple[list[Verdict], SweepSummary]:
    """Run the claims' distinct runs on ``backend`` (finished ones skipped unless ``force``) and
    judge every claim on its run's metrics; a claim whose run did not finish gets an ERROR
    verdict. Returns the verdicts (in the order of ``claims``) and the sweep's counts."""
    plan = claim_runs(claims)
    summary = execute_runs(
        plan.runs,
        store,
        workers=workers,
        threads=threads,
        backend=backend,
        force=force,
        address=address,
        on_event=on_event,
    )
    return [_verdict(claim, plan.key_of[claim.name], store, summary) for claim in claims], summary


def _verdict(claim: Claim, key: str, store: Store, summary: SweepSummary) -> Verdict:
    verdict = run_module.stored_verdict(claim, store, key)
    if verdict is not None and not verdict.error:
        return verdict
    stored = verdict.error if verdict is not None else ""
    error = summary.errors.get(key) or stored or "the run did not finish"
    return Verdict(claim, {}, False, (f"run failed: {error}",), error=error)
