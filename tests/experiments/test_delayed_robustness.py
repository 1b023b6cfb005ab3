"""Fast checks of the delayed-robustness experiment: determinism, the curves it records, the
summary's definitions on a hand-made curve, bad input and the figure. Claims run with -m slow."""

import pandas as pd
import pytest

from identifiable import claims
from identifiable.config import build_config
from identifiable.experiments.delayed_robustness import CLAIMS, Config, figures, run, summarise

TINY = dict(n_train=200, width=16, depth=2, steps=40, batch_size=64, log_evals=5, lc_points=20,
            lc_directions=4, pgd_iterations=2, device="cpu")  # fmt: skip
TIMING = {"train_seconds", "steps_per_second"}


def test_same_seed_same_numbers_and_the_recorded_curves():
    a, b = run(Config(**TINY)), run(Config(**TINY))
    strip = lambda m: {k: v for k, v in m.items() if k not in TIMING}  # noqa: E731
    assert strip(a.metrics) == strip(b.metrics)
    assert strip(run(Config(**TINY, seed=1)).metrics) != strip(a.metrics)
    curve = a.curves
    assert curve["step"].iloc[0] == 1 and curve["step"].iloc[-1] == 40
    for column in ("train_accuracy", "test_accuracy", "pgd_accuracy", "local_complexity_train",
                   "local_complexity_test", "local_complexity_random"):  # fmt: skip
        assert column in curve
    # an attack never helps: PGD accuracy ≤ clean test accuracy at every evaluation
    assert (curve["pgd_accuracy"] <= curve["test_accuracy"] + 1e-12).all()


def test_batch_size_is_wired_and_zero_trains_full_batch():
    """Minibatches of 64 and full batch (0) train differently; each is deterministic; the
    diagnostics of a minibatch run cover the whole training set (accuracy in steps of 1/200)."""
    strip = lambda m: {k: v for k, v in m.items() if k not in TIMING}  # noqa: E731
    mini, full = run(Config(**TINY)), run(Config(**TINY | {"batch_size": 0}))
    assert strip(mini.metrics) != strip(full.metrics)
    assert strip(run(Config(**TINY | {"batch_size": 0})).metrics) == strip(full.metrics)
    assert all(round(a * 200, 6).is_integer() for a in mini.curves["train_accuracy"])


def test_summary_definitions_on_a_hand_made_curve():
    curve = pd.DataFrame(
        {
            "step": [1, 10, 100, 1000, 10000],
            "train_accuracy": [0.1, 0.9, 1.0, 1.0, 1.0],
            "test_accuracy": [0.1, 0.8, 0.951, 0.955, 0.96],
            "pgd_accuracy": [0.0, 0.1, 0.2, 0.3, 0.5],
            "local_complexity_train": [30.0, 10.0, 20.0, 25.0, 5.0],
            "local_complexity_test": [1.0] * 5,
            "local_complexity_random": [2.0] * 5,
        }
    )
    m = summarise(curve)
    assert m["test_settled_step"] == 100  # first step within 0.01 of the final 0.96, and stays
    assert m["pgd_gain_after_settled"] == pytest.approx(0.3)
    assert m["fit_step"] == 100
    # the peak is taken once the training set is fitted: 25 at step 1000, not 30 at step 1
    assert m["local_complexity_train_peak"] == 25 and m["local_complexity_train_peak_step"] == 1000
    assert m["local_complexity_train_final_to_peak"] == pytest.approx(0.2)
    assert m["train_accuracy_min_after_peak"] == 1.0


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"n_train": 1797}, "n_train must be < 1797"),
        ({"lc_radius": 0.0}, "lc_radius must be > 0"),
        ({"lc_directions": 65}, "lc_directions must be <= 64"),
        ({"pgd_eps": -0.1}, "pgd_eps must be >= 0"),
        ({"log_evals": 1}, "log_evals must be >= 2"),
        ({"batch_size": -1}, "batch_size must be >= 0"),
    ],
)
def test_bad_config_raises_one_line_errors(overrides, message):
    with pytest.raises(ValueError, match=message):
        Config(**overrides)


def test_figure(tmp_path):
    paths = figures(run(Config(**TINY)).curves, tmp_path)
    assert [p.name for p in paths] == ["delayed_robustness.png"] and paths[0].stat().st_size > 0


@pytest.mark.slow
@pytest.mark.parametrize("claim", list(CLAIMS), ids=lambda c: c.name)
def test_registered_claims_hold(claim):
    verdict = claims.judge(claim, run(build_config(Config, claim.overrides)).metrics)
    assert verdict.passed, verdict.failures


@pytest.mark.parametrize("setting", ["lc_radius=0", "lc_radius=-0.1", "n_train=5000"])
def test_cli_refuses_bad_input_with_exit_2(refuses, setting):
    refuses("delayed-robustness", [setting])
