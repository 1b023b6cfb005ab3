"""Fast checks of the grokking experiment: determinism, wiring of every setting, the two fast
claims at the paper's scale (⊥AdamW groks within a few hundred epochs; naïve loss minimisation
after fitting), bad input, the CLI and the figures. The slow claims run with ``-m slow``."""

import pytest

from identifiable import claims
from identifiable.config import build_config
from identifiable.experiments.grokking import CLAIMS, Config, figures, run

TIMING = {"train_seconds", "steps_per_second", "compared_train_seconds",
          "compared_steps_per_second"}  # fmt: skip
TINY = dict(modulus=11, epochs=30, eval_every=10, width=16, device="cpu")


def strip(metrics):
    return {k: v for k, v in metrics.items() if k not in TIMING}


def test_same_seed_same_numbers_and_seed_matters():
    a, b = run(Config(**TINY)).metrics, run(Config(**TINY)).metrics
    c = run(Config(**TINY, seed=1)).metrics
    assert strip(a) == strip(b)
    assert a["train_loss"] != c["train_loss"]


def test_curves_hold_the_diagnostics_at_epoch_one_and_every_eval():
    result = run(Config(**TINY))
    curve = result.curves
    assert curve["step"].tolist() == [1, 10, 20, 30]
    for column in ("train_accuracy", "test_accuracy", "test_loss", "collapse_fraction",
                   "zero_loss_fraction", "weight_norm_layer1", "weight_norm_output",
                   "nlm_cosine_output", "logit_norm"):  # fmt: skip
        assert column in curve, column
    assert set(curve["setting"]) == {"softmax f32"} and set(curve["family"]) == {"softmax-collapse"}
    m = result.metrics
    assert m["nlm_cosine_output_init"] == curve["nlm_cosine_output"].iloc[0]
    assert 0 <= m["test_accuracy"] <= 1 and m["collapse_onset_epoch"] == 30  # censored
    assert m["collapsed"] == 0 and m["grokked"] == 0


def test_compare_precision_trains_the_same_model_at_another_precision():
    m = run(Config(**TINY, precision=64, compare_precision=32)).metrics
    assert "compared_collapse_onset_epoch" in m
    assert (
        m["collapse_onset_delay"] == m["collapse_onset_epoch"] - m["compared_collapse_onset_epoch"]
    )
    # same data and init: the first evaluation's loss agrees to float32 precision
    assert m["train_loss"] == pytest.approx(m["compared_train_loss"], rel=1e-3)


def test_settings_are_wired_to_the_learner():
    base = run(Config(**TINY)).metrics
    for change in ({"loss": "stablemax"}, {"orthograd": True}, {"weight_decay": 1.0},
                   {"lr": 0.001}, {"optimizer": "sgd", "lr": 0.5}, {"width": 8},
                   {"operation": "mul"}, {"train_fraction": 0.6},
                   {"model": "transformer"}):  # fmt: skip
        changed = run(Config(**TINY | change)).metrics
        assert changed["train_loss"] != base["train_loss"], change


def test_transformer_trains_on_token_pairs_from_one():
    """model=transformer: tokens (a, b), a, b ∈ 1..p−1 (the reference's transformer data),
    diagnostics of the embedding and the read-out, deterministic."""
    cfg = Config(**TINY | {"model": "transformer", "heads": 2, "lr": 1e-3})
    result, again = run(cfg), run(cfg)
    assert strip(result.metrics) == strip(again.metrics)
    curve = result.curves
    for column in ("weight_norm_embedding", "nlm_cosine_output", "collapse_fraction"):
        assert column in curve, column
    assert set(curve["setting"]) == {"softmax f32 transformer"}
    assert result.metrics["train_accuracy"] > 1 / 11  # it learns something in 30 epochs


@pytest.fixture(scope="module")
def orthograd():
    claim = next(c for c in CLAIMS if c.name == "grokking/orthograd-groks")
    return claim, run(build_config(Config, claim.overrides))


def test_orthograd_groks_within_its_budget(orthograd):
    claim, result = orthograd
    verdict = claims.judge(claim, result.metrics)
    assert verdict.passed, verdict.failures


def test_the_orthograd_claim_fails_for_an_untrained_model(orthograd):
    claim, result = orthograd
    fake = dict(result.metrics)
    init = result.curves.iloc[0]
    fake.update(test_accuracy=float(init["test_accuracy"]), grok_epoch=fake["grok_epoch"] * 0
                + claim.overrides.get("epochs", 500), grokked=0.0)  # fmt: skip
    assert not claims.judge(claim, fake).passed


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"modulus": 1}, "modulus must be >= 2"),
        ({"train_fraction": 0.0}, r"train_fraction must be in \(0, 1\)"),
        ({"train_fraction": 1.0}, r"train_fraction must be in \(0, 1\)"),
        ({"operation": "pow"}, "operation must be one of"),
        ({"precision": 8}, "precision must be one of"),
        ({"compare_precision": 64, "loss": "stablemax"}, "compare_precision compares"),
        ({"lr": 0.0}, "lr must be > 0"),
        ({"model": "rnn"}, "model must be mlp or transformer"),
        ({"model": "transformer", "width": 10}, "multiple of heads"),
        ({"model": "transformer", "modulus": 2}, "modulus >= 3"),
    ],
)
def test_bad_config_raises_one_line_errors(overrides, message):
    with pytest.raises(ValueError, match=message):
        Config(**overrides)


def test_division_needs_a_prime_modulus():
    with pytest.raises(ValueError, match="needs a prime modulus"):
        Config(**TINY | {"operation": "div", "modulus": 12})
    Config(**TINY | {"operation": "div", "modulus": 13})


@pytest.mark.parametrize(
    "settings",
    [
        ["modulus=1"],
        ["train_fraction=1.5"],
        ["operation=pow"],
        ["precision=8"],
        ["operation=div", "modulus=12"],
        ["lr=-1"],
        ["model=transformer", "width=10"],
    ],  # fmt: skip
)
def test_cli_refuses_bad_input_with_exit_2_and_stores_nothing(refuses, settings):
    refuses("grokking", settings)


def test_figures_one_per_family(tmp_path):
    a = run(Config(**TINY)).curves
    b = run(Config(**TINY | {"orthograd": True})).curves
    import pandas as pd

    paths = figures(pd.concat([a, b]), tmp_path)
    assert sorted(p.name for p in paths) == ["grokking_orthograd.png",
                                             "grokking_softmax-collapse.png"]  # fmt: skip
    assert all(p.stat().st_size > 0 for p in paths)


@pytest.mark.slow
@pytest.mark.parametrize(
    "claim",
    [c for c in CLAIMS if not c.fast],
    ids=lambda c: c.name,
)
def test_registered_claims_hold(claim):
    verdict = claims.judge(claim, run(build_config(Config, claim.overrides)).metrics)
    assert verdict.passed, verdict.failures
