"""TimeContrastive: TCL's features recover segment-modulated sources (after FastICA), and do not
when nothing varies across segments."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from identifiable.experiments.exchangeable_ica import unmixed_mcc
from identifiable.learners.tcl import TimeContrastive
from identifiable.worlds.base import seeded_generator
from identifiable.worlds.clusters import ClusterWorld
from identifiable.worlds.mixing import LeakyMLPMixing
from identifiable.worlds.segments import SegmentWorld


def world(mode):
    return SegmentWorld(n_sources=2, n_segments=8, variability=mode,
                        mixing=LeakyMLPMixing(n_layers=2, seed=0))  # fmt: skip


def small(steps):
    return TimeContrastive(n_components=2, hidden=(16, 16), steps=steps, batch_size=256, lr=3e-3,
                           eval_every=max(steps, 1))  # fmt: skip


def score(learner, w):
    test = w.sample(4000, generator=seeded_generator(0, 1))
    return unmixed_mcc(learner.transform(test.x), test.z.numpy(), 0)


def test_tcl_recovers_modulated_sources_and_not_iid_ones():
    """Measured (n = 2, 8 segments, 2-layer mixing, 1 000 steps): source variability 0.81,
    no variability 0.32, the untrained encoder 0.31."""
    trained = score(small(1000).fit(world("source")), world("source"))
    control = score(small(1000).fit(world("none")), world("none"))
    untrained = score(small(0).fit(world("source")), world("source"))
    assert trained >= 0.7 and control <= 0.5 and untrained <= 0.5


def test_features_are_the_elementwise_nonlinearity_of_the_mlp():
    w = world("source")
    x = w.sample(64, generator=seeded_generator(1)).x
    for kind, check in (("abs", lambda h, f: np.allclose(h, np.abs(f))),
                        ("square", lambda h, f: np.allclose(h, f**2))):  # fmt: skip
        learner = TimeContrastive(n_components=2, hidden=(4,), steps=3, batch_size=8,
                                  nonlinearity=kind, device="cpu").fit(w)  # fmt: skip
        mlp = learner.encoder_[0]
        with torch.no_grad():
            raw = mlp(x).numpy()
        assert check(learner.transform(x), raw)
        assert learner.head_.bias is not None and learner.head_.out_features == 8


def test_untrained_is_the_initialisation():
    w = world("source")
    untrained = TimeContrastive(n_components=2, hidden=(4,), steps=0).fit(w)
    assert untrained.history_ == []
    again = TimeContrastive(n_components=2, hidden=(4,), steps=0).fit(w)
    x = w.sample(16, generator=seeded_generator(2)).x
    np.testing.assert_array_equal(untrained.transform(x), again.transform(x))


def test_bad_input_is_one_line():
    with pytest.raises(ValueError, match="nonlinearity must be abs or square"):
        TimeContrastive(nonlinearity="relu").fit(world("source"))
    with pytest.raises(ValueError, match="n_segments >= 2"):
        TimeContrastive(steps=1).fit(ClusterWorld())
