"""What ``lambda_rank_correlation`` means: Λ̂ read through the same matching that aligns ẑ with z.

Perfect: ẑ a permutation of z and Λ̂ = c·Λ permuted the same way → 1; reversed order → −1; Λ̂
ordered like Λ but *not* permuted with ẑ → well below 1 (the matching is part of the metric).
Reference: a brute-force matching (best |correlation| over all permutations) and Spearman as the
Pearson correlation of ranks.
"""

import itertools

import numpy as np
import pytest

from identifiable.metrics.anisotropy import lambda_rank_correlation

N, D = 2000, 5
LAM = np.array([0.5, 1.0, 2.0, 4.0, 8.0])
PERM = np.array([3, 0, 4, 1, 2])  # ẑ_j = z_perm[j]


@pytest.fixture(scope="module")
def z():
    return np.random.default_rng(0).normal(size=(N, D))


def test_perfect_recovery_scores_one(z):
    h = z[:, PERM] * np.array([2.0, -1.0, 0.5, 3.0, -4.0]) + 1.0
    assert lambda_rank_correlation(z, h, LAM, 3.0 * LAM[PERM]) == pytest.approx(1.0)


def test_reversed_order_scores_minus_one(z):
    lam_hat = (1.0 / LAM)[PERM]  # Λ̂ ordered against Λ
    assert lambda_rank_correlation(z, z[:, PERM], LAM, lam_hat) == pytest.approx(-1.0)


def test_the_matching_is_used(z):
    # Λ̂ in latent order while ẑ is permuted: without the matching this would score 1.
    unpermuted = lambda_rank_correlation(z, z[:, PERM], LAM, LAM)
    assert unpermuted < 0.5


def reference(z, h, lam, lam_hat):
    d = z.shape[1]
    c = np.abs(np.corrcoef(z.T, h.T)[:d, d:])
    best = max(itertools.permutations(range(d)), key=lambda p: sum(c[k, p[k]] for k in range(d)))
    a, b = lam, lam_hat[list(best)]
    ranks_a, ranks_b = a.argsort().argsort(), b.argsort().argsort()
    return np.corrcoef(ranks_a, ranks_b)[0, 1]


@pytest.mark.parametrize("seed", range(4))
def test_matches_brute_force_reference(seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(500, D))
    h = z @ (np.eye(D) + 0.3 * rng.normal(size=(D, D))) + 0.1 * rng.normal(size=(500, D))
    lam, lam_hat = rng.permutation(D) + 1.0, rng.permutation(D) + 1.0
    assert lambda_rank_correlation(z, h, lam, lam_hat) == pytest.approx(
        reference(z, h, lam, lam_hat)
    )


def test_constant_concentrations_have_no_order(z):
    assert np.isnan(lambda_rank_correlation(z, z, np.ones(D), LAM))
    assert np.isnan(lambda_rank_correlation(z, z, LAM, np.full(D, 2.0)))


def test_two_rows_are_enough_one_is_not(z):
    lambda_rank_correlation(z[:2], z[:2], LAM, LAM)
    with pytest.raises(ValueError):
        lambda_rank_correlation(z[:1], z[:1], LAM, LAM)


@pytest.mark.parametrize(
    "h_dims, n_lam, n_lam_hat",
    [(D, D - 1, D), (D, D, D + 1), (D + 1, D, D + 1), (D - 1, D, D - 1)],
)
def test_one_concentration_per_latent_and_output(z, h_dims, n_lam, n_lam_hat):
    h = np.random.default_rng(1).normal(size=(N, h_dims))
    with pytest.raises(ValueError, match="one Λ per latent"):
        lambda_rank_correlation(z, h, np.arange(n_lam) + 1.0, np.arange(n_lam_hat) + 1.0)


def test_rows_must_match(z):
    with pytest.raises(ValueError):
        lambda_rank_correlation(z, z[:-1], LAM, LAM)


def test_errors_name_the_argument(z):
    with pytest.raises(ValueError, match="^z_true must have shape"):
        lambda_rank_correlation(z[:, :, None], z, LAM, LAM)
    with pytest.raises(ValueError, match="^z_hat must have shape"):
        lambda_rank_correlation(z, z[:, :, None], LAM, LAM)
    with pytest.raises(ValueError, match="^z_true and z_hat must have the same number"):
        lambda_rank_correlation(z, z[:-1], LAM, LAM)


def test_a_spread_of_exactly_one_is_an_order():
    z = np.random.default_rng(3).normal(size=(300, 3))
    lam = np.array([0.5, 1.5, 1.0])  # ptp = 1 exactly
    assert lambda_rank_correlation(z, z, lam, lam) == pytest.approx(1.0)
    assert lambda_rank_correlation(z, z, lam * 3, lam) == pytest.approx(1.0)
