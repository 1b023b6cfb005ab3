"""The interaction autoencoder: it trains (loss falls), one seed fixes a fit, the regulariser is
on only where asked, its outputs and masks have the documented shapes, bad settings are refused."""

import pytest
import torch

from identifiable.learners.interaction_autoencoder import InteractionAutoencoder
from identifiable.metrics.slot_masks import slot_jacobian_norms
from identifiable.worlds.object_scenes import ObjectScenesWorld

SMALL = dict(n_slots=3, slot_dim=4, width=8, proj=8, query=8, query_hidden=8, heads=2,
             encoder_heads=2, layers=1, channels=4, batch_size=16, eval_every=10,
             device="cpu")  # fmt: skip
WORLD = ObjectScenesWorld(n_objects=2, image_size=16, n_train=64, n_test=8)


def fit(**settings):
    return InteractionAutoencoder(**SMALL | {"steps": 20} | settings).fit(WORLD)


def test_training_lowers_the_reconstruction_loss():
    learner = fit(steps=60, lr=2e-3, lr_warmup=5)
    first, last = learner.history_[0]["loss"], learner.history_[-1]["loss"]
    assert last < 0.7 * first


def test_one_seed_fixes_the_fit_and_another_changes_it():
    a, b, c = fit(), fit(), fit(random_state=1)
    x = WORLD.split("test").x
    torch.testing.assert_close(a.reconstruct(x), b.reconstruct(x))
    assert not torch.equal(a.reconstruct(x), c.reconstruct(x))


def test_the_regulariser_and_the_kl_act_only_when_switched_on():
    plain = fit(alpha=0.0, beta=0.0)
    assert all(h["kl"] == 0.0 for h in plain.history_)
    assert plain.encoder_[1].out_features == 4  # deterministic slots
    vae = fit(alpha=0.0, beta=0.1)
    assert vae.encoder_[1].out_features == 8 and vae.history_[-1]["kl"] > 0
    penalised = fit(alpha=5.0, beta=0.0, alpha_warmup=1, steps=40, lr=2e-3)
    free = fit(alpha=0.0, beta=0.0, steps=40, lr=2e-3)
    assert penalised.history_[-1]["interaction"] < free.history_[-1]["interaction"]


@pytest.mark.parametrize("decoder", ["transformer", "broadcast"])
def test_outputs_masks_and_jacobians_have_the_documented_shapes(decoder):
    learner = fit(decoder=decoder, alpha=0.0)
    x = WORLD.split("test").x
    slots = learner.encode_slots(x)
    assert slots.shape == (8, 3, 4)
    assert learner.transform(x).shape == (8, 12)
    assert learner.decode(slots).shape == (8, 3, 16, 16)
    masks = learner.slot_masks(slots)
    assert masks.shape == (8, 3, 16, 16)
    heads = 2 if decoder == "transformer" else 1
    torch.testing.assert_close(masks.sum(1), torch.full((8, 16, 16), float(heads)))
    norms = slot_jacobian_norms(learner.decoder_function(), slots[:2])
    assert norms.shape == (2, 3, 16, 16) and (norms >= 0).all()


def test_the_vae_encodes_its_means():
    learner = fit(beta=0.1)
    x = WORLD.split("test").x
    torch.testing.assert_close(learner.encode_slots(x), learner.encode_slots(x))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"alpha": -0.1}, "alpha must be >= 0"),
        ({"beta": -1.0}, "beta must be >= 0"),
        ({"decoder": "mlp"}, "decoder must be transformer or broadcast"),
        ({"decoder": "broadcast", "alpha": 0.1}, "alpha > 0 penalises the Transformer"),
        ({"width": 7}, "multiple of encoder_heads"),
        ({"proj": 7}, "multiple of heads"),
        ({"steps": 0}, "steps must be"),
    ],
)
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        fit(**settings)


def test_images_the_encoder_cannot_take_are_refused():
    world = ObjectScenesWorld(n_objects=2, image_size=24, n_train=8, n_test=2)
    with pytest.raises(ValueError, match="power of 2"):
        InteractionAutoencoder(**SMALL | {"steps": 1}).fit(world)


def test_slots_of_the_wrong_shape_are_refused():
    learner = fit(steps=1)
    with pytest.raises(ValueError, match=r"slots must have shape \(n, 3, 4\)"):
        learner.decode(torch.zeros(2, 2, 4))
