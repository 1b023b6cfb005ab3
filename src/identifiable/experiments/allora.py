"""Claim: in a short fine-tuning budget, ALLoRA (no dropout, no α/r, a per-row adaptive learning
rate) fine-tunes further than LoRA; its B escapes 0 faster; with a long budget the two end close.

Huang & Balestriero (2024), "ALLoRA: Adaptive Learning Rate Mitigates LoRA Fatal Flaws",
arXiv:2410.09692: LoRA's dropout only pays off after long training, its zero-initialised B is slow
to leave 0, and its scale α/r ripples across layers. ALLoRA drops both and scales row i of
∂L/∂(BA) by c_i = 1/√(‖(BA)_{i,:}‖₂ + 1/η²) (§4.2, following Eqs. (4)–(5); the formula:
:mod:`identifiable.models.lora`; where it is applied under Adam: :mod:`identifiable.optim.allora`).
The paper reports small gains in short LLM fine-tuning (+0.3 % over LoRA on average, 2 epochs;
Table 2) and, in Fig. 5 (right), row norms of BA that "escape from 0 rapidly" at the speed of
LoRA with an η× larger learning rate.

World (CPU scale, stated): scikit-learn's 8×8 digits (:mod:`identifiable.worlds.digits`). Per seed
the 1 797 images are shuffled into ``n_pretrain`` pretraining images (natural), ``n_finetune``
fine-tuning, ``n_validation`` validation and the rest test images, all three shown as ``edges``
renditions (:func:`~identifiable.worlds.renditions.render`, a sketch-like gradient image) — the
same labels in another input world. Model: a ReLU MLP 64 → 128 → 128 → 10
(:func:`~identifiable.models.relu.relu_mlp`), pretrained full batch with AdamW on the natural
images. Fine-tuning: adapters of rank r on all three Linear layers
(:func:`~identifiable.models.lora.add_adapters`; everything else frozen), minibatches of
``batch_size`` in one seeded order shared by every arm, the same A init in every arm:

* LoRA: α = 2r (scale 2, peft's common r = 8, α = 16), dropout 0.05 (the paper's LoRA);
* ALLoRA: no α/r, no dropout, η² ∈ {1, 2, 4} (the paper's grid), with the factors applied as a
  per-row learning rate on the optimizer's update (``placement="update"``, the default: under
  AdamW the paper's gradient rule is divided out by m/√v) or in the gradient
  (``placement="gradient"``, the paper's rule as written, exact under SGD).

Each arm runs once for ``long_steps`` steps per learning rate of ``lrs`` and is read at
``short_steps`` (the short budget) and ``long_steps`` (the long budget). Best of grid per method,
per budget and per seed: the (lr, η²) with the highest validation accuracy (ties: lower validation
loss); its test accuracy is the method's. Paired differences ALLoRA − LoRA over seeds, with 95 %
Student-t intervals. ‖B‖_F (all adapters together) is recorded at every step up to
``escape_steps`` for the B = 0 escape.

Timing fine-tuning steps (LoRA, ALLoRA, full fine-tuning) for a benchmark: :func:`step_rate`.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from identifiable._validation import check
from identifiable.claims import Claim, Expectation
from identifiable.experiments._common import mean_interval
from identifiable.experiments._result import Result
from identifiable.metrics import declare
from identifiable.models.lora import adapters, add_adapters, trainable_parameters
from identifiable.models.relu import relu_mlp
from identifiable.optim.allora import ALLoRAUpdate
from identifiable.progress import Progress, no_progress
from identifiable.worlds.digits import N_DIGITS
from identifiable.worlds.renditions import RENDITIONS, render

SUMMARY = "ALLoRA vs LoRA in short and long fine-tuning budgets, and the B = 0 escape"
PAPER = (
    "Huang, Balestriero (2024), ALLoRA: Adaptive Learning Rate Mitigates LoRA Fatal Flaws, "
    "arXiv:2410.09692"
)

METHODS = ("lora", "allora")
OPTIMIZERS = ("adamw", "sgd")
PLACEMENTS = ("update", "gradient")
SPLIT_SEED_OFFSET = 7

declare(
    "b_norm_ratio",
    higher_is_better=None,
    bounds=(0.0, None),
    description="‖B‖_F under ALLoRA over ‖B‖_F under LoRA after the first fine-tuning steps",
)
declare(
    "selected_lr",
    higher_is_better=None,
    bounds=(0.0, None),
    kind="diagnostic",
    description="learning rate chosen on validation (geometric mean over seeds)",
)
declare(
    "top_lr_fraction",
    higher_is_better=None,
    kind="diagnostic",
    bounds=(0.0, 1.0),
    description="share of seeds whose chosen learning rate is the largest of the grid",
)
declare(
    "selected_eta2",
    higher_is_better=None,
    bounds=(0.0, None),
    kind="diagnostic",
    description="ALLoRA's η² chosen on validation (mean over seeds)",
)


@dataclass(frozen=True)
class Config:
    """Configuration of one ALLoRA-vs-LoRA run.

    rendition:       the fine-tuning world: ``edges`` or ``inverted`` renditions of the digits.
    n_pretrain:      natural images the MLP is pretrained on.
    n_finetune:      rendered images the adapters are fine-tuned on.
    n_validation:    rendered images that pick each method's (lr, η²) per budget; the rest of the
                     1 797 images are the test images.
    hidden:          hidden widths of the ReLU MLP.
    pretrain_steps:  full-batch AdamW steps of pretraining.
    pretrain_lr:     its learning rate.
    rank:            adapter rank r on every Linear layer.
    lora_dropout:    LoRA's dropout on the adapter input (the paper's LoRA: 0.05).
    eta2s:           ALLoRA's η² grid (the paper: 1, 2, 4).
    optimizer:       ``adamw`` (betas 0.9/0.999, no weight decay) or ``sgd`` (no momentum).
    placement:       where ALLoRA's factors go: ``update`` (a per-row learning rate on the
                     optimizer's step) or ``gradient`` (the paper's rule in the backward pass).
    lrs:             learning-rate grid, shared by both methods (ALLoRA's is the base rate l_b).
    batch_size:      fine-tuning minibatch size.
    short_steps:     the short budget (optimizer steps).
    long_steps:      the long budget (every arm runs this many steps; read at both budgets).
    escape_steps:    ‖B‖_F of the two methods is compared after this many steps.
    seeds:           splits, pretraining, adapter init and batch order; seed r uses seed + r.
    seed:            first seed.
    """

    rendition: str = "edges"
    n_pretrain: int = 600
    n_finetune: int = 500
    n_validation: int = 300
    hidden: tuple[int, ...] = (128, 128)
    pretrain_steps: int = 300
    pretrain_lr: float = 1e-2
    rank: int = 4
    lora_dropout: float = 0.05
    eta2s: tuple[float, ...] = (1.0, 2.0, 4.0)
    optimizer: str = "adamw"
    placement: str = "update"
    lrs: tuple[float, ...] = (3e-3, 1e-2, 3e-2, 1e-1)
    batch_size: int = 32
    short_steps: int = 50
    long_steps: int = 1000
    escape_steps: int = 10
    seeds: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        check(
            self,
            integers=("n_pretrain", "n_finetune", "n_validation", "pretrain_steps", "rank",
                      "batch_size", "short_steps", "long_steps", "escape_steps", "seeds",
                      "seed"),
            one_of={"rendition": RENDITIONS, "optimizer": OPTIMIZERS, "placement": PLACEMENTS},
            positive=("pretrain_lr",),
            at_least={"n_pretrain": 10, "n_finetune": 10, "n_validation": 10,
                      "pretrain_steps": 1, "rank": 1, "batch_size": 1, "short_steps": 1,
                      "escape_steps": 1, "seeds": 1, "seed": 0},
        )  # fmt: skip
        n_test = N_DIGITS - self.n_pretrain - self.n_finetune - self.n_validation
        if n_test < 10:
            raise ValueError(
                f"n_pretrain + n_finetune + n_validation must leave >= 10 of the {N_DIGITS} "
                f"images for testing, got {n_test}"
            )
        if self.long_steps < self.short_steps:
            raise ValueError(
                f"long_steps must be >= short_steps = {self.short_steps}, got {self.long_steps}"
            )
        if self.escape_steps > self.long_steps:
            raise ValueError(
                f"escape_steps must be <= long_steps = {self.long_steps}, got {self.escape_steps}"
            )
        if not self.lrs or any(not lr > 0 for lr in self.lrs):
            raise ValueError(f"lrs must be learning rates > 0, got {list(self.lrs)}")
        if not self.eta2s or any(not eta2 > 0 for eta2 in self.eta2s):
            raise ValueError(f"eta2s must be values of η² > 0, got {list(self.eta2s)}")
        if not 0 <= self.lora_dropout < 1:
            raise ValueError(f"lora_dropout must be in [0, 1), got {self.lora_dropout}")
        if any(w < self.rank for w in self.hidden) or self.rank > 10:
            raise ValueError(
                f"rank must be <= every layer's min(n_in, n_out) = "
                f"{min([*self.hidden, 10])}, got {self.rank}"
            )


@dataclass(frozen=True)
class Splits:
    """One seed's images: natural pretraining images, rendered fine-tuning/validation/test."""

    pretrain: tuple[torch.Tensor, torch.Tensor]
    finetune: tuple[torch.Tensor, torch.Tensor]
    validation: tuple[torch.Tensor, torch.Tensor]
    test: tuple[torch.Tensor, torch.Tensor]


def splits(cfg: Config, seed: int) -> Splits:
    """The seeded four-way split of the digits (module docstring)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = torch.as_tensor(data.data, dtype=torch.float32) / 16.0
    y = torch.as_tensor(data.target, dtype=torch.int64)
    order = torch.from_numpy(np.random.default_rng([seed, SPLIT_SEED_OFFSET]).permutation(len(x)))
    a = cfg.n_pretrain
    b = a + cfg.n_finetune
    c = b + cfg.n_validation
    shown = render(x, cfg.rendition)
    part = {name: order[lo:hi] for name, lo, hi in
            (("finetune", a, b), ("validation", b, c), ("test", c, len(x)))}  # fmt: skip
    return Splits(
        pretrain=(x[order[:a]], y[order[:a]]),
        **{name: (shown[rows], y[rows]) for name, rows in part.items()},
    )


def pretrain(cfg: Config, data: Splits, seed: int) -> nn.Sequential:
    """The MLP trained full batch with AdamW on the natural pretraining images."""
    model = relu_mlp(64, 10, tuple(cfg.hidden), generator=torch.Generator().manual_seed(seed))
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.pretrain_lr, weight_decay=0.0)
    x, y = data.pretrain
    for _ in range(cfg.pretrain_steps):
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    return model.eval()


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) in eval mode (no dropout)."""
    was_training = model.training
    model.eval()
    logits = model(x)
    model.train(was_training)
    accuracy = float((logits.argmax(1) == y).double().mean())
    return accuracy, float(F.cross_entropy(logits, y))


def adapted(
    pretrained: nn.Module, cfg: Config, method: str, eta2: float | None, seed: int
) -> nn.Module:
    """A copy of ``pretrained`` with the method's adapters on every Linear layer (A drawn from
    ``seed``: the same init in every arm of a seed)."""
    model = copy.deepcopy(pretrained)
    generator = torch.Generator().manual_seed(seed + 3)
    if method == "lora":
        add_adapters(model, "all", cfg.rank, dropout=cfg.lora_dropout, generator=generator)
    else:
        add_adapters(model, "all", cfg.rank, kind="allora", eta2=eta2, placement=cfg.placement,
                     generator=generator)  # fmt: skip
    return model.train()


def make_optimizer(model: nn.Module, cfg: Config, method: str, lr: float) -> torch.optim.Optimizer:
    """AdamW or SGD on the adapters; for ALLoRA with ``placement="update"`` wrapped in
    :class:`~identifiable.optim.allora.ALLoRAUpdate`."""
    parameters = trainable_parameters(model)
    if cfg.optimizer == "adamw":
        base: torch.optim.Optimizer = torch.optim.AdamW(parameters, lr=lr, weight_decay=0.0)
    else:
        base = torch.optim.SGD(parameters, lr=lr)
    if method == "allora" and cfg.placement == "update":
        return ALLoRAUpdate(base, adapters(model).values())
    return base


def b_norm(model: nn.Module) -> tuple[float, float]:
    """(‖B‖_F, ‖ΔW‖_F) over all adapters together (ΔW = (α/r) B A)."""
    layers = adapters(model).values()
    with torch.no_grad():
        b = sum(float(layer.B.pow(2).sum()) for layer in layers)
        delta = sum(float(layer.delta_weight().pow(2).sum()) for layer in layers)
    return math.sqrt(b), math.sqrt(delta)


def finetune(
    pretrained: nn.Module,
    cfg: Config,
    data: Splits,
    method: str,
    lr: float,
    eta2: float | None,
    seed: int,
) -> list[dict[str, float]]:
    """One arm: ``long_steps`` minibatch steps; a row at every step up to ``escape_steps`` (‖B‖)
    and at the evaluation steps (‖B‖, validation and test accuracy and loss)."""
    model = adapted(pretrained, cfg, method, eta2, seed)
    optimizer = make_optimizer(model, cfg, method, lr)
    x, y = data.finetune
    batches = torch.Generator().manual_seed(seed + 5)
    evaluated = evaluation_steps(cfg)
    rows = []
    order = torch.empty(0, dtype=torch.int64)
    for step in range(cfg.long_steps + 1):
        if step <= cfg.escape_steps or step in evaluated:
            norm, delta = b_norm(model)
            row = {"step": step, "b_norm": norm, "delta_norm": delta}
            if step in evaluated:
                for split in ("validation", "test"):
                    accuracy, loss = evaluate(model, *getattr(data, split))
                    row |= {f"{split}_accuracy": accuracy, f"{split}_loss": loss}
            rows.append(row)
        if step == cfg.long_steps:
            break
        if len(order) < cfg.batch_size:
            order = torch.cat([order, torch.randperm(len(x), generator=batches)])
        rows_now, order = order[: cfg.batch_size], order[cfg.batch_size :]
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x[rows_now]), y[rows_now])
        loss.backward()
        optimizer.step()
        if not math.isfinite(loss.item()):
            break  # a diverged arm: its later rows are missing, never selected
    return rows


