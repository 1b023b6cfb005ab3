"""Fast checks of the token-frequency-bias experiment: its numbers are what the metric says,
seeding, the figure, bad input through the CLI, the decay groups, and that barely trained models
do not meet the claim. The claim runs with ``-m slow``."""

import numpy as np
import pytest

from identifiable import claims
from identifiable.config import build_config
from identifiable.experiments.token_frequency_bias import CLAIMS, Config, figures, run
from identifiable.learners.language_model import LanguageModel
from identifiable.metrics.token_frequency import frequency_slope
from identifiable.worlds.markov_text import MarkovTextWorld

TINY = dict(weight_decays=(0.0, 1.0), seeds=3, vocab=12, length=8, n_train=64, d_model=8,
            heads=2, feedforward=16, layers=1, steps=20, batch_size=16, eval_every=10,
            device="cpu")  # fmt: skip


@pytest.fixture(scope="module")
def tiny():
    return run(Config(**TINY))


def test_slopes_are_the_metric_of_the_paired_changes(tiny):
    m, table = tiny.metrics, tiny.curves
    assert len(table) == 2 * 3 * 12
    slopes = []
    for seed in range(3):
        rows = table[(table.seed == seed) & (table.weight_decay == 1.0)].sort_values("token")
        base = table[(table.seed == seed) & (table.weight_decay == 0.0)].sort_values("token")
        np.testing.assert_allclose(
            rows["change"], rows["loss"].to_numpy() - base["loss"].to_numpy()
        )
        slopes.append(frequency_slope(rows["change"].to_numpy(), rows["frequency"].to_numpy()))
    assert m["wd1_frequency_slope"] == pytest.approx(np.mean(slopes))
    assert (
        m["wd1_frequency_slope_ci_low"]
        <= m["wd1_frequency_slope"]
        <= m["wd1_frequency_slope_ci_high"]
    )
    assert (table[table.weight_decay == 0.0]["change"] == 0).all()
    assert {"control_frequency_slope", "wd0_test_loss", "wd1_rare_change", "loss_floor"} <= set(m)
    assert m["wd0_test_loss"] > m["loss_floor"]
    assert run(Config(**TINY)).metrics == pytest.approx(m)  # seeded


def test_figure(tiny, tmp_path):
    paths = figures(tiny.curves, tmp_path)
    assert [p.name for p in paths] == ["token_frequency_bias.png"] and paths[0].stat().st_size > 0


def test_decay_groups_of_the_learner():
    world = MarkovTextWorld(vocab=4, length=4, n_train=8, n_validation=4, n_test=4)
    model = LanguageModel("transformer", d_model=4, heads=2, feedforward=8, layers=1, steps=1,
                          weight_decay=0.5, decay="matrices", device="cpu").fit(world)  # fmt: skip
    decayed, kept = model._parameter_groups()
    assert decayed["weight_decay"] == 0.5 and kept["weight_decay"] == 0.0
    assert all(p.dim() >= 2 for p in decayed["params"]) and all(p.dim() < 2 for p in kept["params"])
    assert any(p is model.encoder_.readout.bias for p in kept["params"])  # the output bias
    with pytest.raises(ValueError, match="decay must be all or matrices"):
        LanguageModel(decay="some", steps=1).fit(world)


@pytest.mark.parametrize(
    "settings",
    [["weight_decays=0.1,1"], ["weight_decays=0,-1"], ["seeds=0"], ["vocab=1"], ["heads=3"],
     ["decay=biases"], ["architecture=gru"], ["lr=0"], ["colour=red"]],
)  # fmt: skip
def test_cli_refuses_bad_input_with_exit_2_and_stores_nothing(refuses, settings):
    refuses("token-frequency-bias", settings + ["steps=2"])


@pytest.mark.slow
@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.name)
def test_registered_claims_hold(claim):
    verdict = claims.judge(claim, run(build_config(Config, claim.overrides)).metrics)
    assert verdict.passed, verdict.failures


def test_the_claim_fails_for_barely_trained_models():
    """The claim's grid and seeds, each model trained for 2 steps: no claim holds."""
    cfg = build_config(Config, {"steps": 2, "eval_every": 1, "n_train": 256, "device": "cpu"})
    metrics = run(cfg).metrics
    for claim in CLAIMS:
        assert not claims.judge(claim, metrics).passed, claim.name
