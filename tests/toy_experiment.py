"""A tiny experiment for sweep tests: succeeds, fails, crashes, sleeps or waits on request.

Registered only inside tests (``identifiable.experiments.register("toy", "toy_experiment")``).
``mode="wait"`` lets a test act while runs are in flight without racing the clock: the run blocks
until the file ``wait_for`` exists (a test creates it, or sends Ctrl-C / SIGKILL meanwhile)."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from identifiable.experiments import Result
from identifiable.progress import no_progress

SUMMARY = "test-only toy experiment"
WAIT_LIMIT_SECONDS = 120.0  # a forgotten gate file fails the run instead of hanging the tests


@dataclass(frozen=True)
class Config:
    """value: echoed as a metric.  mode: ok, fail, crash, sleep or wait.  sleep: seconds.
    wait_for: the file mode ``wait`` waits for.  started: a folder where mode ``wait`` marks
    that it runs.  seed."""

    value: float = 1.0
    mode: Literal["ok", "fail", "crash", "sleep", "wait"] = "ok"
    sleep: float = 0.0
    wait_for: str = ""
    started: str = ""  # a folder: mode wait first writes <started>/<value> (it is running now)
    seed: int = 0


def run(cfg: Config, *, progress=no_progress) -> Result:
    if cfg.mode == "fail":
        raise RuntimeError("deliberate failure")
    if cfg.mode == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    if cfg.mode == "wait":
        if not cfg.wait_for:
            raise ValueError("mode wait needs wait_for=<file>")
        if cfg.started:
            (Path(cfg.started) / f"{cfg.value:g}").touch()
        deadline = time.monotonic() + WAIT_LIMIT_SECONDS
        while not Path(cfg.wait_for).exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{cfg.wait_for} did not appear")
            time.sleep(0.02)
    if cfg.sleep:
        time.sleep(cfg.sleep)
    progress(1, 1, value=cfg.value)
    curves = pd.DataFrame({"step": [1, 2, 3], "value": [cfg.value] * 3})
    return Result(
        metrics={"value": cfg.value, "seed_plus_value": cfg.seed + cfg.value}, curves=curves
    )


def ray_setup() -> None:
    """``worker_process_setup_hook`` of Ray workers in tests: make ``toy`` known there too."""
    from identifiable import experiments

    experiments.register("toy", "toy_experiment")
