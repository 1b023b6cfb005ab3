"""Every loss equals a slow, obviously-correct reference (Python loops over a small batch), in
value *and* gradient, on random inputs; and each parameter (τ, the similarity, Λ̂) does what the
formula says. The oracle of mutation testing for ``losses.py`` (docs/testing.md).
"""

import math
import warnings

import pytest
import torch

from identifiable.losses import SIMILARITIES, an_info_nce, info_nce, similarity_matrix


def s_dot(a, b):
    return sum(a[k] * b[k] for k in range(len(a)))


def s_l1(a, b):
    return -sum(abs(a[k] - b[k]) for k in range(len(a)))


def s_l2(a, b):
    return -sum((a[k] - b[k]) ** 2 for k in range(len(a)))


REFERENCE_SIMILARITY = {"dot": s_dot, "l1": s_l1, "l2": s_l2}


def reference_info_nce(h, h_pos, logit):
    """(1/B) Σ_i [−logit(h_i, h̃_i) + log Σ_j exp logit(h_i, h̃_j)], one term at a time, written
    with torch scalars so that autograd gives the reference gradient too."""
    batch = len(h)
    total = 0.0
    for i in range(batch):
        row = [logit(h[i], h_pos[j]) for j in range(batch)]
        total = total - row[i] + torch.log(sum(torch.exp(v) for v in row))
    return total / batch


def inputs(batch=5, dim=3, seed=0, unit=False):
    gen = torch.Generator().manual_seed(seed)
    h = torch.randn(batch, dim, generator=gen, dtype=torch.float64)
    h_pos = h + 0.5 * torch.randn(batch, dim, generator=gen, dtype=torch.float64)
    if unit:
        h, h_pos = (torch.nn.functional.normalize(x, dim=1) for x in (h, h_pos))
    return h, h_pos


def value_and_grads(loss_fn, h, h_pos, *extra, scale=1.0):
    leaves = [h.clone().requires_grad_(True), h_pos.clone().requires_grad_(True)]
    leaves += [e.clone().requires_grad_(True) for e in extra]
    loss = loss_fn(*leaves)
    (scale * loss).backward()
    return loss.detach(), [leaf.grad for leaf in leaves]


def assert_same(got, want):
    (value, grads), (ref_value, ref_grads) = got, want
    assert float(value) == pytest.approx(float(ref_value), rel=1e-10, abs=1e-12)
    for grad, ref in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(grad, ref, rtol=1e-9, atol=1e-12)


# -- similarity_matrix ----------------------------------------------------------------------------
@pytest.mark.parametrize("similarity", SIMILARITIES)
def test_similarity_matrix_matches_the_pairwise_formula(similarity):
    a, _ = inputs(4, 3, seed=1)
    b, _ = inputs(6, 3, seed=2)
    got = similarity_matrix(a, b, similarity)
    assert got.shape == (4, 6)
    reference = REFERENCE_SIMILARITY[similarity]
    for i in range(4):
        for j in range(6):
            assert float(got[i, j]) == pytest.approx(float(reference(a[i], b[j])), abs=1e-10)


def test_l2_similarity_is_never_positive_even_under_round_off():
    # ‖a‖² + ‖b‖² − 2aᵀb can round below 0 for a == b in float32; s = −‖a − b‖² stays ≤ 0
    gen = torch.Generator().manual_seed(8)
    a = 10 * torch.randn(64, 16, generator=gen)
    s = similarity_matrix(a, a, "l2")
    assert float(s.max()) <= 0.0
    assert float(s.diagonal().abs().max()) < 1e-2  # vs off-diagonal values of order −3000


# -- info_nce -------------------------------------------------------------------------------------
@pytest.mark.parametrize("similarity", SIMILARITIES)
@pytest.mark.parametrize("tau, seed, unit", [(0.7, 0, False), (0.1, 1, True), (2.0, 2, False)])
def test_info_nce_value_and_gradients_match_the_reference(similarity, tau, seed, unit):
    h, h_pos = inputs(5, 3, seed=seed, unit=unit)
    sim = REFERENCE_SIMILARITY[similarity]
    want = value_and_grads(
        lambda a, b: reference_info_nce(a, b, lambda x, y: sim(x, y) / tau), h, h_pos, scale=1.5
    )
    got = value_and_grads(lambda a, b: info_nce(a, b, tau, similarity), h, h_pos, scale=1.5)
    assert_same(got, want)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("which", [0, 1])
