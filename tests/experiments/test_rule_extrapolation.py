"""Fast checks of the rule-extrapolation experiment: the per-language numbers and their
summaries, the saturated-pair count, bad input through the CLI, the figure, and that no claim is
met by barely trained models. The claims run with ``-m slow``."""

import pandas as pd
import pytest

from identifiable import claims
from identifiable.config import build_config
from identifiable.experiments.rule_extrapolation import (
    CLAIMS,
    Config,
    figures,
    run,
    saturated_pairs,
    summarise,
    train,
)

TINY = dict(languages=("aNbN", "dyck"), seeds=2, max_length=12, prompt_length=4, n_train=32,
            n_validation=16, steps=8, batch_size=8, eval_every=4, device="cpu")  # fmt: skip


def scores(metrics):
    return {k: v for k, v in metrics.items() if "seconds" not in k}


@pytest.fixture(scope="module")
def tiny():
    return run(Config(**TINY))


def test_every_language_and_architecture_is_scored(tiny):
    m, table = tiny.metrics, tiny.curves
    assert len(table) == 2 * 3 * 2
    for language in ("aNbN", "dyck"):
        for architecture in ("transformer", "lstm", "linear"):
            key = f"{language}_{architecture}_ood_rule_1"
            rows = table[(table.language == language) & (table.architecture == architecture)]
            assert m[key] == pytest.approx(rows["ood_rule_1"].mean())
            assert m[f"{key}_ci_low"] <= m[key] <= m[f"{key}_ci_high"]
        pivot = table[table.language == language].pivot(
            index="seed", columns="architecture", values="ood_rule_1"
        )
        assert m[f"{language}_transformer_minus_lstm"] == pytest.approx(
            (pivot["transformer"] - pivot["lstm"]).mean()
        )
    assert m["aNbN_entropy_floor"] > 0 and "dyck_entropy_floor" not in m  # exact for aNbN only
    assert "aNbN_saturated_pairs" in m
    assert m["nonlinear_minus_linear_min"] == min(
        m["aNbN_nonlinear_minus_linear"], m["dyck_nonlinear_minus_linear"]
    )
    assert set(table.columns) >= {"id_rule_1", "ood_rule_1", "ood_finished", "validation_loss"}
    assert scores(run(Config(**TINY)).metrics) == scores(m)  # seeded


def test_languages_trained_apart_give_the_same_numbers(tiny):
    parts = [train(Config(**TINY | {"languages": (language,)})) for language in ("aNbN", "dyck")]
    together = summarise(pd.concat(parts, ignore_index=True), Config(**TINY))
    assert scores(together) == pytest.approx(scores(tiny.metrics), nan_ok=True)


def test_saturated_pairs_are_the_pairs_fixed_in_advance():
    rows = pd.DataFrame(
        {
            "architecture": ["transformer", "transformer", "transformer", "lstm", "lstm"],
            "seed": [0, 1, 2, 0, 1],
            "validation_loss": [1.0, 1.005, 2.0, 1.001, 1.0],
            "ood_rule_1": [0.9, 0.2, 0.5, 0.85, 0.1],
        }
    )
    # pairs: (T0, L0) saturated, same; (T1, L1) saturated, 0.1 apart; (T2, -) missing;
    # (T0, T1) saturated, 0.7 apart; (T1, T2) T2 not at the floor; (T2, T3) missing
    assert saturated_pairs(rows, floor=1.0, tolerance=0.01) == (3, 1)
    assert saturated_pairs(rows, floor=1.0, tolerance=0.0) == (0, 0)


@pytest.mark.parametrize(
    "settings",
    [["languages=aNbN,klingon"], ["architectures=gru"], ["seeds=0"], ["prompt_length=0"],
     ["max_length=6", "prompt_length=6"], ["heads=3"], ["lr=0"], ["saturation=-1"],
     ["colour=red"]],
)  # fmt: skip
def test_cli_refuses_bad_input_with_exit_2_and_stores_nothing(refuses, settings):
    refuses("rule-extrapolation", settings + ["steps=2"])


def test_figure(tiny, tmp_path):
    paths = figures(tiny.curves, tmp_path)
    assert [p.name for p in paths] == ["rule_extrapolation.png"] and paths[0].stat().st_size > 0


@pytest.mark.slow
@pytest.mark.parametrize("claim", [c for c in CLAIMS if not c.fast], ids=lambda c: c.name)
def test_registered_claims_hold(claim):
    verdict = claims.judge(claim, run(build_config(Config, claim.overrides)).metrics)
    assert verdict.passed, verdict.failures


def test_the_claims_fail_for_barely_trained_models():
    """All six languages × three architectures × 5 seeds, each trained for 2 steps: no claim
    holds (and no pair of them sits at the entropy floor)."""
    cfg = build_config(Config, TINY | {"languages": Config.languages, "seeds": 5, "steps": 2,
                                       "max_length": 16, "prompt_length": 6})  # fmt: skip
    metrics = run(cfg).metrics
    assert metrics["aNbN_saturated_pairs"] == 0
    for claim in CLAIMS:
        assert not claims.judge(claim, metrics).passed, claim.name
