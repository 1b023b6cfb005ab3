"""What every experiment returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["Result"]


@dataclass
class Result:
    """The outcome of one run.

    metrics:   final scalar metrics by name (e.g. ``{"linear_r2": 0.99}``); these go to the store.
    curves:    a long table, one row per logged step or grid point, free columns (e.g. step, loss,
               linear_r2); stored as Parquet and plotted by the report.
    artifacts: in-memory extras (a fitted learner, tensors); never written to the store.
    """

    metrics: dict[str, float]
    curves: pd.DataFrame = field(default_factory=pd.DataFrame)
    artifacts: dict[str, Any] = field(default_factory=dict)
