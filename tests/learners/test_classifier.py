"""The cross-entropy learners (supervised label classification and DIET)."""

import numpy as np
import pytest

from identifiable.learners.classifier import Classifier
from identifiable.worlds.clusters import ClusterWorld
from identifiable.worlds.mixing import LeakyMLPMixing

WORLD = ClusterWorld(
    n_latents=3, n_clusters=8, n_indices=40, kappa=10.0, mixing=LeakyMLPMixing(n_layers=2)
)
SMALL = dict(n_components=3, hidden=(32, 32), batch_size=128, eval_every=20)


def test_init_only_stores_parameters_and_fit_returns_self():
    learner = Classifier(target="index", steps=40, **SMALL)
    assert not hasattr(learner, "encoder_")
    with pytest.raises(ValueError, match="not fitted"):
        learner.transform(np.zeros((2, 3)))
    assert learner.fit(WORLD) is learner
    assert learner.head_.weight.shape == (40, 3)  # one class per sample index
    assert learner.transform(np.zeros((5, 3))).shape == (5, 3)
    assert learner.predict(np.zeros((5, 3))).shape == (5,)
    assert [r["step"] for r in learner.history_] == [20.0, 40.0]


def test_supervised_learns_the_labels_and_is_deterministic():
    a = Classifier(target="label", steps=150, **SMALL).fit(WORLD)
    b = Classifier(target="label", steps=150, **SMALL).fit(WORLD)
    assert a.head_.weight.shape == (8, 3)
    assert a.history_[-1]["loss"] < a.history_[0]["loss"]
    assert a.history_[-1]["accuracy"] > 2.0 / 8  # well above chance (1/8)
    assert np.array_equal(a.transform(np.ones((3, 3))), b.transform(np.ones((3, 3))))
    c = Classifier(target="label", steps=150, random_state=1, **SMALL).fit(WORLD)
    assert not np.array_equal(a.transform(np.ones((3, 3))), c.transform(np.ones((3, 3))))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(target="cluster"), "target must be label or index"),
        (dict(lr=0.0), "lr must be > 0"),
        (dict(steps=0), "steps must be a positive int"),
    ],
)
def test_bad_parameters_raise_at_fit(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Classifier(**kwargs).fit(WORLD)
