"""Claim: deep networks keep changing after they generalise — delayed robustness and region
migration, measured with local complexity.

Humayun, Balestriero, Baraniuk (2024), "Deep Networks Always Grok and Here is Why", ICML (as
"Grokking Happens All the Time and Here is Why"), arXiv:2402.15555; official code
AhmedImtiazPrio/grok-adversarial (read for the facts).

The paper's claims: long after a network interpolates its training set and its clean test
accuracy has settled, (a) its accuracy on adversarial examples keeps rising ("delayed
robustness"), and (b) its linear regions migrate away from the training points towards the
decision boundary, so the local complexity (LC, :mod:`identifiable.metrics.local_complexity`)
around training points falls after a peak ("region migration"), while training accuracy stays 1.

CPU-sized setting (ours; the paper uses MNIST/CIFAR-10/Imagenette): scikit-learn's digits
(1 000 training images, the other 797 as test, pixels in [0, 1]; :func:`identifiable.worlds.
digits.digits`), a ReLU MLP 64 → 200 × 4 → 10 with biases, cross-entropy, AdamW lr 1e-3,
weight decay 0.01 and minibatches of 200 (the paper's MNIST recipe: 1 000 images, width 200,
AdamW lr 1e-3, wd 0.01, batch 200), 10⁵ steps with log-spaced evaluations; ``batch_size=0``
trains full batch. The repository's MNIST script (a later addition: GeLU, MSE, float64) is not
the paper's setting and GeLU has no linear regions, so it is not followed. Fixed before the
first run and not tuned afterwards: the attack is ℓ∞ PGD with ε = 0.1, step 0.025, 10 iterations,
no random start (the CIFAR ε = 50/255 in normalised units does not carry over to 8×8 digits with
17 grey levels); LC uses radius r = 0.1 and 25 directions (50 vertices) around 200 training,
200 test and 200 uniformly random points of [0, 1]^64.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch
from torch import nn

from identifiable._validation import check
from identifiable.claims import Claim, Expectation
from identifiable.experiments._result import Result
from identifiable.learners.full_batch import FullBatchClassifier
from identifiable.metrics.adversarial import pgd_accuracy
from identifiable.metrics.local_complexity import local_complexity
from identifiable.progress import Progress, no_progress
from identifiable.worlds.digits import digits

SUMMARY = "Delayed robustness and region migration (Humayun et al. 2024, arXiv:2402.15555)"
PAPER = "Humayun, Balestriero, Baraniuk (2024), arXiv:2402.15555"


@dataclass(frozen=True)
class Config:
    """Configuration of one delayed-robustness run.

    n_train:        training images (the rest of the 1 797 digits are the test set).
    width:          width of each hidden layer of the ReLU MLP.
    depth:          number of hidden layers.
    lr:             AdamW learning rate.
    weight_decay:   AdamW weight decay.
    batch_size:     rows per optimizer step, a fresh seeded order each pass (0: full batch).
    steps:          optimizer steps.
    log_evals:      number of log-spaced evaluations between step 1 and ``steps``.
    pgd_eps:        ℓ∞ radius of the PGD attack (inputs in [0, 1]).
    pgd_step:       PGD step size α.
    pgd_iterations: PGD steps.
    lc_radius:      radius r of the LC neighbourhood.
    lc_directions:  orthonormal directions k of the neighbourhood (2k vertices).
    lc_points:      points per set (train, test, random) around which LC is measured.
    seed:           seeds the split, the init, the LC frame and the random points.
    device:         ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
    """

    n_train: int = 1000
    width: int = 200
    depth: int = 4
    lr: float = 1e-3
    weight_decay: float = 0.01
    batch_size: int = 200
    steps: int = 100_000
    log_evals: int = 30
    pgd_eps: float = 0.1
    pgd_step: float = 0.025
    pgd_iterations: int = 10
    lc_radius: float = 0.1
    lc_directions: int = 25
    lc_points: int = 200
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"

    def __post_init__(self) -> None:
        check(
            self,
            positive=("lr", "lc_radius"),
            at_least={
                "n_train": 10,
                "width": 1,
                "depth": 1,
                "batch_size": 0,
                "steps": 1,
                "log_evals": 2,
                "weight_decay": 0.0,
                "pgd_eps": 0.0,
                "pgd_step": 0.0,
                "pgd_iterations": 0,
                "lc_directions": 1,
                "lc_points": 1,
            },
        )
        if self.n_train >= 1797:
            raise ValueError(f"n_train must be < 1797 (the digits), got {self.n_train}")
        if self.lc_directions > 64:
            raise ValueError(
                f"lc_directions must be <= 64 (input dimension), got {self.lc_directions}"
            )


def monitor_for(cfg: Config, world):
    """Test and PGD accuracy, and LC around fixed train/test/random points, at each evaluation."""
    train, test = world.split("train"), world.split("test")
    generator = torch.Generator().manual_seed(cfg.seed + 2)
    sets = {
        "train": train.x[torch.randperm(len(train.x), generator=generator)[: cfg.lc_points]],
        "test": test.x[torch.randperm(len(test.x), generator=generator)[: cfg.lc_points]],
        "random": torch.rand(cfg.lc_points, train.x.shape[1], generator=generator),
    }

    def monitor(learner: FullBatchClassifier) -> dict[str, float]:
        network = nn.Sequential(learner.encoder_, learner.head_)
        record = {
            "test_accuracy": learner.score(test.x, test.z),
            "pgd_accuracy": pgd_accuracy(
                network,
                test.x.to(learner.device_),
                test.z.to(learner.device_),
                eps=cfg.pgd_eps,
                step=cfg.pgd_step,
                iterations=cfg.pgd_iterations,
            ),
        }
        for name, points in sets.items():
            lc = local_complexity(
                network, points.to(learner.device_), cfg.lc_radius, cfg.lc_directions, seed=cfg.seed
            )
            record[f"local_complexity_{name}"] = lc.mean()
        return record

    return monitor


def summarise(curve: pd.DataFrame) -> dict[str, float]:
    """The claims' numbers from the curve (definitions in the claims' statements)."""
    steps = curve["step"].to_numpy()
    test = curve["test_accuracy"].to_numpy()
    pgd = curve["pgd_accuracy"].to_numpy()
    lc_train = curve["local_complexity_train"].to_numpy()
    final_test = test[-1]
    # clean test accuracy has saturated: first evaluation within 0.01 of its final value, and it
    # stays there
    within = np.abs(test - final_test) <= 0.01
    settled = next(i for i in range(len(test)) if within[i:].all())
    # the ascent phase's peak: the largest LC around training points once they are all fitted
    fitted = np.flatnonzero(curve["train_accuracy"].to_numpy() >= 1.0)
    start = int(fitted[0]) if len(fitted) else len(steps) - 1
    peak = start + int(np.argmax(lc_train[start:]))
    return {
        "test_accuracy": float(final_test),
        "train_accuracy": float(curve["train_accuracy"].iloc[-1]),
        "pgd_accuracy": float(pgd[-1]),
        "test_settled_step": float(steps[settled]),
        "pgd_accuracy_at_settled": float(pgd[settled]),
        "pgd_gain_after_settled": float(pgd[-1] - pgd[settled]),
        "fit_step": float(steps[fitted[0]]) if len(fitted) else float(steps[-1]),
        "fitted": float(len(fitted) > 0),
        "local_complexity_train": float(lc_train[-1]),
        "local_complexity_train_peak": float(lc_train[peak]),
        "local_complexity_train_peak_step": float(steps[peak]),
        "local_complexity_train_final_to_peak": float(lc_train[-1] / lc_train[peak])
        if lc_train[peak] > 0
        else float("nan"),
        "local_complexity_test": float(curve["local_complexity_test"].iloc[-1]),
        "local_complexity_random": float(curve["local_complexity_random"].iloc[-1]),
        "train_accuracy_min_after_peak": float(curve["train_accuracy"].iloc[peak:].min()),
    }


def run(cfg: Config, *, progress: Progress = no_progress) -> Result:
    """Train on digits with log-spaced evaluations; summarise robustness and LC over time."""
    world = digits(cfg.n_train, seed=cfg.seed)
    learner = FullBatchClassifier(
        hidden=(cfg.width,) * cfg.depth,
        bias=True,
        loss="softmax",
        precision=32,
        optimizer="adamw",
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        beta2=0.999,
        eps=1e-8,
        batch_size=cfg.batch_size,
        epochs=cfg.steps,
        log_evals=cfg.log_evals,
        random_state=cfg.seed,
        device=cfg.device,
    ).fit(world, progress=progress, monitor=monitor_for(cfg, world))
    curve = pd.DataFrame(learner.history_)
    metrics = summarise(curve)
    last = learner.history_[-1]
    metrics["train_seconds"] = last["train_seconds"]
    metrics["steps_per_second"] = cfg.steps / max(last["train_seconds"], 1e-9)
    return Result(metrics=metrics, curves=curve, artifacts={"learner": learner})


def figures(curves: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Accuracies (train, test, PGD) and LC (train, test, random points) vs epoch, log x."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    curve = curves.groupby("step").mean(numeric_only=True)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for column, label in (
        ("train_accuracy", "train"),
        ("test_accuracy", "test"),
        ("pgd_accuracy", "PGD (test)"),
    ):
        axes[0].plot(curve.index, curve[column], marker=".", label=label)
    for name in ("train", "test", "random"):
        axes[1].plot(curve.index, curve[f"local_complexity_{name}"], marker=".", label=name)
    axes[0].set_title("accuracy")
    axes[0].set_ylim(-0.02, 1.02)
    axes[1].set_title("local complexity around points")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = out_dir / "delayed_robustness.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


_SETUP = (
    "digits (1 000 train, 797 test), ReLU MLP 64-200×4-10, AdamW lr 1e-3 wd 0.01, batch 200, "
    "10⁵ steps, PGD ℓ∞ ε 0.1 / step 0.025 / 10 iterations, LC r 0.1 with 25 directions"
)

CLAIMS = [
    Claim(
        name="delayed-robustness/adversarial-accuracy-keeps-rising",
        statement="Delayed robustness: after clean test accuracy has settled (within 0.01 of its "
        "final value for good), PGD accuracy on the test set keeps rising — by ≥ 0.05 (≈ 3 "
        "binomial standard errors on 797 images) from the settling epoch to the end, and the "
        "settling happens in the first tenth of training. " + _SETUP,
        paper=PAPER + ", Sec. 4 (delayed robustness)",
        overrides={},
        expect=(
            Expectation("pgd_gain_after_settled", ">=", 0.05),
            Expectation("test_settled_step", "<=", 10_000),
        ),
        paper_value="adversarial accuracy rises long after interpolation and generalisation "
        "(MNIST, CIFAR-10, Imagenette figures; no single number)",
        fast=False,
        fragile="one seed, 10⁵ steps: the run judged at issue time (1 thread) settled at step 259 "
        "with PGD gain +0.113 (PASS); on an AMD EPYC (1 thread, same config and seed) the curves "
        "agree to 6 digits up to step 13 738 and part after the LC jump at ≈ 2·10⁴ steps: clean "
        "test accuracy dips to 0.964 at step 67 234, 0.011 below its final 0.975, so it settles "
        "only at the last evaluation and the gain is 0 (FAIL; PGD accuracy 0.292 at the end vs "
        "0.395 then)",
    ),
    Claim(
        name="delayed-robustness/region-migration",
        statement="Region migration: late in training, the local complexity around training "
        "points falls to ≤ half of its peak after the training set is fitted, while training "
        "accuracy stays 1. " + _SETUP,
        paper=PAPER + ", Sec. 3 (the descent–ascent–migration phases of LC)",
        overrides={},
        expect=(
            Expectation("local_complexity_train_final_to_peak", "<=", 0.5),
            Expectation("train_accuracy_min_after_peak", ">=", 1.0),
        ),
        paper_value="LC around training points falls in the final phase as regions migrate "
        "to the decision boundary (figures; no single number)",
        fast=False,
        known_fail="LC around training points peaks at step 20 434 (25.9) and falls only to "
        "18.5–20.7 by 10⁵ steps: final/peak 0.80 (minibatch 200; full batch, 2·10⁴ epochs: 1.0); "
        "the paper's migration shows at 10⁵–10⁶ steps on MNIST/CIFAR",
    ),
]
