"""Claim: exchangeable, non-i.i.d. data identify latent sources — time-contrastive learning plus
linear ICA recovers segment-modulated sources from a nonlinear mixture, and cannot without the
modulation.

Reizinger, Guo, Huszár, Schölkopf, Brendel (2025), "Identifiable Exchangeable Mechanisms for
Causal Structure and Representation Learning", ICLR, arXiv:2406.14302 (IEM): the representation
side of the duality — with source variability across environments, auxiliary-variable nonlinear
ICA identifies the sources. Learner: time-contrastive learning (Hyvärinen & Morioka 2016,
NeurIPS, arXiv:1605.06336; :class:`~identifiable.learners.tcl.TimeContrastive`), whose features
recover the sources up to a linear map; FastICA on the held-out features gives the final
estimate, and MCC (Pearson, matched) against |s| is reported, as in TCL's official code.

World: :class:`~identifiable.worlds.segments.SegmentWorld` — n Laplace sources with segment-wise
scales λ_{e,i} ~ U[0, 1] ("source"), constant scales ("none", the control) or fixed sources and
an environment-specific linear map before the shared mixing, x = g(A_e s), A_e = I + 0.5 G_e/√n
("mechanism", the issue's reading of mechanism variability), mixed by a 3-layer leaky-ReLU MLP.
Baselines on the same held-out draws: the same encoder untrained (its initialisation) + FastICA,
and FastICA on x itself (linear ICA ignores the nonlinear mixing).

CPU scale (stated): n = 5 sources, 32 segments, 3 mixing layers, MLP 5 → 20 → 20 → 5 (+ |·|),
Adam 1e-3, batch 512, 20 000 steps; 20 000 held-out draws. The official TCL: n = 20, 256
segments × 512 points, 5 layers, maxout MLP [40, 40, 40, 40, 20], 7·10⁵ SGD steps.
Thresholds: fixed on the pilot seed 100 (not among the judged seeds 0–4) — see CLAIMS.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.decomposition import FastICA
from sklearn.exceptions import ConvergenceWarning

from identifiable._validation import check
from identifiable.claims import Claim, Expectation
from identifiable.experiments._common import mean_interval
from identifiable.experiments._result import Result
from identifiable.learners.tcl import NONLINEARITIES, TimeContrastive
from identifiable.metrics import declare, mcc
from identifiable.progress import Progress, no_progress, subspan
from identifiable.worlds.base import seeded_generator
from identifiable.worlds.mixing import LeakyMLPMixing
from identifiable.worlds.segments import VARIABILITY, SegmentWorld

SUMMARY = "Source variability identifies: TCL + FastICA under exchangeable data (IEM)"
PAPER = "Reizinger, Guo, Huszár, Schölkopf, Brendel (2025), ICLR, arXiv:2406.14302"
TCL_PAPER = "Hyvärinen & Morioka (2016), NeurIPS, arXiv:1605.06336"

METHODS = ("tcl", "untrained", "ica_x")

declare(
    "mcc_gap",
    higher_is_better=True,
    bounds=(-1.0, 1.0),
    description="MCC of trained TCL + FastICA minus the untrained encoder's, paired by seed",
)
declare(
    "segment_accuracy",
    higher_is_better=True,
    kind="proportion",
    description="held-out accuracy of TCL's segment classifier (chance 1 / segments)",
)


@dataclass(frozen=True)
class Config:
    """Configuration of one exchangeable-ica run.

    variability:     modes run, of source, none (i.i.d. control), mechanism (x = g(A_e s)).
    n_sources:       number of sources n (= observed dimensions = features).
    n_segments:      number of segments / environments (TCL's classes).
    mixing_layers:   layers of the leaky-ReLU MLP mixing g.
    mechanism_strength: σ of A_e = I + σ G_e / √n (mechanism mode).
    hidden:          hidden widths of the TCL feature MLP.
    nonlinearity:    TCL's feature nonlinearity: abs (official) or square.
    steps:           Adam steps per training.
    batch_size:      draws per step.
    lr:              Adam learning rate.
    eval_size:       held-out draws for FastICA and MCC.
    seeds:           trainings per mode; seed r uses seed + r for the world, encoder and data.
    seed:            first seed.
    device:          auto (CUDA when present), cpu or cuda. This MLP is small: on one H200
                     machine the CPU ran 652 steps/s and the GPU 272 (same MCC, 0.596 at 3 000
                     steps).
    """

    variability: tuple[str, ...] = VARIABILITY
    n_sources: int = 5
    n_segments: int = 32
    mixing_layers: int = 3
    mechanism_strength: float = 0.5
    hidden: tuple[int, ...] = (20, 20)
    nonlinearity: str = "abs"
    steps: int = 20_000
    batch_size: int = 512
    lr: float = 1e-3
    eval_size: int = 20_000
    seeds: int = 5
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        unknown = [v for v in self.variability if v not in VARIABILITY]
        if unknown or not self.variability:
            allowed = ", ".join(VARIABILITY)
            raise ValueError(f"variability must be some of {allowed}, got {list(self.variability)}")
        check(
            self,
            one_of={"nonlinearity": NONLINEARITIES, "device": ("auto", "cpu", "cuda")},
            positive=("lr",),
            at_least={
                "n_sources": 2,
                "n_segments": 2,
                "mixing_layers": 1,
                "steps": 1,
                "batch_size": 2,
                "seeds": 1,
                "seed": 0,
                "eval_size": (10 * self.n_sources, "10 * n_sources"),
            },
        )
        if self.n_segments > self.batch_size * self.steps:
            raise ValueError(
                f"{self.n_segments} segments but only {self.batch_size * self.steps} training "
                "draws: raise steps or batch_size, or lower n_segments"
            )
        if min(self.hidden, default=1) < 1:
            raise ValueError(f"hidden widths must be >= 1, got {self.hidden}")
        if self.mechanism_strength < 0:
            raise ValueError(f"mechanism_strength must be >= 0, got {self.mechanism_strength}")


def make_world(cfg: Config, mode: str, seed: int) -> SegmentWorld:
    """The world of one (mode, seed): its own scales, maps and mixing."""
    return SegmentWorld(
        n_sources=cfg.n_sources,
        n_segments=cfg.n_segments,
        variability=mode,
        mechanism_strength=cfg.mechanism_strength,
        mixing=LeakyMLPMixing(n_layers=cfg.mixing_layers, seed=seed),
        seed=seed,
    )


def unmixed_mcc(features: np.ndarray, sources: np.ndarray, seed: int) -> float:
    """MCC of FastICA(features) against |sources| (TCL's evaluation: FastICA, Pearson, matched)."""
    ica = FastICA(
        n_components=sources.shape[1], whiten="unit-variance", max_iter=1000, random_state=seed
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimate = ica.fit_transform(features)
    return mcc(np.abs(sources), estimate)


def _learner(cfg: Config, seed: int, steps: int) -> TimeContrastive:
    return TimeContrastive(
        n_components=cfg.n_sources,
        hidden=tuple(cfg.hidden),
        nonlinearity=cfg.nonlinearity,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        steps=steps,
        eval_every=max(1, cfg.steps // 10),
        random_state=seed,
        device=cfg.device,
    )


def run(cfg: Config, *, progress: Progress = no_progress) -> Result:
    """Train TCL per mode × seed; score it, its initialisation and FastICA on x."""
    jobs = list(itertools.product(cfg.variability, range(cfg.seeds)))
    rows, history = [], []
    for i, (mode, r) in enumerate(jobs):
        seed = cfg.seed + r
        world = make_world(cfg, mode, seed)
        test = world.sample(cfg.eval_size, generator=seeded_generator(seed, 1))
        x, s = test.x.numpy(), test.z.numpy()

        def monitor(learner, test=test, s=s, seed=seed):
            features = learner.transform(test.x)
            accuracy = float((learner.predict(test.x) == test.label.numpy()).mean())
            return {"mcc": unmixed_mcc(features, s, seed), "segment_accuracy": accuracy}

        span = subspan(progress, i * cfg.steps, len(jobs) * cfg.steps)
        trained = _learner(cfg, seed, cfg.steps).fit(world, progress=span, monitor=monitor)
        untrained = _learner(cfg, seed, 0).fit(world)
        scores = {
            "tcl": unmixed_mcc(trained.transform(x), s, seed),
            "untrained": unmixed_mcc(untrained.transform(x), s, seed),
            "ica_x": unmixed_mcc(x, s, seed),
        }
        accuracy = float((trained.predict(x) == test.label.numpy()).mean())
        y_mcc = unmixed_mcc(trained.transform(x), test.y.numpy(), seed)
        for method, value in scores.items():
            rows.append({"variability": mode, "seed": seed, "method": method, "mcc": value,
                         "segment_accuracy": accuracy if method == "tcl" else np.nan,
                         "mcc_y": y_mcc if method == "tcl" else np.nan})  # fmt: skip
        history += [{"variability": mode, "seed": seed, **h} for h in trained.history_]
    curves = pd.concat(
        [pd.DataFrame(rows).assign(table="scores"), pd.DataFrame(history).assign(table="history")],
        ignore_index=True,
    )
    return Result(metrics=summarise(curves), curves=curves)


def summarise(curves: pd.DataFrame) -> dict[str, float]:
    """Per mode: mean and 95 % t-interval over seeds of every method's MCC, TCL's segment
    accuracy and MCC against |A_e s|, and the paired trained − untrained MCC gap."""
    scores = curves[curves["table"] == "scores"] if "table" in curves else curves
    metrics: dict[str, float] = {}
    for mode in dict.fromkeys(scores["variability"]):
        part = scores[scores["variability"] == mode]
        by_method = {m: part[part["method"] == m].sort_values("seed") for m in METHODS}
        for method, rows in by_method.items():
            if rows.empty:
                continue
            mean, low, high = mean_interval(list(rows["mcc"]))
            metrics |= {f"{mode}_{method}_mcc": mean, f"{mode}_{method}_mcc_ci_low": low,
                        f"{mode}_{method}_mcc_ci_high": high}  # fmt: skip
        tcl = by_method["tcl"]
        metrics[f"{mode}_tcl_min_mcc"] = float(tcl["mcc"].min())
        metrics[f"{mode}_tcl_segment_accuracy"] = float(tcl["segment_accuracy"].mean())
        metrics[f"{mode}_tcl_mcc_y"] = float(tcl["mcc_y"].mean())
        gap = tcl["mcc"].to_numpy() - by_method["untrained"]["mcc"].to_numpy()
        mean, low, high = mean_interval(list(gap))
        metrics |= {f"{mode}_tcl_mcc_gap": mean, f"{mode}_tcl_mcc_gap_ci_low": low,
                    f"{mode}_tcl_mcc_gap_ci_high": high}  # fmt: skip
    return metrics


def figures(curves: pd.DataFrame, out_dir: Path) -> list[Path]:
    """MCC per mode and method (dots: seeds), and TCL's held-out MCC over training."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if "table" not in curves:
        return []
    scores = curves[curves["table"] == "scores"]
    history = curves[curves["table"] == "history"]
    modes = list(dict.fromkeys(scores["variability"]))
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    width = 0.8 / len(METHODS)
    for j, method in enumerate(METHODS):
        for k, mode in enumerate(modes):
            values = scores[(scores["variability"] == mode) & (scores["method"] == method)]["mcc"]
            position = k + (j - (len(METHODS) - 1) / 2) * width
            left.bar(position, values.mean(), width, color=f"C{j}",
                     label=method if k == 0 else None, alpha=0.6)  # fmt: skip
            left.scatter([position] * len(values), values, color=f"C{j}", s=10, zorder=3)
    left.set_xticks(range(len(modes)), [f"variability: {m}" for m in modes], fontsize=8)
    left.set_ylim(0, 1)
    left.set_ylabel("MCC with |s| (after FastICA)")
    left.legend(fontsize=7)
    if "mcc" in history and not history.empty:
        for k, mode in enumerate(modes):
            part = history[history["variability"] == mode]
            mean = part.groupby("step")["mcc"].mean()
            right.plot(mean.index, mean.values, color=f"C{k}", label=mode)
            for _, seed_rows in part.groupby("seed"):
                right.plot(seed_rows["step"], seed_rows["mcc"], color=f"C{k}", alpha=0.2, lw=0.8)
        right.set_xlabel("step")
        right.set_ylabel("held-out MCC")
        right.set_ylim(0, 1)
        right.legend(fontsize=7, title="variability", title_fontsize=7)
    fig.tight_layout()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "exchangeable_ica.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


_SETUP = (
    "n = 5 Laplace sources, 32 segments, 3-layer leaky-ReLU mixing, TCL MLP 20-20 + |·|, 20 000 "
    "Adam steps, FastICA on 20 000 held-out draws, MCC against |s|, seeds 0–4"
)
#: fixed on the pilot seed 100 (source variability, the default config otherwise): MCC 0.929;
#: the threshold is 0.05 below it, rounded down to a multiple of 0.05
PILOT_MCC = 0.929
THRESHOLD = 0.85
CLAIMS: list[Claim] = [
    Claim(
        name="exchangeable-ica/source-variability-identifies",
        statement="With source variability across environments (segment-wise Laplace scales), "
        "time-contrastive learning + FastICA recovers the sources from their nonlinear mixture "
        f"up to elementwise maps: mean MCC ≥ {THRESHOLD} (threshold fixed on the pilot seed "
        f"100: MCC {PILOT_MCC}, minus 0.05, rounded down), far above the untrained encoder and "
        "linear ICA on x. " + _SETUP,
        paper=f"{PAPER}; {TCL_PAPER}",
        expect=(
            Expectation("source_tcl_mcc", ">=", THRESHOLD),
            Expectation("source_tcl_mcc_gap_ci_low", ">", 0.2),
        ),
        paper_value="TCL identifies s up to elementwise maps (Theorem 1); IEM: source "
        "variability suffices",
        fast=False,
    ),
    Claim(
        name="exchangeable-ica/no-variability-control",
        statement="Control: with i.i.d. data (the same source distribution in every segment) "
        "there is nothing to contrast and TCL + FastICA does not recover the sources: mean "
        "MCC ≤ 0.6. " + _SETUP,
        paper=f"{PAPER}; {TCL_PAPER}",
        expect=(Expectation("none_tcl_mcc", "<=", 0.6),),
        paper_value="not identifiable without variability (theory)",
        control=True,
        fast=False,
    ),
    Claim(
        name="exchangeable-ica/mechanism-variability",
        statement="The duality's other side, as the issue defines it: fixed sources and an "
        "environment-specific linear map before the shared mixing, x = g(A_e s), A_e = I + "
        "0.5 G_e/√n, the encoder not seeing e. Does TCL + FastICA still recover s (mean MCC ≥ "
        f"{THRESHOLD}, the source-variability threshold)? " + _SETUP,
        paper=PAPER,
        expect=(Expectation("mechanism_tcl_mcc", ">=", THRESHOLD),),
        paper_value="IEM: mechanism variability also suffices (for its own notion of mechanism)",
        fast=False,
        known_fail="measured 0.266 [0.238, 0.294] (untrained encoder 0.214, FastICA on x 0.180): "
        "here s = A_e⁻¹ g⁻¹(x) is not a function of x alone — the encoder does not see e — so no "
        "encoder can recover it; TCL does learn the environments (held-out segment accuracy "
        "0.103, chance 0.031) but its features match neither s nor y = A_e s (MCC 0.325)",
    ),
]
