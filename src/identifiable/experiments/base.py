"""What every experiment returns, and how it reports progress.

An experiment is a module with a ``Config`` dataclass and ``run(cfg, *, progress) -> Result``.
It knows nothing about the store or the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

# progress(done, total, **fields): called by long-running experiments; fields are shown live
# (e.g. loss=..., linear_r2=...). ``None`` means "report nothing".
Progress = Callable[..., None]


def no_progress(done: int, total: int, **fields: float) -> None:
    """A progress callback that ignores everything."""


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
