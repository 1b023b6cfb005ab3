"""Claim: a CLIP-like model's performance on concept combinations it never saw in pretraining is
predicted by the pretraining frequencies of the single concepts — best by their geometric mean.

Wiedemer, Sharma, Prabhu, Bethge, Brendel (2025), "Pretraining Frequency Predicts Compositional
Generalization of CLIP on Real-World Tasks", arXiv:2502.18326: retrieval on samples whose object
combination never occurs in the pretraining data is near-linear in the log of the geometric
mean of the objects' pretraining frequencies.

Checked on a model that is actually trained (not a formula that composes by construction):
:class:`~identifiable.worlds.concept_scenes.ConceptScenes` — two-object sprite scenes, 20
concepts (4 shapes × 5 colours) with Zipfian frequencies, 40 of the 190 concept pairs never
shown — and :class:`~identifiable.learners.two_tower.TwoTowerContrastive` (a CNN image tower, a
bag-of-concepts text tower, symmetric InfoNCE) pretrained on it. Evaluation: scenes of every
held-out pair; per pair, the share of its scenes whose best-matching caption among all 190 pair
captions is its own (image → text top-1 retrieval; chance 1/190). Fit
(:func:`~identifiable.analysis.frequency.frequency_fit`): per-pair performance against the log of
the geometric mean, min, max and arithmetic mean of its two concepts' exact pretraining
frequencies, pooled over seeds (each seed its own frequency ranks, held-out pairs and model),
bootstrap over pairs. Control: the same with uniform frequencies (``zipf`` 0).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from identifiable._validation import check
from identifiable.analysis.frequency import frequency_fit
from identifiable.claims import Claim, Expectation
from identifiable.experiments._result import Result
from identifiable.learners.two_tower import TwoTowerContrastive
from identifiable.metrics import declare
from identifiable.progress import Progress, no_progress, subspan
from identifiable.worlds.base import seeded_generator
from identifiable.worlds.concept_scenes import ConceptScenes

SUMMARY = "Concept frequency predicts compositional retrieval (arXiv:2502.18326)"
PAPER = "Wiedemer, Sharma, Prabhu, Bethge, Brendel (2025), arXiv:2502.18326"

declare("r2", higher_is_better=True, bounds=(0.0, 1.0), description="R² of a least-squares fit")
declare(
    "spread_ratio",
    higher_is_better=None,
    bounds=(0.0, None),
    description="SD of per-pair performance with uniform frequencies over that with Zipfian ones",
)


@dataclass(frozen=True)
class Config:
    """Configuration of one concept-frequency run.

    zipf:         Zipf exponents run (the first is the claim's; 0 = uniform, the control).
                  2 spreads the 20 concepts' frequencies over 400× (web concept frequencies span
                  orders of magnitude); the pilot at 1 spread them 20× only.
    n_held_out:   concept pairs never shown in pretraining.
    image_size:   scene side in pixels.
    steps:        pretraining steps (Adam, batch ``batch_size``).
    batch_size:   image–caption pairs per step.
    lr:           Adam learning rate.
    temperature:  InfoNCE temperature.
    dim:          joint embedding dimension.
    per_pair:     evaluation scenes per held-out pair.
    n_bootstrap:  bootstrap resamples of the fits.
    seeds:        models per Zipf exponent; seed r uses seed + r for the world and the model.
    seed:         first seed.
    """

    zipf: tuple[float, ...] = (2.0, 0.0)
    n_held_out: int = 40
    image_size: int = 32
    steps: int = 1000
    batch_size: int = 256
    lr: float = 1e-3
    temperature: float = 0.1
    dim: int = 64
    per_pair: int = 40
    n_bootstrap: int = 1000
    seeds: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        check(
            self,
            positive=("lr", "temperature"),
            at_least={
                "n_held_out": 3,
                "image_size": 8,
                "steps": 1,
                "batch_size": 2,
                "dim": 1,
                "per_pair": 1,
                "n_bootstrap": 0,
                "seeds": 1,
                "seed": 0,
            },  # fmt: skip
        )
        if not self.zipf or any(z < 0 for z in self.zipf):
            raise ValueError(f"zipf must be exponents >= 0, got {list(self.zipf)}")
        ConceptScenes(image_size=self.image_size, n_held_out=self.n_held_out)  # validates


def retrieval(learner: TwoTowerContrastive, world: ConceptScenes, per_pair: int,
              seed: int) -> np.ndarray:  # fmt: skip
    """Per held-out pair: share of its scenes whose top caption (of all pairs) is its own."""
    pairs = list(itertools.combinations(range(world.n_concepts), 2))
    captions = learner.embed_captions(torch.as_tensor(pairs))
    position = {p: i for i, p in enumerate(pairs)}
    held = world.held_out_pairs
    scenes = world.scenes_of(held, per_pair, generator=seeded_generator(seed, 5))
    best = (learner.transform(scenes.x) @ captions.T).argmax(axis=1)
    truth = np.repeat([position[p] for p in held], per_pair)
    return (best == truth).reshape(len(held), per_pair).mean(axis=1)


def run(cfg: Config, *, progress: Progress = no_progress) -> Result:
    """Pretrain per Zipf exponent × seed, score every held-out pair, fit the frequency laws."""
    rows = []
    jobs = list(itertools.product(cfg.zipf, range(cfg.seeds)))
    for i, (zipf, r) in enumerate(jobs):
        seed = cfg.seed + r
        world = ConceptScenes(image_size=cfg.image_size, zipf=zipf, n_held_out=cfg.n_held_out,
                              seed=seed)  # fmt: skip
        learner = TwoTowerContrastive(
            dim=cfg.dim, temperature=cfg.temperature, batch_size=cfg.batch_size, lr=cfg.lr,
            steps=cfg.steps, eval_every=max(1, cfg.steps // 5), random_state=seed,
        )  # fmt: skip
        learner.fit(world, progress=subspan(progress, i * cfg.steps, len(jobs) * cfg.steps))
        performance = retrieval(learner, world, cfg.per_pair, seed)
        f = world.frequencies
        for (a, b), value in zip(world.held_out_pairs, performance, strict=True):
            rows.append({"zipf": zipf, "seed": seed, "a": a, "b": b, "performance": value,
                         "frequency_a": f[a], "frequency_b": f[b],
                         "final_loss": learner.history_[-1]["loss"]})  # fmt: skip
    curves = pd.DataFrame(rows)
    return Result(metrics=summarise(curves, cfg.n_bootstrap), curves=curves)


def _fit(part: pd.DataFrame, n_bootstrap: int):
    concepts = [[f"{s}:{a}", f"{s}:{b}"] for s, a, b in zip(part["seed"], part["a"], part["b"],
                                                               strict=True)]  # fmt: skip
    frequencies = {}
    for s, a, b, fa, fb in part[["seed", "a", "b", "frequency_a", "frequency_b"]].itertuples(
        index=False
    ):
        frequencies[f"{s}:{a}"], frequencies[f"{s}:{b}"] = fa, fb
    return frequency_fit(concepts, frequencies, part["performance"].to_numpy(),
                         n_bootstrap=n_bootstrap)  # fmt: skip


def summarise(curves: pd.DataFrame, n_bootstrap: int = 1000) -> dict[str, float]:
    """Per Zipf exponent: mean and SD of per-pair performance and every predictor's R² (with
    intervals); the geometric mean's R² advantages; the spread ratio uniform / first exponent."""
    metrics: dict[str, float] = {}
    exponents = list(dict.fromkeys(curves["zipf"]))
    for zipf in exponents:
        part = curves[curves["zipf"] == zipf]
        tag = f"zipf{zipf:g}"
        metrics[f"{tag}_performance_mean"] = float(part["performance"].mean())
        metrics[f"{tag}_performance_sd"] = float(part["performance"].std(ddof=1))
        if part["frequency_a"].nunique() > 1 or part["frequency_b"].nunique() > 1:
            table, summary = _fit(part, n_bootstrap)
            for row in table.itertuples(index=False):
                metrics[f"{tag}_{row.aggregate}_r2"] = row.r2
                metrics[f"{tag}_{row.aggregate}_r2_ci_low"] = row.r2_ci_low
                metrics[f"{tag}_{row.aggregate}_slope"] = row.slope
            metrics |= {f"{tag}_{k}": v for k, v in summary.items() if k != "samples"}
    uniform = [z for z in exponents if z == 0]
    if uniform and exponents[0] != 0:
        reference = metrics[f"zipf{exponents[0]:g}_performance_sd"]
        # no spread to compare with (every pair scored alike): not a collapse, NaN fails the claim
        metrics["spread_ratio"] = (
            metrics["zipf0_performance_sd"] / reference if reference > 0 else float("nan")
        )
    return metrics


