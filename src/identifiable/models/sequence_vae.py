"""A small variational autoencoder for fixed-length token strings (Kingma & Welling 2014,
arXiv:1312.6114), the generative model of latent space optimisation over strings (Gómez-Bombarelli
et al. 2018, arXiv:1610.02415; Ronen et al. 2025, arXiv:2406.09657).

    encoder  tokens x (n, T) → one-hot (n, T·V) → MLP (LeakyReLU) → μ(x), log σ²(x)  (n, d) each
    sample   z = μ + σ ⊙ ε,  ε ~ N(0, I)
    decoder  z (n, d) → MLP (LeakyReLU) → logits ℓ(z) (n, T, V)

The decoder is non-autoregressive: every position's logits are a function of z alone. With
LeakyReLU it is continuous piecewise-affine (CPA) in z, so the Latent Exploration Score's Jacobian
∂ℓ/∂z is constant on each linear region and LES's cheap gradient (A held fixed) is exact almost
everywhere (:mod:`identifiable.metrics.latent_exploration`). Init: PyTorch's default U(±1/√fan_in)
drawn from ``generator``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from identifiable.models.decoders import seeded_init

__all__ = ["SequenceDecoder", "SequenceEncoder", "SequenceVAE", "vae_loss"]


def _mlp(widths: tuple[int, ...], negative_slope: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.LeakyReLU(negative_slope))
    return nn.Sequential(*layers)


class SequenceEncoder(nn.Module):
    """Tokens (n, T) (integer ids, any dtype) → μ (n, d) (``forward``) or (μ, log σ²)
    (``distribution``)."""

    def __init__(
        self,
        length: int,
        vocab_size: int,
        n_latents: int,
        hidden: tuple[int, ...] = (256, 256),
        negative_slope: float = 0.01,
    ):
        super().__init__()
        self.length, self.vocab_size, self.n_latents = length, vocab_size, n_latents
        self.net = _mlp((length * vocab_size, *hidden, 2 * n_latents), negative_slope)

    def distribution(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, log σ²) of q(z | x)."""
        if tokens.ndim != 2 or tokens.shape[1] != self.length:
            raise ValueError(
                f"tokens must have shape (n, {self.length}), got {tuple(tokens.shape)}"
            )
        onehot = F.one_hot(tokens.long(), self.vocab_size).flatten(1).to(self.net[0].weight.dtype)
        mean, log_var = self.net(onehot).chunk(2, dim=1)
        return mean, log_var

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.distribution(tokens)[0]


class SequenceDecoder(nn.Module):
    """z (n, d) → logits (n, T, V); a LeakyReLU MLP, CPA in z."""

    def __init__(
        self,
        length: int,
        vocab_size: int,
        n_latents: int,
        hidden: tuple[int, ...] = (256, 256),
        negative_slope: float = 0.01,
    ):
        super().__init__()
        self.length, self.vocab_size, self.n_latents = length, vocab_size, n_latents
        self.net = _mlp((n_latents, *hidden, length * vocab_size), negative_slope)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).reshape(*z.shape[:-1], self.length, self.vocab_size)


class SequenceVAE(nn.Module):
    """Encoder + decoder (module docstring); ``forward(tokens, noise)`` returns (logits, μ,
    log σ²) with z = μ + exp(½ log σ²) ⊙ noise (noise = 0: the mean's decoding)."""

    def __init__(
        self,
        length: int,
        vocab_size: int,
        n_latents: int,
        hidden: tuple[int, ...] = (256, 256),
        negative_slope: float = 0.01,
        *,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        for name, value, low in (("length", length, 1), ("vocab_size", vocab_size, 2),
                                 ("n_latents", n_latents, 1)):  # fmt: skip
            if not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        if not hidden or any(not isinstance(h, int) or h < 1 for h in hidden):
            raise ValueError(f"hidden must be a non-empty tuple of positive ints, got {hidden!r}")
        self.encoder = SequenceEncoder(length, vocab_size, n_latents, hidden, negative_slope)
        self.decoder = SequenceDecoder(
            length, vocab_size, n_latents, tuple(reversed(hidden)), negative_slope
        )
        seeded_init(self, generator)

    def forward(
        self, tokens: torch.Tensor, noise: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mean, log_var = self.encoder.distribution(tokens)
        z = mean if noise is None else mean + torch.exp(0.5 * log_var) * noise
        return self.decoder(z), mean, log_var


def vae_loss(
    logits: torch.Tensor,
    tokens: torch.Tensor,
    mean: torch.Tensor,
    log_var: torch.Tensor,
    beta: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Negative β-ELBO per string, averaged: (loss, reconstruction, KL), where

    reconstruction = −Σ_t log p(x_t | z) (cross-entropy summed over positions)
    KL             = ½ Σ_k (μ_k² + σ_k² − log σ_k² − 1)   (q(z|x) against N(0, I))
    loss           = reconstruction + β · KL
    """
    reconstruction = F.cross_entropy(
        logits.flatten(0, 1), tokens.long().flatten(), reduction="none"
    )
    reconstruction = reconstruction.reshape(tokens.shape).sum(1).mean()
    kl = 0.5 * (mean**2 + log_var.exp() - log_var - 1).sum(1).mean()
    return reconstruction + beta * kl, reconstruction, kl
