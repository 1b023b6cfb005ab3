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

import json
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


# config keys that set a run's length: wall time grows about linearly with them
BUDGET_KEYS = ("epochs", "steps", "n_steps", "iterations", "max_steps")


def _budget(config: dict) -> tuple[str, float] | None:
    """The first of :data:`BUDGET_KEYS` that ``config`` sets to a positive number."""
    for name in BUDGET_KEYS:
        value = config.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return name, float(value)
    return None


def run_estimates(runs: Iterable[RunSpec], store: Store) -> dict[str, float]:
    """Expected wall seconds per run key, from ``store``: the run's own earlier wall time when it
    has one; else, from the finished runs of its experiment, the median seconds per unit of
    budget (``epochs``, ``steps``, …: :data:`BUDGET_KEYS`) times the run's budget when the runs
    share a budget key, or else their median wall time. Runs without a past to go by are left
    out. (Grokking's runs go from 400 to 80 000 epochs: a plain median would guess minutes for
    the 80 000-epoch run.)"""
    past = store.table(status="done")
    if not len(past) or "wall_seconds" not in past:
        return {}
    own = dict(zip(past["key"], past["wall_seconds"], strict=False))
    walls: dict[str, list[float]] = {}
    rates: dict[tuple[str, str], list[float]] = {}
    for experiment, wall, config in zip(
        past["experiment"], past["wall_seconds"], past["config"], strict=False
    ):
        walls.setdefault(experiment, []).append(float(wall))
        budget = _budget(json.loads(config) if isinstance(config, str) else dict(config or {}))
        if budget is not None:
            rates.setdefault((experiment, budget[0]), []).append(float(wall) / budget[1])
    estimates = {}
    for run in runs:
        budget = _budget(config_to_dict(run.config))
        if run.key in own:
            estimates[run.key] = float(own[run.key])
        elif budget is not None and (run.experiment, budget[0]) in rates:
            rate = statistics.median(rates[run.experiment, budget[0]])
            estimates[run.key] = rate * budget[1]
        elif run.experiment in walls:
            estimates[run.key] = float(statistics.median(walls[run.experiment]))
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
