"""Claim: weight decay hurts rare tokens more than frequent ones — the per-token loss rises more
for low-frequency tokens as the decay grows.

Pinto, Galanti, Balestriero (2024), "The Fair Language Model Paradox", arXiv:2410.11985 (models
of 270M–3B parameters on IMDB; no official code read).

World (:class:`identifiable.worlds.markov_text.MarkovTextWorld`): a Markov chain over ``vocab``
tokens whose next token is predictable from the current one (``sharpness``) and whose unigram
frequencies f_k (the stationary distribution, known exactly) are Zipf-like over two orders of
magnitude. On an i.i.d. Zipf stream weight decay would only pull predictions towards uniform,
which lowers rare tokens' loss, so context matters for the test. Learner
(:class:`identifiable.learners.language_model.LanguageModel`): a tiny Transformer trained by
AdamW at each weight decay λ of ``weight_decays`` and each seed; ``decay`` says which
parameters are decayed (``matrices``, the default: weights and embeddings, not biases or norm
gains — nanoGPT's and the HF trainers' choice; the paper's LLMs have no output bias at all;
``all``: every parameter, the output bias included — torch's AdamW default, under which strong
decay flattens the unigram prior the bias carries and *helps* rare tokens, see the docs). Metric
(:mod:`identifiable.metrics.token_frequency`): per-token-class test loss ℓ̄_k; per seed and λ the
slope b_λ of ℓ̄_k(λ) − ℓ̄_k(0) against log f_k (same seed, so initialisation and batches are
paired), mean over seeds with a 95 % t-interval. Negative control: the slope between two seeds
at λ = 0 (pairs (i, i + 1)), which only noise can tilt.

CPU scale: the paper's models are 10⁴× larger and trained on real text; ours has 64 tokens,
d 32, 2 layers, 1 500 steps of 64 sequences.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from identifiable._validation import check
from identifiable.claims import Claim, Expectation
from identifiable.experiments._common import mean_interval
from identifiable.experiments._result import Result
from identifiable.learners.language_model import LanguageModel
from identifiable.metrics.token_frequency import frequency_slope, per_token_loss
from identifiable.progress import Progress, no_progress, subspan
from identifiable.worlds.markov_text import MarkovTextWorld

SUMMARY = "Weight decay hurts rare tokens more (Pinto, Galanti, Balestriero 2024)"
PAPER = "Pinto, Galanti, Balestriero (2024), arXiv:2410.11985"


@dataclass(frozen=True)
class Config:
    """Configuration of one token-frequency-bias run.

    weight_decays:  AdamW λ values; 0 must be among them (the reference of each change).
    seeds:          learner seeds 0 … seeds − 1 per λ (intervals and the control need ≥ 2).
    vocab, length, zipf, sharpness: the Markov source (MarkovTextWorld).
    n_train:        training sequences.
    architecture:   transformer or lstm.
    d_model, heads, feedforward, layers: the model (Transformer blocks or LSTM layers).
    decay:          ``all`` (output bias decayed too) or ``matrices`` (only ≥ 2-dim tensors).
    steps, batch_size, lr, eval_every: training (the lowest validation loss is kept).
    world_seed:     seed of the chain's structure and of the sequences.
    device:         ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
    """

    weight_decays: tuple[float, ...] = (0.0, 0.1, 0.3, 1.0, 3.0)
    seeds: int = 4
    vocab: int = 64
    length: int = 32
    zipf: float = 1.1
    sharpness: float = 3.0
    n_train: int = 4096
    architecture: Literal["transformer", "lstm"] = "transformer"
    d_model: int = 32
    heads: int = 4
    feedforward: int = 128
    layers: int = 2
    decay: Literal["all", "matrices"] = "matrices"
    steps: int = 1500
    batch_size: int = 64
    lr: float = 3e-3
    eval_every: int = 100
    world_seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"

    def __post_init__(self) -> None:
        check(
            self,
            positive=("lr", "zipf"),
            at_least={
                "seeds": 1, "vocab": 2, "length": 2, "n_train": 1, "d_model": 1, "heads": 1,
                "feedforward": 1, "layers": 1, "steps": 1, "batch_size": 1, "eval_every": 1,
                "sharpness": 0.0, "world_seed": 0,
            },
            one_of={"architecture": ("transformer", "lstm"), "decay": ("all", "matrices")},
        )  # fmt: skip
        decays = self.weight_decays
        if not decays or 0.0 not in decays or any(not np.isfinite(d) or d < 0 for d in decays):
            raise ValueError(f"weight_decays must be numbers >= 0 that include 0, got {decays}")
        if self.architecture == "transformer" and self.d_model % self.heads:
            raise ValueError(f"d_model ({self.d_model}) must be a multiple of heads ({self.heads})")


def make_world(cfg: Config) -> MarkovTextWorld:
    return MarkovTextWorld(
        vocab=cfg.vocab, length=cfg.length, zipf=cfg.zipf, sharpness=cfg.sharpness,
        structure=cfg.world_seed, n_train=cfg.n_train, n_validation=512, n_test=1024,
        seed=cfg.world_seed,
    )  # fmt: skip


def make_learner(cfg: Config, weight_decay: float, seed: int) -> LanguageModel:
    return LanguageModel(
        cfg.architecture, d_model=cfg.d_model, heads=cfg.heads, feedforward=cfg.feedforward,
        layers=cfg.layers, hidden=cfg.d_model, dropout=0.0, lr=cfg.lr,
        weight_decay=weight_decay, decay=cfg.decay, batch_size=cfg.batch_size, steps=cfg.steps,
        eval_every=cfg.eval_every, random_state=seed, device=cfg.device,
    )  # fmt: skip


def _name(weight_decay: float) -> str:
    return f"wd{weight_decay:g}".replace(".", "p")


def run(cfg: Config, *, progress: Progress = no_progress) -> Result:
    """Train every λ × seed, score ℓ̄_k on the test split, the slopes against log f_k."""
    world = make_world(cfg)
    test = world.split("test")
    targets = test.z.numpy()
    frequencies = world.stationary
    jobs = list(itertools.product(cfg.weight_decays, range(cfg.seeds)))
    losses: dict[tuple[float, int], np.ndarray] = {}
    overall: dict[tuple[float, int], float] = {}
    for i, (weight_decay, seed) in enumerate(jobs):
        learner = make_learner(cfg, weight_decay, seed)
        learner.fit(world, progress=subspan(progress, i / len(jobs), (i + 1) / len(jobs)))
        token_losses = learner.token_losses(test.x)
        losses[weight_decay, seed] = per_token_loss(token_losses, targets, cfg.vocab)
        overall[weight_decay, seed] = float(np.nanmean(token_losses))
    rows = [
        {"weight_decay": wd, "seed": s, "token": k, "frequency": frequencies[k],
         "loss": losses[wd, s][k], "change": losses[wd, s][k] - losses[0.0, s][k]}
        for (wd, s) in jobs for k in range(cfg.vocab)
    ]  # fmt: skip
    metrics: dict[str, float] = {"loss_floor": world.loss_floor}
    rare = np.argsort(frequencies)[: max(cfg.vocab // 10, 1)]
    common = np.argsort(frequencies)[-max(cfg.vocab // 10, 1) :]
    for weight_decay in cfg.weight_decays:
        name = _name(weight_decay)
        metrics[f"{name}_test_loss"] = float(np.mean([overall[weight_decay, s]
                                                      for s in range(cfg.seeds)]))  # fmt: skip
        if weight_decay == 0.0:
            continue
        changes = [losses[weight_decay, s] - losses[0.0, s] for s in range(cfg.seeds)]
        slopes = [frequency_slope(c, frequencies) for c in changes]
        mean, low, high = mean_interval(slopes)
        metrics[f"{name}_frequency_slope"] = mean
        if cfg.seeds > 1:
            metrics[f"{name}_frequency_slope_ci_low"] = low
            metrics[f"{name}_frequency_slope_ci_high"] = high
        metrics[f"{name}_rare_change"] = float(np.mean([np.nanmean(c[rare]) for c in changes]))
        metrics[f"{name}_common_change"] = float(np.mean([np.nanmean(c[common]) for c in changes]))
    if cfg.seeds > 1:
        control = [frequency_slope(losses[0.0, s + 1] - losses[0.0, s], frequencies)
                   for s in range(cfg.seeds - 1)]  # fmt: skip
        mean, low, high = mean_interval(control)
        metrics["control_frequency_slope"] = mean
        if len(control) > 1:
            metrics["control_frequency_slope_ci_low"] = low
            metrics["control_frequency_slope_ci_high"] = high
    return Result(metrics=metrics, curves=pd.DataFrame(rows), artifacts={"world": world})


def figures(curves: pd.DataFrame, out_dir: Path) -> list[Path]:
    """ℓ̄_k against f_k, one line per λ (mean over seeds), and the change against λ = 0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if "change" not in curves:
        return []
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    columns = ["frequency", "loss", "change"]
    mean = curves.groupby(["weight_decay", "token"], as_index=False)[columns].mean()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for i, (weight_decay, part) in enumerate(mean.groupby("weight_decay")):
        part = part.sort_values("frequency")
        style = {"ms": 2.5, "lw": 1, "color": f"C{i}", "label": f"λ = {weight_decay:g}"}
        axes[0].plot(part["frequency"], part["loss"], "o-", **style)
        if weight_decay:
            axes[1].plot(part["frequency"], part["change"], "o-", **style)
    axes[1].axhline(0, color="grey", lw=0.8)
    for ax, label in zip(axes, ("per-token test loss ℓ̄_k", "ℓ̄_k(λ) − ℓ̄_k(0)"), strict=True):
        ax.set_xscale("log")
        ax.set_xlabel("token frequency f_k")
        ax.set_ylabel(label)
        ax.legend(fontsize=7)
    fig.suptitle("weight decay and token frequency (mean over seeds)", fontsize=9)
    fig.tight_layout()
    path = out_dir / "token_frequency_bias.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


