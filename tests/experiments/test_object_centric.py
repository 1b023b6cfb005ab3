"""Fast checks of the object-centric experiment: the numbers per variant, the consistency gain's
interval over seeds, bad input through the CLI, the figure. The claims run with ``-m slow``."""

import pytest

from identifiable import claims
from identifiable.config import build_config
from identifiable.experiments.object_centric import CLAIMS, Config, figures, run

TINY = dict(n_train=96, n_test=48, epochs=3, batch_size=32, slot_dim=4, eval_scenes=40,
            device="cpu")  # fmt: skip


def scores(metrics):
    return {k: v for k, v in metrics.items() if "seconds" not in k}


@pytest.fixture(scope="module")
def tiny():
    return run(Config(**TINY))


def test_every_variant_is_scored(tiny):
    m = tiny.metrics
    for variant in ("additive", "consistency", "monolithic"):
        for name in ("reconstruction_r2", "reconstruction_r2_ood", "slot_identifiability",
                     "slot_identifiability_ood", "decoder_r2_ood", "encoder_lag",
                     "compositional_contrast"):  # fmt: skip
            assert f"{variant}_{name}" in m, (variant, name)
    assert m["additive_encoder_lag"] == pytest.approx(
        m["additive_decoder_r2_ood"] - m["additive_reconstruction_r2_ood"]
    )
    assert m["decoder_r2_ood_gain"] == pytest.approx(
        m["additive_decoder_r2_ood"] - m["monolithic_decoder_r2_ood"]
    )
    assert "consistency_gain_reconstruction_r2_ood_ci_low" not in m  # one seed: no interval
    assert scores(run(Config(**TINY)).metrics) == scores(m)


def test_seeds_give_an_interval_around_the_mean_gain():
    m = run(Config(**TINY | {"variants": ("additive", "consistency"), "seeds": 3})).metrics
    low, mean = (
        m["consistency_gain_slot_identifiability_ood_ci_low"],
        m["consistency_gain_slot_identifiability_ood"],
    )
    assert low < mean < m["consistency_gain_slot_identifiability_ood_ci_high"]


@pytest.mark.parametrize(
    "settings",
    [["variants=additive,attention"], ["delta=0.8"], ["delta=0"], ["n_slots=1"],
     ["consistency_start=9"], ["slot_dim=0"], ["support=orthogonal"]],
)  # fmt: skip
def test_cli_refuses_bad_input_with_exit_2_and_stores_nothing(refuses, settings):
    refuses("object-centric", settings + ["epochs=3"])


def test_figures_one_per_variant(tiny, tmp_path):
    paths = figures(tiny.curves, tmp_path)
    assert sorted(p.name for p in paths) == [
        "object_centric_additive.png", "object_centric_consistency.png",
        "object_centric_monolithic.png",
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("claim", [c for c in CLAIMS if not c.fast], ids=lambda c: c.name)
def test_registered_claims_hold(claim):
    verdict = claims.judge(claim, run(build_config(Config, claim.overrides)).metrics)
    assert verdict.passed, verdict.failures


@pytest.mark.parametrize(
    "name",
    [c.name for c in CLAIMS if "consistency" not in c.name],
)
def test_the_claims_fail_for_a_barely_trained_model(name):
    """No claim's tolerance is met by a model trained for one epoch on a few scenes."""
    claim = next(c for c in CLAIMS if c.name == name)
    cfg = build_config(Config, claim.overrides | TINY | {"epochs": 1})
    assert not claims.judge(claim, run(cfg).metrics).passed
