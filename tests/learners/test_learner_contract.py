"""The shared learner check (scikit-learn's check_estimator idea), run on every learner.

Learners are discovered: every subclass of ``identifiable.learners._base.Learner`` defined in a
module of ``identifiable.learners``. A new learner gets these checks by subclassing ``Learner``
and giving a small ``_example()`` (learner, world).
"""

import importlib
import inspect
import pkgutil

import numpy as np
import pytest
import torch

import identifiable.learners as package
from identifiable.learners._base import Learner


def _learners() -> list[type]:
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):  # shared helpers and base classes
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, Learner)
                and cls is not Learner
                and cls.__module__ == module.__name__
            ):
                found.append(cls)
    return found


LEARNERS = _learners()


def test_every_learner_is_found():
    names = {cls.__name__ for cls in LEARNERS}
    assert {"ContrastiveLearner", "Classifier", "ImageClassifier"} <= names


@pytest.fixture(params=LEARNERS, ids=lambda cls: cls.__name__)
def example(request):
    learner, world = request.param._example()
    batch = world.sample(6, generator=torch.Generator().manual_seed(5))
    return learner, world, batch.x


def test_init_stores_parameters_only_and_fit_returns_self(example):
    learner, world, x = example
    assert not [k for k in vars(learner) if k.endswith("_")]
    with pytest.raises(ValueError, match="not fitted"):
        learner.transform(x)
    assert learner.fit(world) is learner
    assert hasattr(learner, "encoder_") and hasattr(learner, "device_")
    assert isinstance(learner.history_, list) and learner.history_
    assert {"step", "loss", "train_seconds"} <= set(learner.history_[-1])


def test_transform_shape_and_determinism(example):
    learner, world, x = example
    first = learner.fit(world).transform(x)
    assert isinstance(first, np.ndarray) and first.shape[0] == len(x) and first.ndim == 2
    again = type(learner)(**learner_params(learner)).fit(world).transform(x)
    np.testing.assert_array_equal(first, again)


def test_monitor_is_called_on_the_evaluation_schedule(example):
    learner, world, _ = example
    seen = []

    def monitor(fitted):
        seen.append(len(fitted.history_))
        return {"watched": 1.5}

    learner.fit(world, monitor=monitor)
    assert len(seen) == len(learner.history_) and learner.history_[-1]["watched"] == 1.5


def test_nan_input_is_a_one_line_value_error(example):
    learner, world, x = example
    learner.fit(world)
    bad = torch.as_tensor(x).clone().float()  # token ids too: NaN exists only in floats
    bad.view(-1)[0] = float("nan")
    with pytest.raises(ValueError, match="NaN") as error:
        learner.transform(bad)
    assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match="shape"):
        learner.transform(torch.zeros(3))


def learner_params(learner) -> dict:
    names = inspect.signature(type(learner).__init__).parameters
    return {name: getattr(learner, name) for name in names if name != "self"}
