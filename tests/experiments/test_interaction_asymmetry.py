"""Fast checks of the interaction-asymmetry experiment: the numbers per variant and their gains,
the interval over seeds, the α sweep, bad input through the CLI, the figures, and that no claim
is met by barely trained models. The claims run with ``-m slow``."""

import pytest

from identifiable import claims
from identifiable.config import build_config
from identifiable.experiments.interaction_asymmetry import CLAIMS, Config, figures, run

TINY = dict(n_train=64, eval_scenes=8, steps=6, batch_size=8, slot_dim=4, width=8, proj=8,
            query=8, heads=2, encoder_heads=2, layers=1, channels=4, image_size=16,
            device="cpu")  # fmt: skip


def scores(metrics):
    return {k: v for k, v in metrics.items() if "seconds" not in k}


@pytest.fixture(scope="module")
def tiny():
    return run(Config(**TINY))


def test_every_variant_is_scored_and_the_summaries_are_their_differences(tiny):
    m = tiny.metrics
    for variant in ("regularized", "unregularized", "broadcast"):
        for name in ("j_ari", "jacobian_interaction_score", "ari", "reconstruction_mse",
                     "reconstruction_r2", "n_parameters"):  # fmt: skip
            assert f"{variant}_{name}" in m, (variant, name)
    assert "regularized_interaction" in m and "broadcast_interaction" not in m
    assert m["j_ari_gain"] == pytest.approx(m["regularized_j_ari"] - m["unregularized_j_ari"])
    assert m["j_ari_vs_broadcast"] == pytest.approx(m["regularized_j_ari"] - m["broadcast_j_ari"])
    assert m["reconstruction_mse_ratio"] == pytest.approx(
        m["regularized_reconstruction_mse"] / m["unregularized_reconstruction_mse"]
    )
    assert "j_ari_gain_ci_low" not in m  # one seed: no interval
    assert scores(run(Config(**TINY)).metrics) == scores(m)  # seeded


def test_seeds_give_an_interval_and_alphas_a_sweep():
    result = run(Config(**TINY | {"variants": ("regularized", "unregularized"), "seeds": 3,
                                  "alphas": (0.0, 0.5)}))  # fmt: skip
    m = result.metrics
    assert m["j_ari_gain_ci_low"] <= m["j_ari_gain"] <= m["j_ari_gain_ci_high"]
    sweep = result.curves.dropna(subset=["alpha_j_ari"])
    assert sorted(sweep["alpha"]) == [0.0, 0.5]


@pytest.mark.parametrize(
    "settings",
    [["alpha=-0.1"], ["beta=-1"], ["n_slots=1"], ["n_objects=3", "n_slots=2"],
     ["image_size=24"], ["image_size=8"], ["variants=regularized,slot-attention"],
     ["alphas=-1"], ["heads=5"], ["encoder_heads=3"], ["query_init=zeros"], ["colour=red"]],
)  # fmt: skip
def test_cli_refuses_bad_input_with_exit_2_and_stores_nothing(refuses, settings):
    refuses("interaction-asymmetry", settings + ["steps=2"])


def test_figures_per_variant_and_for_the_alpha_sweep(tiny, tmp_path):
    paths = figures(tiny.curves, tmp_path)
    assert sorted(p.name for p in paths) == [
        "interaction_asymmetry_broadcast.png", "interaction_asymmetry_regularized.png",
        "interaction_asymmetry_unregularized.png",
    ]  # fmt: skip
    sweep = run(Config(**TINY | {"variants": ("regularized",), "alphas": (0.0, 0.1)}))
    assert "interaction_asymmetry_alpha.png" in [p.name for p in figures(sweep.curves, tmp_path)]


@pytest.mark.slow
@pytest.mark.parametrize("claim", [c for c in CLAIMS if not c.fast], ids=lambda c: c.name)
def test_registered_claims_hold(claim):
    verdict = claims.judge(claim, run(build_config(Config, claim.overrides)).metrics)
    assert verdict.passed, verdict.failures


def test_the_claims_fail_for_barely_trained_models():
    """One run of 5 seeds × 2 variants + the baseline, each trained for 2 steps: no claim holds."""
    cfg = build_config(Config, CLAIMS[0].overrides | TINY | {"steps": 2})
    metrics = run(cfg).metrics
    for claim in CLAIMS:
        assert not claims.judge(claim, metrics).passed, claim.name
