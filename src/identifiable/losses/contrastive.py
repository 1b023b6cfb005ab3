"""Losses as pure functions of representations.

InfoNCE (Oord et al. 2018, arXiv:1807.03748) in the form analysed by Zimmermann, Sharma,
Schneider, Bethge, Brendel (2021), "Contrastive Learning Inverts the Data Generating Process",
arXiv:2102.08850, Eq. (2)/(3), with the other samples of the batch as negatives:

    L = (1/B) Σ_i [ −s(h_i, h̃_i)/τ + log Σ_j exp(s(h_i, h̃_j)/τ) ]

where h = f(x), h̃ = f(x̃) and the similarity s is

    "dot":  s(a, b) = aᵀb           (the sphere model; f is normalised to the unit sphere)
    "l1":   s(a, b) = −‖a − b‖₁      (the box/Laplace model, the paper's p = 1)
    "l2":   s(a, b) = −‖a − b‖₂²     (the Normal model, the paper's p = 2)

This is the cross-entropy of row i's logits against its own positive, computed with logsumexp
(numerically stable for any τ). The reference implementation (cl-ica ``SimCLRLoss`` /
``LpSimCLRLoss``) uses the *anchors* h_j as negatives and also counts j = i; both are consistent
estimators of the same population objective, so compare R²/MCC curves, not loss values.

AnInfoNCE (:func:`an_info_nce`; Rusak, Reizinger, Juhos, Bringmann, Zimmermann, Brendel (2025),
"InfoNCE: Identifying the Gap Between Theory and Practice", AISTATS, arXiv:2407.00143) replaces
s/τ by a learned diagonal metric, s_Λ̂(a, b) = −½(a − b)ᵀΛ̂(a − b).
"""

from __future__ import annotations

import torch

__all__ = ["SIMILARITIES", "an_info_nce", "info_nce", "similarity_matrix"]

SIMILARITIES = ("dot", "l1", "l2")


def similarity_matrix(a: torch.Tensor, b: torch.Tensor, similarity: str) -> torch.Tensor:
    """S[i, j] = s(a_i, b_j) for every pair of rows; shapes (B, d), (M, d) -> (B, M)."""
    if similarity == "dot":
        return a @ b.T
    if similarity == "l1":
        return -torch.cdist(a, b, p=1.0)
    if similarity == "l2":
        # ‖a‖² + ‖b‖² − 2aᵀb: one matmul, clamped at 0 against round-off
        sq = a.square().sum(-1, keepdim=True) + b.square().sum(-1) - 2.0 * (a @ b.T)
        return -sq.clamp_min(0.0)
    raise ValueError(f"similarity must be one of {', '.join(SIMILARITIES)}, got {similarity!r}")


def info_nce(
    h: torch.Tensor, h_pos: torch.Tensor, tau: float, similarity: str = "dot"
) -> torch.Tensor:
    """InfoNCE with in-batch negatives (see the module docstring); returns a scalar tensor.

    h, h_pos: (B, d) representations of the anchors and of their positives, row i paired with
    row i. tau > 0 is the temperature. Lower is better; the minimum over encoders is approached
    when f inverts the mixing (up to the indeterminacy of the similarity).
    """
    if h.ndim != 2 or h.shape != h_pos.shape:
        raise ValueError(
            f"h and h_pos must both have shape (batch, dim), got {tuple(h.shape)} and "
            f"{tuple(h_pos.shape)}"
        )
    if h.shape[0] < 2:
        raise ValueError(f"InfoNCE needs a batch of at least 2 (for negatives), got {h.shape[0]}")
    if not tau > 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    if similarity == "dot" and _fused_dot_applies(h, h_pos):
        return _DotInfoNCE.apply(h, h_pos, float(tau))
    logits = similarity_matrix(h, h_pos, similarity) / tau
    return (torch.logsumexp(logits, dim=1) - logits.diagonal()).mean()


# --- the dot-product InfoNCE on the CPU, with the B×B work done in place -----------------------
#
# The expression above, ``(logsumexp(h @ h_posᵀ / τ) − diag).mean()``, makes autograd allocate
# about seven fresh B×B tensors per step (the logits, logsumexp's shifted copy, and in backward
# the shift, its exp, the product, the diagonal's zero matrix and the division by τ). At the
# paper's batch 6144 each is 151 MB: glibc hands such blocks out with mmap, so every one is
# page-faulted in anew, and that cost (≈ 40 ms per tensor on 2 cores) outweighed the arithmetic.
# `_DotInfoNCE` runs the *same* ATen operations on the same full-size operands, in the same
# order, but in place on one B×B buffer: the forward turns the logits into exp(logits − max),
# the backward recomputes the logits into that buffer (the same matmul, so the same bits; it
# costs less than a fresh 151 MB tensor) and turns them into their gradient. Loss and gradients
# are bit-identical to the expression above
# (tests/test_losses.py::test_fused_dot_info_nce_is_bit_identical). Splitting the rows into
# cache-sized blocks was tried and dropped: also bit-identical and as fast on an idle machine,
# but its ~100 small multi-threaded operations per step made it several times slower whenever
# another process shared the cores (each operation waits for a descheduled thread).


def _fused_dot_applies(h: torch.Tensor, h_pos: torch.Tensor) -> bool:
    """The fused path reproduces autograd's arithmetic exactly only for this layout; else the
    plain expression runs (CUDA has a caching allocator, so it gains nothing there)."""
    return (
        h.device.type == "cpu"
        and h_pos.device.type == "cpu"
        and h.dtype in (torch.float32, torch.float64)
        and h_pos.dtype == h.dtype
        and h.shape[1] >= 2
        and h.is_contiguous()
        and h_pos.is_contiguous()
    )


