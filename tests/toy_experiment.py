"""A tiny experiment for sweep tests: succeeds, fails, crashes or sleeps on request.

Registered only inside tests (``identifiable.experiments.register("toy", "toy_experiment")``)."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from identifiable.experiments import Result
from identifiable.progress import no_progress

SUMMARY = "test-only toy experiment"


@dataclass(frozen=True)
class Config:
    """value: echoed as a metric.  mode: ok, fail, crash or sleep.  sleep: seconds.  seed."""

    value: float = 1.0
    mode: Literal["ok", "fail", "crash", "sleep"] = "ok"
    sleep: float = 0.0
    seed: int = 0


def run(cfg: Config, *, progress=no_progress) -> Result:
    if cfg.mode == "fail":
        raise RuntimeError("deliberate failure")
    if cfg.mode == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    if cfg.sleep:
        time.sleep(cfg.sleep)
    curves = pd.DataFrame({"step": [1, 2, 3], "value": [cfg.value] * 3})
    return Result(
        metrics={"value": cfg.value, "seed_plus_value": cfg.seed + cfg.value}, curves=curves
    )
