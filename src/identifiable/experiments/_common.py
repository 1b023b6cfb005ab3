"""Glue every experiment shares: held-out samples, monitors, baselines and training figures.

Seeds: an experiment with ``seed`` s draws its final test sample from a generator seeded
s + ``TEST_SEED_OFFSET`` and the sample it watches during training from s + ``MONITOR_SEED_OFFSET``
(the learners seed their init with s and their training batches with s + 1), so the four streams
never overlap and one seed fixes a run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from identifiable.learners._loop import Monitor

__all__ = [
    "MONITOR_SEED_OFFSET",
    "TEST_SEED_OFFSET",
    "baseline_scores",
    "held_out",
    "latent_monitor",
    "mean_interval",
    "training_figures",
]

TEST_SEED_OFFSET = 10_000
MONITOR_SEED_OFFSET = 2

Score = Callable[[Any, Any], float]


def mean_interval(values: list[float]) -> tuple[float, float, float]:
    """Mean and 95 % Student-t interval of ``values`` (seeds); nan bounds for a single value."""
    import numpy as np
    from scipy import stats

    mean = float(np.mean(values))
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    half = stats.t.ppf(0.975, len(values) - 1) * np.std(values, ddof=1) / np.sqrt(len(values))
    return mean, mean - half, mean + half


def held_out(world: Any, n: int, seed: int, *, offset: int = TEST_SEED_OFFSET):
    """``world.sample(n)`` from a generator seeded ``seed + offset`` (the final test sample)."""
    return world.sample(n, generator=torch.Generator().manual_seed(seed + offset))


def latent_monitor(world: Any, seed: int, scores: Mapping[str, Score], *, n: int = 4096) -> Monitor:
    """A monitor scoring ``learner.transform(x)`` against the true z of a fixed held-out sample.

    The sample (``n`` draws, generator ``seed + MONITOR_SEED_OFFSET``) is drawn once, here; the
    learner never sees z.
    """
    sample = held_out(world, n, seed, offset=MONITOR_SEED_OFFSET)

    def monitor(learner: Any) -> dict[str, float]:
        h = learner.transform(sample.x)
        return {name: float(score(sample.z, h)) for name, score in scores.items()}

    return monitor


def baseline_scores(prefix: str, z, h, scores: Mapping[str, Score]) -> dict[str, float]:
    """``{prefix_name: score(z, h)}``, e.g. the identity baseline ẑ = x as ``identity_mcc``."""
    return {f"{prefix}_{name}": float(score(z, h)) for name, score in scores.items()}


def training_figures(history: list[dict[str, float]], steps: int, prefix: str = "") -> dict:
    """``final_loss``, ``train_seconds`` and ``steps_per_second`` from a learner's history."""
    last = history[-1]
    return {
        f"{prefix}final_loss": last["loss"],
        f"{prefix}train_seconds": last["train_seconds"],
        f"{prefix}steps_per_second": steps / max(last["train_seconds"], 1e-9),
    }