def figures(curves: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Per-pair performance against the log geometric mean (and min, max) of the pair's concept
    frequencies, Zipfian run; the uniform control beside it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if "performance" not in curves:
        return []
    fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.3), sharey=True)
    zipfian = curves[curves["zipf"] > 0]
    gm = np.sqrt(zipfian["frequency_a"] * zipfian["frequency_b"])
    low = np.minimum(zipfian["frequency_a"], zipfian["frequency_b"])
    high = np.maximum(zipfian["frequency_a"], zipfian["frequency_b"])
    for ax, (label, x) in zip(axes, (("geometric mean", gm), ("min", low), ("max", high)),
                              strict=True):  # fmt: skip
        ax.scatter(x, zipfian["performance"], s=10, c=zipfian["seed"], cmap="viridis",
                   label="Zipfian frequencies")  # fmt: skip
        if label == "geometric mean":
            uniform = curves[curves["zipf"] == 0]
            if not uniform.empty:
                ux = np.sqrt(uniform["frequency_a"] * uniform["frequency_b"])
                ax.scatter(ux, uniform["performance"], s=10, c="C3", marker="x",
                           label="uniform (control)")  # fmt: skip
            ax.legend(fontsize=7)
        ax.set_xscale("log")
        ax.set_xlabel(f"{label} of the pair's concept frequencies")
    axes[0].set_ylabel("held-out pair: top-1 retrieval")
    fig.tight_layout()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "concept_frequency.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


