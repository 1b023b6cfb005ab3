"""Claims: a paper's central result as an executable check.

A :class:`Claim` names an experiment, the config overrides that make it CPU-sized, and the expected
outcome as a list of :class:`Expectation` s on the run's final metrics. Each experiment module lists
its claims in ``CLAIMS`` (the ``experiment`` field is filled in from the module:
:func:`identifiable.experiments.claims`). :func:`identifiable.run.reproduce` runs claims and
judges them; the report and ``identifiable reproduce`` print the same :func:`verdict_row` s.
This module imports nothing of the package, so any experiment can import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

_SYMBOLS = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}


@dataclass(frozen=True)
class Expectation:
    """``metric op value`` on a run's final metrics, e.g. ``linear_r2 >= 0.98``.

    ``op="between"`` checks ``value <= metric <= upper``; ``">"`` and ``"<"`` are strict (an
    interval that must exclude 0: ``gain_ci_low > 0``).
    """

    metric: str
    op: Literal[">=", "<=", ">", "<", "between"]
    value: float
    upper: float | None = None

    def __post_init__(self) -> None:
        if self.op not in _SYMBOLS and self.op != "between":
            raise ValueError(f"op must be one of '>=', '<=', '>', '<', 'between', got {self.op!r}")
        if (self.op == "between") != (self.upper is not None):
            raise ValueError("give upper exactly when op is 'between'")

    def holds(self, measured: float) -> bool:
        if measured is None or not math.isfinite(measured):
            return False
        if self.op == ">=":
            return measured >= self.value
        if self.op == "<=":
            return measured <= self.value
        if self.op == ">":
            return measured > self.value
        if self.op == "<":
            return measured < self.value
        return self.value <= measured <= self.upper  # type: ignore[operator]

    def describe(self) -> str:
        if self.op == "between":
            return f"{self.value:g} ≤ {self.metric} ≤ {self.upper:g}"
        return f"{self.metric} {_SYMBOLS[self.op]} {self.value:g}"


@dataclass(frozen=True)
class Claim:
    """One checked statement.

    name:        unique id, ``<experiment>/<short-name>``.
    experiment:  the experiment that runs it; filled in from the module that lists the claim.
    statement:   the paper's statement in one sentence.
    paper:       authors, year, arXiv id (and table).
    overrides:   config fields that differ from the experiment's default ``Config``.
    expect:      the checks on the final metrics; all must hold.
    paper_value: the paper's own number, for the verdict table.
    control:     True for a negative control (the claim is that identification *fails*).
    fast:        True when it finishes in a few CPU minutes (run by ``reproduce --fast``).
    known_fail:  empty when the claim reproduces; otherwise why it is known not to at our CPU
                 scale, with the measured number (an honest FAIL: the test suite expects it to
                 fail, strictly, so a fix is noticed).
    fragile:     empty unless the verdict is known to change with float-level noise (the CPU,
                 the torch thread count) at our scale: the measurements that disagree. Shown
                 beside the verdict whatever it is; it never changes the verdict.
    """

    name: str
    statement: str
    paper: str
    experiment: str = ""
    overrides: dict[str, Any] = field(default_factory=dict)
    expect: tuple[Expectation, ...] = ()
    paper_value: str = ""
    control: bool = False
    fast: bool = True
    known_fail: str = ""
    fragile: str = ""


@dataclass(frozen=True)
class Verdict:
    """The judgement of one claim; ``error`` (first line) when its run failed and nothing was
    measured — shown as ERROR, not FAIL."""

    claim: Claim
    measured: dict[str, float]
    passed: bool
    failures: tuple[str, ...]
    error: str = ""


def judge(claim: Claim, metrics: dict[str, float]) -> Verdict:
    """Check every expectation of ``claim`` against ``metrics``."""
    failures = []
    for e in claim.expect:
        value = metrics.get(e.metric, float("nan"))
        if not e.holds(value):
            failures.append(f"{e.describe()} (measured {value:.4g})")
    return Verdict(claim, dict(metrics), not failures, tuple(failures))


def verdict_row(verdict: Verdict) -> dict[str, str]:
    """One row of a verdict table: claim, expected, measured, paper, verdict (plain text:
    ``PASS``, ``FAIL``, ``FAIL (known)`` for a claim whose ``known_fail`` gives the reason, or
    ``ERROR`` when its run failed)."""
    claim = verdict.claim
    measured = "; ".join(
        f"{e.metric}={verdict.measured.get(e.metric, float('nan')):.4f}" for e in claim.expect
    )
    return {
        "claim": claim.name + (" (control)" if claim.control else ""),
        "expected": "; ".join(e.describe() for e in claim.expect),
        "measured": measured,
        "paper": claim.paper_value,
        "verdict": "PASS"
        if verdict.passed
        else "ERROR"
        if verdict.error
        else ("FAIL (known)" if claim.known_fail else "FAIL"),
    }
