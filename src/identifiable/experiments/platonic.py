"""Claim: learners that identify the latents agree with each other — the Platonic Representation
Hypothesis as a consequence of identifiability, measured against permutation nulls.

Reizinger, Balestriero, Klindt, Brendel (2025), "Position: An Empirically Grounded
Identifiability Theory Will Accelerate Self-Supervised Learning Research", arXiv:2504.13101:
identifiability explains how the Platonic Representation Hypothesis (Huh, Cheung, Wang, Isola
(2024), ICML, arXiv:2405.07987) can emerge — learners that each recover z up to a simple map
must recover the *same* structure, so they align with each other and with z. Gröger, Wen, Brbić
(2026), "Revisiting the Platonic Representation Hypothesis: an Aristotelian view": raw alignment
scores are inflated (by width, depth, sample size), so read them against a permutation null —
every score here comes with one (:func:`identifiable.metrics.alignment.calibrate`).

World (:class:`~identifiable.worlds.clusters.ClusterWorld`, the cross-entropy paper's): C = 100
vMF(κ = 10) clusters on S⁴, a sample index (N = 1 000) and its cluster label per draw, positives
z̃ ~ vMF(z, 10) for contrastive learning, x = g(z) with a random invertible 4-layer leaky-ReLU
MLP. Learners, each at every seed and encoder width: **contrastive** (InfoNCE, dot product on the
sphere, τ = 1/κ_pair; Zimmermann et al. 2021, arXiv:2102.08850 — identifies z up to an orthogonal
map), **supervised** (cross-entropy on the cluster label) and **diet** (cross-entropy on the
sample index) (Reizinger et al. 2024, arXiv:2410.21869 — up to a linear map), and an
**untrained** encoder of the same architecture (the control: a smooth, random map of x).

Measured on one held-out sample of ``eval_size`` draws: every learner's linear R² and MCC against
z, and for every pair of representations (learners and the truth z) mutual k-NN, CKA and CKNNA,
raw and calibrated against ``permutations`` shuffles (features prepared as the reference's
pipeline: clamp at the 0.95 quantile, L2-normalise, unless ``prepare=False``). Claims (the issue's
thresholds, fixed before measuring): (a) pairs of identifying learners (R² ≥ 0.95), and each with
z, have calibrated mutual k-NN ≥ 0.5 at p < 0.01; (b) across learner pairs, calibrated mutual
k-NN rises with min(R²_A, R²_B): Spearman ≥ 0.6; (c) controls — the untrained encoder's
alignment with trained learners is ≥ 0.2 below that of identifying pairs (means), and independent
inputs (random-feature representations of x at widths 8, 64, 512, one of them with its rows
shuffled) score within ±0.05 of 0 once calibrated, whatever their raw scores; (d) CKA and
mutual k-NN are reported side by side (``identified_mean_*``, the heat maps).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

from identifiable._validation import check
from identifiable.claims import Claim, Expectation
from identifiable.experiments._common import held_out
from identifiable.experiments._result import Result
from identifiable.learners.classifier import Classifier
from identifiable.learners.contrastive import ContrastiveLearner
from identifiable.metrics import declare, linear_r2, mcc
from identifiable.metrics.alignment import calibrate, cka, cknna, mutual_knn, prepare_features
from identifiable.models.mlp import MLPEncoder
from identifiable.progress import Progress, no_progress, subspan
from identifiable.worlds.clusters import ClusterWorld
from identifiable.worlds.mixing import LeakyMLPMixing

SUMMARY = "Identifying learners align: the Platonic hypothesis vs permutation nulls (SITh)"
PAPER = "Reizinger, Balestriero, Klindt, Brendel (2025), arXiv:2504.13101"
PRH = "Huh, Cheung, Wang, Isola (2024), ICML, arXiv:2405.07987"

LEARNERS = ("contrastive", "supervised", "diet", "untrained")
SCORES = {"knn": mutual_knn, "cka": cka, "cknna": cknna}
IDENTIFIED_R2 = 0.95  # the threshold for "identifies the latents"

for _name, _higher, _bounds, _what in (
    ("identified_learners", None, (0.0, None), "learners with linear R² >= 0.95"),
    ("identified_pairs", None, (0.0, None), "pairs of identifying learners, truth included"),
    ("identified_min_calibrated_knn", True, (None, 1.0),
     "lowest calibrated mutual k-NN over pairs of identifying learners (and with z)"),
    ("identified_max_p_value", False, (0.0, 1.0),
     "largest permutation p-value of mutual k-NN over those pairs"),
    ("identified_mean_calibrated_knn", True, (None, 1.0),
     "mean calibrated mutual k-NN over pairs of identifying learners"),
    ("identified_mean_raw_knn", True, (0.0, 1.0), "mean raw mutual k-NN over those pairs"),
    ("identified_mean_calibrated_cka", True, (None, 1.0), "mean calibrated CKA over those pairs"),
    ("identified_mean_raw_cka", True, (None, 1.0), "mean raw CKA over those pairs"),
    ("identified_mean_calibrated_cknna", True, (None, 1.0), "mean calibrated CKNNA, same pairs"),
    ("knn_identifiability_spearman", True, (-1.0, 1.0),
     "Spearman of calibrated mutual k-NN vs min(R²_A, R²_B) over learner pairs"),
    ("cka_identifiability_spearman", True, (-1.0, 1.0),
     "Spearman of calibrated CKA vs min(R²_A, R²_B) over learner pairs"),
    ("untrained_mean_calibrated_knn", None, (None, 1.0),
     "mean calibrated mutual k-NN of untrained × trained pairs"),
    ("untrained_gap", True, (None, None),
     "identified_mean_calibrated_knn − untrained_mean_calibrated_knn"),
    ("shuffled_max_abs_calibrated", False, (0.0, None),
     "largest |calibrated| mutual k-NN or CKA of independent inputs over widths"),
    ("shuffled_max_raw_knn", None, (0.0, 1.0), "largest raw mutual k-NN of independent inputs"),
    ("shuffled_max_raw_cka", None, (None, 1.0), "largest raw CKA of independent inputs"),
):  # fmt: skip
    declare(_name, higher_is_better=_higher, bounds=_bounds, description=_what)


@dataclass(frozen=True)
class Config:
    """Configuration of one platonic run.

    learners:        which of contrastive, supervised, diet, untrained.
    seeds:           learner seeds 0 … seeds − 1 (the world is fixed by ``world_seed``).
    widths:          hidden widths of the encoders (each learner at each width).
    encoder_depth:   hidden layers of every encoder.
    n_latents, n_clusters, n_indices, kappa, pair_kappa, mixing_layers: the world.
    steps, batch_size, lr: training of each learner (Adam; constant learning rate).
    eval_size:       held-out draws every score is computed on.
    k:               neighbours of mutual k-NN and CKNNA (the reference's 10).
    permutations:    shuffles of the permutation null of every score.
    prepare:         the reference pipeline's feature preparation (clamp, L2) before scoring.
    control_widths:  widths of the independent random-feature representations of the null control.
    world_seed:      draws the clusters and the mixing.
    device:          ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
    """

    learners: tuple[str, ...] = LEARNERS
    seeds: int = 2
    widths: tuple[int, ...] = (256,)
    encoder_depth: int = 3
    n_latents: int = 5
    n_clusters: int = 100
    n_indices: int = 1000
    kappa: float = 10.0
    pair_kappa: float = 10.0
    mixing_layers: int = 4
    steps: int = 3000
    batch_size: int = 512
    lr: float = 1e-3
    eval_size: int = 2000
    k: int = 10
    permutations: int = 100
    prepare: bool = True
    control_widths: tuple[int, ...] = (8, 64, 512)
    world_seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"

    def __post_init__(self) -> None:
        check(
            self,
            positive=("kappa", "pair_kappa", "lr"),
            at_least={
                "seeds": 1, "encoder_depth": 1, "n_latents": 2, "n_clusters": 2,
                "n_indices": (self.n_clusters, "n_clusters"), "mixing_layers": 1, "steps": 1,
                "batch_size": 2, "eval_size": (self.k + 2, "k + 2"), "k": 1,
                "permutations": 1, "world_seed": 0,
            },
        )  # fmt: skip
        unknown = [name for name in self.learners if name not in LEARNERS]
        if unknown or not self.learners:
            raise ValueError(
                f"learners must be some of {', '.join(LEARNERS)}, got {list(self.learners)}"
            )
        for name in ("widths", "control_widths"):
            values = getattr(self, name)
            if not values or any(
                isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in values
            ):
                raise ValueError(f"{name} must be one or more ints >= 1, got {values!r}")


def make_world(cfg: Config) -> ClusterWorld:
    """The world a Config describes (clusters and mixing seeded by ``cfg.world_seed``)."""
    return ClusterWorld(
        n_latents=cfg.n_latents,
        n_clusters=cfg.n_clusters,
        n_indices=cfg.n_indices,
        kappa=cfg.kappa,
        mixing=LeakyMLPMixing(n_layers=cfg.mixing_layers, seed=cfg.world_seed),
        seed=cfg.world_seed,
        pair_kappa=cfg.pair_kappa,
    )


def representation(
    cfg: Config, world: ClusterWorld, kind: str, width: int, seed: int, x: torch.Tensor,
    progress: Progress,
) -> np.ndarray:  # fmt: skip
    """Train one learner (or build the untrained encoder) and encode the held-out x."""
    hidden = (width,) * cfg.encoder_depth
    if kind == "untrained":
        encoder = MLPEncoder(x.shape[1], cfg.n_latents, hidden, normalize=False,
                             generator=torch.Generator().manual_seed(seed))  # fmt: skip
        with torch.no_grad():
            return encoder(x).numpy()
    common = dict(n_components=cfg.n_latents, hidden=hidden, batch_size=cfg.batch_size,
                  lr=cfg.lr, steps=cfg.steps, eval_every=cfg.steps, random_state=seed,
                  device=cfg.device)  # fmt: skip
    if kind == "contrastive":
        learner = ContrastiveLearner(similarity="dot", tau=1.0 / cfg.pair_kappa, **common)
    else:
        learner = Classifier(target="label" if kind == "supervised" else "index", **common)
    learner.fit(world, progress=progress)
    return np.asarray(learner.transform(x))


def pair_scores(a: np.ndarray, b: np.ndarray, cfg: Config, seed: int) -> dict[str, float]:
    """Raw score, calibrated score and p-value of every alignment score for one pair."""
    out = {}
    for name, score in SCORES.items():
        kwargs = {"k": cfg.k} if name in ("knn", "cknna") else {}
        result = calibrate(score, a, b, permutations=cfg.permutations, seed=seed, **kwargs)
        out |= {f"{name}": result.score, f"{name}_calibrated": result.calibrated,
                f"{name}_p": result.p_value}  # fmt: skip
    return out


def independent_controls(cfg: Config, x: torch.Tensor) -> pd.DataFrame:
    """Random-feature representations of x at each control width, one with its rows shuffled:
    independent inputs whose raw scores need not be 0 but whose calibrated ones should."""
    rows = []
    generator = torch.Generator().manual_seed(cfg.world_seed + 7)
    for width in cfg.control_widths:
        w_a = torch.randn((x.shape[1], width), generator=generator)
        w_b = torch.randn((x.shape[1], width), generator=generator)
        a, b = torch.relu(x @ w_a).numpy(), torch.relu(x @ w_b).numpy()
        shuffled = b[torch.randperm(len(b), generator=generator).numpy()]
        if cfg.prepare:
            a, shuffled = prepare_features(a), prepare_features(shuffled)
        rows.append({"width": width} | pair_scores(a, shuffled, cfg, seed=width))
    return pd.DataFrame(rows)


def run(cfg: Config, *, progress: Progress = no_progress) -> Result:
    """Train every learner × width × seed, score each against z, align every pair."""
    world = make_world(cfg)
    test = held_out(world, cfg.eval_size, cfg.world_seed)
    z = test.z.numpy()
    jobs = list(itertools.product(cfg.learners, cfg.widths, range(cfg.seeds)))
    reps: dict[str, np.ndarray] = {"truth": z}
    info: dict[str, dict] = {"truth": {"kind": "truth", "width": 0, "seed": -1,
                                       "linear_r2": 1.0, "mcc": 1.0}}  # fmt: skip
    trained = [job for job in jobs if job[0] != "untrained"]
    total = max(len(trained), 1) * cfg.steps
    for kind, width, seed in jobs:
        done = trained.index((kind, width, seed)) * cfg.steps if kind != "untrained" else 0
        span = subspan(progress, done, total) if kind != "untrained" else no_progress
        h = representation(cfg, world, kind, width, seed, test.x, span)
        name = f"{kind}_w{width}_s{seed}"
        reps[name] = h
        info[name] = {"kind": kind, "width": width, "seed": seed,
                      "linear_r2": linear_r2(z, h), "mcc": mcc(z, h)}  # fmt: skip
    prepared = {n: prepare_features(r) if cfg.prepare else r for n, r in reps.items()}
    rows = []
    for j, (name_a, name_b) in enumerate(itertools.combinations(reps, 2)):
        row = {"a": name_a, "b": name_b, "kind_a": info[name_a]["kind"],
               "kind_b": info[name_b]["kind"], "r2_a": info[name_a]["linear_r2"],
               "r2_b": info[name_b]["linear_r2"]}  # fmt: skip
        rows.append(row | pair_scores(prepared[name_a], prepared[name_b], cfg, seed=j))
    pairs = pd.DataFrame(rows)
    controls = independent_controls(cfg, test.x)
    metrics = summarise(pairs, controls, info)
    learners = pd.DataFrame([{"a": n} | v for n, v in info.items()]).assign(table="learners")
    curves = pd.concat([pairs.assign(table="pairs"), controls.assign(table="controls"), learners],
                       ignore_index=True)  # fmt: skip
    return Result(
        metrics=metrics, curves=curves, artifacts={"world": world, "representations": reps}
    )


def summarise(
    pairs: pd.DataFrame, controls: pd.DataFrame, info: dict[str, dict]
) -> dict[str, float]:
    """The claims' numbers from the pair table, the control table and the learners' scores."""
    metrics: dict[str, float] = {}
    learners = {n: v for n, v in info.items() if n != "truth"}
    for kind in dict.fromkeys(v["kind"] for v in learners.values()):
        of_kind = [v for v in learners.values() if v["kind"] == kind]
        metrics[f"{kind}_linear_r2"] = float(np.mean([v["linear_r2"] for v in of_kind]))
        metrics[f"{kind}_mcc"] = float(np.mean([v["mcc"] for v in of_kind]))
    identified = {n for n, v in info.items() if v["linear_r2"] >= IDENTIFIED_R2}
    metrics["identified_learners"] = float(len(identified - {"truth"}))
    both = pairs["a"].isin(identified) & pairs["b"].isin(identified)
    chosen = pairs[both]
    metrics["identified_pairs"] = float(len(chosen))
    if len(chosen):
        metrics["identified_min_calibrated_knn"] = float(chosen["knn_calibrated"].min())
        metrics["identified_max_p_value"] = float(chosen["knn_p"].max())
        learner_pairs = chosen[(chosen["a"] != "truth") & (chosen["b"] != "truth")]
        summary = learner_pairs if len(learner_pairs) else chosen
        for score in ("knn", "cka", "cknna"):
            metrics[f"identified_mean_calibrated_{score}"] = float(
                summary[f"{score}_calibrated"].mean()
            )
        metrics["identified_mean_raw_knn"] = float(summary["knn"].mean())
        metrics["identified_mean_raw_cka"] = float(summary["cka"].mean())
    among = pairs[(pairs["a"] != "truth") & (pairs["b"] != "truth")]
    if len(among) >= 3:
        floor = np.minimum(among["r2_a"], among["r2_b"])
        for score in ("knn", "cka"):
            values = among[f"{score}_calibrated"]
            defined = floor.nunique() > 1 and values.nunique() > 1  # else the rank corr. is 0/0
            rho = float(spearmanr(floor, values)[0]) if defined else float("nan")
            metrics[f"{score}_identifiability_spearman"] = rho
    untrained = among[(among["kind_a"] == "untrained") != (among["kind_b"] == "untrained")]
    if len(untrained):
        metrics["untrained_mean_calibrated_knn"] = float(untrained["knn_calibrated"].mean())
        if "identified_mean_calibrated_knn" in metrics:
            metrics["untrained_gap"] = (
                metrics["identified_mean_calibrated_knn"] - metrics["untrained_mean_calibrated_knn"]
            )
    if len(controls):
        calibrated = controls[["knn_calibrated", "cka_calibrated"]].abs().to_numpy()
        metrics["shuffled_max_abs_calibrated"] = float(calibrated.max())
        metrics["shuffled_max_raw_knn"] = float(controls["knn"].max())
        metrics["shuffled_max_raw_cka"] = float(controls["cka"].max())
    return metrics


def figures(curves: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Heat maps of the alignment matrix: mutual k-NN and CKA, raw and calibrated."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if "table" not in curves or not (curves["table"] == "pairs").any():
        return []
    pairs = curves[curves["table"] == "pairs"]
    names = list(dict.fromkeys([*pairs["a"], *pairs["b"]]))
    index = {n: i for i, n in enumerate(names)}
    panels = [("knn", "mutual k-NN"), ("knn_calibrated", "mutual k-NN, calibrated"),
              ("cka", "CKA"), ("cka_calibrated", "CKA, calibrated")]  # fmt: skip
    fig, axes = plt.subplots(1, 4, figsize=(4.2 * 4, 4.4))
    for ax, (column, title) in zip(axes, panels, strict=True):
        matrix = np.eye(len(names))
        for row in pairs.itertuples():
            i, j = index[row.a], index[row.b]
            matrix[i, j] = matrix[j, i] = getattr(row, column)
        image = ax.imshow(matrix, vmin=min(0.0, float(np.nanmin(matrix))), vmax=1.0, cmap="viridis")
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=6)
        ax.set_yticks(range(len(names)), names, fontsize=6)
        ax.set_title(title, fontsize=9)
        fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "platonic_alignment.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


_SETUP = (
    "ClusterWorld n 5, C 100, N 1 000, κ 10, positives vMF(z, 10), 4-layer mixing; contrastive "
    "(InfoNCE), supervised (CE on labels), DIET (CE on indices) and untrained 3 × 256 encoders, "
    "2 seeds, 3 000 Adam steps of batch 512; 2 000 held-out draws, k 10, 100 shuffles"
)
CLAIMS = [
    Claim(
        name="platonic/identifying-learners-align",
        statement="Every pair of learners that identify z (linear R² ≥ 0.95), and each of them "
        "with z itself, has calibrated mutual k-NN ≥ 0.5 at permutation p < 0.01. " + _SETUP,
        paper=PAPER + " (position; the issue's thresholds); " + PRH,
        expect=(
            Expectation("identified_pairs", ">=", 1.0),
            Expectation("identified_min_calibrated_knn", ">=", 0.5),
            Expectation("identified_max_p_value", "<", 0.01),
        ),
        paper_value="qualitative: identifiability implies convergent representations (SITh)",
        fast=False,
    ),
    Claim(
        name="platonic/alignment-tracks-identifiability",
        statement="Across all learner pairs, calibrated mutual k-NN rises with the pair's "
        "identifiability min(R²_A, R²_B): Spearman ≥ 0.6. " + _SETUP,
        paper=PAPER,
        expect=(Expectation("knn_identifiability_spearman", ">=", 0.6),),
        paper_value="qualitative (position paper)",
        fast=False,
    ),
    Claim(
        name="platonic/untrained-encoder-control",
        statement="Control: an untrained encoder of the same x keeps some of x's neighbourhoods, "
        "but its calibrated mutual k-NN with trained learners is ≥ 0.2 below that of identifying "
        "pairs (means). " + _SETUP,
        paper=PAPER,
        expect=(Expectation("untrained_gap", ">=", 0.2),),
        paper_value="—",
        control=True,
        fast=False,
    ),
    Claim(
        name="platonic/independent-inputs-calibrate-to-zero",
        statement="Control (the Aristotelian point): independent inputs — random-feature "
        "representations at widths 8, 64, 512, one shuffled — have calibrated mutual k-NN and "
        "CKA within ±0.05 of 0 at every width, whatever their raw scores.",
        paper="Gröger, Wen, Brbić (2026), ICML, 'Revisiting the PRH: an Aristotelian view'",
        expect=(Expectation("shuffled_max_abs_calibrated", "<=", 0.05),),
        paper_value="raw scores inflate with width; calibration removes it",
        control=True,
        fast=False,
    ),
]