_SETUP = (
    "two-object 32×32 sprite scenes, 20 concepts (4 shapes × 5 colours), Zipf exponent 2, 40 of "
    "190 pairs held out; CNN + bag-of-concepts towers, InfoNCE τ 0.1, 1 000 Adam steps of 256 "
    "pairs; 40 scenes per held-out pair; seeds 0–2 pooled"
)
CLAIMS = [
    Claim(
        name="concept-frequency/geometric-mean-predicts",
        statement="Top-1 retrieval on concept pairs never seen in pretraining is predicted by the "
        "log geometric mean of the two concepts' pretraining frequencies: R² ≥ 0.5. " + _SETUP,
        paper=PAPER,
        expect=(Expectation("zipf2_geometric_mean_r2", ">=", 0.5),),
        paper_value="near-linear relation, R² > 0.9 (reported for CLIP models; unverified here)",
        fast=False,
        known_fail="measured R² 0.040 (interval low 0.001) over 120 held-out pairs of 3 models: "
        "per-pair retrieval spreads widely (SD 0.265) but not with frequency — which pairs are "
        "confusable (similar hues or shapes at 32 px) decides; with Zipf 2 most batches repeat "
        "the common captions (false negatives for InfoNCE), the models stay at loss 3.4–3.5 "
        "(uniform: 1.5) and mean retrieval 0.23 (uniform 0.67)",
    ),
    Claim(
        name="concept-frequency/geometric-mean-beats-min-and-max",
        statement="The geometric mean predicts better than the rarer or the commoner concept's "
        "frequency alone: R²(gm) − R²(min) and R²(gm) − R²(max) have 95 % bootstrap intervals "
        "above 0. " + _SETUP,
        paper=PAPER,
        expect=(
            Expectation("zipf2_gm_minus_min_ci_low", ">", 0.0),
            Expectation("zipf2_gm_minus_max_ci_low", ">", 0.0),
        ),
        paper_value="the geometric mean of the constituents' frequencies is the predictor",
        fast=False,
        known_fail="measured R²: gm 0.040, min 0.021, max 0.027; differences 0.020 [−0.061, "
        "0.094] and 0.013 [−0.026, 0.069] — no predictor explains the per-pair spread here "
        "(the pilot, seed 100, had min 0.16 ahead of gm 0.001)",
    ),
    Claim(
        name="concept-frequency/uniform-control",
        statement="Control: with uniform concept frequencies the spread of performance across "
        "held-out pairs collapses — its SD is at most half the Zipfian run's. " + _SETUP,
        paper=PAPER,
        expect=(Expectation("spread_ratio", "<=", 0.5),),
        paper_value="(frequency differences drive the differences in performance)",
        control=True,
        fast=False,
        known_fail="measured spread ratio 0.816 (SD 0.216 uniform vs 0.265 Zipfian): the spread "
        "is mostly not frequency's, consistent with the two FAILs above",
    ),
]