_SETUP = (
    "Markov source of 64 tokens (Zipf 1.1, sharpness 3, frequencies 5·10⁻⁴ … 0.06), Transformer "
    "d 32 / 4 heads / FF 128 / 2 layers, AdamW lr 3e-3 decaying weights and embeddings (not "
    "biases), 1 500 steps of 64 sequences, 4 seeds"
)

CLAIMS = [
    Claim(
        name="token-frequency-bias/rare-tokens-hurt-more",
        statement="With weight decay λ = 1, the per-token test loss rises more for rare tokens: "
        "the slope of ℓ̄_k(λ) − ℓ̄_k(0) against log f_k has its 95 % interval over 4 seeds below "
        "0, while the same slope between two seeds at λ = 0 (the negative control) has an "
        "interval that contains 0. " + _SETUP,
        paper=PAPER + ", Sec. 4",
        expect=(
            Expectation("wd1_frequency_slope_ci_high", "<", 0.0),
            Expectation("control_frequency_slope_ci_low", "<", 0.0),
            Expectation("control_frequency_slope_ci_high", ">", 0.0),
        ),
        paper_value="qualitative (270M–3B models on IMDB): as λ grows, low-frequency tokens' "
        "loss rises more and they are learnt more slowly",
        known_fail="at λ = 1 rare tokens gain: slope +0.028 [-0.018, 0.075] on CPU, +0.031 "
        "[0.007, 0.055] in the committed store's run (rarest tenth -0.121, commonest +0.000; "
        "H200: +0.029 [-0.012, 0.070], its control interval [-0.011, -0.004] excluding 0 over "
        "3 overlapping seed pairs). The model sees each "
        "sequence 23 times and overfits the rare tokens' contexts, so decay regularises them; "
        "with 8× the data (n_train 32 768) rare tokens are hurt more at λ = 3 (slope -0.029 "
        "[-0.049, -0.009]) and, decaying every parameter, at λ = 1 (-0.035 [-0.043, -0.027]) "
        "— see docs/language.md",
        fast=False,
    ),
]