def _logits(h: torch.Tensor, h_pos: torch.Tensor, tau: float, out: torch.Tensor | None = None):
    """h h_posᵀ / τ, as ``similarity_matrix(h, h_pos, "dot") / tau`` computes it."""
    logits = torch.mm(h, h_pos.t(), out=out)
    return logits.div_(tau)


class _DotInfoNCE(torch.autograd.Function):
    """``(logsumexp(h h_posᵀ/τ) − diag(h h_posᵀ/τ)).mean()`` with ATen's logsumexp steps and
    autograd's own gradient formulas (LogsumexpBackward, DiagonalBackward, DivBackward,
    MmBackward), on one reused B×B buffer."""

    @staticmethod
    def forward(ctx, h: torch.Tensor, h_pos: torch.Tensor, tau: float) -> torch.Tensor:
        buffer = _logits(h, h_pos, tau)
        diagonal = buffer.diagonal().clone()
        # torch.logsumexp(logits, 1) step by step: row max (inf maxima set to 0),
        # Σ exp(x − max) (here in place), log, + max
        maxes = torch.amax(buffer, dim=1, keepdim=True)
        maxes.masked_fill_(maxes.abs() == float("inf"), 0)
        lse = torch.sum(buffer.sub_(maxes).exp_(), dim=1)
        lse.log_().add_(maxes.squeeze(1))
        loss = (lse - diagonal).mean()
        ctx.save_for_backward(h, h_pos, lse)
        ctx.buffer = buffer  # scratch only: backward overwrites it
        ctx.tau = tau
        return loss

    @staticmethod
    @torch.autograd.function.once_differentiable  # in-place backward: no second derivatives
    def backward(ctx, grad_loss: torch.Tensor):
        h, h_pos, lse = ctx.saved_tensors
        n = lse.shape[0]
        g = grad_loss.expand(n) / n  # MeanBackward
        grad = _logits(h, h_pos, ctx.tau, out=ctx.buffer)
        # LogsumexpBackward: g·exp(logits − lse); DiagonalBackward adds −g on the diagonal
        grad.sub_(lse.unsqueeze(1)).exp_().mul_(g.unsqueeze(1))
        if bool((g < 0).any()):
            grad.add_(0.0)  # autograd adds a zero matrix: −0.0 + 0.0 = +0.0; keep that bit too
        grad.diagonal().sub_(g)
        grad.div_(ctx.tau)  # DivBackward
        # MmBackward of h @ h_posᵀ for row-major h and h_pos (the layout _fused_dot_applies asks)
        grad_h = grad.mm(h_pos) if ctx.needs_input_grad[0] else None
        grad_h_pos = grad.t().mm(h) if ctx.needs_input_grad[1] else None
        return grad_h, grad_h_pos, None


def an_info_nce(h: torch.Tensor, h_pos: torch.Tensor, lambda_: torch.Tensor) -> torch.Tensor:
    """AnInfoNCE with in-batch negatives and a diagonal metric Λ̂; returns a scalar tensor.

        s_Λ̂(a, b) = −½ (a − b)ᵀ Λ̂ (a − b),   Λ̂ = diag(lambda_) (positive),
        L = (1/B) Σ_i [ −s_Λ̂(h_i, h̃_i) + log Σ_j exp(s_Λ̂(h_i, h̃_j)) ]

    Rusak, Reizinger, Juhos, Bringmann, Zimmermann, Brendel (2025), "InfoNCE: Identifying the Gap
    Between Theory and Practice", AISTATS, arXiv:2407.00143. Positives z̃ ~ N(z, Λ⁻¹) (projected
    on the sphere) make the model with Λ̂ = Λ the matched one; minimising over f *and* Λ̂ recovers
    z up to a permutation within blocks of equal Λ_k (an orthogonal map inside each block), and
    Λ̂ up to the same permutation. Λ̂ is the temperature too: there is no τ.

    Plain InfoNCE is the special case Λ̂ = I/τ: for unit-norm h, −½‖h − h̃‖²/τ = (hᵀh̃ − 1)/τ,
    so every logit row shifts by the constant −1/τ and the loss equals
    ``info_nce(h, h_pos, tau, "dot")``. The reference (brendel-group/AnInfoNCE ``AnInfoNCELoss``)
    uses the 2B − 2 SimCLR negatives of both views; here, as in :func:`info_nce`, row i's
    negatives are the other positives h̃_j.

    h, h_pos: (B, d); lambda_: (d,) positive weights (e.g. ``softplus`` of a free parameter),
    differentiable — gradients flow into Λ̂ as well as into h.
    """
    if h.ndim != 2 or h.shape != h_pos.shape:
        raise ValueError(
            f"h and h_pos must both have shape (batch, dim), got {tuple(h.shape)} and "
            f"{tuple(h_pos.shape)}"
        )
    if h.shape[0] < 2:
        raise ValueError(f"AnInfoNCE needs a batch of at least 2 (for negatives), got {h.shape[0]}")
    lambda_ = torch.as_tensor(lambda_, dtype=h.dtype, device=h.device)
    if lambda_.shape != (h.shape[1],):
        raise ValueError(
            f"lambda_ must have shape ({h.shape[1]},), one weight per dimension, got "
            f"{tuple(lambda_.shape)}"
        )
    # −½‖√Λ̂ ⊙ (a − b)‖² for every pair: one matmul on the rescaled rows
    scale = lambda_.clamp_min(0.0).sqrt()
    logits = 0.5 * similarity_matrix(h * scale, h_pos * scale, "l2")
    return (torch.logsumexp(logits, dim=1) - logits.diagonal()).mean()
