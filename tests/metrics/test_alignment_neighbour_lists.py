"""The ordered-neighbour-list scores (cycle, LCS, edit-distance k-NN), RBF CKA and SVCCA: each
against a direct implementation of the reference's definition, perfect and useless inputs, the
invariances each promises, and one-line errors."""

import numpy as np
import pytest
from sklearn.cross_decomposition import CCA

from identifiable.metrics.alignment import (
    EPS,
    cka,
    cycle_knn,
    edit_distance_knn,
    lcs_knn,
    svcca,
    unbiased_cka,
)


def gaussian(n=60, d=6, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def ordered_knn(x, k):
    """The reference's rule: inner products, diagonal pushed down, largest first."""
    s = x @ x.T
    np.fill_diagonal(s, -1e8)
    return np.argsort(-s, axis=1, kind="stable")[:, :k]


def plain_lcs(p, q):
    t = [[0] * (len(q) + 1) for _ in range(len(p) + 1)]
    for i in range(1, len(p) + 1):
        for j in range(1, len(q) + 1):
            t[i][j] = t[i - 1][j - 1] + 1 if p[i - 1] == q[j - 1] else max(t[i - 1][j], t[i][j - 1])
    return t[-1][-1]


def plain_levenshtein(p, q):
    previous = list(range(len(q) + 1))
    for i in range(1, len(p) + 1):
        current = [i] + [0] * len(q)
        for j in range(1, len(q) + 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (p[i - 1] != q[j - 1]))  # fmt: skip
        previous = current
    return previous[-1]


@pytest.mark.parametrize("k", [1, 3, 7])
def test_neighbour_list_scores_equal_their_definitions(k):
    a = gaussian()
    b = a + 0.7 * gaussian(seed=1)  # related, not identical: partial overlaps
    knn_a, knn_b = ordered_knn(a, k), ordered_knn(b, k)
    n = len(a)
    cycle = np.mean([any(i in knn_a[j] for j in knn_b[i]) for i in range(n)])
    lcs = np.mean([plain_lcs(list(knn_a[i]), list(knn_b[i])) for i in range(n)])
    lev = np.mean([plain_levenshtein(list(knn_a[i]), list(knn_b[i])) for i in range(n)])
    assert cycle_knn(a, b, k=k) == pytest.approx(cycle)
    assert lcs_knn(a, b, k=k) == pytest.approx(lcs)
    assert lcs_knn(a, b, k=k, normalise=True) == pytest.approx(lcs / k)
    assert edit_distance_knn(a, b, k=k) == pytest.approx(1 - lev / k)
    assert 0 < lcs < k and 0 < lev < k  # the example exercises both branches


def test_levenshtein_and_lcs_of_hand_lists():
    """Order matters: a swap costs 2 edits and 1 of LCS; a shift costs 2 edits and keeps k − 1."""
    import torch

    from identifiable.metrics.alignment import _ordered_list_dp

    first = torch.tensor([[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]])
    second = torch.tensor([[1, 2, 3, 4], [2, 1, 3, 4], [2, 3, 4, 9], [5, 6, 7, 8]])
    assert _ordered_list_dp(first, second, False).tolist() == [4, 3, 3, 0]
    assert _ordered_list_dp(first, second, True).tolist() == [0, 2, 2, 4]


def test_perfect_useless_and_asymmetry():
    a, q = gaussian(200, 8), np.linalg.qr(gaussian(8, 8, seed=3))[0]
    k, n = 5, 200
    assert lcs_knn(a, 2.0 * a @ q, k=k) == k
    assert edit_distance_knn(a, 2.0 * a @ q, k=k) == 1.0
    assert cycle_knn(a, a, k=k) < 1.0  # k-NN is not symmetric: some i is nobody's neighbour's
    b = gaussian(200, 8, seed=9)
    assert lcs_knn(a, b, k=k) < 0.2
    assert edit_distance_knn(a, b, k=k) < 0.05
    # chance of finding i among k² random rows ≈ 1 − (1 − 1/(n−1))^(k²)
    chance = 1 - (1 - 1 / (n - 1)) ** (k * k)
    assert cycle_knn(a, b, k=k) == pytest.approx(chance, abs=0.06)
    pairs = [(a, a + w * b) for w in (0.3, 0.5, 1.0)]
    assert any(cycle_knn(x, y, k=k) != cycle_knn(y, x, k=k) for x, y in pairs)


def direct_rbf_cka(x, y, sigma, unbiased):
    from tests.metrics.test_alignment_meaning import direct_hsic_biased, direct_hsic_unbiased

    def kernel(v):
        d = ((v[:, None, :] - v[None, :, :]) ** 2).sum(-1)
        return np.exp(-d / (2 * sigma**2))

    h = direct_hsic_unbiased if unbiased else direct_hsic_biased
    k_mat, l_mat = kernel(x), kernel(y)
    return h(k_mat, l_mat) / (np.sqrt(h(k_mat, k_mat) * h(l_mat, l_mat)) + EPS)


@pytest.mark.parametrize("sigma", [0.5, 2.0])
def test_rbf_cka_equals_its_definition(sigma):
    a, b = gaussian(30, 3), gaussian(30, 4, seed=5)
    b = np.c_[a[:, :2], b[:, :2]]
    assert cka(a, b, kernel="rbf", sigma=sigma) == pytest.approx(
        direct_rbf_cka(a, b, sigma, False), rel=1e-9
    )
    assert unbiased_cka(a, b, kernel="rbf", sigma=sigma) == pytest.approx(
        direct_rbf_cka(a, b, sigma, True), rel=1e-9
    )


def test_rbf_cka_forgives_rotations_and_translations_not_scaling():
    a, q = gaussian(80, 4), np.linalg.qr(gaussian(4, 4, seed=3))[0]
    assert cka(a, a @ q + 5.0, kernel="rbf", sigma=1.5) == pytest.approx(1.0, abs=1e-6)
    assert cka(a, 3.0 * a, kernel="rbf", sigma=1.5) < 0.95


def test_svcca_equals_sklearns_cca_once_converged():
    import torch

    a = gaussian(300, 20)
    b = a[:, :8] @ gaussian(8, 12, seed=2) + gaussian(300, 12, seed=4)

    def top(v):
        v = torch.tensor(v)
        s = (v - v.mean(0)) / (v.std(0) + 1e-8)
        return torch.linalg.svd(s, full_matrices=False).U[:, :10].numpy()

    ua, ub = top(a), top(b)
    ca, cb = CCA(n_components=10, max_iter=5000, tol=1e-12).fit(ua, ub).transform(ua, ub)
    reference = np.mean([np.corrcoef(ca[:, i], cb[:, i])[0, 1] for i in range(10)])
    assert svcca(a, b) == pytest.approx(reference, abs=1e-6)


def test_svcca_perfect_and_useless():
    a = gaussian(300, 12)
    m = gaussian(12, 12, seed=8)  # invertible linear map, all dims kept
    assert svcca(a, a @ m, dims=12) == pytest.approx(1.0, abs=1e-9)
    independent = np.mean([svcca(gaussian(300, 12, seed=s), gaussian(300, 12, seed=s + 50))
                           for s in range(3)])  # fmt: skip
    assert independent < 0.25  # mean of 10 canonical correlations of noise: ~ √(10/300)·2
    assert svcca(a, a, dims=3) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: svcca(gaussian(20, 4), gaussian(20, 4)), "lower dims"),
        (lambda: svcca(gaussian(20, 4), gaussian(20, 4), dims=0), "dims must be an int"),
        (lambda: cka(gaussian(), gaussian(), kernel="cosine"), "kernel must be 'linear' or 'rbf'"),
        (lambda: cka(gaussian(), gaussian(), kernel="rbf", sigma=0), "sigma must be a number > 0"),
        (lambda: lcs_knn(gaussian(5), gaussian(5), k=5), "k must be an int in 1 … n − 1 = 4"),
        (lambda: cycle_knn(gaussian(5), gaussian(6)), "same number of samples"),
        (lambda: edit_distance_knn(gaussian(), gaussian(), k=2.0), "k must be an int"),
    ],
)
def test_bad_input_is_a_one_line_error(call, message):
    with pytest.raises(ValueError, match=message) as error:
        call()
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "score, kwargs",
    [
        (cycle_knn, {"k": 4}),
        (lcs_knn, {"k": 4}),
        (lcs_knn, {"k": 4, "normalise": True}),
        (edit_distance_knn, {}),
        (cka, {"kernel": "rbf", "sigma": 2.0}),
        (unbiased_cka, {}),
    ],
)
def test_calibration_by_relabelling_equals_recomputing_on_shuffled_copies(score, kwargs):
    """The fast null (neighbour lists relabelled, kernels permuted) gives the numbers of scoring
    every shuffled copy afresh (a wrapper hides the score's identity, forcing the slow path)."""
    from identifiable.metrics.alignment import calibrate, cknna, mutual_knn

    a = gaussian(50, 4)
    b = a + gaussian(50, 4, seed=2)
    fast = calibrate(score, a, b, permutations=7, seed=3, **kwargs)
    slow = calibrate(lambda x, y, **kw: score(x, y, **kw), a, b, permutations=7, seed=3, **kwargs)
    assert fast.score == pytest.approx(slow.score, abs=1e-12)
    assert fast.null_mean == pytest.approx(slow.null_mean, abs=1e-12)
    assert fast.null_std == pytest.approx(slow.null_std, abs=1e-12)
    assert fast.p_value == slow.p_value
    for other in (mutual_knn, cknna):
        quick = calibrate(other, a, b, permutations=5, k=6)
        plain = calibrate(lambda x, y, f=other, **kw: f(x, y, **kw), a, b, permutations=5, k=6)
        assert quick.score == pytest.approx(plain.score, abs=1e-12)
        assert quick.null_mean == pytest.approx(plain.null_mean, abs=1e-12)
        assert quick.p_value == plain.p_value


