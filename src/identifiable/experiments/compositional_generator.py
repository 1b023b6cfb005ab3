"""Claim: a compositional generator fitted on a compositional support generalises to unseen
combinations of its slots; a monolithic one does not.

Wiedemer, Mayilvahanan, Bethge, Brendel (2023), "Compositional Generalization from First
Principles", NeurIPS, arXiv:2307.05596; official code brendel-group/compositional-ood-
generalization (read for the facts).

World (:class:`identifiable.worlds.compositional.CompositionalWorld`): K = 2 slots of d = 5
latents in [0, 1], one renderer per slot, the reference's composition (sigmoid OccludeAdd, slot 0
in front), training latents from a support (:mod:`identifiable.worlds.supports`): ``orthogonal``
(the reference's three planes), ``orthogonal_gap``, ``diagonal`` (δ = distance to the diagonal),
``random``. Learner (:class:`identifiable.learners.generator.GeneratorRegressor`): supervised
z → x, compositional (one decoder per slot + the known C) vs monolithic (one decoder on all
latents, width matched by parameter count), MSE, AdamW lr 1e-3 wd 1e-5, cosine to 1e-5, batch 512.
Scores: variance-weighted R² (:mod:`identifiable.metrics.reconstruction`) on ``test`` (more rows
of the support), ``ood`` (off it) and ``all`` (uniform on the cube — the reference's "OOD").

Theory: if C is known and each slot's marginal is covered, the per-slot functions are fixed on
their whole range, so the compositional model is right everywhere; a monolithic model only has to
be right on the support. Reference numbers (2-object 64×64 sprites, 100 000 images, 2 000 epochs,
R² on the whole cube, 5 seeds, ``notebooks/table_data.csv``): orthogonal compositional 0.951,
monolithic −0.500; orthogonal_gap 0.895; diagonal δ = 0.05 / 0.1 / 0.2 → 0.589 / 0.945 / 0.955;
random compositional 0.957, monolithic 0.931.

CPU scaling (ours): the headline claims run on the vector variant (each slot its own random MLP
into 32 "pixels" × 3 channels; an ELU MLP decoder per slot, hidden 256, 4 layers ≈ 158k
parameters per slot), 10 000 training rows; the same structure on 32×32 sprites (the reference's
upsampling decoder) is the slow variant. ``deltas`` trains the compositional model once per δ of
a ``diagonal`` support and reports the R² on ``all`` for each.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from identifiable._validation import check
from identifiable.claims import Claim, Expectation
from identifiable.experiments._result import Result
from identifiable.learners.generator import GeneratorRegressor
from identifiable.metrics.reconstruction import reconstruction_mse, reconstruction_r2
from identifiable.progress import Progress, no_progress, subspan
from identifiable.worlds.compositional import CompositionalWorld
from identifiable.worlds.supports import SUPPORTS, max_delta

SUMMARY = "Compositional vs monolithic generators (Wiedemer et al. 2023, arXiv:2307.05596)"
PAPER = "Wiedemer, Mayilvahanan, Bethge, Brendel (2023), arXiv:2307.05596"
SCORED = ("test", "ood", "all")


@dataclass(frozen=True)
class Config:
    """Configuration of one compositional-generator run.

    support:      training support: ``random``, ``orthogonal``, ``orthogonal_gap``, ``diagonal``.
    delta:        δ of ``diagonal`` (distance to the diagonal; the 2024 paper's band is 2δ).
    deltas:       if set (support ``diagonal``), train the compositional model once per δ and
                  report ``compositional_reconstruction_r2_all_delta_<δ>`` and the smallest
                  step of R² on ``all`` between consecutive δ (``r2_all_rise_min``).
    models:       ``both``, ``compositional`` or ``monolithic``.
    renderer:     ``mlp`` (vector variant) or ``sprites``.
    composition:  ``occlude`` (the reference's sigmoid OccludeAdd), ``sum`` or ``alpha``.
    n_slots:      K.
    slot_dim:     latents per slot (5 for sprites).
    pixels:       "pixels" of the vector variant (× 3 channels).
    image_size:   canvas side of the sprites variant (8, 16, 32, 64).
    n_train:      training rows (a fixed set, as the reference).
    n_test:       rows of each scored split.
    hidden:       width of the compositional model's per-slot decoders.
    epochs:       passes over the training rows.
    batch_size:   rows per step.
    lr:           AdamW learning rate (cosine to 1e-5).
    eval_every:   score test/all every this many epochs (curves).
    seed:         seeds the world (renderers, splits) and the learners.
    device:       ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
    """

    support: Literal["random", "orthogonal", "orthogonal_gap", "diagonal"] = "orthogonal"
    delta: float = 0.1
    deltas: tuple[float, ...] = ()
    models: Literal["both", "compositional", "monolithic"] = "both"
    renderer: Literal["mlp", "sprites"] = "mlp"
    composition: Literal["occlude", "sum", "alpha"] = "occlude"
    n_slots: int = 2
    slot_dim: int = 5
    pixels: int = 32
    image_size: int = 32
    n_train: int = 10_000
    n_test: int = 2_000
    hidden: int = 256
    epochs: int = 100
    batch_size: int = 512
    lr: float = 1e-3
    eval_every: int = 10
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"

    def __post_init__(self) -> None:
        check(
            self,
            one_of={
                "support": SUPPORTS,
                "models": ("both", "compositional", "monolithic"),
                "renderer": ("mlp", "sprites"),
                "composition": ("occlude", "sum", "alpha"),
            },
            positive=("lr",),
            at_least={
                "n_slots": 1,
                "slot_dim": 1,
                "pixels": 1,
                "n_train": 2,
                "n_test": 2,
                "hidden": 1,
                "epochs": 1,
                "batch_size": 1,
                "eval_every": 1,
            },
        )
        if self.deltas and self.support != "diagonal":
            raise ValueError("deltas sweeps the diagonal support's δ; set support=diagonal")
        limit = max_delta(max(self.n_slots, 2))
        for delta in (self.delta, *self.deltas):
            if not 0 < delta < limit:
                raise ValueError(
                    f"delta must be in (0, {limit:.4f}) for {self.n_slots} slots (beyond, no "
                    f"point of the cube is off the diagonal band: no ood set), got {delta}"
                )
        if self.n_slots < 2 and self.support in ("diagonal", "random"):
            raise ValueError(f"support={self.support} needs n_slots >= 2")
        # the world checks the rest (sprites need slot_dim 5, image sizes) with its own message
        make_world(self)


def make_world(cfg: Config, delta: float | None = None) -> CompositionalWorld:
    return CompositionalWorld(
        n_slots=cfg.n_slots,
        slot_dim=cfg.slot_dim,
        renderer=cfg.renderer,
        composition=cfg.composition,
        support=cfg.support,
        delta=cfg.delta if delta is None else delta,
        pixels=cfg.pixels,
        image_size=cfg.image_size,
        n_train=cfg.n_train,
        n_test=cfg.n_test,
        seed=cfg.seed,
    )


def train(cfg: Config, world: CompositionalWorld, model: str, progress: Progress):
    """One regressor on ``world``: its final scores and its curve."""
    splits = {name: world.split(name) for name in SCORED}
    learner = GeneratorRegressor(
        model=model,
        composition=cfg.composition,
        hidden=cfg.hidden,
        lr=cfg.lr,
        batch_size=cfg.batch_size,
        epochs=cfg.epochs,
        eval_every=cfg.eval_every,
        random_state=cfg.seed,
        device=cfg.device,
    )

    def monitor(fitted: GeneratorRegressor) -> dict[str, float]:
        return {
            f"reconstruction_r2_{name}": reconstruction_r2(batch.x, fitted.predict(batch.z))
            for name, batch in splits.items()
        }

    learner.fit(world, progress=progress, monitor=monitor)
    metrics = {f"{model}_n_parameters": float(learner.n_parameters_)}
    for name, batch in splits.items():
        predicted = learner.predict(batch.z)
        metrics[f"{model}_reconstruction_r2_{name}"] = reconstruction_r2(batch.x, predicted)
        metrics[f"{model}_reconstruction_mse_{name}"] = reconstruction_mse(batch.x, predicted)
    metrics[f"{model}_train_seconds"] = learner.history_[-1]["train_seconds"]
    curve = pd.DataFrame(learner.history_)
    curve.insert(0, "model", model)
    curve.insert(1, "delta", world.delta if world.support == "diagonal" else float("nan"))
    return metrics, curve, learner


def delta_label(delta: float) -> str:
    """δ in a metric name: 0.05 → ``0p05``."""
    return f"{delta:g}".replace(".", "p")


def run(cfg: Config, *, progress: Progress = no_progress) -> Result:
    """Train the models (and the δ sweep), score them on test / ood / all."""
    models = ("compositional", "monolithic") if cfg.models == "both" else (cfg.models,)
    jobs = [(model, None) for model in models] + [("compositional", d) for d in cfg.deltas]
    metrics: dict[str, float] = {}
    curves, artifacts = [], {}
    for i, (model, delta) in enumerate(jobs):
        span = subspan(progress, i / len(jobs), (i + 1) / len(jobs))
        world = make_world(cfg, delta)
        scores, curve, learner = train(cfg, world, model, span)
        if delta is None:
            metrics |= scores
            artifacts[model] = learner
        else:
            key = f"compositional_reconstruction_r2_all_delta_{delta_label(delta)}"
            metrics[key] = scores["compositional_reconstruction_r2_all"]
        curves.append(curve)
    if cfg.models == "both":
        metrics["reconstruction_r2_all_gain"] = (
            metrics["compositional_reconstruction_r2_all"]
            - metrics["monolithic_reconstruction_r2_all"]
        )
    if len(cfg.deltas) > 1:
        ordered = sorted(cfg.deltas)
        values = [
            metrics[f"compositional_reconstruction_r2_all_delta_{delta_label(d)}"] for d in ordered
        ]
        metrics["r2_all_rise_min"] = min(b - a for a, b in zip(values, values[1:], strict=False))
    artifacts["world"] = make_world(cfg)
    return Result(metrics=metrics, curves=pd.concat(curves, ignore_index=True), artifacts=artifacts)


def figures(curves: pd.DataFrame, out_dir: Path) -> list[Path]:
    """R² on test (dashed) and on the whole cube vs epoch, one line per model (and per δ)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if "model" not in curves:
        return []
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for (model, delta), run_curve in curves.groupby(["model", "delta"], dropna=False, sort=True):
        run_curve = run_curve.groupby("step").mean(numeric_only=True)
        label = model if pd.isna(delta) else f"{model} δ={delta:g}"
        line = ax.plot(run_curve.index, run_curve["reconstruction_r2_all"], label=f"{label}: all")
        ax.plot(run_curve.index, run_curve["reconstruction_r2_test"], linestyle="--",
                color=line[0].get_color(), label=f"{label}: test")  # fmt: skip
    ax.set_xlabel("epoch")
    ax.set_ylabel("variance-weighted R²")
    ax.set_ylim(-0.5, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title("compositional vs monolithic generator")
    fig.tight_layout()
    path = out_dir / "compositional_generator.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


_SETUP = (
    "vector variant: 2 slots × 5 latents, each slot its own random ReLU MLP into 32 × 3, "
    "sigmoid OccludeAdd; 10 000 training rows; ELU MLP decoders (hidden 256, 4 layers, 158k "
    "parameters per slot; monolithic matched to ±0.1 %), AdamW lr 1e-3, batch 512"
)

_SPRITES = (
    "The sprites variant (slow): 2 objects × 5 latents (x, y, shape, scale, hue), sigmoid "
    "OccludeAdd, 10 000 training images; the reference's upsampling decoder per slot "
    "(monolithic matched by parameter count), AdamW lr 1e-3, batch 128 (the reference's 512, "
    "scaled down for more steps per image on CPU); the reference trained 100 000 images × 2 000 "
    "epochs on a GPU"
)
_SPRITE_OVERRIDES = {"renderer": "sprites", "batch_size": 128}

_VECTOR = [
    Claim(
        name="compositional-generator/orthogonal",
        statement="On the orthogonal support (the reference's three planes: one slot varies, "
        "the other is fixed) the compositional model generalises to the whole cube — R² on "
        "`all` ≥ 0.9 — and the monolithic model does not: its R² on `all` is at least 0.4 "
        "below. 300 epochs. " + _SETUP,
        paper=PAPER + ", Sec. 5 (table of OOD R²)",
        overrides={"support": "orthogonal", "epochs": 300},
        expect=(
            Expectation("compositional_reconstruction_r2_all", ">=", 0.9),
            Expectation("reconstruction_r2_all_gain", ">=", 0.4),
        ),
        paper_value="sprites: compositional 0.951, monolithic −0.500 (R² on the whole cube)",
        fast=False,
    ),
    Claim(
        name="compositional-generator/random-support",
        statement="With every combination in training (random support) both models are fine: "
        "R² on `all` ≥ 0.9 for the compositional and the monolithic model. 100 epochs. " + _SETUP,
        paper=PAPER + ", Sec. 5 (table of OOD R²)",
        overrides={"support": "random", "epochs": 100},
        expect=(
            Expectation("compositional_reconstruction_r2_all", ">=", 0.9),
            Expectation("monolithic_reconstruction_r2_all", ">=", 0.9),
        ),
        paper_value="sprites: compositional 0.957, monolithic 0.931",
        fast=False,
    ),
    Claim(
        name="compositional-generator/diagonal-width",
        statement="On the diagonal support the compositional model's R² on `all` rises with "
        "the band: every step δ = 0.05 → 0.1 → 0.2 (distance to the diagonal) raises it by ≥ "
        "0.01 (the paper's smallest step). 100 "
        "epochs per δ. " + _SETUP,
        paper=PAPER + ", Sec. 5 (table of OOD R²)",
        overrides={
            "support": "diagonal",
            "models": "compositional",
            "deltas": (0.05, 0.1, 0.2),
            "epochs": 100,
        },
        expect=(Expectation("r2_all_rise_min", ">=", 0.01),),
        paper_value="sprites: δ = 0.05 / 0.1 / 0.2 → 0.589 / 0.945 / 0.955",
        fast=False,
    ),
]


def _on_sprites(claim: Claim, epochs: int, statement: str, known_fail: str = "") -> Claim:
    """The vector claim's structure and thresholds on 32×32 sprites (the slow variant)."""
    return Claim(
        name=f"{claim.name}-sprites",
        statement=f"{statement} {epochs} epochs. {_SPRITES}",
        paper=claim.paper,
        overrides=claim.overrides | _SPRITE_OVERRIDES | {"epochs": epochs},
        expect=claim.expect,
        paper_value=claim.paper_value,
        fast=False,
        known_fail=known_fail,
    )


CLAIMS = [
    *_VECTOR,
    _on_sprites(
        _VECTOR[0],
        80,
        "On 32×32 sprites from the orthogonal support, the compositional model's R² on `all` "
        "is ≥ 0.9 and the monolithic model's at least 0.4 below.",
    ),
    _on_sprites(
        _VECTOR[1],
        50,
        "On 32×32 sprites from the random support, both models reach R² on `all` ≥ 0.9.",
        known_fail="the monolithic model is still fitting after 50 epochs: R² 0.866 on `all` "
        "and 0.866 on its own (random) support — no generalisation gap, an unfinished fit; the "
        "compositional model reaches 0.905",
    ),
    _on_sprites(
        _VECTOR[2],
        40,
        "On 32×32 sprites from the diagonal support, the compositional model's R² on `all` "
        "rises by ≥ 0.01 at every step δ = 0.05 → 0.1 → 0.2; per δ,",
    ),
]
