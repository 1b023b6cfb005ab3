"""The generator regressor: fits z → x, compositional with the known C vs monolithic with a
matched parameter count, deterministic, one-line errors."""

import pytest
import torch

from identifiable.learners.generator import GeneratorRegressor
from identifiable.worlds.compositional import CompositionalWorld

WORLD = CompositionalWorld(support="random", composition="sum", pixels=8, n_train=512, n_test=200)
FAST = dict(hidden=32, epochs=20, eval_every=10, batch_size=64, lr=1e-2, device="cpu")


def test_it_learns_and_is_deterministic():
    learner = GeneratorRegressor(**FAST).fit(WORLD)
    test = WORLD.split("test")
    predicted = learner.predict(test.z)
    assert predicted.shape == test.x.shape
    before = ((test.x - test.x.mean(0)) ** 2).mean()
    assert float(((predicted - test.x) ** 2).mean()) < 0.5 * float(before)
    again = GeneratorRegressor(**FAST).fit(WORLD).predict(test.z)
    assert torch.equal(predicted, again)
    assert [r["step"] for r in learner.history_] == [10, 20]


def test_the_compositional_model_renders_each_slot_from_its_own_latents_only():
    learner = GeneratorRegressor(**FAST | {"epochs": 1}).fit(WORLD)
    z = WORLD.split("all").z
    changed = z.clone()
    changed[:, 0] = 0.5
    slots = learner.model_.render_slots(z), learner.model_.render_slots(changed)
    assert torch.equal(slots[0][:, 1], slots[1][:, 1])
    assert not torch.equal(slots[0][:, 0], slots[1][:, 0])


@pytest.mark.parametrize("world", [
    WORLD,
    CompositionalWorld(renderer="sprites", image_size=16, n_train=64, n_test=8),
])  # fmt: skip
def test_monolithic_width_matches_the_parameter_count(world):
    settings = FAST | {"epochs": 1, "hidden": 64}
    compositional = GeneratorRegressor(**settings).fit(world).n_parameters_
    monolithic = GeneratorRegressor(model="monolithic", **settings).fit(world).n_parameters_
    assert abs(monolithic - compositional) / compositional < 0.02


def test_errors():
    with pytest.raises(ValueError, match="not fitted"):
        GeneratorRegressor().predict(torch.zeros(2, 2, 5))
    with pytest.raises(ValueError, match="model must be"):
        GeneratorRegressor(model="mixed").fit(WORLD)
    learner = GeneratorRegressor(**FAST | {"epochs": 1}).fit(WORLD)
    with pytest.raises(ValueError, match=r"shape \(n, n_slots, slot_dim\)"):
        learner.predict(torch.zeros(3, 10))
    with pytest.raises(ValueError, match="NaN"):
        learner.predict(torch.full((1, 2, 5), float("nan")))
