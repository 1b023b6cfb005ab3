"""Claim: an additive decoder generalises to unseen combinations of objects, the encoder lags,
and the compositional consistency loss closes part of the gap.

Wiedemer*, Brady*, Panfilov*, Juhos*, Bethge, Brendel (2024), "Provable Compositional
Generalization for Object-Centric Learning", ICLR (oral), arXiv:2310.05327; official code
brendel-group/objects-compositional-generalization (read for the facts).

World (:class:`identifiable.worlds.compositional.CompositionalWorld`): K = 2 objects of 5 latents
in [0, 1], training scenes from the ``diagonal`` support — every latent of the two objects within
δ = 0.125 of the diagonal (the reference's δ; its paper quotes the band width 2δ = 0.25) — and
OOD scenes off it (some latent farther than δ). Objects are rendered by *one* renderer (objects
of one kind) and summed: the vector variant (a random ReLU MLP into 32 "pixels" × 3 channels) or
32×32 sprites kept apart as in the reference (``no_overlap``).

Learners (:class:`identifiable.learners.slot_autoencoder.SlotAutoencoder`), one per variant:
``additive`` (encoder into K slots of 16, decoder Σ_k φ̂(ẑ_k)), ``consistency`` (the same with the
compositional consistency loss from a third of the epochs on, as the reference's AE: 100 of 300),
``monolithic`` (the same encoder, a decoder of all slots at once). Metrics
(:mod:`identifiable.metrics.slots`, :mod:`identifiable.metrics.reconstruction`): the full model's
reconstruction R² in and out of distribution, slot identifiability (ID and OOD, readout fitted on
ID), the decoder-only OOD R² (slots mapped from the true objects, so the decoder is judged
without the encoder), and the decoder's compositional contrast on ID slots.

The reference's numbers (development notebook, 64×64 sprites, 5 seeds, OOD image R²): additive
AE without consistency — full model 0.715, decoder alone 0.997; Slot Attention 0.741 / 0.941,
with consistency 0.803 / 0.998. CPU scaling (ours): 5 000 training scenes, 60 epochs (lr halved
every 10, consistency from epoch 21), batch 64, AdamW lr 4e-4 wd 1e-3; ``seeds`` > 1 repeats the
``additive`` and ``consistency`` variants on more seeds and reports the mean gain of the
consistency loss with a 95 % t-interval.
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
from identifiable.learners.slot_autoencoder import SlotAutoencoder
from identifiable.metrics.reconstruction import reconstruction_r2
from identifiable.metrics.slots import (
    compositional_contrast,
    decoder_r2,
    map_true_slots,
    slot_identifiability,
)
from identifiable.progress import Progress, no_progress, subspan
from identifiable.worlds.compositional import CompositionalWorld
from identifiable.worlds.supports import max_delta

SUMMARY = "Additive decoders and compositional consistency (Wiedemer, Brady et al. 2024)"
PAPER = "Wiedemer, Brady, Panfilov, Juhos, Bethge, Brendel (2024), arXiv:2310.05327"
VARIANTS = ("additive", "consistency", "monolithic")
EXAMPLES = 4  # scenes per split kept for the reconstruction figure


@dataclass(frozen=True)
class Config:
    """Configuration of one object-centric run.

    support:            ``diagonal`` (the paper's) or ``random`` (the control).
    delta:              δ of the diagonal band (distance to the diagonal; paper's band is 2δ).
    variants:           which of ``additive``, ``consistency``, ``monolithic`` to train.
    seeds:              seeds of the ``additive`` and ``consistency`` variants (the consistency
                        gain's 95 % interval needs ≥ 2; the claim uses 5).
    renderer:           ``mlp`` (vector variant) or ``sprites`` (32×32, objects kept apart).
    n_slots:            K objects per scene.
    slot_dim:           d̂, values per inferred slot (the reference: 16; the truth has 5).
    image_size:         canvas side of the sprites variant.
    n_train, n_test:    training scenes; scenes of the test and ood splits.
    epochs:             passes over the training scenes.
    consistency_start:  first epoch of the consistency loss (0: a third of the way, +1).
    lr:                 AdamW learning rate (halved every sixth of the epochs).
    batch_size:         scenes per step.
    eval_scenes:        scenes used by the slot metrics (kernel ridge readouts).
    seed:               the world and the first learner seed.
    device:             ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
    """

    support: Literal["diagonal", "random"] = "diagonal"
    delta: float = 0.125
    variants: tuple[str, ...] = VARIANTS
    seeds: int = 1
    renderer: Literal["mlp", "sprites"] = "mlp"
    n_slots: int = 2
    slot_dim: int = 16
    image_size: int = 32
    n_train: int = 5000
    n_test: int = 1000
    epochs: int = 60
    consistency_start: int = 0
    lr: float = 4e-4
    batch_size: int = 64
    eval_scenes: int = 600
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"

    def __post_init__(self) -> None:
        check(
            self,
            one_of={"support": ("diagonal", "random"), "renderer": ("mlp", "sprites")},
            positive=("lr",),
            at_least={
                "seeds": 1,
                "n_slots": 2,
                "slot_dim": 1,
                "n_train": 16,
                "n_test": 16,
                "epochs": 1,
                "consistency_start": 0,
                "batch_size": 1,
                "eval_scenes": 16,
            },
        )
        unknown = set(self.variants) - set(VARIANTS)
        if unknown or not self.variants:
            raise ValueError(
                f"variants must be some of {', '.join(VARIANTS)}, got {list(self.variants)}"
            )
        if not 0 < self.delta < max_delta(self.n_slots):
            raise ValueError(
                f"delta must be in (0, {max_delta(self.n_slots):.4f}) for {self.n_slots} slots "
                f"(beyond, no scene is off the diagonal band: no ood set), got {self.delta}"
            )
        if "consistency" in self.variants and self.start > self.epochs:
            raise ValueError(
                f"consistency_start ({self.consistency_start}) is after the last epoch "
                f"({self.epochs}); lower it or drop the consistency variant"
            )
        make_world(self)

    @property
    def start(self) -> int:
        return self.consistency_start or self.epochs // 3 + 1


def make_world(cfg: Config) -> CompositionalWorld:
    return CompositionalWorld(
        n_slots=cfg.n_slots,
        slot_dim=5,
        renderer=cfg.renderer,
        composition="sum",
        support=cfg.support,
        delta=cfg.delta,
        shared_renderer=True,
        image_size=cfg.image_size,
        no_overlap=cfg.renderer == "sprites",
        n_train=cfg.n_train,
        n_test=cfg.n_test,
        seed=cfg.seed,
    )


def evaluate(ae: SlotAutoencoder, world: CompositionalWorld, cfg: Config) -> dict[str, float]:
    """The variant's numbers (module docstring), unprefixed."""
    test, ood = world.split("test"), world.split("ood")
    slots_id, slots_ood = ae.encode_slots(test.x), ae.encode_slots(ood.x)
    scores = {
        "reconstruction_r2": reconstruction_r2(test.x, ae.decode(slots_id)),
        "reconstruction_r2_ood": reconstruction_r2(ood.x, ae.decode(slots_ood)),
    }
    scores |= slot_identifiability(
        test.z, slots_id, z_true_ood=ood.z, z_hat_ood=slots_ood, max_scenes=cfg.eval_scenes
    )
    scores["decoder_r2_ood"] = decoder_r2(
        ae.decode, test.z, slots_id, ood.z, ood.x, max_scenes=cfg.eval_scenes
    )
    scores["encoder_lag"] = scores["decoder_r2_ood"] - scores["reconstruction_r2_ood"]
    scores["compositional_contrast"] = compositional_contrast(
        lambda s: ae.decoder_(s.to(ae.device_)).cpu(), slots_id, max_scenes=16
    )
    return scores


def train(cfg: Config, world: CompositionalWorld, variant: str, seed: int, progress: Progress):
    ae = SlotAutoencoder(
        n_slots=cfg.n_slots,
        slot_dim=cfg.slot_dim,
        decoder="monolithic" if variant == "monolithic" else "additive",
        consistency=variant == "consistency",
        consistency_start=cfg.start,
        lr=cfg.lr,
        lr_step=max(cfg.epochs // 6, 1),
        batch_size=cfg.batch_size,
        epochs=cfg.epochs,
        eval_every=max(cfg.epochs // 10, 1),
        random_state=seed,
        device=cfg.device,
    ).fit(world, progress=progress)
    curve = pd.DataFrame(ae.history_)
    curve.insert(0, "variant", variant)
    curve.insert(1, "seed", seed)
    return ae, curve


def examples(
    ae: SlotAutoencoder, world: CompositionalWorld, variant: str, cfg: Config
) -> pd.DataFrame:
    """Long table of a few scenes: input, full model, decoder alone (slots mapped from the true
    objects), and each slot's rendering."""
    rows = []
    test = world.split("test")
    slots_id = ae.encode_slots(test.x)
    for split in ("test", "ood"):
        batch = world.split(split)
        x, z = batch.x[:EXAMPLES], batch.z[:EXAMPLES]
        slots = ae.encode_slots(x)
        mapped = map_true_slots(test.z, slots_id, z, max_scenes=cfg.eval_scenes)
        sources = {"input": x, "full model": ae.decode(slots), "decoder only": ae.decode(mapped)}
        if variant != "monolithic":
            with torch.no_grad():
                rendered = ae.decoder_.render_slots(slots.to(ae.device_)).cpu()
            for k in range(rendered.shape[1]):
                sources[f"slot {k}"] = rendered[:, k]
        for source, values in sources.items():
            flat = values.reshape(len(values), -1).numpy()
            for scene in range(len(flat)):
                rows.append(
                    pd.DataFrame(
                        {
                            "variant": variant,
                            "example_split": split,
                            "example_scene": scene,
                            "example_source": source,
                            "coordinate": np.arange(flat.shape[1]),
                            "value": flat[scene],
                            "image_size": values.shape[-1] if values.ndim == 4 else 0,
                        }
                    )
                )
    return pd.concat(rows, ignore_index=True)


def run(cfg: Config, *, progress: Progress = no_progress) -> Result:
    """Train every variant (and seed), evaluate, summarise the claims' numbers."""
    world = make_world(cfg)
    jobs = [(v, cfg.seed) for v in cfg.variants]
    jobs += [
        (v, cfg.seed + s) for s in range(1, cfg.seeds) for v in cfg.variants if v != "monolithic"
    ]
    metrics: dict[str, float] = {}
    per_seed: dict[str, dict[int, dict[str, float]]] = {v: {} for v in cfg.variants}
    curves, artifacts = [], {}
    for i, (variant, seed) in enumerate(jobs):
        span = subspan(progress, i / len(jobs), (i + 1) / len(jobs))
        ae, curve = train(cfg, world, variant, seed, span)
        scores = evaluate(ae, world, cfg)
        per_seed[variant][seed] = scores
        curves.append(curve)
        if seed == cfg.seed:
            metrics |= {f"{variant}_{name}": value for name, value in scores.items()}
            curves.append(examples(ae, world, variant, cfg))
            artifacts[variant] = ae
    if "additive" in cfg.variants and "monolithic" in cfg.variants:
        metrics["decoder_r2_ood_gain"] = (
            metrics["additive_decoder_r2_ood"] - metrics["monolithic_decoder_r2_ood"]
        )
    if "additive" in cfg.variants and "consistency" in cfg.variants:
        for name in ("reconstruction_r2_ood", "slot_identifiability_ood"):
            gains = [
                per_seed["consistency"][s][name] - per_seed["additive"][s][name]
                for s in per_seed["additive"]
            ]
            mean, low, high = mean_interval(gains)
            metrics[f"consistency_gain_{name}"] = mean
            if len(gains) > 1:
                metrics[f"consistency_gain_{name}_ci_low"] = low
                metrics[f"consistency_gain_{name}_ci_high"] = high
    metrics["min_reconstruction_r2_ood"] = min(
        metrics[f"{v}_reconstruction_r2_ood"] for v in cfg.variants
    )
    artifacts["world"] = world
    return Result(metrics=metrics, curves=pd.concat(curves, ignore_index=True), artifacts=artifacts)


def figures(curves: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Per variant: ID and OOD scenes — input, full model, and what each slot renders (images for
    sprites, curves over the flattened coordinates for the vector variant)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if "example_source" not in curves:
        return []
    examples = curves.dropna(subset=["example_source"])
    order = ("input", "full model", "decoder only", "slot 0", "slot 1", "slot 2", "slot 3")
    paths = []
    for variant, rows in examples.groupby("variant", sort=True):
        sources = [s for s in order if s in set(rows["example_source"])]
        size = int(rows["image_size"].max()) if "image_size" in rows else 0
        scenes = [(split, scene) for split in ("test", "ood") for scene in (0, 1)]
        if size:  # images: a grid of scenes × sources
            fig, axes = plt.subplots(
                len(scenes), len(sources), figsize=(1.6 * len(sources), 1.6 * len(scenes)),
                squeeze=False,
            )  # fmt: skip
        else:
            fig, axes = plt.subplots(len(scenes), 1, figsize=(8, 1.8 * len(scenes)), squeeze=False)
        for i, (split, scene) in enumerate(scenes):
            picked = rows[(rows["example_split"] == split) & (rows["example_scene"] == scene)]
            label = f"{'ID' if split == 'test' else 'OOD'} {scene}"
            for j, source in enumerate(sources):
                values = picked[picked["example_source"] == source].sort_values("coordinate")
                if size:
                    image = values["value"].to_numpy().reshape(-1, size, size)[:3]
                    ax = axes[i, j]
                    ax.imshow(np.clip(image.transpose(1, 2, 0), 0, 1))
                    ax.set_xticks([])
                    ax.set_yticks([])
                    if i == 0:
                        ax.set_title(source, fontsize=8)
                    if j == 0:
                        ax.set_ylabel(label, fontsize=8)
                else:
                    style = "-" if source == "input" else "--"
                    axes[i, 0].plot(values["coordinate"], values["value"], style, label=source)
                    axes[i, 0].set_ylabel(label, fontsize=8)
        if not size:
            axes[0, 0].legend(fontsize=7, ncol=len(sources))
        fig.suptitle(f"object-centric: {variant}", fontsize=10)
        fig.tight_layout()
        paths.append(out_dir / f"object_centric_{variant}.png")
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
    return paths


_SETUP = (
    "vector variant: 2 objects × 5 latents, one random ReLU-MLP renderer into 32 × 3, summed; "
    "diagonal support δ = 0.125; slot AE (16 per slot), 5 000 scenes, 60 epochs, AdamW lr 4e-4"
)

_SPRITES = (
    "The sprites variant (slow): 2 objects × 5 latents (x, y, shape, scale, hue) on 32×32 "
    "sprites kept apart (no overlap), summed; diagonal support δ = 0.125; slot AE (the "
    "reference's conv encoder into 16 per slot, upsampling decoder), 5 000 scenes, AdamW lr "
    "4e-4, batch 64 (the reference: 64×64, 300–400 epochs on a GPU)"
)

_VECTOR = [
    Claim(
        name="object-centric/additive-decoder-generalises",
        statement="Trained on the diagonal support only, the additive decoder renders unseen "
        "combinations of objects: decoder-only R² on the OOD scenes ≥ 0.9, and ≥ 0.2 above the "
        "monolithic decoder's. " + _SETUP,
        paper=PAPER + ", Thm. 1 and Sec. 5 (the decoder generalises)",
        overrides={"variants": ("additive", "monolithic")},
        expect=(
            Expectation("additive_decoder_r2_ood", ">=", 0.9),
            Expectation("decoder_r2_ood_gain", ">=", 0.2),
        ),
        paper_value="additive AE, OOD image R² of the decoder alone 0.997 (5 seeds, notebook)",
        fast=False,
    ),
    Claim(
        name="object-centric/encoder-lags",
        statement="The encoder does not generalise as the decoder does: while the decoder "
        "alone reaches OOD R² ≥ 0.9, the full model's OOD reconstruction R² is at least 0.1 "
        "below it. " + _SETUP,
        paper=PAPER + ", Sec. 5 (encoder–decoder gap)",
        overrides={"variants": ("additive",)},
        expect=(
            Expectation("additive_decoder_r2_ood", ">=", 0.9),
            Expectation("additive_encoder_lag", ">=", 0.1),
        ),
        paper_value="additive AE: full model 0.715 vs decoder alone 0.997 (OOD image R²)",
        fast=False,
    ),
    Claim(
        name="object-centric/consistency-helps",
        statement="The compositional consistency loss raises the full model's OOD "
        "reconstruction R² and its OOD slot identifiability over the same model without it: "
        "the 95 % t-interval of each gain over 5 seeds excludes 0. " + _SETUP,
        paper=PAPER + ", Sec. 4 (compositional consistency) and Sec. 5",
        overrides={"variants": ("additive", "consistency"), "seeds": 5},
        expect=(
            Expectation("consistency_gain_reconstruction_r2_ood_ci_low", ">", 0.0),
            Expectation("consistency_gain_slot_identifiability_ood_ci_low", ">", 0.0),
        ),
        paper_value="Slot Attention OOD image R² 0.741 → 0.803 with consistency (notebook)",
        fast=False,
    ),
    Claim(
        name="object-centric/random-support",
        statement="Control: trained on every combination (random support), every variant "
        "reconstructs the off-diagonal scenes: OOD R² ≥ 0.9 for all three. " + _SETUP,
        paper=PAPER + ", Sec. 5 (the gap is a matter of the support)",
        overrides={"support": "random"},
        expect=(Expectation("min_reconstruction_r2_ood", ">=", 0.9),),
        paper_value="no gap when the training support covers all combinations",
        fast=False,
    ),
]

_SPRITES_UNDERTRAINED = (
    "undertrained at CPU scale: 80 epochs of 5 000 32×32 scenes reconstruct "
    "in distribution with R² 0.833 only (the reference ≈ 0.99) and the encoder does not "
    "separate the objects (slot identifiability 0.49 ID, 0.22 OOD), so the fitted slot map "
    "is poor and the decoder alone scores 0.062 OOD (the full model 0.336, lag −0.274); "
    "the additive decoder still beats the monolithic one by 0.657 (−0.595)"
)

_SPRITE_RUN = {"renderer": "sprites", "variants": ("additive", "monolithic"), "epochs": 80}

CLAIMS = [
    *_VECTOR,
    Claim(
        name="object-centric/additive-decoder-generalises-sprites",
        statement="On 32×32 sprites from the diagonal support, the additive decoder renders "
        "unseen combinations of objects: decoder-only R² on the OOD scenes ≥ 0.8, and ≥ 0.2 "
        "above the monolithic decoder's. 80 epochs. " + _SPRITES,
        paper=_VECTOR[0].paper,
        overrides=_SPRITE_RUN,
        expect=(
            Expectation("additive_decoder_r2_ood", ">=", 0.8),
            Expectation("decoder_r2_ood_gain", ">=", 0.2),
        ),
        paper_value=_VECTOR[0].paper_value,
        fast=False,
        known_fail=_SPRITES_UNDERTRAINED,
    ),
    Claim(
        name="object-centric/encoder-lags-sprites",
        statement="On 32×32 sprites, while the decoder alone reaches OOD R² ≥ 0.8, the full "
        "model's OOD reconstruction R² is at least 0.1 below it (the same run as "
        "additive-decoder-generalises-sprites). 80 epochs. " + _SPRITES,
        paper=_VECTOR[1].paper,
        overrides=_SPRITE_RUN,
        expect=(
            Expectation("additive_decoder_r2_ood", ">=", 0.8),
            Expectation("additive_encoder_lag", ">=", 0.1),
        ),
        paper_value=_VECTOR[1].paper_value,
        fast=False,
        known_fail=_SPRITES_UNDERTRAINED,
    ),
    Claim(
        name="object-centric/random-support-sprites",
        statement="Control on 32×32 sprites: trained on every combination (random support), "
        "every variant reconstructs the off-diagonal scenes: OOD R² ≥ 0.9 for all three. 60 "
        "epochs. " + _SPRITES,
        paper=_VECTOR[3].paper,
        overrides={"support": "random", "renderer": "sprites", "epochs": 60},
        expect=_VECTOR[3].expect,
        paper_value=_VECTOR[3].paper_value,
        fast=False,
        known_fail="undertrained at CPU scale: after 60 epochs of 5 000 scenes every variant "
        "reconstructs only R² ≈ 0.78 in distribution, and as much off it (additive 0.784 ID / "
        "0.787 OOD, consistency 0.784 / 0.788, monolithic 0.745 / 0.754: no gap, the control's "
        "point) — below the 0.9 threshold because of the fit, not of the support",
    ),
]
