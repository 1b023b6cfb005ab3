"""AnInfoNCE loss, the anisotropic sphere space and the Λ̂ rank-correlation metric."""

import math

import numpy as np
import pytest
import torch

from identifiable.learners.contrastive import ContrastiveLearner
from identifiable.losses import an_info_nce, info_nce
from identifiable.metrics import lambda_rank_correlation, per_latent_r2
from identifiable.worlds.latents import AnisotropicSphereSpace, anisotropic_lambdas
from identifiable.worlds.mixing import LeakyMLPMixing
from identifiable.worlds.world import LatentWorld


def manual_an_info_nce(h, hp, lam):
    b = len(h)
    total = 0.0
    for i in range(b):
        s = [float(-0.5 * ((h[i] - hp[j]) ** 2 * lam).sum()) for j in range(b)]
        total += -s[i] + math.log(sum(math.exp(v) for v in s))
    return total / b


def test_matches_the_formula():
    gen = torch.Generator().manual_seed(0)
    h = torch.randn(7, 4, generator=gen, dtype=torch.float64)
    hp = torch.randn(7, 4, generator=gen, dtype=torch.float64)
    lam = torch.tensor([0.5, 2.0, 3.0, 7.0], dtype=torch.float64)
    assert float(an_info_nce(h, hp, lam)) == pytest.approx(manual_an_info_nce(h, hp, lam), 1e-9)


def test_isotropic_lambda_is_plain_dot_infonce_on_the_sphere():
    gen = torch.Generator().manual_seed(1)
    h = torch.nn.functional.normalize(torch.randn(64, 6, generator=gen, dtype=torch.float64), dim=1)
    hp = torch.nn.functional.normalize(h + 0.3 * torch.randn(64, 6, generator=gen), dim=1)
    tau = 0.2
    lam = torch.full((6,), 1.0 / tau, dtype=torch.float64)
    assert float(an_info_nce(h, hp, lam)) == pytest.approx(float(info_nce(h, hp, tau)), 1e-9)


def test_perfect_pairs_beat_shuffled_ones_and_lambda_gets_gradients():
    gen = torch.Generator().manual_seed(2)
    h = torch.nn.functional.normalize(torch.randn(256, 8, generator=gen), dim=1)
    raw = torch.zeros(8, requires_grad=True)
    lam = 50.0 * torch.nn.functional.softplus(raw)
    aligned = an_info_nce(h, h, lam)
    shuffled = an_info_nce(h, h[torch.randperm(256, generator=gen)], lam.detach())
    assert float(aligned.detach()) < 1.0 < math.log(256) - 1 < float(shuffled)
    aligned.backward()
    assert raw.grad is not None and torch.all(raw.grad < 0)  # sharper metric helps aligned pairs


def test_bad_inputs_raise_one_line_errors():
    h = torch.zeros(4, 3)
    with pytest.raises(ValueError, match="one weight per dimension"):
        an_info_nce(h, h, torch.ones(2))
    with pytest.raises(ValueError, match="shape"):
        an_info_nce(h, torch.zeros(4, 2), torch.ones(3))
    with pytest.raises(ValueError, match="at least 2"):
        an_info_nce(h[:1], h[:1], torch.ones(3))


def test_presets_and_validation():
    assert anisotropic_lambdas("linspace", 10)[0] == 5.0
    assert anisotropic_lambdas("linspace", 10)[-1] == 25.0
    assert anisotropic_lambdas("bimodal", 10) == (25.0,) * 5 + (5.0,) * 5
    with pytest.raises(ValueError, match="lambda preset must be one of"):
        anisotropic_lambdas("cosine", 10)
    with pytest.raises(ValueError, match="> 0"):
        AnisotropicSphereSpace(lambdas=(1.0, -2.0))
    with pytest.raises(ValueError, match="at least 2"):
        AnisotropicSphereSpace(lambdas=(1.0,))


def test_positives_lie_on_the_sphere_and_vary_less_where_lambda_is_large(generator):
    space = AnisotropicSphereSpace.preset("linspace", 10)
    z = space.marginal(20_000, generator=generator)
    z_pos = space.conditional(z, generator=generator)
    assert torch.allclose(z_pos.norm(dim=1), torch.ones(20_000), atol=1e-5)
    spread = (z_pos - z).square().mean(0)
    # the most concentrated latent moves about 5x less (in variance) than the least
    assert spread[-1] < 0.4 * spread[0]
    assert torch.all(spread[1:] < spread[:-1] * 1.1)
    again = space.conditional(z, generator=torch.Generator().manual_seed(3))
    same = space.conditional(z, generator=torch.Generator().manual_seed(3))
    assert torch.equal(again, same)


def test_rank_correlation_perfect_useless_and_reversed():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(2000, 5))
    perm = np.array([3, 0, 4, 1, 2])
    h = z[:, perm] * np.array([1.0, -2.0, 0.5, 3.0, -1.0])  # h_j = a_j z_perm[j]
    lam = np.array([5.0, 10.0, 15.0, 20.0, 25.0])
    lam_hat = 0.3 * lam[perm]  # Λ̂ follows the same permutation, any scale
    assert lambda_rank_correlation(z, h, lam, lam_hat) == pytest.approx(1.0)
    assert lambda_rank_correlation(z, h, lam, 1.0 / lam_hat) == pytest.approx(-1.0)
    useless = [lambda_rank_correlation(z, h, lam, rng.permutation(lam)) for _ in range(200)]
    assert abs(np.mean(useless)) < 0.15
    assert math.isnan(lambda_rank_correlation(z, h, lam, np.ones(5)))
    with pytest.raises(ValueError, match="one Λ per latent"):
        lambda_rank_correlation(z, h, lam[:4], lam_hat)


def test_per_latent_r2_perfect_and_useless():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(4000, 3))
    assert np.allclose(per_latent_r2(z, z @ rng.normal(size=(3, 3))), 1.0)
    assert np.all(per_latent_r2(z, rng.normal(size=(4000, 3))) < 0.02)


def test_anisotropic_learner_learns_lambda_and_keeps_the_contract():
    world = LatentWorld(AnisotropicSphereSpace.preset("linspace", 4), LeakyMLPMixing(n_layers=2))
    common = dict(n_components=4, hidden=(32,), batch_size=64, steps=30, eval_every=15)
    diag = ContrastiveLearner(similarity="anisotropic", **common)
    assert diag.fit(world) is diag
    assert diag.lambda_.shape == (4,) and np.all(diag.lambda_ > 0)
    assert "lambda_3" in diag.history_[-1]
    iso = ContrastiveLearner(similarity="anisotropic", lambda_shape="isotropic", **common).fit(
        world
    )
    assert np.all(iso.lambda_ == iso.lambda_[0])
    with pytest.raises(ValueError, match="lambda_shape"):
        ContrastiveLearner(similarity="anisotropic", lambda_shape="full").fit(world)
    with pytest.raises(ValueError, match="lambda_lr"):
        ContrastiveLearner(similarity="anisotropic", lambda_lr=0.0).fit(world)
