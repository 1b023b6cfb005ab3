"""Fast checks of the compositional-generator experiment: determinism, the scores it reports, the
δ sweep, bad input through the CLI, the figure. The claims run with ``-m slow``."""

import pytest

from identifiable import claims
from identifiable.config import build_config
from identifiable.experiments.compositional_generator import CLAIMS, Config, figures, run

TINY = dict(n_train=256, n_test=64, pixels=8, hidden=16, epochs=4, eval_every=2, batch_size=64,
            device="cpu")  # fmt: skip


def scores(metrics):
    return {k: v for k, v in metrics.items() if "seconds" not in k}


def test_both_models_scored_on_test_ood_all_deterministically():
    result = run(Config(**TINY))
    m = result.metrics
    for model in ("compositional", "monolithic"):
        for split in ("test", "ood", "all"):
            assert f"{model}_reconstruction_r2_{split}" in m
            assert f"{model}_reconstruction_mse_{split}" in m
    assert m["reconstruction_r2_all_gain"] == pytest.approx(
        m["compositional_reconstruction_r2_all"] - m["monolithic_reconstruction_r2_all"]
    )
    assert abs(m["monolithic_n_parameters"] / m["compositional_n_parameters"] - 1) < 0.02
    assert scores(run(Config(**TINY)).metrics) == scores(m)
    assert set(result.curves["model"]) == {"compositional", "monolithic"}


def test_the_delta_sweep_reports_each_delta_and_the_smallest_rise():
    m = run(Config(**TINY | {"support": "diagonal", "models": "compositional",
                            "deltas": (0.2, 0.05, 0.1)})).metrics  # fmt: skip
    values = [m[f"compositional_reconstruction_r2_all_delta_{d}"] for d in ("0p05", "0p1", "0p2")]
    assert m["r2_all_rise_min"] == pytest.approx(min(values[1] - values[0], values[2] - values[1]))


def test_settings_are_wired():
    base = scores(run(Config(**TINY | {"models": "compositional"})).metrics)
    for change in ({"support": "random"}, {"composition": "sum"}, {"lr": 1e-2}, {"seed": 1},
                   {"hidden": 8}):  # fmt: skip
        changed = scores(run(Config(**TINY | {"models": "compositional"} | change)).metrics)
        assert changed != base, change


@pytest.mark.parametrize(
    "settings",
    [["support=grid"], ["delta=0"], ["delta=0.8"], ["deltas=0.1", "support=random"],
     ["renderer=sprites", "slot_dim=3"], ["n_slots=1", "support=diagonal"], ["epochs=0"]],
)  # fmt: skip
def test_cli_refuses_bad_input_with_exit_2_and_stores_nothing(refuses, settings):
    refuses("compositional-generator", settings)


def test_figure(tmp_path):
    curves = run(Config(**TINY)).curves
    paths = figures(curves, tmp_path)
    assert [p.name for p in paths] == ["compositional_generator.png"]
    assert paths[0].stat().st_size > 0


@pytest.mark.slow
@pytest.mark.parametrize("claim", [c for c in CLAIMS if not c.fast], ids=lambda c: c.name)
def test_registered_claims_hold(claim):
    verdict = claims.judge(claim, run(build_config(Config, claim.overrides)).metrics)
    assert verdict.passed, verdict.failures


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.name)
def test_the_claims_fail_for_a_barely_trained_model(claim):
    """No claim's tolerance is met by models trained for one epoch on a few rows."""
    cfg = build_config(Config, claim.overrides | TINY | {"epochs": 1})
    assert not claims.judge(claim, run(cfg).metrics).passed
