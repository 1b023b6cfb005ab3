"""Fast end-to-end checks of the cross-entropy claim (CPU-sized; the full claims are slow)."""

import pytest

from identifiable import claims
from identifiable.config import build_config
from identifiable.experiments.cross_entropy import CLAIMS, Config, run

TIMING = {"train_seconds", "steps_per_second", "diet_train_seconds", "diet_steps_per_second"}


def test_same_seed_same_numbers_and_seed_matters():
    small = dict(steps=20, eval_every=10, batch_size=64, eval_size=500, encoder_width=32)
    a, b = run(Config(**small)).metrics, run(Config(**small)).metrics
    c = run(Config(**small, seed=1)).metrics
    strip = lambda m: {k: v for k, v in m.items() if k not in TIMING}  # noqa: E731
    assert strip(a) == strip(b)
    assert a["linear_r2"] != c["linear_r2"]
    assert {"linear_r2", "diet_linear_r2", "untrained_linear_r2", "identity_linear_r2"} <= set(a)


@pytest.fixture(scope="module")
def both():
    return run(Config())


def test_supervised_and_diet_recover_latents_up_to_a_linear_map(both):
    m = both.metrics
    assert m["untrained_linear_r2"] < 0.7  # the baseline the learners must beat
    assert m["linear_r2"] >= 0.85 and m["gain_over_untrained"] >= 0.25
    assert m["diet_linear_r2"] >= 0.75 and m["diet_gain_over_untrained"] >= 0.2
    assert m["linear_r2"] > m["identity_linear_r2"] + 0.1
    curve = both.curves
    assert set(curve["learner"]) == {"supervised", "diet"}
    for _, one in curve.groupby("learner"):
        assert one["linear_r2"].iloc[-1] > one["linear_r2"].iloc[0]


def test_the_fast_claim_fails_for_the_untrained_encoder(both):
    m = both.metrics
    fake = dict(m)
    fake.update(
        linear_r2=m["untrained_linear_r2"],
        diet_linear_r2=m["untrained_linear_r2"],
        gain_over_untrained=0.0,
        diet_gain_over_untrained=0.0,
    )
    claim = next(c for c in CLAIMS if c.name == "cross-entropy/inverts-dgp")
    assert claims.judge(claim, m).passed
    assert not claims.judge(claim, fake).passed


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(n_clusters=1), "n_clusters must be >= 2"),
        (dict(kappa=0.0), "kappa must be > 0"),
        (dict(kappa=-3.0), "kappa must be > 0"),
        (dict(n_clusters=200, n_indices=100), "n_indices must be >= n_clusters"),
        (dict(learner="byol"), "learner must be one of"),
    ],
)
def test_bad_config_raises_one_line_errors(overrides, message):
    with pytest.raises(ValueError, match=message):
        Config(**overrides)


def test_single_learner_runs_report_unprefixed_metrics():
    small = dict(steps=10, eval_every=10, batch_size=64, eval_size=500, encoder_width=16)
    m = run(Config(learner="diet", **small)).metrics
    assert "linear_r2" in m and "diet_linear_r2" not in m and "gain_over_untrained" in m


@pytest.mark.slow
@pytest.mark.parametrize(
    "claim",
    CLAIMS,
    ids=lambda c: c.name,
)
def test_registered_claims_hold(claim):
    verdict = claims.judge(claim, run(build_config(Config, claim.overrides)).metrics)
    assert verdict.passed, verdict.failures