def evaluation_steps(cfg: Config) -> set[int]:
    """0, the two budgets and a log-spaced set between (for the curves)."""
    points = np.unique(np.round(np.logspace(0, np.log10(cfg.long_steps), 12))).astype(int)
    return {0, cfg.short_steps, cfg.long_steps, *(int(p) for p in points)}


def arms(cfg: Config) -> list[tuple[str, float, float | None]]:
    """(method, lr, η²) of every arm: LoRA per lr, ALLoRA per lr and η²."""
    lora = [("lora", lr, None) for lr in cfg.lrs]
    return lora + [("allora", lr, eta2) for eta2 in cfg.eta2s for lr in cfg.lrs]


def run(cfg: Config, *, progress: Progress = no_progress) -> Result:
    """Every seed: pretrain, then fine-tune every arm; summarise best-of-grid per budget."""
    rows, extra = [], []
    grid = arms(cfg)
    total = cfg.seeds * len(grid)
    for r in range(cfg.seeds):
        seed = cfg.seed + r
        data = splits(cfg, seed)
        pretrained = pretrain(cfg, data, seed)
        natural = evaluate(pretrained, *_natural_test(data, cfg, seed))[0]
        extra.append({"natural": natural, "rendered": evaluate(pretrained, *data.test)[0]})
        for method, lr, eta2 in grid:
            for row in finetune(pretrained, cfg, data, method, lr, eta2, seed):
                rows.append({"seed": seed, "method": method, "lr": lr,
                             "eta2": np.nan if eta2 is None else eta2,
                             "short_steps": cfg.short_steps,
                             "escape_steps": cfg.escape_steps, **row})  # fmt: skip
            progress(len({(x["seed"], x["method"], x["lr"], x["eta2"]) for x in rows}), total,
                     method=method, lr=lr)  # fmt: skip
    curves = pd.DataFrame(rows)
    metrics = summarise(curves, cfg.short_steps, cfg.long_steps, cfg.escape_steps)
    metrics["pretrained_natural_test_accuracy"] = float(np.mean([e["natural"] for e in extra]))
    metrics["pretrained_test_accuracy"] = float(np.mean([e["rendered"] for e in extra]))
    return Result(metrics=metrics, curves=curves)


