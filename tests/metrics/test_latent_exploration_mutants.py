"""LES: the finer points the main tests leave open (found by mutation testing): the defaults of the
gradient (Jacobian held fixed, as the official code), the prior in ``les_gradient``, the edges of
the checks (chunk size, d = T·V, empty latents), integer latents, no graph for plain latents, and
that a decoder ``vmap`` can batch is differentiated in forward mode, not by the fallback loop."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from identifiable.metrics.latent_exploration import (
    les_from_jacobian,
    les_gradient,
    les_score,
    les_score_plain,
)

D, T, V = 3, 2, 4


def smooth_decoder(seed=0, d=D, t=T, v=V):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(d, 16), nn.Tanh(), nn.Linear(16, t * v)).double()
    return nn.Sequential(net, nn.Unflatten(1, (t, v)))


def latents(n=5, d=D, seed=1):
    return torch.randn(n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def test_the_default_gradient_holds_the_jacobian_fixed():
    """Default ``detach_jacobian=True`` (the official code's gradient): for a smooth decoder it
    is the fixed-A gradient, not the exact one, in ``les_gradient`` and in ``les_score``."""
    decoder, z = smooth_decoder(seed=6), latents()
    _, default = les_gradient(decoder, z)
    _, fixed = les_gradient(decoder, z, detach_jacobian=True)
    _, exact = les_gradient(decoder, z, detach_jacobian=False)
    torch.testing.assert_close(default, fixed, rtol=0, atol=1e-12)
    assert (default - exact).abs().max() > 1e-3
    probe = z.clone().requires_grad_()
    (grad,) = torch.autograd.grad(les_score(decoder, probe).sum(), probe)
    torch.testing.assert_close(grad, fixed, rtol=0, atol=1e-12)


def test_les_gradient_with_the_prior_adds_minus_z():
    """∇_z(LES − ½‖z‖²) = ∇_z LES − z, and the score drops by ½‖z‖²."""
    decoder, z = smooth_decoder(), latents()
    score, grad = les_gradient(decoder, z)
    score_p, grad_p = les_gradient(decoder, z, prior=True)
    torch.testing.assert_close(grad_p, grad - z)
    torch.testing.assert_close(score_p, score - 0.5 * (z**2).sum(1))


def test_chunks_of_one_are_allowed_and_non_positive_or_float_chunks_refused():
    decoder, z = smooth_decoder(), latents()
    torch.testing.assert_close(les_score(decoder, z, chunk_size=1), les_score(decoder, z),
                               rtol=0, atol=1e-12)  # fmt: skip
    for bad in (0, 2.0):
        with pytest.raises(ValueError, match="chunk_size must be a positive int"):
            les_score(decoder, z, chunk_size=bad)


def test_a_latent_as_wide_as_the_output_is_allowed():
    """d = T·V: J is (T(V+1) × d), of full rank d in general, so LES is finite (only d > T·V
    is refused)."""
    decoder = smooth_decoder(d=4, t=1, v=4)
    assert torch.isfinite(les_score(decoder, latents(d=4))).all()


def test_empty_latents_are_refused():
    for shape in ((0, D), (2, 0)):
        with pytest.raises(ValueError, match="shape"):
            les_score(smooth_decoder(), torch.zeros(shape, dtype=torch.float64))


def test_integer_latents_are_scored_as_floats_by_a_plain_callable():
    """A decoder that is a function (no parameters to take the dtype from) computes in the
    latents' dtype: integer latents are promoted to float64, not passed on as ints."""
    decoder = smooth_decoder()

    def function(z):
        return decoder(z)

    grid = torch.tensor([[0, 1, -1], [2, 0, 1]])
    torch.testing.assert_close(les_score(function, grid), les_score(decoder, grid.double()))


def test_the_nan_count_is_reported():
    z = latents()
    z[0, 0] = z[3, 1] = float("nan")
    with pytest.raises(ValueError, match="z contains 2 NaN/inf values"):
        les_score(smooth_decoder(), z)


def test_plain_latents_give_a_score_without_a_graph():
    """Without ``z.requires_grad`` the score carries no graph, whatever ``detach_jacobian``
    (no double-backward graph through the decoder's parameters is built)."""
    decoder, z = smooth_decoder(), latents()
    assert not les_score(decoder, z, detach_jacobian=False).requires_grad


def test_a_batchable_decoder_is_differentiated_in_forward_mode(monkeypatch):
    """The fast path (vmap of forward-mode jvp) scores a plain MLP: the double-backward loop is
    only the fallback for decoders vmap cannot run."""
    decoder, z = smooth_decoder(), latents()
    expected = les_score(decoder, z)

    def refuse(*args, **kwargs):
        raise AssertionError("the fallback loop ran")

    monkeypatch.setattr(torch.autograd.functional, "jvp", refuse)
    torch.testing.assert_close(les_score(decoder, z), expected, rtol=0, atol=1e-12)


def test_numpy_latents_are_read_as_float64():
    """float32 numpy latents are read as float64 (a function decoder then computes in float64),
    not kept in float32."""

    def decoder(z):
        return torch.stack([z, z.sin(), z.cos()], -1)  # (n, d, 3), in z's dtype

    grid = latents().numpy().astype("float32")
    expected = les_score(decoder, torch.from_numpy(grid).double())
    torch.testing.assert_close(les_score(decoder, grid), expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(les_score(decoder, grid.tolist()), expected, rtol=0, atol=1e-12)


def test_two_dimensional_logits_are_one_position():
    """A decoder returning (n, V) is the T = 1 case (n, 1, V), in les_score and les_score_plain."""
    flat = nn.Sequential(nn.Linear(D, 16), nn.Tanh(), nn.Linear(16, 5)).double()
    shaped = nn.Sequential(flat, nn.Unflatten(1, (1, 5)))
    z = latents()
    torch.testing.assert_close(les_score(flat, z), les_score(shaped, z), rtol=0, atol=1e-12)
    _, grad_flat = les_gradient(flat, z, detach_jacobian=False)
    _, grad_shaped = les_gradient(shaped, z, detach_jacobian=False)
    torch.testing.assert_close(grad_flat, grad_shaped, rtol=0, atol=1e-12)
    torch.testing.assert_close(les_score_plain(flat, z), les_score_plain(shaped, z),
                               rtol=0, atol=1e-12)  # fmt: skip


def test_two_tokens_are_enough_and_one_token_or_a_wrong_batch_refused():
    """V = 2 is a real vocabulary (accepted); V = 1 or a decoder that drops rows is refused."""
    assert torch.isfinite(les_score(smooth_decoder(t=2, v=2), latents())).all()
    with pytest.raises(ValueError, match="V >= 2"):
        les_score(smooth_decoder(t=3, v=1), latents())
    with pytest.raises(ValueError, match="V >= 2"):
        les_score(lambda z: smooth_decoder()(z)[:-1], latents())


def test_the_error_names_what_the_decoder_returned():
    """The non-float error says what came back: the tensor's dtype, else the object's type."""
    with pytest.raises(ValueError, match="got torch.int64"):
        les_score(lambda z: smooth_decoder()(z).argmax(-1), latents())
    with pytest.raises(ValueError, match="got list"):
        les_score(lambda z: smooth_decoder()(z).tolist(), latents())


def test_the_fallback_loop_gives_the_exact_gradient(monkeypatch):
    """Without vmap, the double-backward loop keeps the graph to z: the exact gradient is the
    same as the forward-mode path's, not the fixed-A one."""
    decoder, z = smooth_decoder(seed=6), latents()
    _, exact = les_gradient(decoder, z, detach_jacobian=False)

    def refuse(*args, **kwargs):
        raise RuntimeError("vmap: not supported")

    monkeypatch.setattr(torch.func, "vmap", refuse)
    _, looped = les_gradient(decoder, z, detach_jacobian=False)
    torch.testing.assert_close(looped, exact, rtol=1e-9, atol=1e-10)


def test_a_float32_decoder_scores_float64_latents_in_float32():
    """Latents are cast to the decoder's dtype (float64 latents, float32 decoder), in les_score
    and les_score_plain (which also returns that dtype)."""
    decoder, z = smooth_decoder().float(), latents()
    torch.testing.assert_close(les_score(decoder, z), les_score(decoder, z.float()),
                               rtol=0, atol=0)  # fmt: skip
    plain = les_score_plain(decoder, z)
    assert plain.dtype == torch.float32
    torch.testing.assert_close(plain, les_score_plain(decoder, z.float()), rtol=0, atol=0)


def test_plain_scores_in_eval_mode_and_restores_the_mode():
    """les_score_plain switches dropout off while scoring and leaves the decoder in the mode it
    found it (train or eval)."""
    decoder = nn.Sequential(nn.Linear(D, 16), nn.Dropout(0.5), nn.Tanh(), nn.Linear(16, T * V),
                            nn.Unflatten(1, (T, V))).double()  # fmt: skip
    z = latents()
    decoder.eval()
    expected = les_score_plain(decoder, z)
    assert not decoder.training
    decoder.train()
    torch.testing.assert_close(les_score_plain(decoder, z), expected, rtol=0, atol=0)
    assert decoder.training


def test_plain_scores_a_function_decoder():
    """A plain callable (no parameters, no train mode) is scored in the latents' dtype."""
    decoder, z = smooth_decoder(), latents()
    torch.testing.assert_close(les_score_plain(lambda u: decoder(u), z),
                               les_score_plain(decoder, z), rtol=0, atol=0)  # fmt: skip


def test_plain_is_the_forward_difference_score_in_float64():
    """les_score_plain = LES of A = (ℓ(z + ε e_k) − ℓ(z)) / ε (forward, not backward, differences,
    the step ε exact in float64), checked against les_from_jacobian at a coarse ε."""
    decoder, z, eps = smooth_decoder(seed=3), latents(), 0.1
    with torch.no_grad():
        base = decoder(z)
        steps = [(decoder(z + eps * e) - base) / eps for e in torch.eye(D, dtype=torch.float64)]
    reference = les_from_jacobian(base, torch.stack(steps, -1))
    plain = les_score_plain(decoder, z, eps=eps)
    assert plain.dtype == torch.float64
    torch.testing.assert_close(plain, reference, rtol=0, atol=1e-10)
    assert (les_score(decoder, z) - reference).abs().max() > 1e-3  # ε = 0.1 is visibly coarse


def test_default_chunks_bound_the_rows_per_forward_pass():
    """By default les_score sends at most 256 latents and les_score_plain 200 perturbed rows
    through the decoder at once."""
    decoder, sizes = smooth_decoder(), []

    def recording(u):
        sizes.append(u.shape[0])
        return decoder(u)

    z = latents(n=300)
    les_score(recording, z)
    assert max(sizes) == 256
    sizes.clear()
    les_score_plain(recording, z[:70])  # 70 · 3 = 210 perturbed rows
    assert sizes == [70, 200, 10]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_a_gpu_decoder_scores_cpu_latents_and_returns_them_on_the_cpu():
    """Latents go to the decoder's device and the score comes back on the latents' device."""
    decoder, z = smooth_decoder(), latents()
    expected = les_score(decoder, z)
    score = les_score(decoder.cuda(), z)
    assert score.device == z.device
    torch.testing.assert_close(score, expected, rtol=1e-9, atol=1e-9)
    _, grad = les_gradient(decoder, z, detach_jacobian=False)
    assert grad.device == z.device