def test_dot_info_nce_gradient_flows_to_whichever_input_needs_it(dtype, which):
    # one side frozen (e.g. a target network): the other side's gradient is still the reference
    h, h_pos = inputs(6, 4, seed=3, unit=True)
    _, (ref_h, ref_pos) = value_and_grads(
        lambda a, b: reference_info_nce(a, b, lambda x, y: s_dot(x, y) / 0.3), h, h_pos
    )
    leaves = [h.to(dtype), h_pos.to(dtype)]
    leaves[which] = leaves[which].clone().requires_grad_(True)
    info_nce(leaves[0], leaves[1], 0.3).backward()
    other = leaves[1 - which]
    assert other.grad is None
    want = (ref_h, ref_pos)[which].to(dtype)
    torch.testing.assert_close(leaves[which].grad, want, rtol=1e-5, atol=1e-6)


def plain_dot_info_nce(h, h_pos, tau):
    """The module's defining expression: (logsumexp(h h̃ᵀ/τ) − diag(h h̃ᵀ/τ)).mean()."""
    logits = h @ h_pos.T / tau
    return (torch.logsumexp(logits, dim=1) - logits.diagonal()).mean()


@pytest.mark.parametrize("layout", ["h transposed", "h_pos transposed", "both contiguous"])
def test_dot_info_nce_is_bit_identical_to_its_expression_for_any_memory_layout(layout):
    # losses.py promises the fused CPU path gives the very bits of the plain expression; a
    # transposed (non-contiguous) input must therefore take the plain path
    gen = torch.Generator().manual_seed(9)
    h, h_pos = torch.randn(40, 8, generator=gen), torch.randn(40, 8, generator=gen)
    if layout == "h transposed":
        h = h.T.contiguous().T
    if layout == "h_pos transposed":
        h_pos = h_pos.T.contiguous().T
    want = value_and_grads(lambda a, b: plain_dot_info_nce(a, b, 0.1), h, h_pos, scale=-2.0)
    got = value_and_grads(lambda a, b: info_nce(a, b, 0.1), h, h_pos, scale=-2.0)
    assert torch.equal(got[0], want[0])
    for grad, ref in zip(got[1], want[1], strict=True):
        assert torch.equal(grad, ref)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_fused_cpu_path_serves_exactly_the_layout_it_promises(dtype):
    # the fused dot InfoNCE is the speed of every CPU contrastive run: it must engage for CPU
    # float32/float64 contiguous inputs of dimension >= 2, and only then
    def path(h, h_pos, similarity="dot"):
        loss = info_nce(h.requires_grad_(True), h_pos, 0.1, similarity)
        return "fused" if "DotInfoNCE" in type(loss.grad_fn).__name__ else "plain"

    gen = torch.Generator().manual_seed(11)
    h, h_pos = (torch.randn(6, 2, generator=gen, dtype=dtype) for _ in range(2))
    assert path(h.clone(), h_pos.clone()) == "fused"
    assert path(h.clone(), h_pos.clone(), "l2") == "plain"
    assert path(h[:, :1].clone(), h_pos[:, :1].clone()) == "plain"  # dimension 1
    assert path(h.T.contiguous().T, h_pos.clone()) == "plain"
    assert path(h.clone(), h_pos.T.contiguous().T) == "plain"
    assert path(h.to(torch.bfloat16), h_pos.to(torch.bfloat16)) == "plain"


