"""The Zipfian Markov source, tested for what its parameters mean.

T[i, j] ∝ π_j exp(c G_ij) with π_k ∝ (k + 1)^(−s) and G = (1 − m) G_shared + m G_own (standard
normal, G_shared seeded by ``structure``): so log T[i, j] + s log(j + 1) is c G_ij up to a
constant per row. Each parameter is checked through that closed form, and validation refuses
exactly the invalid settings.
"""

import numpy as np
import pytest
import torch

from identifiable.worlds.markov_text import MarkovTextWorld


def row_centred_logits(w: MarkovTextWorld) -> np.ndarray:
    """c G_ij (− a constant per row) recovered from T: log T + s log(j + 1), centred per row."""
    logits = np.log(w.transition) + w.zipf * np.log(np.arange(1, w.vocab + 1))[None, :]
    return logits - logits.mean(axis=1, keepdims=True)


def test_transition_is_the_documented_softmax_of_shared_normal_logits():
    w = MarkovTextWorld(vocab=6, zipf=1.5, sharpness=0.7, structure=4)
    g = np.random.default_rng(4).standard_normal((6, 6))  # G_shared, seeded by `structure`
    rows = (np.arange(1, 7) ** -1.5)[None, :] * np.exp(0.7 * g)
    np.testing.assert_allclose(w.transition, rows / rows.sum(1, keepdims=True), rtol=1e-12)


def test_sharpness_scales_the_logits_and_zipf_tilts_them():
    base = dict(vocab=7, zipf=1.2, structure=2, variant=1, mix=0.3)
    one = row_centred_logits(MarkovTextWorld(sharpness=1.0, **base))
    np.testing.assert_allclose(row_centred_logits(MarkovTextWorld(sharpness=2.5, **base)),
                               2.5 * one, atol=1e-10)  # fmt: skip
    # at c = 0 every row is the Zipf prior, whatever s: log T[i, j] − log T[i, 0] = −s log(j + 1)
    flat = MarkovTextWorld(vocab=7, zipf=0.8, sharpness=0.0)
    prior = np.tile(-0.8 * np.log(np.arange(1, 8)), (7, 1))
    np.testing.assert_allclose(np.log(flat.transition / flat.transition[:, :1]), prior, atol=1e-12)
    # s = 0 with c = 0: uniform tokens
    np.testing.assert_allclose(MarkovTextWorld(vocab=5, zipf=0, sharpness=0).transition, 0.2)


def test_mix_interpolates_the_logits_between_shared_and_own():
    def logits(mix, variant=3, structure=1):
        return row_centred_logits(
            MarkovTextWorld(vocab=6, sharpness=1.0, mix=mix, variant=variant, structure=structure)
        )

    shared, own = logits(0.0), logits(1.0)
    np.testing.assert_allclose(logits(0.25), 0.75 * shared + 0.25 * own, atol=1e-10)
    assert np.abs(own - shared).max() > 0.5  # a variant's own logits are not the shared ones
    # G_own is drawn per variant: two variants of one structure differ at m = 1
    assert np.abs(logits(1.0, variant=4) - own).max() > 0.5
    # G_shared is drawn per structure: at m = 0 another structure is another chain
    assert np.abs(logits(0.0, structure=2) - shared).max() > 0.5


def test_a_very_sharp_chain_stays_a_finite_distribution():
    # logits up to c·|G| ≈ 2000: exp must be taken after shifting each row's maximum to 0, and
    # entries that underflow to 0 contribute 0 · log 0 = 0 to the entropy
    w = MarkovTextWorld(vocab=8, sharpness=500.0)
    t = w.transition
    assert np.isfinite(t).all() and (t == 0).any()
    np.testing.assert_allclose(t.sum(1), 1.0)
    assert np.isfinite(w.entropy_rate) and 0 <= w.entropy_rate < 1e-6
    assert np.isfinite(w.loss_floor)
    assert np.isrealobj(w.stationary) and np.isfinite(w.stationary).all()


def test_stationary_distribution_is_real_and_solves_mu_t_equals_mu():
    for seed in range(4):
        w = MarkovTextWorld(vocab=12, sharpness=2.0, structure=seed)
        mu = w.stationary
        assert mu.dtype == np.float64 and mu.shape == (12,)
        assert (mu > 0).all() and mu.sum() == pytest.approx(1.0)
        np.testing.assert_allclose(mu @ w.transition, mu, atol=1e-12)
        # the limit of the chain from any start
        np.testing.assert_allclose(np.linalg.matrix_power(w.transition, 200)[0], mu, atol=1e-10)


def test_loss_floor_for_one_token_is_the_unigram_entropy():
    w = MarkovTextWorld(vocab=6, length=1, sharpness=3.0)
    mu = w.stationary
    assert w.loss_floor == pytest.approx(-(mu * np.log(mu)).sum())
    two = MarkovTextWorld(vocab=6, length=2, sharpness=3.0)
    assert two.loss_floor == pytest.approx((-(mu * np.log(mu)).sum() + w.entropy_rate) / 2)


