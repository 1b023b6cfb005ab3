"""What the identifiability metrics *mean*, checked against slow, obviously-correct references.

Each metric gets: the perfect case (scores its maximum exactly on what it forgives), the useless
case (independent or over-fitted noise scores ≈ 0 or below *held out*), its invariances, and a
reference formula written out with loops. These tests are the oracle of mutation testing
(``make mutation``, docs/testing.md): a small slip in the formula must fail one of them.
"""

import itertools
import warnings

import numpy as np
import pytest
from sklearn.kernel_ridge import KernelRidge

from identifiable.metrics import (
    correlation_matrix,
    linear_r2,
    matching,
    mcc,
    nonlinear_r2,
    per_latent_r2,
)


def rng(seed=0):
    return np.random.default_rng(seed)


# -- references -----------------------------------------------------------------------------------
def abs_corr(a, b):
    """|Pearson correlation| of two columns, from the textbook formula; 0 for a constant."""
    a, b = a - a.mean(), b - b.mean()
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return 0.0 if den == 0 else abs((a * b).sum()) / den


def mcc_reference(z, h):
    """max over one-to-one matchings of mean |corr|, by brute force over every matching."""
    n, m = z.shape[1], h.shape[1]
    c = [[abs_corr(z[:, i], h[:, j]) for j in range(m)] for i in range(n)]
    best = 0.0
    if m >= n:
        for cols in itertools.permutations(range(m), n):
            best = max(best, sum(c[i][cols[i]] for i in range(n)) / n)
    else:  # fewer learned dims: choose which latents are matched, the rest count 0
        for rows in itertools.permutations(range(n), m):
            best = max(best, sum(c[rows[j]][j] for j in range(m)) / n)
    return best


def r2_reference(z_fit, h_fit, z_score, h_score):
    """Mean over latents of 1 − SSE/SST for least squares z ≈ [h, 1] w on the fit rows."""
    design = np.column_stack([h_fit, np.ones(len(h_fit))])
    w, *_ = np.linalg.lstsq(design, z_fit, rcond=None)
    predicted = np.column_stack([h_score, np.ones(len(h_score))]) @ w
    return r2_reference_of_predictions(z_score, predicted)


def nonlinear_r2_reference(z, h):
    """nonlinear_r2 with test_size=0, spelled out: standardise ẑ; pick (α, γ) from the grid by
    R² on the last 20 % of rows after fitting the first 80 %; refit on all rows, score them."""
    h = (h - h.mean(0)) / np.where(h.std(0) > 0, h.std(0), 1.0)
    d, cut = h.shape[1], int(len(z) * 0.8)
    best = None
    for alpha in (1e-3, 1e-2, 1e-1):
        for gamma in (0.1 / d, 0.5 / d, 2.0 / d):
            model = KernelRidge(alpha=alpha, kernel="rbf", gamma=gamma).fit(h[:cut], z[:cut])
            score = r2_reference_of_predictions(z[cut:], model.predict(h[cut:]))
            if best is None or score > best[0]:
                best = (score, alpha, gamma)
    model = KernelRidge(alpha=best[1], kernel="rbf", gamma=best[2]).fit(h, z)
    return r2_reference_of_predictions(z, model.predict(h))


def r2_reference_of_predictions(z, predicted):
    """Mean over latents k of 1 − Σ (z_k − ẑ_k)² / Σ (z_k − mean z_k)²."""
    scores = []
    for k in range(z.shape[1]):
        sse = ((z[:, k] - predicted[:, k]) ** 2).sum()
        sst = ((z[:, k] - z[:, k].mean()) ** 2).sum()
        scores.append(1.0 - sse / sst)
    return float(np.mean(scores))


# -- mcc ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_learned", [2, 3, 4])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mcc_matches_brute_force_reference(seed, n_learned):
    r = rng(seed)
    z = r.uniform(-1, 1, size=(200, 3))
    mixing = r.normal(size=(3, n_learned))
    h = z @ mixing + r.normal(size=(200, n_learned)) * r.uniform(0.1, 2.0, n_learned)
    assert mcc(z, h) == pytest.approx(mcc_reference(z, h), abs=1e-12)


