"""Claim: a Transformer-VAE whose decoder's cross-slot interactions are penalised learns objects —
each pixel depends on one slot — without an explicit object-centric decoder.

Brady, von Kügelgen, Lachapelle, Buchholz, Kipf, Brendel (2024), "Interaction Asymmetry: A
General Principle for Learning Composable Abstractions", arXiv:2411.07784 (NeurIPS 2024 CRL
workshop; cited as ICLR 2025); official code JackBrady/interaction-asymmetry (read for the facts).

Principle: parts of one concept interact more than parts of different concepts — block-diagonal
(n+1)-th derivatives of the generator across concept blocks (proved up to n = 2). Recipe: a slot
encoder, a Transformer decoder whose pixel queries cross-attend to the slots, and the loss
reconstruction + β·KL + α·L_int, L_int the pixels' attention spread over pairs of slots
(:mod:`identifiable.losses.interaction`).

World (:class:`identifiable.worlds.object_scenes.ObjectScenesWorld`): scenes of 2–3 sprites at
32×32 with their visible masks. Variants (:class:`identifiable.learners.interaction_autoencoder.
InteractionAutoencoder`, K = objects + 1 slots as the reference): ``regularized`` (Transformer
decoder, α = β = 0.05, the reference's README), ``unregularized`` (the same decoder, α = β = 0),
``broadcast`` (the same encoder, a spatial-broadcast decoder — the explicit object-centric
prior — α = β = 0). Metrics (:mod:`identifiable.metrics.slot_masks`) on ``eval_scenes`` test
scenes: reconstruction MSE (per pixel and channel), J-ARI and JIS of the decoder's slot
Jacobians, ARI of the decoder's own masks (attention / alpha masks), and L_int. ``seeds`` > 1
repeats ``regularized`` and ``unregularized`` and reports the mean gain of each metric with a
95 % t-interval; ``alphas`` trains the regularised model once per α (seed 0) for the J-ARI/JIS
vs α figure.

Reference setting: 4-object 64×64 Sprites (100 000 images), 5 slots of 32, decoder proj 516 /
query 180 / 12 heads / 2 layers, batch 64, 500 000 steps, lr 5e-4 (10 000 warm-up), α warm-up
25 000 steps, on a GPU (3.2·10⁷ images seen). CPU scaling (ours): 2 objects, 32×32, 5 000
training scenes, 3 slots of 16, decoder proj 96 / query 32 / 12 heads (as the reference: L_int
sums over heads) / 2 layers, encoder convolutions with two stride-2 steps (8×8 tokens), 2 000
steps of batch 32 (the reference's warm-ups in proportion: lr 40 steps, α 100) — 6.4·10⁴
images, 1/500 of the reference's — and slot queries drawn from N(0, 1) instead of the
reference's U[0, 1): with those, the encoder's slots were still nearly identical after 300 steps
(cosine 0.99) and every pixel attended evenly to all slots (L_int 47.99 of its maximum 48 after
2 000 steps); from N(0, 1), cosine 0.01–0.73 and L_int 46.6 after 300 steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch

from identifiable._validation import check
from identifiable.claims import Claim, Expectation
from identifiable.experiments._common import mean_interval
from identifiable.experiments._result import Result
from identifiable.learners.interaction_autoencoder import InteractionAutoencoder
from identifiable.losses.interaction import cross_attention_interaction
from identifiable.metrics._registry import declare
from identifiable.metrics.reconstruction import reconstruction_mse, reconstruction_r2
from identifiable.metrics.slot_masks import (
    ari,
    j_ari,
    jacobian_interaction_score,
    normalized_slot_jacobians,
    slot_jacobian_norms,
)
from identifiable.progress import Progress, no_progress, subspan
from identifiable.worlds.object_scenes import ObjectScenesWorld

SUMMARY = (
    "Interaction asymmetry: a penalised Transformer decoder learns objects (Brady et al. 2024)"
)
PAPER = "Brady, von Kügelgen, Lachapelle, Buchholz, Kipf, Brendel (2024), arXiv:2411.07784"
VARIANTS = ("regularized", "unregularized", "broadcast")
SCORES = ("j_ari", "jacobian_interaction_score", "ari", "reconstruction_mse")
EXAMPLES = 3  # scenes kept for the figure

declare(
    "interaction",
    higher_is_better=False,
    bounds=(0.0, None),
    description="L_int: mean over pixels of Σ_{i<j} A_i A_j of the decoder's cross-attention",
)
declare(
    "reconstruction_mse_ratio",
    higher_is_better=False,
    bounds=(0.0, None),
    description="reconstruction MSE of the regularised model / the unregularised model's",
)


@dataclass(frozen=True)
class Config:
    """Configuration of one interaction-asymmetry run.

    variants:      which of ``regularized``, ``unregularized``, ``broadcast`` to train.
    seeds:         seeds of ``regularized`` and ``unregularized`` (gains' 95 % intervals need ≥ 2).
    alphas:        if set, also train ``regularized`` once per α (seed 0) for the α figure.
    alpha, beta:   the regularised model's interaction and KL weights (reference 0.05, 0.05).
    n_objects:     sprites per scene.
    n_slots:       K; 0 = n_objects + 1 (a slot for the background, as the reference).
    image_size:    canvas side (a power of 2, ≥ 16).
    slot_dim:      latents per slot.
    width, proj, query, heads, encoder_heads, layers, channels: network sizes (learner
                   docstring; 12 decoder heads as the reference: L_int sums over heads).
    query_init:    the encoder's slot queries: ``normal`` N(0, 1) or ``uniform`` U[0, 1) (the
                   reference; at our step count its slots stay nearly identical).
    n_train:       training scenes.
    eval_scenes:   test scenes scored (the Jacobian metrics cost K·d forward passes each).
    steps:         optimiser steps.
    batch_size:    scenes per step.
    lr:            Adam's learning rate.
    lr_warmup:     linear lr warm-up steps; 0 = 2 % of the steps (the reference: 10 000 of
                   500 000).
    alpha_warmup:  linear α warm-up steps; 0 = 5 % of the steps (the reference: 25 000 of
                   500 000).
    seed:          the world and the first learner seed.
    device:        ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
    """

    variants: tuple[str, ...] = VARIANTS
    seeds: int = 1
    alphas: tuple[float, ...] = ()
    alpha: float = 0.05
    beta: float = 0.05
    n_objects: int = 2
    n_slots: int = 0
    image_size: int = 32
    slot_dim: int = 16
    width: int = 64
    proj: int = 96
    query: int = 32
    heads: int = 12
    encoder_heads: int = 4
    query_init: Literal["normal", "uniform"] = "normal"
    layers: int = 2
    channels: int = 32
    n_train: int = 5000
    eval_scenes: int = 64
    steps: int = 2000
    batch_size: int = 32
    lr: float = 5e-4
    lr_warmup: int = 0
    alpha_warmup: int = 0
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"

    def __post_init__(self) -> None:
        check(
            self,
            positive=("lr",),
            one_of={"query_init": ("normal", "uniform")},
            at_least={
                "seeds": 1, "alpha": 0.0, "beta": 0.0, "n_objects": 1, "n_slots": 0,
                "slot_dim": 1, "width": 1, "proj": 1, "query": 1, "heads": 1, "encoder_heads": 1,
                "layers": 1,
                "channels": 1, "n_train": 1, "eval_scenes": 2, "steps": 1, "batch_size": 1,
                "lr_warmup": 0, "alpha_warmup": 0,
            },
        )  # fmt: skip
        unknown = set(self.variants) - set(VARIANTS)
        if unknown or not self.variants:
            raise ValueError(
                f"variants must be some of {', '.join(VARIANTS)}, got {list(self.variants)}"
            )
        if any(not (isinstance(a, int | float) and a >= 0) for a in self.alphas):
            raise ValueError(f"alphas must be numbers >= 0, got {list(self.alphas)}")
        if self.slots < self.n_objects:
            raise ValueError(
                f"n_slots ({self.n_slots}) must be >= n_objects ({self.n_objects}): each object "
                "needs a slot of its own (0 = n_objects + 1, one more for the background)"
            )
        size = self.image_size
        if not (isinstance(size, int) and size >= 16 and size & (size - 1) == 0):
            raise ValueError(
                f"image_size must be a power of 2 >= 16 (the encoder halves it twice, the "
                f"broadcast decoder doubles from 8), got {size}"
            )
        for name, heads in (("width", "encoder_heads"), ("proj", "heads")):
            if getattr(self, name) % getattr(self, heads):
                raise ValueError(f"{name} ({getattr(self, name)}) must be a multiple of {heads} "
                                 f"({getattr(self, heads)})")  # fmt: skip
        make_world(self)

    @property
    def slots(self) -> int:
        return self.n_slots or self.n_objects + 1


def make_world(cfg: Config) -> ObjectScenesWorld:
    return ObjectScenesWorld(
        n_objects=cfg.n_objects,
        image_size=cfg.image_size,
        n_train=cfg.n_train,
        n_test=cfg.eval_scenes,
        seed=cfg.seed,
    )


def make_learner(cfg: Config, variant: str, seed: int, alpha: float | None = None):
    regularized = variant == "regularized"
    return InteractionAutoencoder(
        n_slots=cfg.slots,
        slot_dim=cfg.slot_dim,
        decoder="broadcast" if variant == "broadcast" else "transformer",
        alpha=(cfg.alpha if alpha is None else alpha) if regularized else 0.0,
        beta=cfg.beta if regularized else 0.0,
        alpha_warmup=cfg.alpha_warmup or max(cfg.steps // 20, 1),
        lr=cfg.lr,
        lr_warmup=cfg.lr_warmup or max(cfg.steps // 50, 1),
        width=cfg.width,
        proj=cfg.proj,
        query=cfg.query,
        query_hidden=2 * cfg.query,
        heads=cfg.heads,
        encoder_heads=cfg.encoder_heads,
        query_init=cfg.query_init,
        layers=cfg.layers,
        channels=cfg.channels,
        batch_size=cfg.batch_size,
        steps=cfg.steps,
        eval_every=max(cfg.steps // 10, 1),
        random_state=seed,
        device=cfg.device,
    )


def evaluate(learner: InteractionAutoencoder, world: ObjectScenesWorld) -> dict[str, float]:
    """The variant's numbers on the test scenes, unprefixed."""
    test = world.split("test")
    slots = learner.encode_slots(test.x)
    norms = slot_jacobian_norms(learner.decoder_function(), slots)
    reconstruction = learner.decode(slots)
    scores = {
        "reconstruction_mse": reconstruction_mse(test.x, reconstruction),
        "reconstruction_r2": reconstruction_r2(test.x, reconstruction),
        "j_ari": j_ari(test.masks, norms),
        "jacobian_interaction_score": jacobian_interaction_score(test.masks, norms),
        "ari": ari(test.masks, learner.slot_masks(slots)),
        "n_parameters": float(learner.n_parameters_),
        "train_seconds": learner.history_[-1]["train_seconds"],
    }
    if learner.decoder == "transformer":
        with torch.no_grad():
            weights = learner.decoder_.attend(slots.to(learner.device_))[1]
        scores["interaction"] = float(cross_attention_interaction(weights))
    return scores


