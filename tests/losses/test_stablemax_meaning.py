"""What StableMax, precision-aware softmax cross-entropy and softmax collapse mean.

Reference formulas written out with Python scalars (math.exp / math.log per entry), the paper's
values (StableMax([−2, 0, 3]) = [1/16, 3/16, 3/4]) and the collapse thresholds derived from the
floating-point formats: one logit ahead of 112 equal ones by a gap g has certainly collapsed once
112·exp(−g) < ulp(1)/2 and certainly not while exp(−g) > ulp(1)/2.
"""

import math

import pytest
import torch

from identifiable.losses import (
    PRECISIONS,
    log_stablemax,
    softmax_collapse_fraction,
    softmax_cross_entropy,
    stablemax,
    stablemax_cross_entropy,
)


def s_reference(x: float) -> float:
    return x + 1 if x >= 0 else 1 / (1 - x)


def test_stablemax_of_the_papers_example():
    torch.testing.assert_close(
        stablemax(torch.tensor([-2.0, 0.0, 3.0])), torch.tensor([1 / 16, 3 / 16, 3 / 4])
    )


def test_stablemax_matches_the_scalar_formula_on_random_logits():
    z = torch.randn(6, 9, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 4
    expected = torch.tensor(
        [[s_reference(v) / sum(s_reference(u) for u in row) for v in row] for row in z.tolist()],
        dtype=torch.float64,
    )
    torch.testing.assert_close(stablemax(z), expected)
    torch.testing.assert_close(log_stablemax(z), expected.log())
    torch.testing.assert_close(stablemax(z.T, dim=0), expected.T)
    torch.testing.assert_close(log_stablemax(z.T, dim=0), expected.T.log())


def test_s_is_positive_increasing_and_has_both_branches():
    x = torch.linspace(-50, 50, 10001, dtype=torch.float64)
    pair = torch.stack([x, torch.zeros_like(x)], 1)
    p = stablemax(pair)
    s = p[:, 0] / p[:, 1]  # = s(x) / s(0) = s(x)
    assert bool((s.diff() > 0).all()) and bool((s > 0).all())
    torch.testing.assert_close(s[x >= 0], x[x >= 0] + 1)
    torch.testing.assert_close(s[x < 0], 1 / (1 - x[x < 0]))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gradients_are_finite_everywhere(dtype):
    z = torch.tensor([[1.0, 0.0, -1.0, 2.5]], dtype=dtype, requires_grad=True)
    stablemax_cross_entropy(z, torch.tensor([0])).backward()
    assert bool(torch.isfinite(z.grad).all())


def test_stablemax_cross_entropy_is_minus_log_probability_in_float64():
    z = torch.randn(5, 7, generator=torch.Generator().manual_seed(1)) * 3
    y = torch.tensor([0, 3, 6, 2, 2])
    per = stablemax_cross_entropy(z, y, reduction="none")
    assert per.dtype == torch.float64
    expected = [
        -math.log(s_reference(row[c]) / sum(s_reference(v) for v in row))
        for row, c in zip(z.double().tolist(), y.tolist(), strict=True)
    ]
    torch.testing.assert_close(per, torch.tensor(expected, dtype=torch.float64))
    torch.testing.assert_close(stablemax_cross_entropy(z, y), per.mean())
    torch.testing.assert_close(stablemax_cross_entropy(z, y, reduction="sum"), per.sum())


@pytest.mark.parametrize("precision", [16, 32, 64])
def test_softmax_cross_entropy_matches_the_scalar_formula(precision):
    z = torch.randn(4, 6, generator=torch.Generator().manual_seed(2)) * 2
    y = torch.tensor([1, 0, 5, 3])
    per = softmax_cross_entropy(z, y, precision, reduction="none")
    assert per.dtype == torch.float32  # cast back to the logits' dtype
    expected = [
        -(row[c] - math.log(sum(math.exp(v) for v in row)))
        for row, c in zip(z.double().tolist(), y.tolist(), strict=True)
    ]
    tolerance = 2e-2 if precision == 16 else 1e-5
    torch.testing.assert_close(
        per.double(), torch.tensor(expected, dtype=torch.float64), atol=tolerance, rtol=0
    )
    torch.testing.assert_close(
        softmax_cross_entropy(z, y, precision), per.mean(), atol=tolerance, rtol=0
    )
    torch.testing.assert_close(
        softmax_cross_entropy(z, y, precision, "sum"), per.sum(), atol=4 * tolerance, rtol=0
    )


def test_the_precision_is_the_one_asked_for():
    # a gap of 30: float32 rounds the loss to exactly 0, float64 keeps 112·e^−30 ≈ 1e−11
    z = gap_logits(30.0)
    y = torch.tensor([0])
    assert float(softmax_cross_entropy(z.float(), y, 32)) == 0.0
    assert float(softmax_cross_entropy(z.float(), y, 64)) == pytest.approx(112 * math.exp(-30))
    assert float(softmax_cross_entropy(z.float(), y, 16)) == 0.0


def gap_logits(gap: float, n_classes: int = 113) -> torch.Tensor:
    z = torch.zeros(1, n_classes, dtype=torch.float64)
    z[0, 0] = gap
    return z


@pytest.mark.parametrize("precision, mantissa", [(16, 10), (32, 23), (64, 52)])
def test_collapse_sets_in_where_the_format_rounds_the_sum_to_one(precision, mantissa):
    # certainly collapsed once all 112 terms together are below half an ulp of 1; certainly not
    # while even one term alone is above it (in between, the summation order decides)
    half_ulp_gap = (mantissa + 1) * math.log(2)
    assert softmax_collapse_fraction(gap_logits(half_ulp_gap + math.log(112) + 0.5), precision) == 1
    assert softmax_collapse_fraction(gap_logits(half_ulp_gap - 0.5), precision) == 0


def test_collapse_fraction_counts_rows():
    z = torch.cat([gap_logits(40.0), gap_logits(1.0), gap_logits(50.0), gap_logits(0.0)])
    assert softmax_collapse_fraction(z, 32) == 0.5
    assert softmax_collapse_fraction(z) == 0.5  # float32 by default


@pytest.mark.parametrize("precision", [8, 0, 128, True, "32"])
def test_refuses_unknown_precisions(precision):
    with pytest.raises(ValueError, match="16, 32 or 64"):
        softmax_cross_entropy(torch.zeros(2, 3), torch.tensor([0, 1]), precision)
    with pytest.raises(ValueError, match="16, 32 or 64"):
        softmax_collapse_fraction(torch.zeros(2, 3), precision)


def test_refuses_bad_shapes_and_reductions():
    with pytest.raises(ValueError, match="logits .n, n_classes. and labels"):
        stablemax_cross_entropy(torch.zeros(3), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="logits .n, n_classes. and labels"):
        softmax_cross_entropy(torch.zeros(3, 2), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="reduction"):
        softmax_cross_entropy(torch.zeros(2, 3), torch.tensor([0, 1]), reduction="max")
    with pytest.raises(ValueError, match="n ≥ 1"):
        softmax_collapse_fraction(torch.zeros(0, 3))
    assert set(PRECISIONS) == {16, 32, 64}
