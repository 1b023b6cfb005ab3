"""A one-block Transformer over short token sequences, read out at the last position.

    h⁰_t = E[x_t] (+ P_t),   h^l = Block_l(h^{l−1}),   f(x) = W_out h^L_T

with ``Block`` PyTorch's post-norm ``nn.TransformerEncoderLayer`` (multi-head self-attention over
all positions, then a ReLU feed-forward layer, each with a residual and LayerNorm).

Prieto, Barsbey, Mediano, Birdal (2025), "Grokking at the Edge of Numerical Stability", ICLR,
arXiv:2501.04697, train such a model on modular arithmetic (tokens (a, b), a, b ∈ 1..p−1): in the
official code an embedding of 113 tokens into d = 128, one encoder layer with 4 heads and
PyTorch's defaults (feed-forward 2048, dropout 0.1, no positional embedding: the residual of the
last token alone breaks the symmetry between the two positions), and a linear read-out of the last
position. Here the feed-forward width and the dropout are parameters (the grokking experiment
states what it uses); ``positional`` adds a learned positional embedding.

Initialisation is PyTorch's default for every module, drawn under ``torch.random.fork_rng`` from
``seed``, so a seed fixes the network and the global RNG is left as it was.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["TokenTransformer"]


class TokenTransformer(nn.Module):
    """Tokens (n, T) — integer ids, any dtype — → features (n, d_model) of the last position.

    The read-out layer is separate (a learner's head): ``nn.Sequential(TokenTransformer(...),
    nn.Linear(d_model, n_classes))`` is the reference's model.
    """

    def __init__(
        self,
        vocab: int,
        seq_len: int,
        d_model: int = 128,
        heads: int = 4,
        layers: int = 1,
        feedforward: int = 2048,
        dropout: float = 0.0,
        positional: bool = False,
        seed: int = 0,
    ):
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model ({d_model}) must be a multiple of heads ({heads})")
        self.vocab, self.seq_len = vocab, seq_len
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.embedding = nn.Embedding(vocab, d_model)
            self.position = (
                nn.Parameter(torch.randn(seq_len, d_model) * 0.02) if positional else None
            )
            block = nn.TransformerEncoderLayer(
                d_model, heads, dim_feedforward=feedforward, dropout=dropout, batch_first=True
            )
            self.blocks = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.long()
        if tokens.ndim != 2 or tokens.shape[1] != self.seq_len:
            raise ValueError(
                f"expected tokens of shape (n, {self.seq_len}), got {tuple(tokens.shape)}"
            )
        if len(tokens) and (int(tokens.min()) < 0 or int(tokens.max()) >= self.vocab):
            raise ValueError(f"token ids must be in 0..{self.vocab - 1}")
        h = self.embedding(tokens)
        if self.position is not None:
            h = h + self.position
        return self.blocks(h)[:, -1]
