"""Meaning of the alignment metrics beyond the basics: every number against a direct
implementation of its definition, the null's bookkeeping by hand, the sample-size limits and
error messages a user reads."""

import numpy as np
import pytest
import torch

from identifiable.metrics.alignment import (
    EPS,
    calibrate,
    cka,
    cknna,
    hsic_biased,
    hsic_unbiased,
    mutual_knn,
    prepare_features,
    unbiased_cka,
)


def gaussian(n=40, d=5, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def direct_hsic_biased(k_mat, l_mat):
    n = len(k_mat)
    h = np.eye(n) - 1.0 / n
    return np.trace(k_mat @ h @ l_mat @ h)


def direct_hsic_unbiased(k_mat, l_mat):
    n = len(k_mat)
    kt, lt = k_mat - np.diag(np.diag(k_mat)), l_mat - np.diag(np.diag(l_mat))
    one = np.ones(n)
    return (np.trace(kt @ lt) + (one @ kt @ one) * (one @ lt @ one) / ((n - 1) * (n - 2))
            - 2 / (n - 2) * (one @ kt @ lt @ one)) / (n * (n - 3))  # fmt: skip


def direct_knn(x, k):
    s = x @ x.T
    np.fill_diagonal(s, -np.inf)
    return [set(np.argsort(-s[i], kind="stable")[:k]) for i in range(len(x))]


def test_hsic_estimators_on_asymmetric_kernels():
    """Masked kernels (CKNNA) are not symmetric: both estimators must follow the trace formula,
    not a symmetric shortcut."""
    rng = np.random.default_rng(1)
    k_mat, l_mat = rng.normal(size=(9, 9)), rng.normal(size=(9, 9))
    got = float(hsic_biased(torch.tensor(k_mat), torch.tensor(l_mat)))
    assert got == pytest.approx(direct_hsic_biased(k_mat, l_mat), rel=1e-12)
    got = float(hsic_unbiased(torch.tensor(k_mat), torch.tensor(l_mat)))
    assert got == pytest.approx(direct_hsic_unbiased(k_mat, l_mat), rel=1e-12)


def test_every_score_equals_its_definition():
    a, b = gaussian(), gaussian(d=7, seed=3)
    k_mat, l_mat = a @ a.T, b @ b.T
    want = direct_hsic_biased(k_mat, l_mat) / (
        np.sqrt(direct_hsic_biased(k_mat, k_mat) * direct_hsic_biased(l_mat, l_mat)) + EPS
    )
    assert cka(a, b) == pytest.approx(want, rel=1e-12)
    want = direct_hsic_unbiased(k_mat, l_mat) / (
        np.sqrt(direct_hsic_unbiased(k_mat, k_mat) * direct_hsic_unbiased(l_mat, l_mat)) + EPS
    )
    assert unbiased_cka(a, b) == pytest.approx(want, rel=1e-12)
    for k in (3, 10):
        na, nb = direct_knn(a, k), direct_knn(b, k)
        want = np.mean([len(na[i] & nb[i]) / k for i in range(len(a))])
        assert mutual_knn(a, b, k=k) == pytest.approx(want)
        mask_a = np.zeros((40, 40))
        mask_b = np.zeros((40, 40))
        for i in range(40):
            mask_a[i, list(na[i])] = 1
            mask_b[i, list(nb[i])] = 1
        both = mask_a * mask_b
        own = direct_hsic_unbiased(mask_a * k_mat, mask_a * k_mat) * direct_hsic_unbiased(
            mask_b * l_mat, mask_b * l_mat
        )
        want = direct_hsic_unbiased(both * k_mat, both * l_mat) / (np.sqrt(own) + EPS)
        assert cknna(a, b, k=k) == pytest.approx(want, rel=1e-9)
    assert mutual_knn(a, b) == mutual_knn(a, b, k=10)  # the reference's k
    assert cknna(a, b) == cknna(a, b, k=10)


def test_sample_size_limits():
    a = gaussian(n=4)
    assert mutual_knn(a[:3], a[:3], k=2) == 1.0  # k may be n − 1
    with pytest.raises(ValueError, match="at least 3 samples"):
        mutual_knn(a[:2], a[:2], k=1)
    assert np.isfinite(unbiased_cka(a, a)) and np.isfinite(cknna(a, a, k=3))
    for score in (unbiased_cka, cknna):
        with pytest.raises(ValueError, match="at least 4 samples"):
            score(a[:3], a[:3])
    with pytest.raises(ValueError, match="k must be"):
        mutual_knn(a, a, k=True)


def test_the_null_bookkeeping_by_hand():
    a, b = gaussian(), gaussian(seed=5)
    result = calibrate(mutual_knn, a, b, k=3)
    assert result.permutations == 100 and result == calibrate(mutual_knn, a, b, k=3, seed=0)
    rng = np.random.default_rng(0)
    null = np.array([mutual_knn(a, b[rng.permutation(40)], k=3) for _ in range(100)])
    observed = mutual_knn(a, b, k=3)
    assert result.score == observed and result.null_mean == pytest.approx(null.mean())
    assert result.null_std == pytest.approx(null.std(ddof=1))
    assert result.p_value == pytest.approx((1 + (null >= observed).sum()) / 101)
    assert result.calibrated == pytest.approx((observed - null.mean()) / (1 - null.mean()))
    scaled = calibrate(mutual_knn, a, b, k=3, maximum=2.0)
    assert scaled.calibrated == pytest.approx((observed - null.mean()) / (2 - null.mean()))


def test_ties_count_against_the_score_and_a_null_at_the_maximum_has_no_calibration():
    def constant(x, y):
        return 0.5

    result = calibrate(constant, gaussian(), gaussian(seed=1), permutations=4)
    assert result.p_value == 1.0  # every null value ties with the score
    assert result.null_std == 0.0 and result.calibrated == 0.0  # (0.5 − 0.5) / (1 − 0.5)
    for maximum in (0.5, 0.4):  # the null already at (or above) the maximum: no scale, NaN
        flat = calibrate(constant, gaussian(), gaussian(seed=1), permutations=4, maximum=maximum)
        assert flat.calibrated != flat.calibrated
    one = calibrate(constant, gaussian(), gaussian(seed=1), permutations=1, maximum=0.5)
    assert one.null_std == 0.0 and one.permutations == 1


def test_messages_name_the_argument():
    a = gaussian()
    with pytest.raises(ValueError, match="^A and B must have the same number of samples"):
        cka(a, a[:-1])
    bad = a.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="^B contains 1 NaN"):
        cka(a, bad)
    with pytest.raises(ValueError, match="^A contains 1 NaN"):
        cka(bad, a)
    with pytest.raises(ValueError, match="^x contains 1 NaN"):
        prepare_features(bad)
    with pytest.raises(ValueError, match="q must be in"):
        prepare_features(a, q=1.5)
    with pytest.raises(ValueError, match="A needs at least 2 samples"):
        cka(a[:1], a[:1])


def test_two_permutations_have_a_spread_and_a_boolean_is_not_a_count():
    a, b = gaussian(), gaussian(seed=5)
    result = calibrate(mutual_knn, a, b, permutations=2, k=10)
    rng = np.random.default_rng(0)
    null = [mutual_knn(a, b[rng.permutation(40)], k=10) for _ in range(2)]  # 0.2725, 0.265
    assert result.null_std == pytest.approx(np.std(null, ddof=1)) and result.null_std > 0
    with pytest.raises(ValueError, match="permutations must be an int"):
        calibrate(mutual_knn, a, b, permutations=True)