def test_lcs_calibration_uses_k_as_its_maximum():
    from identifiable.metrics.alignment import calibrate

    a = gaussian(80, 4)
    result = calibrate(lcs_knn, a, a, permutations=5, k=5)
    assert result.score == 5 and result.calibrated == pytest.approx(1.0)
    normalised = calibrate(lcs_knn, a, a, permutations=5, k=5, normalise=True)
    assert normalised.calibrated == pytest.approx(1.0)


@pytest.mark.parametrize("unbiased", [False, True])
def test_linear_cka_from_features_equals_the_kernel_form(unbiased):
    """No n × n matrix for linear CKA: the feature-space identities give the kernel form's
    numbers (uncentred, shifted inputs, where a centring slip would show)."""
    import torch

    from identifiable.metrics.alignment import (
        _cka_of_kernels,
        _linear_cka,
        hsic_biased,
        hsic_unbiased,
    )

    x = torch.tensor(gaussian(70, 5) + 3.0)
    y = torch.tensor(np.c_[gaussian(70, 2, seed=4), x.numpy()[:, :2] ** 2] - 1.0)
    hsic = hsic_unbiased if unbiased else hsic_biased
    assert _linear_cka(x, y, unbiased) == pytest.approx(
        _cka_of_kernels(x @ x.T, y @ y.T, hsic), rel=1e-10
    )


