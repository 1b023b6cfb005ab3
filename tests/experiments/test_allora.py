"""allora: the split, a tiny deterministic run, best-of-grid selection and the summary's
arithmetic on hand-made curves, the speed helper, bad input (also through the CLI) and the
figure. The claims run with ``-m slow``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from identifiable import claims, experiments
from identifiable.config import build_config
from identifiable.experiments import allora as exp
from identifiable.experiments.allora import Config, run, select, splits, step_rate, summarise
from identifiable.worlds.digits import N_DIGITS

TINY = Config(hidden=(32, 32), pretrain_steps=60, lrs=(0.01, 0.03), eta2s=(1.0, 4.0),
              short_steps=10, long_steps=40, escape_steps=5, seeds=2)  # fmt: skip


def test_split_is_disjoint_and_only_pretraining_is_natural():
    cfg = Config()
    data = splits(cfg, seed=3)
    sizes = [len(part[0]) for part in (data.pretrain, data.finetune, data.validation, data.test)]
    assert sizes == [600, 500, 300, N_DIGITS - 1400]
    rows = {
        tuple(r) for part in (data.finetune, data.validation, data.test) for r in part[0].tolist()
    }
    assert len(rows) == 1197  # rendered images: all different
    assert float(data.finetune[0].amax(1).min()) == pytest.approx(1.0)  # edges: max scaled to 1
    assert float(data.pretrain[0].max()) <= 1.0 and splits(cfg, 4).test[1].tolist() != \
        data.test[1].tolist()  # fmt: skip


def test_tiny_run_fine_tunes_is_deterministic_and_draws(tmp_path):
    result = run(TINY)
    m = result.metrics
    assert m["long_lora_test_accuracy"] > m["pretrained_test_accuracy"] + 0.1
    assert m["long_allora_test_accuracy"] > m["pretrained_test_accuracy"] + 0.1
    assert np.isfinite(m["short_test_accuracy_gain_ci_low"])
    assert m["escape_b_norm_ratio"] > 0 and m["short_allora_selected_eta2"] in (1.0, 2.5, 4.0)
    curves = result.curves
    assert len(curves.groupby(["seed", "method", "lr", "eta2"], dropna=False)) == 2 * 6
    first = curves[curves["step"] == 0]
    assert (first["b_norm"] == 0).all()  # B = 0 at init in every arm
    assert first["test_accuracy"].nunique() == 2  # every arm of a seed starts at the same model
    assert set(curves["step"]) >= set(range(6)) | {10, 40}
    assert run(TINY).metrics == m
    assert [p.name for p in exp.figures(curves, tmp_path)] == ["allora.png"]


def curves_by_hand() -> pd.DataFrame:
    """Two seeds; LoRA at lr 0.1/0.2, ALLoRA at lr 0.1 × η² 1/4; steps 0 (escape), 5 (short),
    9 (long)."""
    rows = []
    table = {  # (method, lr, eta2): (val acc short, test acc short, val acc long, test acc long)
        ("lora", 0.1, np.nan): (0.5, 0.50, 0.9, 0.90),
        ("lora", 0.2, np.nan): (0.6, 0.55, 0.8, 0.95),
        ("allora", 0.1, 1.0): (0.7, 0.60, 0.9, 0.85),
        ("allora", 0.1, 4.0): (0.7, 0.65, 0.95, 0.91),  # ties at short: lower val loss wins
    }
    for seed in (0, 1):
        for (method, lr, eta2), (vs, ts, vl, tl) in table.items():
            norm = {"lora": 1.0, "allora": 2.0 + seed}[method] * (
                lr * 10 if method == "lora" else 1
            )
            common = {"seed": seed, "method": method, "lr": lr, "eta2": eta2}
            rows.append(common | {"step": 1, "b_norm": norm})
            loss = 1.0 if eta2 != 4.0 else 0.9
            rows.append(common | {"step": 5, "b_norm": 9.0, "validation_accuracy": vs,
                                  "validation_loss": loss, "test_accuracy": ts + seed / 100,
                                  "test_loss": 2 * loss})  # fmt: skip
            rows.append(common | {"step": 9, "b_norm": 9.0, "validation_accuracy": vl,
                                  "validation_loss": 1.0, "test_accuracy": tl,
                                  "test_loss": 1.0})  # fmt: skip
    return pd.DataFrame(rows)


def test_best_of_grid_is_chosen_on_validation_with_ties_to_the_lower_loss():
    best = select(curves_by_hand(), 5)
    assert len(best) == 4
    lora = best[best["method"] == "lora"]
    allora = best[best["method"] == "allora"]
    assert set(lora["lr"]) == {0.2} and set(allora["eta2"]) == {4.0}
    long = select(curves_by_hand(), 9)
    assert set(long[long["method"] == "lora"]["lr"]) == {0.1}


def test_summary_by_hand():
    m = summarise(curves_by_hand(), short_steps=5, long_steps=9, escape_steps=1)
    # short: ALLoRA (η² 4) 0.65/0.66 vs LoRA (lr 0.2) 0.55/0.56 → gain 0.10 on both seeds
    assert m["short_allora_test_accuracy"] == pytest.approx(0.655)
    assert m["short_test_accuracy_gain"] == pytest.approx(0.10)
    assert m["short_test_loss_gain"] == pytest.approx(1.8 - 2.0)
    assert m["short_lora_selected_lr"] == pytest.approx(0.2)
    assert m["short_allora_selected_eta2"] == 4.0
    # long: LoRA lr 0.1 (0.90) vs ALLoRA η² 4 (0.91)
    assert m["long_test_accuracy_gain"] == pytest.approx(0.01)
    assert m["long_lora_selected_lr"] == pytest.approx(0.1)
    # escape at step 1, arms chosen at the short budget: ALLoRA 2 / 3 vs LoRA (lr 0.2) 2
    assert m["escape_b_norm_ratio"] == pytest.approx(np.mean([2 / 2, 3 / 2]))
    # matched lr 0.1: ALLoRA (both η²) vs LoRA 1.0 → geometric mean of 2, 2, 3, 3
    assert m["escape_same_lr_b_norm_ratio"] == pytest.approx(6**0.5)


@pytest.mark.parametrize("method", ["full", "lora", "allora"])
def test_step_rate_times_each_method(method):
    assert step_rate(method, steps=3, hidden=(16,), rank=2) > 0


def test_step_rate_refuses_an_unknown_method():
    with pytest.raises(ValueError, match="method must be one of full, lora, allora"):
        step_rate("dora")


@pytest.mark.parametrize(
    "override, message",
    [
        ({"n_pretrain": 1000, "n_finetune": 500}, "must leave >= 10 of the 1797 images"),
        ({"long_steps": 20, "short_steps": 50}, "long_steps must be >= short_steps = 50"),
        ({"escape_steps": 2000}, "escape_steps must be <= long_steps = 1000"),
        ({"lrs": ()}, "lrs must be learning rates > 0"),
        ({"eta2s": (1.0, 0.0)}, "eta2s must be values of η² > 0"),
        ({"lora_dropout": 1.0}, r"lora_dropout must be in \[0, 1\)"),
        ({"rank": 11}, r"rank must be <= every layer's min\(n_in, n_out\) = 10, got 11"),
        ({"hidden": (3, 128)}, r"min\(n_in, n_out\) = 3, got 4"),
        ({"optimizer": "lion"}, "optimizer must be"),
        ({"placement": "loss"}, "placement must be"),
    ],
)
def test_bad_configs(override, message):
    with pytest.raises(ValueError, match=message):
        Config(**override)


def test_bad_input_through_the_cli(refuses):
    result = refuses("allora", ["rank=0"])
    assert "rank must be a positive int, got 0" in result.output


def test_claims_fix_their_setting():
    registered = [c for c in experiments.all_claims() if c.experiment == "allora"]
    assert len(registered) == 6
    for claim in registered:
        cfg = build_config(Config, claim.overrides)
        assert cfg.seeds >= 3 and cfg.seed == 0
        if claim.name.endswith("-sgd"):
            assert (cfg.optimizer, cfg.placement) == ("sgd", "gradient")


@pytest.mark.slow
@pytest.mark.parametrize(
    "claim",
    [c for c in experiments.all_claims() if c.experiment == "allora"],
    ids=lambda c: c.name,
)
def test_registered_claims_hold(claim):
    config = build_config(Config, claim.overrides)
    verdict = claims.judge(claim, run(config).metrics)
    assert verdict.passed, verdict.failures
