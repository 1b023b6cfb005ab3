"""SequenceVAELearner: it learns to reconstruct strings, decodes latents, checks its inputs."""

import numpy as np
import pytest
import torch

from identifiable.learners.sequence_vae import SequenceVAELearner
from identifiable.worlds.formal_languages import FormalLanguageWorld


@pytest.fixture(scope="module")
def fitted():
    world = FormalLanguageWorld("dyck", max_length=6, n_train=256, n_validation=8, n_test=64)
    learner = SequenceVAELearner(
        n_latents=4,
        hidden=(64,),
        steps=400,
        batch_size=64,
        eval_every=100,
        random_state=0,
        device="cpu",
    ).fit(world)
    return learner, world


def test_learns_to_reconstruct(fitted):
    learner, world = fitted
    x = world.split("test").x
    decoded = learner.decode(learner.transform(x))
    assert decoded.shape == tuple(x.shape)
    assert (decoded == x.numpy()).all(1).mean() > 0.6
    history = learner.history_
    assert history[-1]["loss"] < history[0]["loss"] and history[-1]["kl"] > 0


def test_decoder_returns_logits_of_every_position(fitted):
    learner, world = fitted
    z = torch.zeros(3, 4)
    logits = learner.decoder_(z)
    assert logits.shape == (3, world.sequence_length, world.vocab_size)
    np.testing.assert_array_equal(learner.decode(z), logits.argmax(-1).numpy())


@pytest.mark.parametrize(
    "x, message",
    [
        (np.full((2, 8), 1.5), "token ids"),
        (np.full((2, 8), 99), "knows ids"),
        (np.zeros((2, 5)), "shape"),
    ],
)
def test_bad_tokens(fitted, x, message):
    with pytest.raises(ValueError, match=message):
        fitted[0].transform(x)


def test_bad_latents_and_parameters(fitted):
    with pytest.raises(ValueError, match="shape"):
        fitted[0].decode(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        fitted[0].decode(np.full((2, 4), np.nan))
    with pytest.raises(ValueError, match="warmup"):
        SequenceVAELearner(warmup=2.0).fit(fitted[1])