def test_wide_linear_cka_null_permutes_kernels_with_the_same_numbers(monkeypatch):
    """Width² > 64 n: the null permutes the kernels instead of recomputing XᵀY per shuffle (and
    RBF kernels always do); the numbers equal rescoring every shuffled copy, biased and
    unbiased, and a narrow input takes the feature path with the same numbers too."""
    from identifiable.metrics import alignment
    from identifiable.metrics.alignment import calibrate

    calls = []
    real = alignment._kernel_null
    monkeypatch.setattr(alignment, "_kernel_null", lambda *a, **k: calls.append(1) or real(*a, **k))
    a = gaussian(20, 40) + 1.0  # 40 · 45 = 1 800 > 64 · 20: the kernel path
    b = np.c_[a[:, :30] @ gaussian(30, 30, seed=6), gaussian(20, 15, seed=7)] - 0.5
    rbf = {"kernel": "rbf", "sigma": 3.0}
    cases = [(cka, {}), (unbiased_cka, {}), (cka, rbf), (unbiased_cka, rbf),
             (unbiased_cka, {"sigma": 2.0})]  # fmt: skip
    for x, y in ((a, b), (a[:, :3], b[:, :4])):
        for score, kwargs in cases:
            fast = calibrate(score, x, y, permutations=6, seed=1, **kwargs)
            slow = calibrate(lambda p, q, f=score, **kw: f(p, q, **kw), x, y, permutations=6,
                             seed=1, **kwargs)  # fmt: skip
            assert fast.score == pytest.approx(slow.score, rel=1e-9, abs=1e-12), (score, kwargs)
            assert fast.null_mean == pytest.approx(slow.null_mean, rel=1e-9, abs=1e-12)
            assert fast.null_std == pytest.approx(slow.null_std, rel=1e-7, abs=1e-12)
            assert fast.p_value == slow.p_value
    assert len(calls) == 5 + 2  # wide: all five; narrow: the two RBF cases only
