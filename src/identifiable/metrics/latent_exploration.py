"""The Latent Exploration Score (LES): how well a latent is supported by a pretrained decoder.

Ronen, Humayun, Baraniuk, Balestriero, Yu (2025), "Mitigating over-exploration in latent space
optimization using LES", ICML (v1: "ScaLES: Scalable Latent Exploration Score for Pre-Trained
Generative Networks"), arXiv:2406.09657; official code OmerRonen/les (``les/utils/les.py``, read
for the facts; this is our own implementation).

A decoder maps a latent z ∈ R^d to logits ℓ(z) ∈ R^{T×V} (T positions, V tokens). Per position
the map φ(ℓ_t) = (softmax(ℓ_t), 1/Z_t) ∈ R^{V+1}, Z_t = Σ_v exp ℓ_{t,v}, is injective (softmax
alone forgets a constant added to ℓ_t; 1/Z_t keeps it). With A_t = ∂ℓ_t/∂z (V × d) and

    S_t = ∂φ/∂ℓ_t = [ diag(p_t) − p_t p_tᵀ ]      (V × V, the softmax Jacobian)
                    [ −(p_t / Z_t)ᵀ        ]      (1 × V, the derivative of 1/Z_t)

the Jacobian of z ↦ (φ(ℓ_1(z)), …, φ(ℓ_T(z))) is J = [S_1 A_1; …; S_T A_T] (T(V+1) × d) and

    LES(z) = −½ log det(Jᵀ J) = −Σ_k log σ_k(J)

— the log of the push-forward density of the decoded distributions on the d-dimensional image
manifold, without the latent prior term (the current official code; the v1 ScaLES added
−½‖z‖², ``prior=True`` here). Higher means better supported: a decoder that is confident and
locally insensitive at z scores high; one whose output distributions change fast scores low.

How it is computed (and where it differs from the official code):

* **A = ∂ℓ/∂z exactly**, by forward-mode autodiff (``torch.func.vmap`` of ``torch.func.jvp``
  over the d coordinate directions: d batched forward passes in one call), instead of the
  official forward finite differences (step 10⁻⁴ in float32: ~10⁻³ relative error). Decoders
  that ``vmap`` cannot run fall back to a loop of d double-backward JVPs.
* **No dense S.** J_t = S_t A_t = p_t ⊙ A_t − p_t (p_tᵀ A_t) with the extra row −(p_t/Z_t)ᵀ A_t,
  O(T·V·d) per latent instead of the official dense block-diagonal T(V+1) × TV matrix (445 MB
  per latent for the paper's SELFIES VAE). p_t/Z_t = exp(ℓ_t − 2·logsumexp ℓ_t), stable where
  exp ℓ overflows.
* **float64 and singular values of J**: LES = −Σ log σ_k(J) (``torch.linalg.svdvals``, whose
  gradient is always stable), not the official float32 SVD of JᵀJ, which squares the condition
  number. Singular values are clamped at 10⁻¹⁵⁰ so a rank-deficient J gives a large finite score.
* **Eval mode**: the decoder is scored with dropout off (the official code leaves it on, which
  makes LES random and its finite differences meaningless), its mode restored afterwards.

The gradient ∇_z LES (latent space optimisation uses it) comes in two flavours:

* ``detach_jacobian=True`` (default, as the official code and the paper's scalability argument):
  A is held constant and the gradient flows only through the softmax part S(ℓ(z)). For a
  continuous piecewise-affine (CPA) decoder — Linear + (Leaky)ReLU — ∂A/∂z = 0 almost everywhere,
  so this *is* the exact gradient; it costs one backward pass through the decoder.
* ``detach_jacobian=False``: the exact gradient by double backward through A, for smooth
  decoders (tanh, GRU, attention) where the CPA assumption is only approximate.

The score itself is the same under both; only its gradient differs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from identifiable.metrics._registry import metric

__all__ = ["les_from_jacobian", "les_gradient", "les_score", "les_score_plain"]

Decoder = Callable[[torch.Tensor], torch.Tensor]

#: singular values are clamped here before the log (a rank-deficient J gives a finite score)
SINGULAR_FLOOR = 1e-150


def _as_latents(z) -> torch.Tensor:
    """``z`` as a floating tensor of shape (n, d), finite; one-line errors."""
    if not isinstance(z, torch.Tensor):
        try:
            z = torch.as_tensor(np.asarray(z, dtype=np.float64))
        except (TypeError, ValueError) as error:
            raise ValueError(f"z must be a numeric array, got {type(z).__name__}") from error
    if not z.is_floating_point():
        z = z.double()
    if z.ndim != 2 or z.shape[0] == 0 or z.shape[1] == 0:
        raise ValueError(f"z must have shape (n, d) with n, d >= 1, got {tuple(z.shape)}")
    if not torch.isfinite(z).all():
        bad = int((~torch.isfinite(z.detach())).sum())
        raise ValueError(f"z contains {bad} NaN/inf values; pass finite latents")
    return z


def _decoder_dtype(decoder: Decoder, z: torch.Tensor) -> torch.dtype:
    """The dtype the decoder computes in (its first floating parameter), else z's."""
    if isinstance(decoder, nn.Module):
        for parameter in decoder.parameters():
            if parameter.is_floating_point():
                return parameter.dtype
    return z.dtype


