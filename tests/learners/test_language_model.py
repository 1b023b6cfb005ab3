"""The language-model learner: masked loss, best-validation checkpoint, completion, errors."""

import math

import numpy as np
import pytest
import torch

from identifiable.learners.language_model import LanguageModel
from identifiable.metrics.language import entropy_floor
from identifiable.worlds.formal_languages import FormalLanguageWorld
from identifiable.worlds.grammar_rules import EOS, PAD, SOS

SMALL = dict(d_model=8, heads=2, feedforward=32, layers=2, batch_size=32, eval_every=50)


@pytest.fixture(scope="module")
def fitted():
    world = FormalLanguageWorld("aNbN", max_length=16)
    return LanguageModel(steps=300, lr=1e-2, **SMALL).fit(world), world


def test_training_lowers_the_loss_towards_the_entropy_floor(fitted):
    model, world = fitted
    floor = entropy_floor(world.split("validation").x)  # 0.208 nats for n = 1…8
    first, last = model.history_[0], model.history_[-1]
    assert first["loss"] > last["validation_loss"] + 0.2
    assert floor + 0.15 > last["validation_loss"] >= floor
    assert model.best_validation_loss_ == min(h["validation_loss"] for h in model.history_)
    assert model.loss(world.split("validation").x) == pytest.approx(model.best_validation_loss_)


def test_the_loss_ignores_padding(fitted):
    model, world = fitted
    x = world.split("train").x
    per_token = model.token_losses(x)
    assert per_token.shape == (len(x), x.shape[1] - 1)
    assert np.isnan(per_token[(x[:, 1:] == PAD).numpy()]).all()
    assert model.loss(x) == pytest.approx(np.nanmean(per_token), rel=1e-5)
    more_padding = torch.cat([x, torch.full((len(x), 5), PAD)], 1)
    assert model.loss(more_padding[:, : x.shape[1]]) == pytest.approx(model.loss(x))


def test_greedy_completion_of_in_distribution_prompts(fitted):
    model, world = fitted
    prompts = torch.tensor([[SOS, 3, 3, 3, 4], [SOS, 3, 3, 4, 4]])
    out = model.complete(prompts)
    assert out.shape == (2, world.sequence_length)
    assert torch.equal(out[:, :5], prompts)
    assert world.rules.grammatical(out).all()  # aaab → aaabbb, aabb → aabb
    assert ((out == EOS).sum(1) == 1).all()
    eos = (out == EOS).long().argmax(1)
    assert all((out[i, eos[i] + 1 :] == PAD).all() for i in range(2))


def test_completion_length_limit_and_sampling(fitted):
    model, _ = fitted
    prompts = torch.tensor([[SOS, 3]])
    assert model.complete(prompts, max_length=3).shape == (1, 3)
    a = model.complete(prompts.expand(20, 2), sample=True)
    b = model.complete(prompts.expand(20, 2), sample=True)
    assert torch.equal(a, b)  # seeded by random_state
    with pytest.raises(ValueError, match="max_length .* >= the prompt length"):
        model.complete(prompts, max_length=1)
    with pytest.raises(ValueError, match="must be <= 18, the longest sequence"):
        model.complete(prompts, max_length=19)


def test_transform_is_the_next_token_distribution(fitted):
    model, _ = fitted
    logp = model.transform(torch.tensor([[SOS, PAD, PAD], [SOS, 3, PAD]]))
    assert logp.shape == (2, model.vocab_)
    np.testing.assert_allclose(np.exp(logp).sum(1), 1.0, rtol=1e-5)
    assert logp[0].argmax() == 3  # after SOS comes an a


@pytest.mark.parametrize("architecture", ["lstm", "linear"])
def test_every_architecture_trains(architecture):
    world = FormalLanguageWorld("aNbN", max_length=8)
    model = LanguageModel(architecture, steps=40, lr=1e-2, **SMALL | {"eval_every": 20}).fit(world)
    assert model.history_[-1]["validation_loss"] < model.history_[0]["loss"]
    assert math.isfinite(model.best_validation_loss_)


def test_one_seed_one_fit():
    world = FormalLanguageWorld("baN", max_length=8, n_train=64, n_validation=32)
    runs = [LanguageModel(steps=20, random_state=s, **SMALL).fit(world) for s in (0, 0, 1)]
    x = world.split("validation").x
    assert runs[0].loss(x) == runs[1].loss(x) != runs[2].loss(x)


def test_bad_inputs_say_what_to_change(fitted):
    model, _ = fitted
    with pytest.raises(ValueError, match="token ids"):
        model.transform(torch.tensor([[0.5, 1.0]]))
    with pytest.raises(ValueError, match="token id 9, but the model knows ids 0…4"):
        model.transform(torch.tensor([[0, 9]]))
    with pytest.raises(ValueError, match="architecture must be one of"):
        LanguageModel("gru").fit(FormalLanguageWorld("aNbN", max_length=8))
    with pytest.raises(ValueError, match="multiple of heads"):
        LanguageModel(d_model=10, heads=3).fit(FormalLanguageWorld("aNbN", max_length=8))
    with pytest.raises(ValueError, match="not fitted"):
        LanguageModel().complete(torch.tensor([[0]]))