def examples(learner: InteractionAutoencoder, world: ObjectScenesWorld, variant: str):
    """Long table of a few test scenes: input, reconstruction, each slot's normalised Jacobian."""
    test = world.split("test")
    x = test.x[:EXAMPLES]
    slots = learner.encode_slots(x)
    sources = {"input": x, "reconstruction": learner.decode(slots)}
    jacobians = normalized_slot_jacobians(slot_jacobian_norms(learner.decoder_function(), slots))
    for k in range(jacobians.shape[1]):
        sources[f"slot {k}"] = jacobians[:, k : k + 1].float()
    rows = []
    for source, values in sources.items():
        flat = values.reshape(len(values), -1).numpy()
        for scene in range(len(flat)):
            rows.append(
                pd.DataFrame(
                    {
                        "variant": variant,
                        "example_scene": scene,
                        "example_source": source,
                        "coordinate": np.arange(flat.shape[1]),
                        "value": flat[scene],
                        "image_size": values.shape[-1],
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def run(cfg: Config, *, progress: Progress = no_progress) -> Result:
    """Train every variant (seeds, alphas), score them, summarise the claims' numbers."""
    world = make_world(cfg)
    jobs: list[tuple[str, int, float | None]] = [(v, cfg.seed, None) for v in cfg.variants]
    jobs += [
        (v, cfg.seed + s, None)
        for s in range(1, cfg.seeds)
        for v in cfg.variants
        if v != "broadcast"
    ]
    jobs += [("regularized", cfg.seed, a) for a in cfg.alphas]
    metrics: dict[str, float] = {}
    per_seed: dict[str, dict[int, dict[str, float]]] = {v: {} for v in cfg.variants}
    curves, artifacts = [], {}
    for i, (variant, seed, alpha) in enumerate(jobs):
        learner = make_learner(cfg, variant, seed, alpha)
        learner.fit(world, progress=subspan(progress, i / len(jobs), (i + 1) / len(jobs)))
        scores = evaluate(learner, world)
        curve = pd.DataFrame(learner.history_)
        curve.insert(0, "variant", variant)
        curve.insert(1, "seed", seed)
        curve.insert(2, "alpha", learner.alpha)
        if alpha is not None:  # the α sweep: one row per α with its scores
            curves.append(curve.tail(1).assign(**{f"alpha_{k}": v for k, v in scores.items()}))
            continue
        curves.append(curve)
        per_seed[variant][seed] = scores
        if seed == cfg.seed:
            metrics |= {f"{variant}_{name}": value for name, value in scores.items()}
            curves.append(examples(learner, world, variant))
            artifacts[variant] = learner
    if "regularized" in cfg.variants and "unregularized" in cfg.variants:
        for name in SCORES:
            gains = [
                per_seed["regularized"][s][name] - per_seed["unregularized"][s][name]
                for s in per_seed["regularized"]
            ]
            mean, low, high = mean_interval(gains)
            metrics[f"{name}_gain"] = mean
            if len(gains) > 1:
                metrics[f"{name}_gain_ci_low"] = low
                metrics[f"{name}_gain_ci_high"] = high
        metrics["reconstruction_mse_ratio"] = (
            metrics["regularized_reconstruction_mse"] / metrics["unregularized_reconstruction_mse"]
        )
    if "regularized" in cfg.variants and "broadcast" in cfg.variants:
        metrics["j_ari_vs_broadcast"] = metrics["regularized_j_ari"] - metrics["broadcast_j_ari"]
    artifacts["world"] = world
    return Result(metrics=metrics, curves=pd.concat(curves, ignore_index=True), artifacts=artifacts)


def figures(curves: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Per variant: a few test scenes — input, reconstruction, each slot's normalised Jacobian
    (which pixels it moves); and J-ARI / JIS against α when the run swept α."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    if "example_source" in curves:
        examples = curves.dropna(subset=["example_source"])
        for variant, rows in examples.groupby("variant", sort=True):
            sources = list(dict.fromkeys(rows["example_source"]))
            size = int(rows["image_size"].max())
            scenes = sorted(set(rows["example_scene"].astype(int)))
            fig, axes = plt.subplots(
                len(scenes), len(sources), figsize=(1.5 * len(sources), 1.5 * len(scenes)),
                squeeze=False,
            )  # fmt: skip
            for i, scene in enumerate(scenes):
                for j, source in enumerate(sources):
                    picked = rows[
                        (rows["example_scene"] == scene) & (rows["example_source"] == source)
                    ]
                    image = picked.sort_values("coordinate")["value"].to_numpy()
                    image = image.reshape(-1, size, size)
                    ax = axes[i, j]
                    if len(image) == 3:
                        ax.imshow(np.clip(image.transpose(1, 2, 0), 0, 1))
                    else:
                        ax.imshow(image[0], vmin=0, vmax=1, cmap="magma")
                    ax.set_xticks([])
                    ax.set_yticks([])
                    if i == 0:
                        ax.set_title(source, fontsize=8)
            fig.suptitle(f"interaction asymmetry: {variant} (slot k: N̄_k(p))", fontsize=9)
            fig.tight_layout()
            paths.append(out_dir / f"interaction_asymmetry_{variant}.png")
            fig.savefig(paths[-1], dpi=110)
            plt.close(fig)
    if "alpha_j_ari" in curves:
        sweep = curves.dropna(subset=["alpha_j_ari"]).sort_values("alpha")
        fig, ax = plt.subplots(figsize=(4.5, 3.2))
        ax.plot(sweep["alpha"], sweep["alpha_j_ari"], "o-", label="J-ARI")
        ax.plot(sweep["alpha"], sweep["alpha_jacobian_interaction_score"], "s-", label="JIS")
        ax.set_xscale("symlog", linthresh=0.01)
        ax.set_xlabel("α (interaction weight)")
        ax.set_ylabel("score")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title("object disentanglement vs α")
        fig.tight_layout()
        paths.append(out_dir / "interaction_asymmetry_alpha.png")
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
    return paths


_SETUP = (
    "2-object 32×32 sprites, 5 000 training scenes; slot VAE with 3 slots of 16 (encoder: "
    "convolutions to 8×8 tokens + 2 query-attention blocks), Transformer decoder proj 96 / "
    "query 32 / 12 heads / 2 layers; 2 000 Adam steps of batch 32, lr 5e-4; scored on 64 test "
    "scenes"
)
_RUN = {"seeds": 5}

CLAIMS = [
    Claim(
        name="interaction-asymmetry/regularizer-disentangles",
        statement="With α = β = 0.05 the decoder's slot Jacobians separate the objects better "
        "than with α = β = 0: the 95 % t-intervals over 5 seeds of the gains in J-ARI and in "
        "JIS exclude 0. " + _SETUP,
        paper=PAPER + ", Sec. 6 (Transformer-VAE with the interaction regulariser)",
        overrides=_RUN,
        expect=(
            Expectation("j_ari_gain_ci_low", ">", 0.0),
            Expectation("jacobian_interaction_score_gain_ci_low", ">", 0.0),
        ),
        known_fail="at 1/500 of the reference's training the penalty hurts: 5-seed J-ARI gain "
        "-0.293 [-0.543, -0.043], JIS gain -0.161 [-0.380, 0.058] (seed 0: J-ARI 0.307 vs "
        "0.738); attention stays near even (L_int 43.9 of 48 vs 44.5 unregularised)",
        paper_value="table values not retrieved (abstract: comparable object disentanglement "
        "to models with explicit object-centric priors)",
        fast=False,
    ),
    Claim(
        name="interaction-asymmetry/comparable-to-object-centric-prior",
        statement="The regularised Transformer's J-ARI is at most 0.10 below that of the same "
        "encoder with a spatial-broadcast decoder, which separates the objects (its J-ARI ≥ "
        "0.5: without it the comparison says nothing) (seed 0; the same run as "
        "regularizer-disentangles). " + _SETUP,
        paper=PAPER + ", abstract and Sec. 6",
        overrides=_RUN,
        expect=(
            Expectation("broadcast_j_ari", ">=", 0.5),
            Expectation("j_ari_vs_broadcast", ">=", -0.10),
        ),
        known_fail="the baseline itself does not separate the objects at this scale (broadcast "
        "J-ARI 0.457 < 0.5); regularised 0.307, 0.150 below it",
        paper_value="“comparable object disentanglement to existing models that use more "
        "explicit object-centric priors”",
        fast=False,
    ),
    Claim(
        name="interaction-asymmetry/reconstruction-kept",
        statement="The regulariser costs little reconstruction: the regularised model's test "
        "MSE is ≤ 1.5× the unregularised model's, which reconstructs (its R² ≥ 0.5: an "
        "untrained pair would pass the ratio alone) (seed 0; the same run). " + _SETUP,
        paper=PAPER + ", Sec. 6",
        overrides=_RUN,
        expect=(
            Expectation("unregularized_reconstruction_r2", ">=", 0.5),
            Expectation("reconstruction_mse_ratio", "<=", 1.5),
        ),
        known_fail="regularised MSE 0.0127 vs unregularised 0.0053 (ratio 2.41; R² 0.60 vs 0.84): "
        "α and β slow the fit within 2 000 steps",
        paper_value="table values not retrieved",
        fast=False,
    ),
]
