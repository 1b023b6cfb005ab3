"""The interaction regulariser of a slot decoder's cross-attention, and the slot VAE's KL term.

Brady, von Kügelgen, Lachapelle, Buchholz, Kipf, Brendel (2024), "Interaction Asymmetry: A
General Principle for Learning Composable Abstractions", arXiv:2411.07784 (official code
JackBrady/interaction-asymmetry, ``Transformer.cross_att_interaction`` and
``AutoEncoder.sample_zh``). With A_k(p) = Σ_heads mean_layers of the attention pixel p pays slot k,

    L_int = mean_scenes mean_pixels Σ_{i<j} A_i(p) · A_j(p)
          = mean mean ½ ((Σ_k A_k(p))² − Σ_k A_k(p)²)

zero exactly when each pixel attends to one slot only (in every head and layer), largest when it
spreads its attention evenly: the decoder is pushed to let each pixel be explained by one slot, so
slots interact little (the "interaction asymmetry": parts of one object interact more than parts
of different objects). Summing over heads before the product makes the heads agree on the slot.

The VAE term: each slot's encoder output is split into (μ, s), ẑ = μ + σ·ε with σ = ½·exp(s) —
the reference's parametrisation (its variable is named ``sig_2``; at s = 0 it gives σ = ½, where
the usual exp(s/2) gives 1) — and

    KL = mean_scenes Σ_{k,i} KL(N(μ_ki, σ_ki²) ‖ N(0, 1))
       = mean Σ ½ (σ² + μ² − 1) − log σ
"""

from __future__ import annotations

import math

import torch

__all__ = ["cross_attention_interaction", "gaussian_slots"]


def cross_attention_interaction(weights: torch.Tensor) -> torch.Tensor:
    """L_int of attention weights (n, layers, heads, pixels, K) (module docstring)."""
    if weights.ndim != 5:
        raise ValueError(
            f"weights must be (scenes, layers, heads, pixels, slots), got {tuple(weights.shape)}"
        )
    a = weights.sum(dim=2).mean(dim=1)  # (n, P, K)
    pairs = 0.5 * (a.sum(dim=-1).pow(2) - a.pow(2).sum(dim=-1))
    return pairs.mean()


def gaussian_slots(
    encoded: torch.Tensor, *, generator: torch.Generator | None = None, sample: bool = True
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Encoder output (n, K, 2d) → (ẑ (n, K, d), μ, KL per scene averaged): ẑ = μ + ½e^s·ε
    (``sample=False``: ẑ = μ)."""
    if encoded.shape[-1] % 2:
        raise ValueError(f"the encoder output must have an even width, got {encoded.shape[-1]}")
    mu, s = encoded.chunk(2, dim=-1)
    log_sigma = s - math.log(2.0)
    sigma = log_sigma.exp()
    kl = (0.5 * (sigma.pow(2) + mu.pow(2) - 1.0) - log_sigma).flatten(1).sum(dim=1).mean()
    if not sample:
        return mu, mu, kl
    noise = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + sigma * noise, mu, kl
