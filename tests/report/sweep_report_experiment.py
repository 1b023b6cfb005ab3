"""Test-only experiment for the sweep-report tests: known metrics of every kind, no training.

Registered only inside tests (``experiments.register("report-toy", "sweep_report_experiment")``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from identifiable.experiments import Result
from identifiable.metrics import declare
from identifiable.progress import no_progress

SUMMARY = "test-only experiment with a flat, a bounded, a proportion and two diagnostic metrics"

declare(
    "report_test_retried",
    higher_is_better=False,
    bounds=(0.0, 1.0),
    kind="diagnostic",
    description="test-only yes/no flag",
)


@dataclass(frozen=True)
class Config:
    """source: a categorical key.  n_samples: a numeric key.  scale: unswept.  seed."""

    source: Literal["laplace", "uniform", "gaussian"] = "laplace"
    n_samples: int = 5000
    scale: float = 1.5
    seed: int = 0


def run(cfg: Config, *, progress=no_progress) -> Result:
    gaussian = cfg.source == "gaussian"
    metrics = {
        "linear_r2": 1.0 - 1e-15 * cfg.seed,  # flat: equal up to rounding noise
        "mcc": 0.75 + 0.05 * cfg.seed if gaussian else 0.999 - 0.004 * cfg.seed,  # near bound 1
        "accuracy": 0.9 + 0.03 * cfg.seed,  # a proportion per run
        "converged": float(not (gaussian and cfg.seed == 0)),  # yes/no per run
        "report_test_retried": float(cfg.seed == 2),  # a 0/1 diagnostic
        "wall_seconds": 0.01 * (cfg.seed + 1),  # a continuous diagnostic
    }
    return Result(metrics=metrics, curves=pd.DataFrame({"step": [1], "loss": [0.0]}))