def _decoder_device(decoder: Decoder, z: torch.Tensor) -> torch.device:
    """The device the decoder's parameters live on (CUDA when it was moved there), else z's."""
    if isinstance(decoder, nn.Module):
        for parameter in decoder.parameters():
            return parameter.device
    return z.device


def _logits(decoder: Decoder, z: torch.Tensor) -> torch.Tensor:
    """decoder(z) as (n, T, V), checked: floating, differentiable in z, V >= 2."""
    with torch.enable_grad():
        probe = z if z.requires_grad else z.detach().requires_grad_(True)
        out = decoder(probe)
    if not isinstance(out, torch.Tensor) or not out.is_floating_point():
        kind = out.dtype if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(
            f"the decoder must return float logits of shape (n, T, V), got {kind}; return the "
            "logits, not sampled or argmax tokens"
        )
    if not out.requires_grad:
        raise ValueError(
            "the decoder's output has no gradient path to z (detached, computed under no_grad "
            "or from rounded tokens); LES needs differentiable logits"
        )
    if out.ndim == 2:
        out = out[:, None, :]
    if out.ndim != 3 or out.shape[0] != z.shape[0] or out.shape[2] < 2:
        raise ValueError(
            f"the decoder must map z (n, d) = {tuple(z.shape)} to logits (n, T, V) with V >= 2, "
            f"got {tuple(out.shape)}"
        )
    return out if z.requires_grad else out.detach()


def _logit_jacobian(decoder: Decoder, z: torch.Tensor, *, create_graph: bool) -> torch.Tensor:
    """A = ∂ℓ/∂z per row, (n, T, V, d), by forward mode (rows are independent in eval mode)."""
    n, d = z.shape
    tangents = torch.eye(d, dtype=z.dtype, device=z.device)[:, None, :].expand(d, n, d)

    def along(direction: torch.Tensor) -> torch.Tensor:
        return torch.func.jvp(decoder, (z,), (direction,))[1]

    context = torch.enable_grad() if create_graph else torch.no_grad()
    with context:
        try:
            columns = torch.func.vmap(along)(tangents)  # (d, n, T·V or T, V)
        except (RuntimeError, NotImplementedError):  # a decoder vmap cannot batch: loop over d
            source = z if create_graph else z.detach().requires_grad_(True)
            columns = torch.stack(
                [
                    torch.autograd.functional.jvp(
                        decoder, source, tangents[k].contiguous(), create_graph=create_graph
                    )[1]
                    for k in range(d)
                ]
            )
    if columns.ndim == 3:
        columns = columns[:, :, None, :]
    return columns.permute(1, 2, 3, 0)


def les_from_jacobian(logits: torch.Tensor, jacobian: torch.Tensor) -> torch.Tensor:
    """LES from logits (n, T, V) and A = ∂ℓ/∂z (n, T, V, d), in float64 (module docstring)."""
    logits = logits.double()
    jacobian = jacobian.double()
    log_z = torch.logsumexp(logits, dim=-1, keepdim=True)
    p = torch.exp(logits - log_z)  # (n, T, V)
    p_over_z = torch.exp(logits - 2 * log_z)  # ∂(1/Z)/∂ℓ = −p/Z
    pa = p[..., None] * jacobian  # (n, T, V, d)
    softmax_rows = pa - p[..., None] * pa.sum(-2, keepdim=True)
    inverse_z_row = -(p_over_z[..., None] * jacobian).sum(-2, keepdim=True)
    n, t, v, d = jacobian.shape
    j = torch.cat([softmax_rows, inverse_z_row], dim=-2).reshape(n, t * (v + 1), d)
    singular = torch.linalg.svdvals(j)
    return -torch.log(singular.clamp_min(SINGULAR_FLOOR)).sum(-1)


