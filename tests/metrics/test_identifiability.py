import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from identifiable.metrics import linear_r2, mcc, nonlinear_r2


def latents(n=3000, d=5, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, size=(n, d))


def permute_sign_affine(z, seed=1):
    rng = np.random.default_rng(seed)
    perm = rng.permutation(z.shape[1])
    signs = rng.choice([-1.0, 1.0], z.shape[1])
    return z[:, perm] * signs * rng.uniform(0.5, 3, z.shape[1]) + rng.normal(size=z.shape[1])


# -- perfect recovery ---------------------------------------------------------------------------
def test_mcc_perfect_under_permutation_sign_and_affine():
    z = latents()
    assert mcc(z, permute_sign_affine(z)) == pytest.approx(1.0, abs=1e-12)


def test_spearman_mcc_perfect_under_monotone_maps_but_pearson_is_not():
    z = latents()
    h = np.column_stack(
        [np.exp(3 * z[:, 0]), z[:, 1] ** 3, np.tanh(4 * z[:, 2]), -z[:, 3], z[:, 4]]
    )
    assert mcc(z, h, method="spearman") == pytest.approx(1.0, abs=1e-12)
    assert mcc(z, h, method="pearson") < 0.98


def test_linear_r2_perfect_under_invertible_linear_map_where_mcc_is_not():
    z = latents()
    q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(5, 5)))
    h = z @ q.T + 2.0
    assert linear_r2(z, h) == pytest.approx(1.0, abs=1e-9)
    assert mcc(z, h) < 0.9  # a rotation is not a permutation


def test_nonlinear_r2_high_under_smooth_invertible_map_where_linear_is_not():
    z = latents(n=2000, d=3)
    h = np.column_stack([np.tanh(2.5 * z[:, 0]) + 0.3 * z[:, 1], z[:, 1] ** 3, np.exp(2 * z[:, 2])])
    assert nonlinear_r2(z, h) > 0.97
    assert linear_r2(z, h) < nonlinear_r2(z, h) - 0.03


# -- useless input --------------------------------------------------------------------------------
def test_independent_noise_scores_near_zero():
    z = latents(n=4000)
    noise = np.random.default_rng(9).normal(size=z.shape)
    assert mcc(z, noise) < 0.05
    assert mcc(z, noise, method="spearman") < 0.05
    assert abs(linear_r2(z, noise)) < 0.02
    assert nonlinear_r2(z, noise) < 0.05


def test_constant_representation_is_zero_not_nan():
    z = latents(n=200)
    assert mcc(z, np.ones_like(z)) == 0.0


def test_fewer_learned_dims_count_unmatched_latents_as_zero():
    z = latents()
    assert mcc(z, z[:, :2]) == pytest.approx(2 / 5)


def test_accepts_torch_tensors():
    z = latents(n=500)
    assert mcc(torch.as_tensor(z), torch.as_tensor(z)) == pytest.approx(1.0)


# -- properties -----------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), d=st.integers(1, 6), scale=st.floats(0.1, 10.0))
def test_mcc_is_invariant_to_permutation_and_scale(seed, d, scale):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(300, d))
    h = z @ rng.normal(size=(d, d)) + 0.5 * rng.normal(size=(300, d))
    reference = mcc(z, h)
    perm = rng.permutation(d)
    assert mcc(z, scale * h[:, perm] - 4.0) == pytest.approx(reference, abs=1e-9)
    assert 0.0 <= reference <= 1.0 + 1e-12


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), d=st.integers(1, 5))
def test_linear_r2_is_invariant_to_invertible_linear_maps(seed, d):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(400, d))
    h = np.tanh(z) + 0.2 * rng.normal(size=(400, d))
    a = rng.normal(size=(d, d)) + 3 * np.eye(d)
    assert linear_r2(z, h @ a.T + 1.0) == pytest.approx(linear_r2(z, h), abs=1e-7)
    assert linear_r2(z, h) <= 1.0


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize("metric", [mcc, linear_r2, nonlinear_r2])
@pytest.mark.parametrize(
    "z, h, message",
    [
        (np.full((100, 2), np.nan), np.ones((100, 2)), "NaN"),
        (np.ones((100, 2)), np.array([[np.inf, 1.0]] * 100), "NaN/inf"),
        (np.ones((100, 2)), np.ones((90, 2)), "same number of samples"),
        (np.ones((1, 2)), np.ones((1, 2)), "at least"),
        (np.ones((100, 2, 2)), np.ones((100, 2)), "shape"),
    ],
)
def test_bad_input_is_one_line_value_error(metric, z, h, message):
    with pytest.raises(ValueError, match=message) as info:
        metric(z, h)
    assert "\n" not in str(info.value)


def test_linear_r2_needs_more_samples_than_dimensions():
    with pytest.raises(ValueError, match="more training samples"):
        linear_r2(np.random.rand(8, 2), np.random.rand(8, 10))


def test_unknown_mcc_method():
    with pytest.raises(ValueError, match="pearson"):
        mcc(np.random.rand(10, 2), np.random.rand(10, 2), method="kendall")