def test_smallest_valid_settings_are_accepted():
    w = MarkovTextWorld(vocab=2, length=1, zipf=0, sharpness=0, mix=1, structure=0, variant=0,
                        n_train=1, n_validation=1, n_test=1, seed=0)  # fmt: skip
    assert w.split("train").x.shape == (1, 2)
    assert MarkovTextWorld(mix=0.0).mix == 0.0 and MarkovTextWorld(mix=1.0).mix == 1.0


@pytest.mark.parametrize(
    "kwargs",
    [{"vocab": True}, {"vocab": 2.0}, {"length": True}, {"n_validation": 0}, {"n_test": 0},
     {"n_train": 0}, {"structure": -1}, {"variant": -1}, {"seed": -1}, {"zipf": float("inf")},
     {"sharpness": -0.1}, {"zipf": "1"}, {"mix": -0.01}, {"mix": 1.01}, {"mix": "0.5"}],
)  # fmt: skip
def test_invalid_settings_are_refused(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        MarkovTextWorld(**kwargs)


def test_split_sizes_and_seeds():
    w = MarkovTextWorld(vocab=5, length=4, n_train=7, n_validation=3, n_test=2)
    sizes = {name: w.split(name).x.shape for name in ("train", "validation", "test")}
    assert sizes == {"train": (7, 5), "validation": (3, 5), "test": (2, 5)}
    again = MarkovTextWorld(vocab=5, length=4, n_train=7, n_validation=3, n_test=2)
    other = MarkovTextWorld(vocab=5, length=4, n_train=7, n_validation=3, n_test=2, seed=1)
    for name in ("train", "validation", "test"):
        assert torch.equal(w.split(name).x, again.split(name).x)
    assert not torch.equal(w.split("train").x, other.split("train").x)
    assert not torch.equal(w.split("validation").x[:2], w.split("test").x)


def test_sample_refuses_a_non_integer_size_and_uses_the_generator():
    w = MarkovTextWorld(vocab=5, length=6)
    with pytest.raises(ValueError, match="n must be"):
        w.sample(2.0, generator=torch.Generator())
    a = w.sample(50, generator=torch.Generator().manual_seed(0)).z
    b = w.sample(50, generator=torch.Generator().manual_seed(0)).z
    c = w.sample(50, generator=torch.Generator().manual_seed(1)).z
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.dtype == torch.long and a.min() >= 0 and a.max() < 5


def test_every_step_follows_its_own_predecessor():
    # a near-deterministic chain (c = 500): each token is almost surely the argmax successor of
    # the one before it, at every position and in particular the second (structure 2: one closed
    # class, so a unique stationary distribution; structure 0 has two and is refused)
    w = MarkovTextWorld(vocab=6, length=5, sharpness=500.0, structure=2)
    successor = torch.as_tensor(w.transition.argmax(1))
    assert (w.transition.max(1) > 1 - 1e-12).all()  # 800 steps: P(any slip) < 1e-9
    z = w.sample(200, generator=torch.Generator().manual_seed(0)).z
    assert torch.equal(z[:, 1:], successor[z[:, :-1]])


@pytest.mark.parametrize("structure", [0, 4])  # a 3-cycle with a transient token; an absorbing one
def test_a_deterministic_chain_is_sampled_and_its_floor_is_the_first_tokens_entropy(structure):
    # c = 5000: every row of T is one-hot (the c → ∞ limit), so H = 0 and the only uncertainty
    # is the first token: floor = H(μ) / length
    w = MarkovTextWorld(vocab=4, length=6, sharpness=5000.0, structure=structure)
    t, mu = w.transition, w.stationary
    assert set(np.unique(t)) == {0.0, 1.0}
    np.testing.assert_allclose(mu @ t, mu, atol=1e-12)
    assert w.entropy_rate == 0.0
    positive = mu[mu > 0]
    assert w.loss_floor == pytest.approx(-(positive * np.log(positive)).sum() / 6)
    z = w.sample(100, generator=torch.Generator().manual_seed(0)).z
    successor = torch.as_tensor(t.argmax(1))
    assert torch.equal(z[:, 1:], successor[z[:, :-1]])
    assert (mu[z[:, 0].numpy()] > 0).all()


def test_mixed_logits_have_the_variance_of_the_documented_mixture():
    # G = (1 − m) G_shared + m G_own with independent standard normal entries: Var G_ij =
    # (1 − m)² + m², times (V − 1)/V once each row is centred. V = 64: 4096 entries, the sample
    # variance has a relative standard error √(2/4096) = 2.2 %; tolerance 15 % (≈ 7 se)
    v = 64
    for mix in (0.0, 0.5, 1.0):
        logits = row_centred_logits(MarkovTextWorld(vocab=v, sharpness=1.0, mix=mix, variant=5))
        expected = ((1 - mix) ** 2 + mix**2) * (v - 1) / v
        assert logits.var() == pytest.approx(expected, rel=0.15), mix