@metric(higher_is_better=True, name="latent_exploration_score")
def les_score(
    decoder: Decoder,
    z,
    *,
    detach_jacobian: bool = True,
    prior: bool = False,
    chunk_size: int = 256,
) -> torch.Tensor:
    """LES(z) = −½ log det(JᵀJ) per latent, (n,) float64; higher = better supported.

    decoder: a callable (e.g. an ``nn.Module``) mapping latents (n, d) to logits (n, T, V) (or
    (n, V) for T = 1), differentiably; modules are scored in eval mode. z: (n, d) latents. The
    result carries a graph to ``z`` when ``z.requires_grad`` (``detach_jacobian``: see the module
    docstring); ``prior=True`` adds the standard-normal log prior −½‖z‖² (the v1 ScaLES score).
    ``chunk_size`` rows are scored at a time (bounds memory: d · T · V floats per row).
    """
    z = _as_latents(z)
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
    was_training = decoder.training if isinstance(decoder, nn.Module) else None
    if isinstance(decoder, nn.Module):
        decoder.eval()
    try:
        dtype, device = _decoder_dtype(decoder, z), _decoder_device(decoder, z)
        parts = []
        for chunk in z.split(chunk_size):
            inputs = chunk.to(device=device, dtype=dtype)
            logits = _logits(decoder, inputs)
            t, v = logits.shape[1:]
            if chunk.shape[1] > t * v:
                raise ValueError(
                    f"z has d = {chunk.shape[1]} dimensions but the decoder only T·V = {t * v} "
                    "logits: JᵀJ is singular; use a latent no wider than the output"
                )
            jacobian = _logit_jacobian(
                decoder, inputs, create_graph=chunk.requires_grad and not detach_jacobian
            )
            if detach_jacobian:
                jacobian = jacobian.detach()
            parts.append(les_from_jacobian(logits, jacobian))
    finally:
        if was_training is not None:
            decoder.train(was_training)
    score = torch.cat(parts).to(z.device)  # on the latents' device, whatever the decoder's
    if prior:
        score = score - 0.5 * (z.double() ** 2).sum(1)
    return score


def les_gradient(
    decoder: Decoder, z, *, detach_jacobian: bool = True, prior: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """(LES(z), ∇_z LES(z)), shapes (n,) and (n, d) in float64, detached; rows are independent,
    so the gradient of the sum is each row's own gradient."""
    z = _as_latents(z).detach().clone().requires_grad_(True)
    score = les_score(decoder, z, detach_jacobian=detach_jacobian, prior=prior)
    (gradient,) = torch.autograd.grad(score.sum(), z)
    return score.detach(), gradient.double()


def les_score_plain(decoder: Decoder, z, *, eps: float = 1e-4, chunk: int = 200) -> torch.Tensor:
    """LES the official code's way, for speed comparisons only (``benchmarks/``): A by forward
    finite differences (step ``eps``, ``chunk`` perturbed rows per forward), the dense
    block-diagonal S of shape (T(V+1), T·V) per latent, J = S·A, and −½ Σ log σ(JᵀJ) from an SVD of
    JᵀJ, all in the decoder's dtype. No gradient; agrees with :func:`les_score` to the
    finite-difference and float32 error."""
    z = _as_latents(z)
    was_training = decoder.training if isinstance(decoder, nn.Module) else None
    if isinstance(decoder, nn.Module):
        decoder.eval()
    try:
        with torch.no_grad():
            z = z.to(_decoder_dtype(decoder, z))
            n, d = z.shape
            base = decoder(z)
            base = base[:, None, :] if base.ndim == 2 else base
            t, v = base.shape[1:]
            shifted = (z[:, None, :] + eps * torch.eye(d, dtype=z.dtype)[None]).reshape(n * d, d)
            outs = torch.cat([decoder(part) for part in shifted.split(chunk)])
            outs = outs.reshape(n, d, t * v)
            a = ((outs - base.reshape(n, 1, t * v)) / eps).transpose(1, 2)  # (n, T·V, d)
            s = torch.zeros(n, t * (v + 1), t * v, dtype=z.dtype)
            p = torch.softmax(base, -1)
            inverse_z_grad = -torch.exp(base) / torch.exp(base).sum(-1, keepdim=True) ** 2
            for position in range(t):
                rows = slice(position * (v + 1), (position + 1) * (v + 1))
                cols = slice(position * v, (position + 1) * v)
                pt = p[:, position]
                s[:, rows, cols] = torch.cat(
                    [torch.diag_embed(pt) - pt[:, :, None] * pt[:, None, :],
                     inverse_z_grad[:, position][:, None, :]], 1
                )  # fmt: skip
            j = s @ a
            singular = torch.linalg.svd(j.transpose(1, 2) @ j).S
            return -0.5 * torch.log(singular).sum(-1)
    finally:
        if was_training is not None:
            decoder.train(was_training)
