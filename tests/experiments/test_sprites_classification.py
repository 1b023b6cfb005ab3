"""Fast checks of the sprites-classification claims (CPU-sized; the registered run is slow)."""

import numpy as np
import pytest
import torch

from identifiable import claims
from identifiable.config import build_config
from identifiable.experiments.sprites_classification import CLAIMS, Config, make_world, run
from identifiable.learners.image_classifier import ImageClassifier
from identifiable.models.cnn import ConvEncoder

TIMING = {"train_seconds", "steps_per_second"}
FAST = dict(steps=1000, eval_every=500, probe_size=3000)


def untimed(metrics):
    return {k: v for k, v in metrics.items() if k not in TIMING}


@pytest.fixture(scope="module")
def trained():
    return run(Config(**FAST)).metrics


def test_fast_run_passes_the_claims(trained):
    for claim in CLAIMS:
        verdict = claims.judge(claim, trained)
        assert verdict.passed, (claim.name, verdict.failures)
    assert trained["shape_accuracy"] > trained["chance_accuracy"] + 0.5
    assert trained["untrained_shape_accuracy"] < trained["chance_accuracy"] + 0.1


def test_the_main_claim_fails_for_an_untrained_encoder():
    barely = run(Config(steps=1, eval_every=1, probe_size=3000)).metrics  # one step ≈ untrained
    main = next(c for c in CLAIMS if not c.control)
    assert not claims.judge(main, barely).passed
    assert barely["shape_accuracy"] < 0.6


def test_same_seed_same_numbers_and_seed_matters():
    small = dict(steps=6, eval_every=3, batch_size=16, probe_size=512, feature_dim=16)
    a, b = run(Config(**small)).metrics, run(Config(**small)).metrics
    c = run(Config(**small, seed=1)).metrics
    assert untimed(a) == untimed(b)
    assert a["linear_r2_x"] != c["linear_r2_x"]


def test_encoder_init_is_seeded_and_shapes_are_right():
    def weights(seed):
        encoder = ConvEncoder(32, 24, (8, 8), generator=torch.Generator().manual_seed(seed))
        return torch.cat([p.flatten() for p in encoder.parameters()])

    assert torch.equal(weights(0), weights(0)) and not torch.equal(weights(0), weights(1))
    encoder = ConvEncoder(48, 24, (8, 8, 16))
    assert encoder(torch.zeros(5, 3, 48, 48)).shape == (5, 24)
    with pytest.raises(ValueError, match="too small"):
        ConvEncoder(8, 24, (8, 8, 8, 8))


def test_classifier_contract_and_errors():
    world = make_world(Config())
    model = ImageClassifier(steps=2, eval_every=1, batch_size=8, feature_dim=8)
    assert not hasattr(model, "encoder_")
    with pytest.raises(ValueError, match="not fitted"):
        model.transform(torch.zeros(2, 3, 32, 32))
    assert model.fit(world) is model
    assert [r["step"] for r in model.history_] == [1.0, 2.0]
    batch = world.sample(10, generator=torch.Generator().manual_seed(0))
    assert model.transform(batch.x).shape == (10, 8)
    assert set(np.unique(model.predict(batch.x))) <= {0, 1, 2}
    assert 0.0 <= model.score(batch.x, batch.shape[:, 0]) <= 1.0
    with pytest.raises(ValueError, match="one object"):
        ImageClassifier().fit(make_world(Config()).__class__(n_objects=2))
    with pytest.raises(ValueError, match="lr"):
        ImageClassifier(lr=0.0).fit(world)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"n_objects": 2}, "n_objects"),
        ({"image_size": 8}, "image_size"),
        ({"shapes": ("circle",)}, "shapes"),
        ({"shapes": ("circle", "hexagon")}, "shapes"),
        ({"steps": 0}, "steps"),
        ({"lr": -1.0}, "lr"),
        ({"probe_size": 100}, "probe_size"),
    ],
)
def test_bad_config_raises_one_line_errors(overrides, message):
    with pytest.raises(ValueError, match=message) as error:
        Config(**overrides)
    assert "\n" not in str(error.value)


def test_claims_build_valid_configs():
    for claim in CLAIMS:
        build_config(Config, claim.overrides)
        assert claim.name.startswith("sprites-classification/") and claim.expect


@pytest.mark.slow
@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.name)
def test_registered_claims_hold(claim):
    verdict = claims.judge(claim, run(build_config(Config, claim.overrides)).metrics)
    assert verdict.passed, verdict.failures
