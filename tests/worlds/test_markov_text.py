"""The Zipfian Markov source: its known quantities (T, μ, entropy rate, loss floor) agree with
its samples, seeding, and one-line errors."""

import numpy as np
import pytest
import torch

from identifiable.worlds.markov_text import FIRST_TOKEN, MarkovTextWorld


def entropy(p):
    return float(-(p * np.log(p)).sum())


def test_chain_quantities_by_hand():
    w = MarkovTextWorld(vocab=8, zipf=1.0, sharpness=0.0)  # i.i.d. Zipf tokens
    zipf = 1 / np.arange(1, 9)
    zipf /= zipf.sum()
    np.testing.assert_allclose(w.transition, np.tile(zipf, (8, 1)))
    np.testing.assert_allclose(w.stationary, zipf)
    assert w.entropy_rate == pytest.approx(entropy(zipf))
    assert w.loss_floor == pytest.approx(entropy(zipf))


def test_stationary_and_entropy_rate_of_a_peaked_chain():
    w = MarkovTextWorld(vocab=16, sharpness=3.0)
    t, mu = w.transition, w.stationary
    np.testing.assert_allclose(t.sum(1), 1.0)
    np.testing.assert_allclose(mu @ t, mu, atol=1e-12)
    assert w.entropy_rate == pytest.approx(sum(mu[i] * entropy(t[i]) for i in range(16)))
    assert w.entropy_rate < MarkovTextWorld(vocab=16, sharpness=1.0).entropy_rate < np.log(16)
    first = entropy(mu)
    assert w.loss_floor == pytest.approx((first + 31 * w.entropy_rate) / 32)


def test_samples_follow_the_chain():
    w = MarkovTextWorld(vocab=8, sharpness=2.0, n_train=20_000)
    batch = w.split("train")
    assert batch.x.shape == (20_000, 33) and (batch.x[:, 0] == 0).all()
    assert torch.equal(batch.x[:, 1:], batch.z + FIRST_TOKEN)
    z = batch.z.numpy()
    np.testing.assert_allclose(
        np.bincount(z.ravel(), minlength=8) / z.size, w.stationary, atol=0.01
    )
    pairs = np.zeros((8, 8))
    np.add.at(pairs, (z[:, :-1].ravel(), z[:, 1:].ravel()), 1)
    np.testing.assert_allclose(pairs / pairs.sum(1, keepdims=True), w.transition, atol=0.02)
    # the true chain's mean next-token loss on its own samples is the floor
    t, mu = w.transition, w.stationary
    losses = np.concatenate([-np.log(mu[z[:, 0]]), -np.log(t[z[:, :-1], z[:, 1:]]).ravel()])
    assert losses.mean() == pytest.approx(w.loss_floor, abs=0.01)


def test_seeds_and_variants():
    a, b = MarkovTextWorld(vocab=8, n_train=64), MarkovTextWorld(vocab=8, n_train=64)
    assert torch.equal(a.split("train").x, b.split("train").x)
    assert not torch.equal(a.split("train").x, a.split("validation").x)
    same = MarkovTextWorld(vocab=8, variant=3, mix=0.0)
    np.testing.assert_allclose(same.transition, a.transition)
    other = MarkovTextWorld(vocab=8, variant=3, mix=0.5)
    assert np.abs(other.transition - a.transition).max() > 0.05
    assert a.vocab_size == 11 and a.sequence_length == 33


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"vocab": 1}, "vocab must be an int >= 2"), ({"length": 0}, "length"),
     ({"zipf": -1.0}, "zipf must be a finite number >= 0"), ({"mix": 2}, "mix must be a number in"),
     ({"sharpness": float("nan")}, "sharpness"), ({"n_train": 1.5}, "n_train")],
)  # fmt: skip
def test_bad_settings_are_one_line_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MarkovTextWorld(**kwargs)


def test_bad_split_and_sample_size():
    w = MarkovTextWorld(vocab=4)
    with pytest.raises(ValueError, match="split must be one of"):
        w.split("dev")
    with pytest.raises(ValueError, match="n must be"):
        w.sample(-1, generator=torch.Generator())
    assert w.sample(0, generator=torch.Generator()).x.shape == (0, 33)


def test_booleans_and_chains_without_a_unique_stationary_distribution_are_refused():
    for kwargs in ({"mix": True}, {"zipf": True}, {"sharpness": False}):
        with pytest.raises(ValueError, match="must be"):
            MarkovTextWorld(**kwargs)
    with pytest.raises(ValueError, match="no unique stationary distribution"):
        MarkovTextWorld(vocab=4, sharpness=5000.0, structure=2).split("train")
