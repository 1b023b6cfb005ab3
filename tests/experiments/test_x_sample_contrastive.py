"""x-sample-contrastive: a tiny run of every arm, the summary's arithmetic, claims, bad configs."""

from __future__ import annotations

import pandas as pd
import pytest

from identifiable.experiments import x_sample_contrastive as exp
from identifiable.experiments.x_sample_contrastive import Config, run, summarise
from identifiable.learners.graph_contrastive import GraphContrastiveLearner
from identifiable.worlds.hierarchical_clusters import HierarchicalClusterWorld

TINY = dict(sizes=(40, 120), steps=60, batch_size=64, hidden=(32,), n_test=300, seeds=2)


def test_tiny_run_of_every_arm_is_deterministic(tmp_path):
    result = run(Config(**TINY))
    m = result.metrics
    assert set(result.curves["loss"]) == set(Config().losses)
    assert len(result.curves) == 2 * 2 * 5
    for arm in ("xs", "supcon", "ce", "infonce", "onehot"):
        for n in (40, 120):
            # 20 classes: trained representations are far above chance (0.05 / 0.25)
            assert m[f"{arm}_class_knn_accuracy_n{n}"] > 0.15
            assert m[f"{arm}_superclass_knn_accuracy_n{n}"] > 0.3
    for key in ("superclass_gain_vs_supcon_smallest_ci_low", "gain_shrinkage_ci_low",
                "onehot_difference_smallest", "class_gain_vs_ce_smallest"):  # fmt: skip
        assert key in m
    assert run(Config(**TINY)).metrics == m
    assert [p.name for p in exp.figures(result.curves, tmp_path)] == ["x_sample_contrastive.png"]


def test_summary_by_hand():
    rows = []
    values = {  # (n, loss): (class, superclass) for seed 0; seed 1 adds 0.01 to X-Sample
        (10, "x-sample"): (0.5, 0.8), (10, "supcon"): (0.5, 0.7), (10, "cross-entropy"): (0.4, 0.6),
        (10, "infonce"): (0.45, 0.6), (10, "x-sample-onehot"): (0.46, 0.6),
        (90, "x-sample"): (0.8, 0.9), (90, "supcon"): (0.8, 0.89),
        (90, "cross-entropy"): (0.8, 0.88), (90, "infonce"): (0.7, 0.8),
        (90, "x-sample-onehot"): (0.7, 0.8),
    }  # fmt: skip
    for seed in (0, 1):
        for (n, loss), (c, s) in values.items():
            bump = 0.01 * seed if loss == "x-sample" else 0.0
            rows.append({"seed": seed, "n": n, "loss": loss, "class": c + bump,
                         "superclass": s + bump})  # fmt: skip
    m = summarise(pd.DataFrame(rows))
    assert m["superclass_gain_vs_supcon_smallest"] == pytest.approx(0.105)
    assert m["superclass_gain_vs_ce_n10"] == pytest.approx(0.205)
    assert m["class_gain_vs_supcon_smallest"] == pytest.approx(0.005)
    assert m["superclass_gain_vs_supcon_n90"] == pytest.approx(0.015)
    assert m["gain_shrinkage"] == pytest.approx(0.09)
    assert m["onehot_difference_smallest"] == pytest.approx(0.01)
    assert m["xs_superclass_knn_accuracy_n10"] == pytest.approx(0.805)


def test_claims_are_registered_with_their_thresholds():
    names = {c.name: c for c in exp.CLAIMS}
    assert set(names) == {
        "x-sample-contrastive/low-data-superclass-gain",
        "x-sample-contrastive/gain-shrinks-with-data",
        "x-sample-contrastive/onehot-is-infonce",
    }
    assert names["x-sample-contrastive/onehot-is-infonce"].control
    gain = names["x-sample-contrastive/low-data-superclass-gain"].expect
    assert {(e.metric, e.op, e.value) for e in gain} >= {
        ("superclass_gain_vs_supcon_smallest_ci_low", ">", 0.0),
        ("class_gain_vs_supcon_smallest", ">=", -0.02),
    }


def test_learner_rejects_a_bad_graph():
    world = HierarchicalClusterWorld(n_superclasses=2, classes_per_superclass=2)
    data = world.dataset(20, generator=__import__("torch").Generator().manual_seed(0))
    with pytest.raises(ValueError, match="needs class_graph"):
        GraphContrastiveLearner(loss="x-sample", steps=1).fit(data)
    with pytest.raises(ValueError, match=r"must have shape \(4, 4\)"):
        GraphContrastiveLearner(class_graph=[[1.0]], steps=1).fit(data)
    with pytest.raises(ValueError, match="must be >= 0"):
        GraphContrastiveLearner(class_graph=-world.class_graph(), steps=1).fit(data)
    with pytest.raises(ValueError, match="loss"):
        GraphContrastiveLearner(loss="simclr", steps=1).fit(data)


@pytest.mark.parametrize(
    "override, message",
    [
        ({"sizes": ()}, "sizes must be ints >= 2"),
        ({"sizes": (1, 100)}, "sizes must be ints >= 2"),
        ({"sizes": (3,)}, "k = 5 needs training sets of at least k"),
        ({"losses": ("x-sample", "simclr")}, "unknown losses"),
        ({"losses": ()}, "at least one arm"),
        ({"super_weight": 2.0}, "super_weight must be in"),
        ({"tau_graph": 0.0}, "tau_graph"),
    ],
)
def test_bad_configs(override, message):
    with pytest.raises(ValueError, match=message):
        Config(**override)
