"""Claim: grokking sits at the edge of numerical stability — softmax collapse, StableMax, ⊥Grad.

Prieto, Barsbey, Mediano, Birdal (2025), "Grokking at the Edge of Numerical Stability", ICLR,
arXiv:2501.04697; official code LucasPrietoAl/grokking-at-the-edge-of-numerical-stability.

World: modular arithmetic c = a ∘ b mod p, all p² pairs as two concatenated one-hots (226 dims at
p = 113), a seeded 40 % / 60 % train/test split (:func:`identifiable.worlds.modular.
modular_arithmetic`). Learner: a bias-free ReLU MLP 2p → 200 → 200 → p trained full batch
(:class:`identifiable.learners.full_batch.FullBatchClassifier`) with AdamW (β₂ 0.99, ε 1e-25, the
reference's defaults), no weight decay unless stated.

The paper's story, as claims:

* without regularisation, softmax cross-entropy fits the training set and then pushes the logits
  up along the weights ("naïve loss minimisation", NLM: cos(−∇L, θ) → 0.9 in the output layer)
  until the softmax rounds to exactly 1 (softmax collapse, SC) and learning stops — before any
  test progress;
* float64 delays the collapse; StableMax (a softmax with linear instead of exponential growth)
  avoids it and groks without regularisation; ⊥Grad (gradient orthogonal to θ) removes the NLM
  direction and groks within a few hundred epochs; weight decay is the classical way to grok.

Reference settings (code, read for the facts): p = 113, 40 % train, full batch, AdamW lr 0.01
(StableMax runs: β₂ 0.999, 80–100k epochs), ⊥AdamW lr 5e-3 for 500 epochs — whose inner AdamW
ran with PyTorch's default betas (0.9, 0.999) and ε 1e-8 (the wrapper re-creates it), which is what
the ⊥Grad claim uses. ``compare_precision`` trains a second model on the same data and init with
another softmax precision and reports the difference of the collapse onsets.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import pandas as pd

from identifiable._validation import check
from identifiable.claims import Claim, Expectation
from identifiable.experiments._result import Result
from identifiable.learners.full_batch import FullBatchClassifier
from identifiable.metrics.grokking import first_epoch
from identifiable.progress import Progress, no_progress, subspan
from identifiable.worlds.modular import OPERATIONS, is_prime, modular_arithmetic

SUMMARY = "Grokking at the edge of numerical stability (Prieto et al. 2025, arXiv:2501.04697)"
PAPER = "Prieto, Barsbey, Mediano, Birdal (2025), arXiv:2501.04697"

#: thresholds of the onsets: ≥ 50 % of training rows collapsed; test accuracy ≥ 0.95
COLLAPSE_AT, GROK_AT = 0.5, 0.95


@dataclass(frozen=True)
class Config:
    """Configuration of one grokking run.

    operation:         ``add``, ``sub``, ``mul`` or ``div`` (modular inverse; prime modulus).
    modulus:           p (≥ 2); p² pairs (p(p − 1) for ``div``).
    train_fraction:    share of the pairs in the training split, in (0, 1).
    model:             ``mlp`` (bias-free ReLU MLP on the two one-hots) or ``transformer`` (token
                       pairs (a, b) with a, b ∈ 1..p−1 as the reference's transformer data;
                       embedding, ``depth`` encoder blocks of d_model = ``width`` with ``heads``
                       heads and feed-forward 4·width, no dropout, read out at the last token).
    width:             width of each hidden layer of the MLP; d_model of the transformer.
    depth:             number of hidden layers (MLP) or of encoder blocks (transformer).
    heads:             attention heads of the transformer (``width`` must be a multiple).
    loss:              ``softmax`` (cross-entropy) or ``stablemax`` (StableMax CE in float64).
    precision:         bits of the softmax: 16, 32 or 64.
    optimizer:         ``adamw`` or ``sgd``.
    orthograd:         wrap the optimizer in ⊥Grad.
    weight_decay:      decoupled (AdamW) or L2 (SGD) weight decay, ≥ 0.
    lr:                learning rate.
    beta2:             AdamW β₂ (β₁ = 0.9).
    adam_eps:          AdamW ε (the reference: 1e-25).
    momentum:          SGD momentum.
    epochs:            full-batch steps.
    eval_every:        record the diagnostics and the test accuracy every this many epochs.
    compare_precision: 0 (off) or 16/32/64: also train with this softmax precision (same data and
                       init) and report ``collapse_onset_delay`` = this run's onset − that one's.
    seed:              seeds the split and the init.
    device:            ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
    """

    operation: Literal["add", "sub", "mul", "div"] = "add"
    modulus: int = 113
    train_fraction: float = 0.4
    model: Literal["mlp", "transformer"] = "mlp"
    width: int = 200
    depth: int = 2
    heads: int = 4
    loss: Literal["softmax", "stablemax"] = "softmax"
    precision: Literal[16, 32, 64] = 32
    optimizer: Literal["adamw", "sgd"] = "adamw"
    orthograd: bool = False
    weight_decay: float = 0.0
    lr: float = 0.01
    beta2: float = 0.99
    adam_eps: float = 1e-25
    momentum: float = 0.0
    epochs: int = 1000
    eval_every: int = 10
    compare_precision: Literal[0, 16, 32, 64] = 0
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"

    def __post_init__(self) -> None:
        check(
            self,
            one_of={
                "operation": OPERATIONS,
                "model": ("mlp", "transformer"),
                "loss": ("softmax", "stablemax"),
                "precision": (16, 32, 64),
                "optimizer": ("adamw", "sgd"),
                "compare_precision": (0, 16, 32, 64),
            },
            positive=("lr", "adam_eps"),
            at_least={
                "modulus": 2,
                "width": 1,
                "depth": 1,
                "heads": 1,
                "epochs": 1,
                "eval_every": 1,
                "weight_decay": 0.0,
                "momentum": 0.0,
            },
        )
        if not 0 < self.train_fraction < 1:
            raise ValueError(f"train_fraction must be in (0, 1), got {self.train_fraction}")
        if not 0 <= self.beta2 < 1:
            raise ValueError(f"beta2 must be in [0, 1), got {self.beta2}")
        if self.operation == "div" and not is_prime(self.modulus):
            raise ValueError(
                f"operation=div needs a prime modulus (every b ≠ 0 must have an inverse mod p); "
                f"{self.modulus} is not prime"
            )
        if self.model == "transformer" and self.width % self.heads:
            raise ValueError(
                f"the transformer's width (d_model = {self.width}) must be a multiple of heads "
                f"({self.heads})"
            )
        if self.model == "transformer" and self.modulus < 3:
            raise ValueError("model=transformer uses a, b ∈ 1..p−1; set modulus >= 3")
        if self.compare_precision and self.loss != "softmax":
            raise ValueError("compare_precision compares softmax precisions; set loss=softmax")


def setting(cfg: Config) -> str:
    """A short label of what distinguishes a run: ``softmax f32``, ``⊥AdamW``, ``StableMax``."""
    if cfg.loss == "stablemax":
        name = "StableMax"
    else:
        name = f"softmax f{cfg.precision}"
    if cfg.orthograd:
        name = f"⊥{'AdamW' if cfg.optimizer == 'adamw' else 'SGD'} " + name
    if cfg.weight_decay:
        name += f" wd {cfg.weight_decay:g}"
    if cfg.model == "transformer":
        name += " transformer"
    return name


def family(cfg: Config) -> str:
    """The claim family a run belongs to (one figure each)."""
    if cfg.orthograd:
        return "orthograd"
    if cfg.loss == "stablemax":
        return "stablemax"
    if cfg.weight_decay:
        return "weight-decay"
    return "softmax-collapse"


def make_world(cfg: Config):
    """One-hot pairs for the MLP; token pairs a, b ∈ 1..p−1 for the transformer (the reference's
    transformer data)."""
    tokens = {"encoding": "tokens", "start": 1} if cfg.model == "transformer" else {}
    return modular_arithmetic(
        cfg.operation, cfg.modulus, cfg.train_fraction, seed=cfg.seed, **tokens
    )


def train(cfg: Config, world, progress: Progress) -> tuple[dict[str, float], pd.DataFrame]:
    """One learner on ``world``: final metrics and its curve (with the test accuracy)."""
    test = world.split("test")
    learner = FullBatchClassifier(
        model=cfg.model,
        hidden=(cfg.width,) * cfg.depth,
        heads=cfg.heads,
        bias=False,
        loss=cfg.loss,
        precision=cfg.precision,
        optimizer=cfg.optimizer,
        orthograd=cfg.orthograd,
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        beta2=cfg.beta2,
        eps=cfg.adam_eps,
        momentum=cfg.momentum,
        epochs=cfg.epochs,
        eval_every=cfg.eval_every,
        random_state=cfg.seed,
        device=cfg.device,
    )

    def monitor(fitted: FullBatchClassifier) -> dict[str, float]:
        return {
            "test_accuracy": fitted.score(test.x, test.z),
            "test_loss": fitted.predict_loss(test.x, test.z),
        }

    learner.fit(world, progress=progress, monitor=monitor)
    curve = pd.DataFrame(learner.history_)
    epochs, budget = curve["step"], cfg.epochs
    last, first = curve.iloc[-1], curve.iloc[0]
    collapse_onset, collapsed = first_epoch(epochs, curve["collapse_fraction"], COLLAPSE_AT, budget)
    fit_epoch, fitted = first_epoch(epochs, curve["train_accuracy"], 1.0, budget)
    grok_epoch, grokked = first_epoch(epochs, curve["test_accuracy"], GROK_AT, budget)
    after_fit = curve[curve["step"] >= fit_epoch] if fitted else curve.iloc[0:0]
    metrics = {
        "train_accuracy": float(last["train_accuracy"]),
        "test_accuracy": float(last["test_accuracy"]),
        "train_loss": float(last["train_loss"]),
        "test_loss": float(last["test_loss"]),
        "collapse_fraction": float(last["collapse_fraction"]),
        "collapse_fraction_max": float(curve["collapse_fraction"].max()),
        "zero_loss_fraction": float(last["zero_loss_fraction"]),
        "collapse_onset_epoch": float(collapse_onset),
        "collapsed": float(collapsed),
        "fit_epoch": float(fit_epoch),
        "fitted": float(fitted),
        "grok_epoch": float(grok_epoch),
        "grokked": float(grokked),
        "nlm_cosine_output": float(last["nlm_cosine_output"]),
        "nlm_cosine_output_init": float(first["nlm_cosine_output"]),
        "weight_norm": float(last["weight_norm"]),
        "logit_norm": float(last["logit_norm"]),
        "train_seconds": float(last["train_seconds"]),
        "steps_per_second": cfg.epochs / max(float(last["train_seconds"]), 1e-9),
    }
    if len(after_fit):
        metrics["nlm_cosine_output_after_fit_max"] = float(after_fit["nlm_cosine_output"].max())
    if fitted and grokked and fit_epoch > 0:
        metrics["grok_to_fit_epochs_ratio"] = grok_epoch / fit_epoch
    curve.insert(0, "setting", setting(cfg))
    curve.insert(1, "family", family(cfg))
    return metrics, curve


def run(cfg: Config, *, progress: Progress = no_progress) -> Result:
    """Train (and, with ``compare_precision``, train again at that precision), then report."""
    world = make_world(cfg)
    parts = 2 if cfg.compare_precision else 1
    metrics, curve = train(cfg, world, subspan(progress, 0, 1 / parts))
    curves = [curve]
    if cfg.compare_precision:
        other = replace(cfg, precision=cfg.compare_precision, compare_precision=0)
        compared, other_curve = train(other, world, subspan(progress, 0.5, 1.0))
        metrics |= {f"compared_{k}": v for k, v in compared.items()}
        metrics["collapse_onset_delay"] = (
            metrics["collapse_onset_epoch"] - compared["collapse_onset_epoch"]
        )
        curves.append(other_curve)
    return Result(metrics=metrics, curves=pd.concat(curves, ignore_index=True))


def figures(curves: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Per claim family: train/test accuracy and collapse fraction vs epoch (log x), a line per
    setting."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if "family" not in curves:
        return []
    paths = []
    for name, runs in curves.groupby("family", sort=True):
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
        for label, run_curve in runs.groupby("setting", sort=True):
            run_curve = run_curve.groupby("step").mean(numeric_only=True)
            line = axes[0].plot(run_curve.index, run_curve["test_accuracy"], label=f"{label} test")
            axes[0].plot(
                run_curve.index,
                run_curve["train_accuracy"],
                linestyle="--",
                color=line[0].get_color(),
                label=f"{label} train",
            )
            axes[1].plot(run_curve.index, run_curve["collapse_fraction"], label=label)
        titles = ("accuracy (train dashed)", "softmax collapse fraction")
        for ax, title in zip(axes, titles, strict=True):
            ax.set_xscale("log")
            ax.set_xlabel("epoch")
            ax.set_ylim(-0.02, 1.02)
            ax.set_title(title)
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=7)
        fig.suptitle(f"grokking: {name}")
        fig.tight_layout()
        paths.append(out_dir / f"grokking_{name}.png")
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
    return paths


_SETUP = "modular addition, p = 113, 40 % train, bias-free ReLU MLP 226-200-200-113, full batch"
_CHANCE = 5 / 113  # the bound on test accuracy without grokking: 5/p
_REFERENCE_ADAMW = {"beta2": 0.999, "adam_eps": 1e-8}  # what the reference's ⊥AdamW ran with

CLAIMS = [
    Claim(
        name="grokking/softmax-collapse",
        statement="Without regularisation, softmax cross-entropy in float32 fits the training "
        "set, then most training rows fall into softmax collapse, and test accuracy stays at "
        "chance level (≤ 5/p): no grokking. AdamW lr 0.01, 3 000 epochs. " + _SETUP,
        paper=PAPER + ", Sec. 3 and Fig. 2",
        overrides={"epochs": 3000, "eval_every": 50},
        expect=(
            Expectation("train_accuracy", ">=", 0.99),
            Expectation("collapse_fraction_max", ">=", COLLAPSE_AT),
            Expectation("test_accuracy", "<=", _CHANCE),
        ),
        paper_value="SC before any test progress at 40 % data, float32 (Fig. 2)",
        control=True,
        fast=False,
    ),
    Claim(
        name="grokking/stablemax-groks",
        statement="StableMax cross-entropy avoids softmax collapse and groks without any "
        "regularisation: test accuracy ≥ 0.95. AdamW lr 0.01, β₂ 0.999 (the reference's "
        "StableMax recipe), 80 000 epochs (the reference's Figure-1 run; Fig. 4 runs 100k). "
        + _SETUP,
        paper=PAPER + ", Sec. 4 and Fig. 4",
        overrides={"loss": "stablemax", "beta2": 0.999, "epochs": 80000, "eval_every": 500},
        expect=(Expectation("test_accuracy", ">=", GROK_AT),),
        paper_value="groks without regularisation within 0–100k epochs (Fig. 4)",
        fast=False,
        known_fail="it groks, slowly: test accuracy 0.10 at 40 000 epochs, 0.60 at 60 000, 0.857 "
        "at 80 000 and still rising (+0.02 per 4 000 epochs at the end); the paper's Fig. 4 runs "
        "100 000",
    ),
    Claim(
        name="grokking/orthograd-groks",
        statement="⊥AdamW (gradient orthogonal to the weights) with plain softmax cross-entropy "
        "and no weight decay groks within 500 epochs: test accuracy ≥ 0.95. lr 5e-3 and the "
        "betas (0.9, 0.999), ε 1e-8 the reference's wrapper actually ran. " + _SETUP,
        paper=PAPER + ", Sec. 5 and Fig. 6",
        overrides={"orthograd": True, "lr": 5e-3, "epochs": 500, "eval_every": 10}
        | _REFERENCE_ADAMW,
        expect=(
            Expectation("test_accuracy", ">=", GROK_AT),
            Expectation("grok_epoch", "<=", 500),
            Expectation("grokked", ">=", 1),
        ),
        paper_value="100 % test accuracy within 400 iterations (⊥SGD); ⊥AdamW in a few hundred",
    ),
    Claim(
        name="grokking/float64-delays-collapse",
        statement="Softmax collapse sets in later in float64 than in float32 on the same data "
        "and init: the onset (first evaluation with ≥ 50 % of training rows collapsed) is "
        "delayed, and neither run groks. AdamW lr 0.01, 6 000 epochs each. " + _SETUP,
        paper=PAPER + ", Sec. 3 and Fig. 2",
        overrides={"precision": 64, "compare_precision": 32, "epochs": 6000, "eval_every": 50},
        expect=(
            Expectation("compared_collapsed", ">=", 1),
            Expectation("collapse_onset_delay", ">=", 50),
            Expectation("test_accuracy", "<=", _CHANCE),
        ),
        paper_value="float64 delays SC and the stop of learning (Fig. 2)",
        fast=False,
    ),
    Claim(
        name="grokking/weight-decay-groks",
        statement="The classical control: softmax cross-entropy with weight decay groks — test "
        "accuracy ≥ 0.95, reached at least twice as many epochs after the training set was "
        "fitted (delayed generalisation). AdamW lr 0.01, weight decay 1.0, 1 500 epochs. " + _SETUP,
        paper=PAPER + ", Sec. 2 (weight decay as the usual ingredient of grokking)",
        overrides={"weight_decay": 1.0, "epochs": 1500, "eval_every": 50},
        expect=(
            Expectation("grokked", ">=", 1),
            Expectation("test_accuracy", ">=", GROK_AT),
            Expectation("grok_to_fit_epochs_ratio", ">=", 2.0),
        ),
        paper_value="grokking with weight decay (Power et al. 2022; the paper's baseline)",
        fast=False,
    ),
    Claim(
        name="grokking/naive-loss-minimisation",
        statement="Once the training set is fitted, the negative gradient of the output layer "
        "points along its weights (naïve loss minimisation): cos(−∇L, W_out) ≥ 0.5, from ≈ 0 "
        "at initialisation. Plain softmax, AdamW lr 0.01, 400 epochs (before collapse). " + _SETUP,
        paper=PAPER + ", Sec. 5 and Fig. 5",
        overrides={"epochs": 400, "eval_every": 10},
        expect=(
            Expectation("fitted", ">=", 1),
            Expectation("nlm_cosine_output", ">=", 0.5),
            Expectation("nlm_cosine_output_init", "between", -0.1, 0.1),
        ),
        paper_value="cosine up to 0.9 in the output layers after 100 % train accuracy (Fig. 5)",
    ),
]
