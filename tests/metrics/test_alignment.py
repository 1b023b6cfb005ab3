"""Alignment metrics (platonic-rep definitions): perfect and useless inputs, the invariances
each promises, the HSIC estimators against their formulas, chunking, the permutation null."""

import numpy as np
import pytest
import torch

from identifiable.metrics.alignment import (
    calibrate,
    cka,
    cknna,
    hsic_biased,
    hsic_unbiased,
    mutual_knn,
    nearest_neighbours,
    prepare_features,
    unbiased_cka,
)


def gaussian(n=300, d=16, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def orthogonal(d=16, seed=1):
    return np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))[0]


def test_identical_inputs_score_one():
    a = gaussian()
    assert mutual_knn(a, a) == 1.0
    assert cka(a, a) == pytest.approx(1.0, abs=1e-6)
    assert unbiased_cka(a, a) == pytest.approx(1.0, abs=1e-5)
    assert cknna(a, a) == pytest.approx(1.0, abs=1e-5)


def test_cka_forgives_orthogonal_maps_and_isotropic_scaling_but_not_a_stretch():
    a, q = gaussian(), orthogonal()
    for score in (cka, unbiased_cka, cknna):
        assert score(a, 3.0 * a @ q) == pytest.approx(1.0, abs=1e-5), score.__name__
    stretched = a * np.r_[10.0, np.ones(15)]
    assert cka(a, stretched) < 0.9


def test_independent_inputs():
    """mutual k-NN ≈ k / (n − 1) (chance of sharing a neighbour), unbiased CKA ≈ 0."""
    n, k = 300, 10
    knn = [mutual_knn(gaussian(n, seed=s), gaussian(n, seed=s + 100), k=k) for s in range(5)]
    assert np.mean(knn) == pytest.approx(k / (n - 1), abs=0.01)
    assert abs(unbiased_cka(gaussian(), gaussian(seed=7))) < 0.02
    assert (
        abs(float(hsic_unbiased(*(torch.tensor(v @ v.T) for v in (gaussian(), gaussian(seed=3))))))
        < 0.5
    )


def test_hsic_estimators_match_their_formulas():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 3)), rng.normal(size=(12, 5))
    k_mat, l_mat = torch.tensor(x @ x.T), torch.tensor(y @ y.T)
    h = torch.eye(12, dtype=torch.float64) - 1 / 12
    assert float(hsic_biased(k_mat, l_mat)) == pytest.approx(
        float(torch.trace(k_mat @ h @ l_mat @ h))
    )
    kt, lt = k_mat.clone().fill_diagonal_(0), l_mat.clone().fill_diagonal_(0)
    n, one = 12, torch.ones(12, dtype=torch.float64)
    expected = (torch.trace(kt @ lt) + (one @ kt @ one) * (one @ lt @ one) / ((n - 1) * (n - 2))
                - 2 / (n - 2) * one @ kt @ lt @ one) / (n * (n - 3))  # fmt: skip
    assert float(hsic_unbiased(k_mat, l_mat)) == pytest.approx(float(expected))


def test_neighbours_exclude_self_and_do_not_depend_on_the_chunk():
    x = torch.tensor(gaussian(50, 4))
    full, chunked = nearest_neighbours(x, 5), nearest_neighbours(x, 5, chunk=7)
    assert torch.equal(full, chunked)
    assert not (full == torch.arange(50)[:, None]).any()
    similarity = (x @ x.T).fill_diagonal_(-torch.inf)
    assert torch.equal(full[:, 0], similarity.argmax(dim=1))


def test_mutual_knn_of_a_hand_example():
    # four points on a line; k = 1: nearest by inner product is the largest x_j (or the
    # smallest, for negative x_i)
    a = np.array([[1.0], [2.0], [3.0], [-1.0]])
    b = np.array([[1.0], [3.0], [2.0], [-1.0]])
    # N_A: 0→2, 1→2, 2→1, 3→0 ; N_B: 0→1, 1→2, 2→1, 3→0  → agree on rows 1, 2, 3
    assert mutual_knn(a, b, k=1) == pytest.approx(3 / 4)


def test_calibrated_scores_are_near_zero_for_independent_inputs_at_any_width():
    for width in (8, 256):
        a, b = gaussian(200, width), gaussian(200, width, seed=9)
        result = calibrate(mutual_knn, a, b, permutations=30, seed=0)
        assert abs(result.calibrated) < 0.03, width
        assert result.p_value > 0.05
    related = gaussian(200, 16)
    result = calibrate(
        mutual_knn, related, related + 0.3 * gaussian(200, 16, seed=4), permutations=30
    )
    assert result.calibrated > 0.3 and result.p_value == pytest.approx(1 / 31)
    again = calibrate(mutual_knn, related, gaussian(200, 16, seed=4), permutations=30)
    assert again == calibrate(mutual_knn, related, gaussian(200, 16, seed=4), permutations=30)


def test_prepare_features_clamps_then_normalises():
    """t = mean over samples of each sample's 0.95-quantile of |x| (the reference CLI's default),
    clamp to ±t, then unit rows."""
    x = gaussian(100, 8)
    x[:, 0] *= 50.0  # one loud feature
    t = np.quantile(np.abs(x), 0.95, axis=1).mean()
    expected = np.clip(x, -t, t)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(prepare_features(x), expected, atol=1e-12)
    np.testing.assert_allclose(
        prepare_features(x, q=1.0), x / np.linalg.norm(x, axis=1, keepdims=True)
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda a: mutual_knn(a, a[:-1]), "same number of samples"),
        (lambda a: mutual_knn(a, a, k=300), "k must be an int in 1 … n − 1"),
        (lambda a: cknna(a, a, k=0), "k must be"),
        (lambda a: cka(np.where(a > 2, np.nan, a), a), "NaN"),
        (lambda a: calibrate(cka, a, a, permutations=0), "permutations"),
        (lambda a: prepare_features(a, q=0), "q must be"),
    ],
)
def test_bad_input_is_a_one_line_error(call, message):
    with pytest.raises(ValueError, match=message):
        call(gaussian())