def test_a_large_batch_needs_no_warnings():
    # several blocks of rows in the fused path, all through preallocated buffers
    gen = torch.Generator().manual_seed(10)
    h = torch.nn.functional.normalize(torch.randn(1200, 8, generator=gen)).requires_grad_(True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = info_nce(h[:600], h[600:], 0.1)
        loss.backward()
    assert torch.equal(loss.detach(), plain_dot_info_nce(h[:600].detach(), h[600:].detach(), 0.1))


def test_info_nce_of_a_batch_of_two_is_the_two_row_formula():
    h = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    # row 0: logits (1, 0)/τ; row 1: (0, 1)/τ; each term is log(1 + e^{−1/τ})
    assert float(info_nce(h, h, 0.5)) == pytest.approx(math.log(1 + math.exp(-2.0)))


def test_temperature_divides_the_similarity():
    # for the dot similarity, τ and a rescaling of h are the same thing: s(h, h̃)/τ = s(h/τ, h̃)
    h, h_pos = inputs(8, 3, seed=4)
    assert float(info_nce(h, h_pos, 0.25)) == pytest.approx(float(info_nce(h / 0.25, h_pos, 1.0)))
    assert float(info_nce(h, h_pos, 0.25)) != pytest.approx(float(info_nce(h, h_pos, 0.5)))


@pytest.mark.parametrize("similarity", SIMILARITIES)
def test_perfect_pairs_approach_zero_loss_and_shuffled_pairs_approach_log_batch(similarity):
    gen = torch.Generator().manual_seed(5)
    h = torch.nn.functional.normalize(torch.randn(64, 16, generator=gen, dtype=torch.float64))
    assert float(info_nce(h, h, 0.01, similarity)) < 1e-3
    far = info_nce(h, h[torch.randperm(64, generator=gen)], 100.0, similarity)
    assert float(far) == pytest.approx(math.log(64), abs=0.05)


# -- an_info_nce ----------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1])
def test_an_info_nce_value_and_gradients_match_the_reference(seed):
    h, h_pos = inputs(5, 3, seed=seed)
    lam = torch.tensor([0.3, 1.0, 2.5], dtype=torch.float64)

    def logit(lam_):
        return lambda a, b: -0.5 * sum(lam_[k] * (a[k] - b[k]) ** 2 for k in range(len(a)))

    want = value_and_grads(lambda a, b, l_: reference_info_nce(a, b, logit(l_)), h, h_pos, lam)
    got = value_and_grads(an_info_nce, h, h_pos, lam)
    assert_same(got, want)


def test_an_info_nce_weights_each_dimension_by_its_lambda():
    # moving h̃ along a dimension with weight 0 cannot change the loss; with weight > 0 it does
    h, h_pos = inputs(6, 2, seed=6)
    lam = torch.tensor([0.0, 1.0], dtype=torch.float64)
    moved = h_pos.clone()
    moved[:, 0] += torch.linspace(-3, 3, 6, dtype=torch.float64)
    assert float(an_info_nce(h, moved, lam)) == pytest.approx(float(an_info_nce(h, h_pos, lam)))
    moved = h_pos.clone()
    moved[:, 1] += torch.linspace(-3, 3, 6, dtype=torch.float64)
    assert float(an_info_nce(h, moved, lam)) != pytest.approx(float(an_info_nce(h, h_pos, lam)))


def test_an_info_nce_accepts_a_list_of_weights_and_a_batch_of_two():
    # the weights take the dtype of h: a list is read in float64 like the float64 inputs
    h, h_pos = inputs(2, 2, seed=7)
    a = an_info_nce(h, h_pos, [0.3, 1.7])
    b = an_info_nce(h, h_pos, torch.tensor([0.3, 1.7], dtype=torch.float64))
    assert a.dtype == torch.float64 and float(a) == float(b)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda h: info_nce(h[:1], h[:1], 1.0), "at least 2"),
        (lambda h: info_nce(h, h, 0.0), "tau"),
        (lambda h: info_nce(h, h, 1.0, "cosine"), "similarity"),
        (lambda h: info_nce(h, h[:, :2], 1.0), "shape"),
        (lambda h: info_nce(h[0], h[0], 1.0), "shape"),
        (lambda h: an_info_nce(h[:1], h[:1], torch.ones(3)), "at least 2"),
        (lambda h: an_info_nce(h, h[:, :2], torch.ones(3)), "shape"),
        (lambda h: an_info_nce(h[0], h[0], torch.ones(3)), "shape"),
        (lambda h: an_info_nce(h, h, torch.ones(2)), "lambda_"),
    ],
)
def test_bad_inputs_are_refused(call, message):
    h, _ = inputs(4, 3)
    with pytest.raises(ValueError, match=message):
        call(h)