def _natural_test(data: Splits, cfg: Config, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The test images as natural digits (how well pretraining went, before the shift)."""
    from sklearn.datasets import load_digits

    raw = load_digits()
    x = torch.as_tensor(raw.data, dtype=torch.float32) / 16.0
    order = np.random.default_rng([seed, SPLIT_SEED_OFFSET]).permutation(len(x))
    rows = torch.from_numpy(order[cfg.n_pretrain + cfg.n_finetune + cfg.n_validation :])
    return x[rows], data.test[1]


def select(curves: pd.DataFrame, step: int) -> pd.DataFrame:
    """Per seed and method, the arm with the best validation accuracy at ``step`` (ties: lower
    validation loss, then the smaller lr and η²); one row each."""
    at = curves[(curves["step"] == step) & curves["validation_accuracy"].notna()]
    at = at.assign(eta2_key=at["eta2"].fillna(0.0))
    ranked = at.sort_values(
        ["seed", "method", "validation_accuracy", "validation_loss", "lr", "eta2_key"],
        ascending=[True, True, False, True, True, True],
    )
    return ranked.groupby(["seed", "method"], as_index=False).first().drop(columns="eta2_key")


def summarise(
    curves: pd.DataFrame, short_steps: int, long_steps: int, escape_steps: int
) -> dict[str, float]:
    """Per budget: each method's best-of-grid test accuracy and loss (means over seeds), the
    paired ALLoRA − LoRA differences with 95 % intervals, and the chosen lr / η²; the ‖B‖_F
    ratio ALLoRA / LoRA after ``escape_steps`` for the arms chosen at the short budget (paired
    interval) and at matched learning rates (every lr and η², geometric mean).
    ``*_top_lr_fraction``: how often the chosen lr is the largest of the grid."""
    metrics: dict[str, float] = {}
    chosen = {}
    for budget, step in (("short", short_steps), ("long", long_steps)):
        best = select(curves, step)
        chosen[budget] = best
        by = {m: best[best["method"] == m].set_index("seed").sort_index() for m in METHODS}
        for method in METHODS:
            table = by[method]
            metrics[f"{budget}_{method}_test_accuracy"] = float(table["test_accuracy"].mean())
            metrics[f"{budget}_{method}_test_loss"] = float(table["test_loss"].mean())
            metrics[f"{budget}_{method}_selected_lr"] = float(np.exp(np.log(table["lr"]).mean()))
            top = float((table["lr"] == curves["lr"].max()).mean())
            metrics[f"{budget}_{method}_top_lr_fraction"] = top
        metrics[f"{budget}_allora_selected_eta2"] = float(by["allora"]["eta2"].mean())
        for column in ("test_accuracy", "test_loss"):
            difference = by["allora"][column] - by["lora"][column]
            mean, lo, hi = mean_interval(list(difference.dropna()))
            metrics |= {f"{budget}_{column}_gain": mean, f"{budget}_{column}_gain_ci_low": lo,
                        f"{budget}_{column}_gain_ci_high": hi}  # fmt: skip
    at = curves[curves["step"] == escape_steps]
    keys = ["seed", "method", "lr", "eta2"]
    picked = chosen["short"].merge(at[keys + ["b_norm"]], on=keys, suffixes=("_budget", ""))
    norms = picked.pivot(index="seed", columns="method", values="b_norm")
    mean, lo, hi = mean_interval(list(norms["allora"] / norms["lora"]))
    metrics |= {"escape_b_norm_ratio": mean, "escape_b_norm_ratio_ci_low": lo,
                "escape_b_norm_ratio_ci_high": hi}  # fmt: skip
    lora = at[at["method"] == "lora"].set_index(["seed", "lr"])["b_norm"]
    allora = at[at["method"] == "allora"].set_index(["seed", "lr"])
    ratios = allora["b_norm"] / lora.reindex(allora.index).to_numpy()
    metrics["escape_same_lr_b_norm_ratio"] = float(np.exp(np.log(ratios).mean()))
    return metrics


def step_rate(
    method: str = "lora",
    *,
    steps: int = 200,
    batch_size: int = 32,
    hidden: tuple[int, ...] = (128, 128),
    rank: int = 4,
    optimizer: str = "adamw",
    placement: str = "update",
) -> float:
    """Fine-tuning steps per second of one method on random digit-shaped data (for benchmarks):
    ``"full"`` (every weight trainable), ``"lora"`` (dropout 0.05, α = 2r) or ``"allora"``
    (η² = 4, ``placement``); after 10 warm-up steps. Compare as ratios against ``"full"``."""
    if method not in ("full", *METHODS):
        raise ValueError(f"method must be one of full, lora, allora, got {method!r}")
    cfg = Config(hidden=hidden, rank=rank, optimizer=optimizer, placement=placement,
                 batch_size=batch_size, seeds=1)  # fmt: skip
    generator = torch.Generator().manual_seed(0)
    model = relu_mlp(64, 10, tuple(hidden), generator=generator)
    if method == "full":
        parameters = list(model.parameters())
        opt: torch.optim.Optimizer = (
            torch.optim.AdamW(parameters, lr=1e-3, weight_decay=0.0)
            if optimizer == "adamw"
            else torch.optim.SGD(parameters, lr=1e-3)
        )
    else:
        model = adapted(model, cfg, method, 4.0 if method == "allora" else None, 0)
        opt = make_optimizer(model, cfg, method, 1e-3)
    x = torch.rand(batch_size, 64, generator=generator)
    y = torch.randint(0, 10, (batch_size,), generator=generator)

    def one() -> None:
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(10):
        one()
    start = time.perf_counter()
    for _ in range(steps):
        one()
    return steps / (time.perf_counter() - start)


def figures(curves: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Left: ‖B‖_F over the first steps (arms chosen at the short budget). Right: best-of-grid
    test accuracy at each evaluation step (the arm chosen there on validation). 95 % intervals
    over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not {"b_norm", "validation_accuracy", "short_steps", "escape_steps"} <= set(curves):
        return []
    evaluated = sorted(set(curves.loc[curves["validation_accuracy"].notna(), "step"]))
    short = int(curves["short_steps"].iloc[0])
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    first = curves[curves["step"] <= curves["escape_steps"]]
    keys = ["seed", "method", "lr", "eta2"]
    for method, colour in zip(METHODS, ("C0", "C1"), strict=True):
        chosen = select(curves, short)
        chosen = chosen[chosen["method"] == method][keys]
        trace = first.merge(chosen, on=keys)
        stats = trace.groupby("step")["b_norm"].agg(list)
        means = [mean_interval(v) for v in stats]
        left.plot(stats.index, [m[0] for m in means], color=colour, label=method)
        accuracy = []
        for step in evaluated:
            best = select(curves, step)
            accuracy.append(mean_interval(list(best[best["method"] == method]["test_accuracy"])))
        low = [a[1] if np.isfinite(a[1]) else a[0] for a in accuracy]
        high = [a[2] if np.isfinite(a[2]) else a[0] for a in accuracy]
        right.plot(evaluated, [a[0] for a in accuracy], marker="o", color=colour, label=method)
        right.fill_between(evaluated, low, high, color=colour, alpha=0.15)
    left.set_xlabel("fine-tuning step")
    left.set_ylabel("‖B‖_F (all adapters)")
    left.legend(fontsize=7)
    right.set_xscale("symlog", linthresh=1)
    right.set_xlabel("fine-tuning steps (budget)")
    right.set_ylabel("best-of-grid test accuracy")
    right.legend(fontsize=7)
    fig.tight_layout()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "allora.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


SGD_LRS = (0.01, 0.02, 0.04, 0.08)
_SETUP = (
    "digits 8×8: MLP 64-128-128-10 pretrained on 600 natural images; adapters (r = 4, all three "
    "Linear layers) fine-tuned on 500 edge renditions, minibatches of 32; LoRA α = 2r, dropout "
    "0.05; ALLoRA η² ∈ {1, 2, 4}, no dropout; best of grid per method on 300 validation images, "
    "judged on 397 test images; seeds 0–4 (paired); "
)
_ADAMW = (
    _SETUP + "AdamW, lr grid {0.003, 0.01, 0.03, 0.1}, ALLoRA's factors as a per-row learning "
    "rate on the update"
)
_SGD = (
    _SETUP + "plain SGD, lr grid {0.01, 0.02, 0.04, 0.08} (0.08 diverged for LoRA on the pilot "
    "seed), ALLoRA's "
    "factors in the gradient exactly as the paper writes them"
)
_SGD_OVERRIDES = {"optimizer": "sgd", "placement": "gradient", "lrs": SGD_LRS}
_PAPER_SHORT = "+0.3 % accuracy over LoRA on average after 2 epochs (Table 2, LLMs, 5 runs)"
_PAPER_ESCAPE = (
    "ALLoRA's BA row norms escape 0 rapidly, like LoRA at an η× larger lr (Fig. 5 right)"
)
_PAPER_LONG = "not stated; LoRA's dropout pays off only after long fine-tuning (§3.4, Table 5)"


# verdicts that flip with float-level noise (the torch thread count swaps near-tied arms in the
# best-of-grid selection): shown beside the verdict, whatever it is (Claim.fragile)
_FRAGILE = {
    "short": "float-level noise (the torch thread count) flips the best-of-grid choice between "
    "near-tied arms — interval low +0.039 with 1 thread (per seed +0.063, +0.076, +0.040, +0.045, "
    "+0.081), +0.010 with 2 threads, −0.009 in an earlier run",
    "escape": "interval low 0.54 with 1 torch thread (per seed 3.27, 1.31, 1.11, 1.36, 1.25), "
    "1.04 with 2 threads, 0.997 in an earlier run: the verdict flips with float-level noise in "
    "the arm selection; at matched lr 1.26",
    "short-sgd": "interval low +0.010 with 1 torch thread (per seed +0.043, +0.078, +0.086, "
    "+0.028, +0.013), −0.013 in an earlier run (near-tied arms)",
}
# fails in every measurement so far
_KNOWN_FAIL = {
    "escape-sgd": "interval low 0.05 with 1 torch thread (per seed 1.62, 1.70, 1.69, 1.69, "
    "6.25: one outlier widens the 5-seed interval), 0.97 in an earlier run; at matched lr 0.58: "
    "LoRA's α/r = 2 doubles its gradients, ALLoRA's c_i ≤ η ≤ 2",
}


def _claims(tag: str, setup: str, overrides: dict) -> list[Claim]:
    return [
        Claim(
            name=f"allora/short-budget-gain{tag}",
            statement="After a short budget (50 steps) ALLoRA's best-of-grid test accuracy is "
            "above LoRA's: paired ALLoRA − LoRA difference, 95 % interval above 0. " + setup,
            paper=PAPER,
            overrides=dict(overrides),
            expect=(Expectation("short_test_accuracy_gain_ci_low", ">", 0.0),),
            paper_value=_PAPER_SHORT,
            known_fail=_KNOWN_FAIL.get("short" + tag, ""),
            fragile=_FRAGILE.get("short" + tag, ""),
        ),
        Claim(
            name=f"allora/b-escapes-zero-faster{tag}",
            statement="Over the first 10 steps ‖B‖_F (all adapters) grows faster under ALLoRA "
            "than under LoRA, each at the arm chosen for the short budget: the paired ratio "
            "ALLoRA / LoRA after 10 steps, 95 % interval above 1. " + setup,
            paper=PAPER,
            overrides=dict(overrides),
            expect=(Expectation("escape_b_norm_ratio_ci_low", ">", 1.0),),
            paper_value=_PAPER_ESCAPE,
            known_fail=_KNOWN_FAIL.get("escape" + tag, ""),
            fragile=_FRAGILE.get("escape" + tag, ""),
        ),
        Claim(
            name=f"allora/long-budget-close{tag}",
            statement="Control: after a long budget (1 000 steps) the two methods end close: "
            "mean paired test-accuracy difference within ±0.02. " + setup,
            paper=PAPER,
            overrides=dict(overrides),
            expect=(Expectation("long_test_accuracy_gain", "between", -0.02, 0.02),),
            paper_value=_PAPER_LONG,
            control=True,
        ),
    ]


CLAIMS = _claims("", _ADAMW, {}) + _claims("-sgd", _SGD, _SGD_OVERRIDES)