def test_spearman_mcc_is_pearson_mcc_of_ranks():
    r = rng(3)
    z = r.normal(size=(150, 3))
    h = np.exp(z @ r.normal(size=(3, 3))) + r.normal(size=(150, 3))
    ranks = lambda a: a.argsort(0).argsort(0).astype(float)  # noqa: E731 - no ties here
    assert mcc(z, h, method="spearman") == pytest.approx(mcc_reference(ranks(z), ranks(h)))
    assert mcc(z, h, method="spearman") != pytest.approx(mcc(z, h, method="pearson"))


def test_mcc_forgives_per_dimension_maps_but_not_rotations():
    z = rng(4).uniform(-1, 1, size=(2000, 4))
    assert mcc(z, -3.0 * z[:, [2, 0, 3, 1]] + 7.0) == pytest.approx(1.0, abs=1e-12)
    angle = np.pi / 4  # rotate latents 0 and 1 into each other
    h = z.copy()
    h[:, 0] = np.cos(angle) * z[:, 0] - np.sin(angle) * z[:, 1]
    h[:, 1] = np.sin(angle) * z[:, 0] + np.cos(angle) * z[:, 1]
    # two of four latents are now mixed 50/50: each keeps |corr| = cos 45° ≈ 0.707
    assert mcc(z, h) == pytest.approx((2 + 2 * np.cos(angle)) / 4, abs=0.02)


