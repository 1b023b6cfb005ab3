"""Fast checks of the platonic experiment: a tiny run (every learner, the pair table, the
controls, seeding), the read-outs on pair tables whose answer is known, the heat-map figure and
bad configs. The claims run with ``-m slow``."""

import itertools

import numpy as np
import pandas as pd
import pytest

from identifiable.config import build_config
from identifiable.experiments import platonic
from identifiable.experiments.platonic import CLAIMS, Config, figures, run, summarise

TINY = dict(steps=20, seeds=1, widths=(16,), eval_size=120, permutations=5,
            control_widths=(4, 32), n_indices=200, device="cpu")  # fmt: skip


@pytest.fixture(scope="module")
def tiny():
    return run(Config(**TINY))


def test_every_learner_and_pair_is_scored(tiny):
    learners = tiny.curves[tiny.curves["table"] == "learners"]
    assert list(learners["a"]) == ["truth", "contrastive_w16_s0", "supervised_w16_s0",
                                   "diet_w16_s0", "untrained_w16_s0"]  # fmt: skip
    pairs = tiny.curves[tiny.curves["table"] == "pairs"]
    assert len(pairs) == 10  # 5 representations, every pair once
    for score in ("knn", "cka", "cknna"):
        assert pairs[f"{score}_p"].between(1 / 6, 1).all()
        assert pairs[f"{score}_calibrated"].le(1 + 1e-9).all()
    controls = tiny.curves[tiny.curves["table"] == "controls"]
    assert list(controls["width"]) == [4, 32]
    assert {"contrastive_linear_r2", "untrained_mcc", "shuffled_max_abs_calibrated",
            "knn_identifiability_spearman", "identified_pairs"} <= set(tiny.metrics)  # fmt: skip
    assert tiny.metrics["identified_pairs"] == 0  # 20 steps identify nothing: no vacuous pass
    assert run(Config(**TINY)).metrics == pytest.approx(tiny.metrics, nan_ok=True)  # seeded


def pair_table(r2: dict[str, float], knn: dict[tuple[str, str], float]) -> tuple:
    info = {n: {"kind": n.split("_")[0], "linear_r2": v, "mcc": v} for n, v in r2.items()}
    rows = []
    for a, b in itertools.combinations(r2, 2):
        value = knn[(a, b)]
        rows.append({"a": a, "b": b, "kind_a": info[a]["kind"], "kind_b": info[b]["kind"],
                     "r2_a": r2[a], "r2_b": r2[b], "knn": value + 0.01,
                     "knn_calibrated": value, "knn_p": 0.0099, "cka": value,
                     "cka_calibrated": value, "cka_p": 0.0099, "cknna": value,
                     "cknna_calibrated": value, "cknna_p": 0.0099})  # fmt: skip
    controls = pd.DataFrame([{"width": 8, "knn": 0.05, "knn_calibrated": 0.01, "cka": 0.3,
                              "cka_calibrated": -0.03}])  # fmt: skip
    return pd.DataFrame(rows), controls, info


def test_summary_of_a_known_table():
    """Two identifying learners (and z) aligned at 0.8/0.7/0.6; an untrained one at 0.3 with
    them; alignment ordered as identifiability."""
    r2 = {"truth": 1.0, "contrastive_s0": 0.99, "supervised_s0": 0.97, "untrained_s0": 0.5}
    knn = {("truth", "contrastive_s0"): 0.8, ("truth", "supervised_s0"): 0.7,
           ("truth", "untrained_s0"): 0.2, ("contrastive_s0", "supervised_s0"): 0.6,
           ("contrastive_s0", "untrained_s0"): 0.3,
           ("supervised_s0", "untrained_s0"): 0.25}  # fmt: skip
    metrics = summarise(*pair_table(r2, knn))
    assert metrics["identified_learners"] == 2 and metrics["identified_pairs"] == 3
    assert metrics["identified_min_calibrated_knn"] == 0.6
    assert metrics["identified_max_p_value"] == 0.0099
    assert metrics["identified_mean_calibrated_knn"] == 0.6  # learner pairs only
    assert metrics["untrained_mean_calibrated_knn"] == pytest.approx(0.275)
    assert metrics["untrained_gap"] == pytest.approx(0.325)
    # min R² of the learner pairs: 0.97, 0.5, 0.5 (a tie) against 0.6, 0.3, 0.25
    assert metrics["knn_identifiability_spearman"] == pytest.approx(np.sqrt(3) / 2)
    assert metrics["shuffled_max_abs_calibrated"] == 0.03 and metrics["shuffled_max_raw_cka"] == 0.3
    assert metrics["contrastive_linear_r2"] == 0.99
    # the same table with alignment against identifiability: the rank correlation turns negative
    flipped = {pair: 1 - value for pair, value in knn.items()}
    flipped_rho = summarise(*pair_table(r2, flipped))["knn_identifiability_spearman"]
    assert flipped_rho == pytest.approx(-np.sqrt(3) / 2)


def test_no_identifying_learner_leaves_the_claim_numbers_out():
    r2 = {"truth": 1.0, "diet_s0": 0.6, "untrained_s0": 0.5, "supervised_s0": 0.7}
    knn = {pair: 0.4 for pair in itertools.combinations(r2, 2)}
    metrics = summarise(*pair_table(r2, knn))
    assert metrics["identified_pairs"] == 0
    assert "identified_min_calibrated_knn" not in metrics and "untrained_gap" not in metrics
    assert np.isnan(metrics["knn_identifiability_spearman"])  # constant alignment: undefined
    claim = next(c for c in CLAIMS if c.name == "platonic/identifying-learners-align")
    assert not all(e.holds(metrics.get(e.metric)) for e in claim.expect)


def test_heat_map_figure(tiny, tmp_path):
    paths = figures(tiny.curves, tmp_path)
    assert [p.name for p in paths] == ["platonic_alignment.png"] and paths[0].stat().st_size > 0
    assert figures(pd.DataFrame({"x": [1]}), tmp_path) == []


def test_claims_and_bad_configs():
    assert {c.name.split("/")[1] for c in CLAIMS} == {
        "identifying-learners-align", "alignment-tracks-identifiability",
        "untrained-encoder-control", "independent-inputs-calibrate-to-zero"}  # fmt: skip
    assert sum(c.control for c in CLAIMS) == 2 and not any(c.fast for c in CLAIMS)
    for overrides, message in (({"learners": ("contrastive", "vae")}, "learners must be some of"),
                               ({"widths": ()}, "widths must be one or more ints"),
                               ({"control_widths": (0,)}, "control_widths must be"),
                               ({"k": 10, "eval_size": 5}, "eval_size"),
                               ({"permutations": 0}, "permutations")):  # fmt: skip
        with pytest.raises(ValueError, match=message) as error:
            Config(**overrides)
        assert "\n" not in str(error.value)
    cfg = build_config(Config, {"learners": "contrastive,untrained", "seeds": "3"})
    assert cfg.learners == ("contrastive", "untrained") and cfg.seeds == 3
    assert np.isfinite(platonic.IDENTIFIED_R2)
