"""Helpers every training loop uses; the loop itself stays visible in each learner file.

Not a framework: no callbacks, no Trainer. A learner's ``fit`` reads top to bottom (cleanrl /
nanoGPT style) and calls these for the parts that must not drift between learners: seeding,
denormal flushing, the evaluation schedule, the finite-loss check and the history record.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

from identifiable.progress import Progress

__all__ = [
    "Monitor",
    "check_finite",
    "evaluation_due",
    "flushed_denormals",
    "log_evaluation",
    "seeded_generators",
]

# monitor(learner) -> {name: number}: what the experiment wants recorded on the evaluation
# schedule (e.g. held-out linear R² against the truth, which the learner never sees)
Monitor = Callable[[Any], dict[str, float]]


def seeded_generators(
    random_state: int,
) -> tuple[torch.Generator, torch.Generator, torch.Generator]:
    """(init, data, eval) generators seeded random_state, +1, +2: one seed fixes a whole fit."""
    return tuple(torch.Generator().manual_seed(random_state + i) for i in range(3))  # type: ignore[return-value]


def on_device(generator: torch.Generator, device: torch.device) -> torch.Generator:
    """``generator`` itself on the CPU; elsewhere a generator on ``device`` seeded with its
    initial seed, so that noise drawn directly on a GPU is as reproducible as on the CPU."""
    if torch.device(device).type == "cpu":
        return generator
    return torch.Generator(device=device).manual_seed(generator.initial_seed())


@contextmanager
def flushed_denormals() -> Iterator[None]:
    """Flush denormal floats to zero inside the block (CPU): softmax gradients around 1e-40 made
    steps up to 50x slower on the box world. Restores the default afterwards."""
    flushed = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if flushed:
            torch.set_flush_denormal(False)


def evaluation_due(step: int, every: int, total: int) -> bool:
    """True on every ``every``-th step and on the last one (steps count from 1)."""
    return step % every == 0 or step == total


def check_finite(loss: torch.Tensor, step: int, *, what: str, advice: str) -> None:
    """Raise a one-line ``FloatingPointError`` naming the step when ``loss`` is NaN or inf."""
    value = float(loss)
    if not math.isfinite(value):
        raise FloatingPointError(f"{what} became {value} at step {step}; {advice}")


def log_evaluation(
    learner: Any,
    *,
    step: int,
    total: int,
    losses: torch.Tensor,
    since: int,
    train_seconds: float,
    monitor: Monitor | None,
    progress: Progress,
    extra: dict[str, float] | None = None,
) -> dict[str, float]:
    """Append one record to ``learner.history_`` and report it to ``progress``.

    The record holds ``step``, ``loss`` (mean of ``losses[since:step]``, the steps since the last
    evaluation), ``extra`` (the learner's own numbers, e.g. training accuracy), whatever
    ``monitor(learner)`` returns, and ``train_seconds``. Returns the record.
    """
    record: dict[str, float] = {"step": float(step), "loss": float(losses[since:step].mean())}
    record.update(extra or {})
    watched = dict(monitor(learner)) if monitor is not None else {}
    record.update(watched)
    record["train_seconds"] = train_seconds
    learner.history_.append(record)
    progress(step, total, loss=record["loss"], **watched)
    return record