def test_constant_dimensions_score_zero_without_warnings():
    z = rng(23).normal(size=(50, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mcc(z, np.column_stack([z[:, 0], np.zeros(50)])) == pytest.approx(0.5)


def test_two_samples_are_enough_for_mcc():
    assert mcc(np.array([[0.0], [1.0]]), np.array([[5.0], [3.0]])) == pytest.approx(1.0)


@pytest.mark.parametrize("metric", [mcc, linear_r2, nonlinear_r2, per_latent_r2])
def test_errors_name_the_argument_at_fault(metric):
    good = rng(24).normal(size=(40, 2))
    bad = good.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"\bz_hat\b"):
        metric(good, bad)
    with pytest.raises(ValueError, match=r"\bz_true\b"):
        metric(bad, good)
    with pytest.raises(ValueError, match=r"\bz_true and z_hat\b"):
        metric(good, good[:30])


@pytest.mark.parametrize("metric", [nonlinear_r2, per_latent_r2])
def test_kernel_and_per_latent_scores_need_eight_samples_of_each_input(metric):
    z = rng(26).normal(size=(8, 1))
    metric(z, z)  # 8 are enough
    with pytest.raises(ValueError, match=r"\bz_true needs at least 8"):
        metric(z[:7], z)
    with pytest.raises(ValueError, match=r"\bz_hat needs at least 8"):
        metric(z, z[:7])


def test_mcc_stays_in_its_bounds():
    z = rng(5).normal(size=(500, 3))
    assert 0.0 <= mcc(z, rng(6).normal(size=(500, 3))) <= 1.0
    assert mcc(z, z) == pytest.approx(1.0)


def test_correlation_matrix_is_abs_pearson_and_zero_for_constants():
    r = rng(7)
    a = r.normal(size=(60, 3))
    b = np.column_stack([-2 * a[:, 1] + 1, r.normal(size=60), np.full(60, 4.0)])
    c = correlation_matrix(a, b)
    expected = [[abs_corr(a[:, i], b[:, j]) for j in range(3)] for i in range(3)]
    np.testing.assert_allclose(c, expected, atol=1e-12)
    assert c[1, 0] == pytest.approx(1.0)
    assert (c[:, 2] == 0.0).all()


def test_matching_recovers_the_permutation():
    z = rng(8).normal(size=(300, 4))
    perm = np.array([2, 0, 3, 1])
    h = z[:, perm] * np.array([1.0, -2.0, 0.5, 3.0])
    # latent k sits in column j of h where perm[j] == k
    np.testing.assert_array_equal(matching(z, h), np.argsort(perm))
    # keep h's columns 1 and 3 (latents 0 and 1): latents 2 and 3 stay unmatched
    np.testing.assert_array_equal(matching(z, h[:, [1, 3]]), [0, 1, -1, -1])


# -- linear_r2 ------------------------------------------------------------------------------------
def test_linear_r2_scores_held_out_so_overfitted_noise_is_useless():
    # 250 noise dimensions, 400 samples: least squares explains most of z *in sample*
    # (E[R²] = d/(n − 1) for pure noise), nothing on samples it did not see
    r = rng(9)
    z = r.normal(size=(400, 2))
    noise = r.normal(size=(400, 250))
    assert linear_r2(z, noise, test_size=0.0) > 0.5
    assert linear_r2(z, noise) < 0.0


def test_linear_r2_in_sample_matches_least_squares_reference():
    r = rng(10)
    z = r.normal(size=(80, 3))
    h = z @ r.normal(size=(3, 4)) + r.normal(size=(80, 4))
    assert linear_r2(z, h, test_size=0.0) == pytest.approx(r2_reference(z, h, z, h), abs=1e-10)


def test_linear_r2_approaches_the_population_r2():
    # z_k = h_k + σ ε: population R² = 1/(1 + σ²) for unit-variance h
    r = rng(12)
    h = r.normal(size=(20_000, 2))
    z = h + 0.5 * r.normal(size=(20_000, 2))
    assert linear_r2(z, h) == pytest.approx(1 / 1.25, abs=0.01)


def test_linear_r2_split_depends_on_random_state_and_size():
    r = rng(13)
    z = r.normal(size=(60, 2))
    h = r.normal(size=(60, 5))
    assert linear_r2(z, h, random_state=0) == linear_r2(z, h, random_state=0)
    assert linear_r2(z, h, random_state=0) != linear_r2(z, h, random_state=1)
    assert linear_r2(z, h, test_size=0.25) != linear_r2(z, h, test_size=0.5)


def test_linear_r2_needs_more_train_rows_than_dimensions_exactly():
    # 100 rows, 25 held out: 75 train rows fit 74 dimensions (+ intercept), not 75
    r = rng(14)
    z = r.normal(size=(100, 1))
    linear_r2(z, r.normal(size=(100, 74)))
    with pytest.raises(ValueError, match="more training samples"):
        linear_r2(z, r.normal(size=(100, 75)))
    with pytest.raises(ValueError, match="test_size"):
        linear_r2(z, z, test_size=1.0)
    with pytest.raises(ValueError, match="test_size"):
        linear_r2(z, z, test_size=-0.1)
    # a tiny test_size still holds out one row: 9 of 10 rows train, so 9 dimensions are too many
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # R² of one held-out row is undefined (NaN)
        linear_r2(z[:10], r.normal(size=(10, 8)), test_size=0.01)
    with pytest.raises(ValueError, match="more training samples"):
        linear_r2(z[:10], r.normal(size=(10, 9)), test_size=0.01)


def test_default_seeds_are_zero():
    # stored results were computed with the default split; changing it silently changes them
    r = rng(25)
    z, h = r.normal(size=(80, 2)), r.normal(size=(80, 3))
    assert linear_r2(z, h) == linear_r2(z, h, random_state=0)
    assert nonlinear_r2(z, h) == nonlinear_r2(z, h, random_state=0)


# -- per_latent_r2 --------------------------------------------------------------------------------
def test_per_latent_r2_scores_each_latent_held_out():
    r = rng(17)
    z = r.normal(size=(400, 3))
    h = np.column_stack([z[:, 0], 2 * z[:, 1] - 1, r.normal(size=(400, 2))])  # latent 2 lost
    scores = per_latent_r2(z, h)
    assert scores.shape == (3,)
    assert scores[:2] == pytest.approx([1.0, 1.0], abs=1e-9)
    assert scores[2] < 0.05
    # its mean is linear_r2 (the same 75/25 split when n is a multiple of 4)
    assert scores.mean() == pytest.approx(linear_r2(z, h), abs=1e-12)


def test_per_latent_r2_of_overfitted_noise_is_negative_held_out():
    r = rng(18)
    z = r.normal(size=(400, 2))
    assert (per_latent_r2(z, r.normal(size=(400, 250))) < 0.0).all()


# -- nonlinear_r2 ---------------------------------------------------------------------------------
def test_nonlinear_r2_is_invariant_to_rescaling_the_representation():
    # ẑ is standardised first, so units of ẑ cannot change the score
    r = rng(19)
    z = r.uniform(-1, 1, size=(200, 2))
    h = np.column_stack([np.tanh(2 * z[:, 0]), z[:, 1] ** 3 + 0.05 * r.normal(size=200)])
    base = nonlinear_r2(z, h)
    rescaled = h * np.array([1e-3, 50.0]) + np.array([7.0, -3.0])
    assert nonlinear_r2(z, rescaled) == pytest.approx(base, abs=1e-9)
    assert base > 0.9


@pytest.mark.parametrize(
    "seed, noise, frequency",
    # five worlds whose best grid cells differ, so every α and every γ of the grid gets used
    [(0, 0.0, 1), (0, 0.0, 3), (0, 0.0, 6), (1, 0.0, 6), (1, 0.5, 1)],
)
def test_nonlinear_r2_matches_its_reference(seed, noise, frequency):
    r = rng(seed)
    z = r.uniform(-1, 1, size=(120, 2))
    h = np.column_stack(
        [np.sin(frequency * z[:, 0]) + z[:, 1], 0.5 * np.cos(frequency * z[:, 1]) + z[:, 0]]
    ) + noise * r.normal(size=(120, 2))
    assert nonlinear_r2(z, h, test_size=0.0) == pytest.approx(
        nonlinear_r2_reference(z, h), abs=1e-9
    )


def test_nonlinear_r2_of_a_constant_dimension_is_finite():
    z = rng(20).uniform(-1, 1, size=(120, 2))
    h = np.column_stack([z, np.ones(120)])
    assert nonlinear_r2(z, h) > 0.9


def test_nonlinear_r2_scores_held_out_so_overfitted_noise_is_useless():
    r = rng(21)
    z = r.normal(size=(200, 2))
    noise = r.normal(size=(200, 50))
    assert nonlinear_r2(z, noise, test_size=0.0) > 0.5
    assert nonlinear_r2(z, noise) < 0.05


def test_nonlinear_r2_uses_at_most_max_samples():
    # capped at 100 of 5000 rows, the fit is far worse than on all of them
    r = rng(22)
    z = r.uniform(-1, 1, size=(5000, 3))
    h = np.sin(2 * z) + 0.02 * r.normal(size=z.shape)
    small = nonlinear_r2(z, h, max_samples=60)
    assert small < nonlinear_r2(z, h, max_samples=600) - 0.01
    assert nonlinear_r2(z, h, max_samples=60, random_state=1) != small
    assert nonlinear_r2(z, h, max_samples=60) == small  # the subsample is seeded


def test_nonlinear_r2_cap_at_the_sample_count_changes_nothing():
    r = rng(27)
    z = r.uniform(-1, 1, size=(150, 2))
    h = np.tanh(z) + 0.1 * r.normal(size=z.shape)
    assert nonlinear_r2(z, h, max_samples=150) == nonlinear_r2(z, h, max_samples=1000)


def test_nonlinear_r2_subsample_never_repeats_a_row():
    # drawn with replacement, a held-out row could also sit in the train part and be memorised
    r = rng(28)
    z = r.normal(size=(300, 2))
    noise = r.normal(size=(300, 50))
    assert nonlinear_r2(z, noise, max_samples=200) < 0.05
