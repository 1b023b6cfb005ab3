"""Claim: pruning a large training set to the train–test similarity of a small reference set
removes what near-duplicates of test points gave — accuracy drops on those test points, and
overall accuracy stays high.

Mayilvahanan*, Wiedemer*, Rusak, Bethge, Brendel (2024), "Does CLIP's Generalization Performance
Mainly Stem from High Train-Test Similarity?", ICLR, arXiv:2310.09562 (brendel-group/clip-ood):
LAION pruned so that no test point is closer to it than to ImageNet-train; CLIP retrained on it
loses on some benchmarks but "overall performance remains high".

World (simulated embeddings, stated): C Gaussian classes on the unit sphere in d dimensions
(centres uniform on the sphere, points normalise(centre + σ ε)); a small reference set R
("ImageNet-train"), a test set T, and a large set L ("the web") of the same classes, plus a
near-duplicate of a fraction of the test points planted in L (normalise(q + δ ε), with q's
label). Rule (:func:`~identifiable.analysis.similarity.similarity_gap_prune`): remove every point
of L more similar to some test point q than q's nearest neighbour in R is. Learners on L and on
the pruned L': 1-nearest-neighbour (memorises: near-duplicates help it most) and logistic
regression. Control: random pruning of as many points (the gap stays open), and a world with no
planted near-duplicates.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression

from identifiable._validation import check
from identifiable.analysis.similarity import nearest, normalise, similarity_gap_prune
from identifiable.claims import Claim, Expectation
from identifiable.experiments._common import mean_interval
from identifiable.experiments._result import Result
from identifiable.metrics import declare
from identifiable.progress import Progress, no_progress
from identifiable.worlds.base import seeded_generator

SUMMARY = "Pruning to the reference set's train-test similarity (CLIP-OOD, arXiv:2310.09562)"
PAPER = "Mayilvahanan, Wiedemer, Rusak, Bethge, Brendel (2024), ICLR, arXiv:2310.09562"

declare(
    "similarity_gap",
    higher_is_better=None,
    description="largest s_{L'}(q) − s_R(q) over test points (≤ 0: pruned set no closer than R)",
)
declare(
    "accuracy_drop",
    higher_is_better=None,
    bounds=(-1.0, 1.0),
    description="test accuracy trained on the large set minus trained on the pruned set",
)


@dataclass(frozen=True)
class Config:
    """Configuration of one similarity-pruning run.

    n_classes:          classes C.
    dim:                embedding dimension d.
    sigma:              within-class spread σ (before normalising).
    n_reference:        reference-set points per class ("ImageNet-train"). As dense as the large
                        set near the test points, as ImageNet-train is compared with LAION: the
                        first run, with 50, pruned 82 % of the large set (the paper: 25 %);
                        500 prunes 23 %.
    n_test:             test points per class.
    n_large:            large-set points per class ("the web").
    duplicate_fraction: share of test points with a near-duplicate planted in the large set.
    duplicate_noise:    δ of the near-duplicates.
    seeds:              worlds (each a new draw of everything); seed r uses seed + r.
    seed:               first seed.
    """

    n_classes: int = 10
    dim: int = 32
    sigma: float = 0.35
    n_reference: int = 500
    n_test: int = 100
    n_large: int = 500
    duplicate_fraction: float = 0.3
    duplicate_noise: float = 0.02
    seeds: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        check(
            self,
            positive=("sigma",),
            at_least={
                "n_classes": 2,
                "dim": 2,
                "n_reference": 1,
                "n_test": 1,
                "n_large": 1,
                "seeds": 1,
                "seed": 0,
            },  # fmt: skip
        )
        if not 0 <= self.duplicate_fraction <= 1:
            raise ValueError(f"duplicate_fraction must be in [0, 1], got {self.duplicate_fraction}")
        if self.duplicate_noise < 0:
            raise ValueError(f"duplicate_noise must be >= 0, got {self.duplicate_noise}")


def draw(cfg: Config, seed: int) -> dict[str, np.ndarray]:
    """One world: reference, test and large sets (embeddings and labels), and which test
    points have a planted near-duplicate."""
    g = seeded_generator(seed, 7)
    centres = torch.nn.functional.normalize(torch.randn(cfg.n_classes, cfg.dim, generator=g), dim=1)

    def points(per_class: int) -> tuple[np.ndarray, np.ndarray]:
        labels = torch.arange(cfg.n_classes).repeat_interleave(per_class)
        noise = torch.randn(len(labels), cfg.dim, generator=g) * cfg.sigma
        return normalise((centres[labels] + noise).numpy()), labels.numpy()

    reference, y_reference = points(cfg.n_reference)
    test, y_test = points(cfg.n_test)
    large, y_large = points(cfg.n_large)
    planted = torch.rand(len(test), generator=g).numpy() < cfg.duplicate_fraction
    copies = test[planted] + cfg.duplicate_noise * torch.randn(int(planted.sum()), cfg.dim,
                                                               generator=g).numpy()  # fmt: skip
    return {
        "reference": reference, "y_reference": y_reference, "test": test, "y_test": y_test,
        "large": np.vstack([large, normalise(copies)]) if planted.any() else large,
        "y_large": np.concatenate([y_large, y_test[planted]]), "planted": planted,
    }  # fmt: skip


def _one_nn(train: np.ndarray, labels: np.ndarray, test: np.ndarray) -> np.ndarray:
    return labels[nearest(train, test, 1)[1][:, 0]]


def _linear(train: np.ndarray, labels: np.ndarray, test: np.ndarray, seed: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(max_iter=500, random_state=seed).fit(train, labels)
    return model.predict(test)


def run(cfg: Config, *, progress: Progress = no_progress) -> Result:
    """Per seed: prune, check the gap, train 1-NN and logistic regression on L, L' and a random
    pruning of the same size; accuracy on test points with and without a planted duplicate."""
    rows, sims = [], []
    for r in range(cfg.seeds):
        seed = cfg.seed + r
        world = draw(cfg, seed)
        keep, s_ref = similarity_gap_prune(world["large"], world["test"], world["reference"])
        rng = np.random.default_rng(seed)
        random_keep = np.zeros(len(keep), dtype=bool)
        random_keep[rng.choice(len(keep), int(keep.sum()), replace=False)] = True
        planted = world["planted"]
        for subset, mask in (("large", np.ones_like(keep)), ("pruned", keep),
                             ("random", random_keep)):  # fmt: skip
            train, labels = world["large"][mask], world["y_large"][mask]
            s_train = nearest(train, world["test"], 1)[0][:, 0]
            gap = float(np.max(s_train - s_ref))
            for learner in ("1nn", "linear"):
                predicted = (
                    _one_nn(train, labels, world["test"]) if learner == "1nn"
                    else _linear(train, labels, world["test"], seed)
                )  # fmt: skip
                right = predicted == world["y_test"]
                rows.append({
                    "seed": seed, "subset": subset, "learner": learner,
                    "kept": int(mask.sum()), "large": len(mask), "gap": gap,
                    "accuracy": float(right.mean()),
                    "accuracy_planted": float(right[planted].mean()) if planted.any() else np.nan,
                    "accuracy_other": float(right[~planted].mean()),
                })  # fmt: skip
            sims.append(pd.DataFrame({"seed": seed, "subset": subset, "similarity": s_train,
                                      "reference_similarity": s_ref,
                                      "planted": planted}))  # fmt: skip
        progress(r + 1, cfg.seeds, kept=float(keep.mean()))
    table = pd.DataFrame(rows)
    curves = pd.concat(
        [table.assign(table="accuracy"), pd.concat(sims).assign(table="similarity")],
        ignore_index=True,
    )
    return Result(metrics=summarise(curves), curves=curves)


def summarise(curves: pd.DataFrame) -> dict[str, float]:
    """Gap per subset (worst seed), kept share, and per learner the accuracies and the paired
    (by seed) drops overall, on planted and on other test points, with 95 % intervals."""
    table = curves[curves["table"] == "accuracy"] if "table" in curves else curves
    metrics: dict[str, float] = {}
    first = table[table["learner"] == table["learner"].iloc[0]]
    for subset in ("pruned", "random"):
        part = first[first["subset"] == subset]
        metrics[f"{subset}_max_similarity_gap"] = float(part["gap"].max())
    pruned = first[first["subset"] == "pruned"]
    metrics["kept_fraction"] = float((pruned["kept"] / pruned["large"]).mean())
    for learner in dict.fromkeys(table["learner"]):
        mine = table[table["learner"] == learner]
        by = {s: mine[mine["subset"] == s].sort_values("seed") for s in ("large", "pruned")}
        for subset, part in by.items():
            for column in ("accuracy", "accuracy_planted", "accuracy_other"):
                metrics[f"{learner}_{subset}_{column}"] = float(part[column].mean())
        for column in ("accuracy", "accuracy_planted", "accuracy_other"):
            drop = by["large"][column].to_numpy() - by["pruned"][column].to_numpy()
            if np.isnan(drop).any():
                continue
            mean, low, high = mean_interval(list(drop))
            name = column.replace("accuracy", "accuracy_drop")
            metrics |= {f"{learner}_{name}": mean, f"{learner}_{name}_ci_low": low,
                        f"{learner}_{name}_ci_high": high}  # fmt: skip
        if f"{learner}_accuracy_drop_planted" in metrics:
            diff = (by["large"]["accuracy_planted"].to_numpy() - by["pruned"]["accuracy_planted"]
                    .to_numpy()) - (by["large"]["accuracy_other"].to_numpy()
                                     - by["pruned"]["accuracy_other"].to_numpy())  # fmt: skip
            mean, low, high = mean_interval(list(diff))
            metrics |= {f"{learner}_planted_minus_other_drop": mean,
                        f"{learner}_planted_minus_other_drop_ci_low": low}  # fmt: skip
        metrics[f"{learner}_retained_accuracy"] = (
            metrics[f"{learner}_pruned_accuracy"] / metrics[f"{learner}_large_accuracy"]
        )
    return metrics


def figures(curves: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Test points' nearest-neighbour similarity to R, L and L' (histograms), and accuracy of
    both learners on planted / other test points, trained on L and L'."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if "table" not in curves:
        return []
    sims = curves[curves["table"] == "similarity"]
    table = curves[curves["table"] == "accuracy"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.4))
    bins = np.linspace(float(sims["reference_similarity"].min()) - 0.05, 1.0, 40)
    first = sims[sims["subset"] == "large"]
    left.hist(first["reference_similarity"], bins, alpha=0.5, label="to R (reference)")
    left.hist(first["similarity"], bins, alpha=0.5, label="to L (large)")
    left.hist(sims[sims["subset"] == "pruned"]["similarity"], bins, alpha=0.5,
              label="to L' (pruned)")  # fmt: skip
    left.set_xlabel("test point's nearest-neighbour cosine")
    left.set_ylabel("test points")
    left.legend(fontsize=7)
    groups = [("1nn", "accuracy_planted"), ("1nn", "accuracy_other"),
              ("linear", "accuracy_planted"), ("linear", "accuracy_other")]  # fmt: skip
    for j, subset in enumerate(("large", "pruned")):
        values = [table[(table["learner"] == lrn) & (table["subset"] == subset)][col].mean()
                  for lrn, col in groups]  # fmt: skip
        right.bar(
            np.arange(len(groups)) + (j - 0.5) * 0.38, values, 0.38, label=f"trained on {subset}"
        )
    right.set_xticks(range(len(groups)), ["1-NN\nplanted", "1-NN\nother", "linear\nplanted",
                                          "linear\nother"], fontsize=8)  # fmt: skip
    right.set_ylabel("test accuracy")
    right.set_ylim(0, 1.05)
    right.legend(fontsize=7)
    fig.tight_layout()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "similarity_pruning.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


_SETUP = (
    "10 Gaussian classes on the sphere in 32 dimensions (σ 0.35), reference 500 / test 100 / "
    "large 500 points per class, a near-duplicate (δ 0.02) of 30 % of the test points planted "
    "in the large set, 5 seeds"
)
CLAIMS = [
    Claim(
        name="similarity-pruning/gap-closed",
        statement="After similarity-gap pruning every test point is at most as similar to the "
        "pruned large set as to the reference set (checked point by point, float32 slack 1e-5), "
        "while a random pruning of as many points leaves test points far closer to the large "
        "set than to the reference (gap > 0.1). " + _SETUP,
        paper=PAPER,
        expect=(
            Expectation("pruned_max_similarity_gap", "<=", 1e-5),
            Expectation("random_max_similarity_gap", ">", 0.1),
        ),
        paper_value="the pruned LAION has ImageNet-train's similarity gap (by construction)",
    ),
    Claim(
        name="similarity-pruning/drop-on-near-duplicates",
        statement="Trained on the pruned set, a 1-nearest-neighbour classifier loses accuracy "
        "mainly on the test points that had a near-duplicate in the large set (their drop "
        "minus the others' drop: 95 % interval above 0) and keeps ≥ 90 % of its overall "
        "accuracy — the paper's 'drops on some benchmarks, overall performance remains high'. "
        + _SETUP,
        paper=PAPER,
        expect=(
            Expectation("1nn_planted_minus_other_drop_ci_low", ">", 0.0),
            Expectation("1nn_retained_accuracy", ">=", 0.9),
        ),
        paper_value="performance drops on some benchmarks; overall stays high (Table 1)",
        known_fail="measured: the drop is concentrated (planted 0.361, others 0.033; interval "
        "of the difference from 0.296) but 1-NN keeps 0.829 of its accuracy, not 0.9 — with "
        "30 % of the test points near-duplicated, a memoriser loses a third of those; the "
        "logistic-regression learner on the same sets keeps 0.993 (drop 0.006)",
    ),
    Claim(
        name="similarity-pruning/no-duplicates-control",
        statement="Control: with no near-duplicates planted, pruning costs the 1-NN classifier "
        "at most 0.03 of accuracy. "
        + _SETUP.replace(
            "a near-duplicate (δ 0.02) of 30 % of the test points planted in the large set",
            "no near-duplicates",
        ),
        paper=PAPER,
        overrides={"duplicate_fraction": 0.0},
        expect=(Expectation("1nn_accuracy_drop", "<=", 0.03),),
        paper_value="(no counterpart in the paper)",
        control=True,
        known_fail="measured 0.036 [seeds 5]: pruning removes, for each test point, the large-set "
        "points closer to it than its reference neighbour — often its nearest same-class "
        "neighbours — which a 1-NN classifier feels a little even without duplicates "
        "(logistic regression: 0.001)",
    ),
]
