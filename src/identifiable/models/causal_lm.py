"""Tiny causal language models over token sequences: a Transformer, an LSTM and a linear model.

Every model maps tokens (n, T) to next-token logits (n, T, V): the logits at position t see
tokens 0…t only. The three follow the models of Mészáros, Ujváry, Brendel, Reizinger, Huszár
(2024), "Rule Extrapolation in Language Modeling", NeurIPS, arXiv:2409.13728 (official code
meszarosanna/rule_extrapolation, ``model.py``, read for the facts):

* :class:`TransformerLM` — h⁰_t = √d·E[x_t] + PE_t (sinusoidal, PE_{t,2i} = sin(t/10000^{2i/d}),
  PE_{t,2i+1} = cos(…)), then ``layers`` post-norm ``nn.TransformerEncoderLayer`` blocks with a
  causal mask, then a linear read-out (no weight tying, no final norm). The reference's paper
  runs: d = 10, 5 heads, feed-forward 1024, 7 layers, dropout 0.1, LayerNorm ε = 6·10⁻³. The
  reference adds the positional encoding of each sequence's *batch index* to all its positions (it
  indexes the table before transposing to (T, n, d)), so its model sees no positions; we add
  PE_t at position t, as intended.
* :class:`LSTMLM` — E[x_t] (dimension d) → a ``layers``-deep LSTM of width ``hidden`` → dropout →
  linear read-out; the reference's runs: d = 10, hidden 64, 5 layers, dropout 0.4.
* :class:`LinearLM` — logits_{t,v} = b_{t,v} + Σ_{s ≤ t} Σ_w E[x_s]_w · W_{s,w,t,v}: a
  position-dependent linear map of the embedded context (W ∈ R^{T×d×T×V}). The reference's mask
  lets position t read positions s ≥ t — its own target among them (training loss ≈ 10⁻⁸) — so we
  use the causal s ≤ t.

Initialisation is PyTorch's default for each module (the linear model's W: Xavier-uniform, b = 0,
as the reference), drawn under ``torch.random.fork_rng`` from ``seed``: a seed fixes the network
and the global RNG is left as it was.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["ARCHITECTURES", "LSTMLM", "LinearLM", "TransformerLM", "build_language_model"]

ARCHITECTURES = ("transformer", "lstm", "linear")


def sinusoidal_positions(length: int, d_model: int) -> torch.Tensor:
    """PE (length, d): PE_{t,2i} = sin(t·10000^{−2i/d}), PE_{t,2i+1} = cos(t·10000^{−2i/d})."""
    positions = torch.arange(length, dtype=torch.float32)[:, None]
    rates = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(1e4) / d_model))
    table = torch.zeros(length, d_model)
    table[:, 0::2] = torch.sin(positions * rates)
    table[:, 1::2] = torch.cos(positions * rates)[:, : d_model // 2]
    return table


class TransformerLM(nn.Module):
    """Causal post-norm Transformer language model (module docstring)."""

    def __init__(
        self,
        vocab: int,
        max_length: int,
        d_model: int = 10,
        heads: int = 5,
        feedforward: int = 1024,
        layers: int = 7,
        dropout: float = 0.1,
        layer_norm_eps: float = 6e-3,
        seed: int = 0,
    ):
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model ({d_model}) must be a multiple of heads ({heads})")
        self.d_model = d_model
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.embedding = nn.Embedding(vocab, d_model)
            block = nn.TransformerEncoderLayer(
                d_model, heads, feedforward, dropout, layer_norm_eps=layer_norm_eps,
                batch_first=True,
            )  # fmt: skip
            self.blocks = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
            self.readout = nn.Linear(d_model, vocab)
            self.dropout = nn.Dropout(dropout)
        self.register_buffer("positions", sinusoidal_positions(max_length, d_model), False)
        mask = torch.triu(torch.full((max_length, max_length), float("-inf")), diagonal=1)
        self.register_buffer("causal_mask", mask, False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        t = tokens.shape[1]
        h = self.embedding(tokens) * math.sqrt(self.d_model) + self.positions[:t]
        h = self.blocks(self.dropout(h), mask=self.causal_mask[:t, :t], is_causal=True)
        return self.readout(h)


class LSTMLM(nn.Module):
    """Embedding → LSTM → dropout → linear read-out (module docstring)."""

    def __init__(
        self,
        vocab: int,
        max_length: int,
        d_model: int = 10,
        hidden: int = 64,
        layers: int = 5,
        dropout: float = 0.4,
        seed: int = 0,
    ):
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.embedding = nn.Embedding(vocab, d_model)
            self.lstm = nn.LSTM(d_model, hidden, layers, batch_first=True)
            self.dropout = nn.Dropout(dropout)
            self.readout = nn.Linear(hidden, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(self.embedding(tokens))
        return self.readout(self.dropout(h))


class LinearLM(nn.Module):
    """Causal position-dependent linear map of the embedded context (module docstring)."""

    def __init__(self, vocab: int, max_length: int, d_model: int = 10, seed: int = 0):
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.embedding = nn.Embedding(vocab, d_model)
            weight = torch.empty(max_length, d_model, max_length, vocab)
            # Xavier-uniform with torch's fan convention for a 4-d tensor
            nn.init.xavier_uniform_(weight)
            self.weight = nn.Parameter(weight)
            self.bias = nn.Parameter(torch.zeros(max_length, vocab))
        causal = torch.tril(torch.ones(max_length, max_length)).T  # [s, t] = 1 iff s ≤ t
        self.register_buffer("causal", causal, False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        t = tokens.shape[1]
        weight = self.weight[:t, :, :t] * self.causal[:t, None, :t, None]
        return torch.einsum("nsw,swtv->ntv", self.embedding(tokens), weight) + self.bias[:t]


def build_language_model(
    architecture: str, vocab: int, max_length: int, *, seed: int = 0, **sizes
) -> nn.Module:
    """``transformer``, ``lstm`` or ``linear`` with the given sizes (each class's arguments)."""
    classes = {"transformer": TransformerLM, "lstm": LSTMLM, "linear": LinearLM}
    if architecture not in classes:
        raise ValueError(
            f"unknown architecture {architecture!r}; choose one of {', '.join(ARCHITECTURES)}"
        )
    return classes[architecture](vocab, max_length, seed=seed, **sizes)
