"""Synthetic text: a first-order Markov chain over V tokens with Zipfian frequencies, whose next
token is predictable from the current one — a known distribution for tiny-LM experiments.

With content tokens k = 0 … V − 1 (ids k + 3; SOS 0, EOS 1, PAD 2 as the formal languages), a
Zipf prior π_k ∝ (k + 1)^(−s) and logits G = (1 − m)·G_shared + m·G_own (standard normal,
G_shared seeded by ``structure``, G_own by ``variant``), the transition matrix is

    T[i, j] = π_j · exp(c · G_ij) / Σ_l π_l · exp(c · G_il).

c = ``sharpness`` sets how predictable the next token is (c = 0: an i.i.d. Zipf stream); m =
``mix`` how much two variants of one structure differ. Each sequence is SOS followed by
``length`` tokens, the first drawn from the chain's stationary distribution μ (μ T = μ), so every
position has unigram frequencies μ (Zipf-like, reshaped by T). Known exactly: μ, the entropy
rate H = Σ_i μ_i H(T[i]) and the loss floor of a model predicting the chain,
(H(μ) + (length − 1)·H) / length nats per token.

Used by loss-to-loss scaling (Mayilvahanan*, Wiedemer*, Mallick, Bethge, Brendel 2025,
arXiv:2502.12120: different pretraining distributions) and the token-frequency bias of weight
decay (Pinto, Galanti, Balestriero 2024, arXiv:2410.11985, which asks for rare tokens that are
predictable from context).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

from identifiable.worlds.base import Batch, draw_splits, pick_split

__all__ = ["FIRST_TOKEN", "MarkovTextWorld"]

FIRST_TOKEN = 3  # ids 0, 1, 2 are SOS, EOS, PAD
SOS = 0


@dataclass(frozen=True)
class MarkovTextWorld:
    """Sequences of a Zipfian Markov chain (module docstring) with seeded splits.

    vocab:      V content tokens.
    length:     tokens per sequence after SOS.
    zipf:       s, exponent of the frequency prior (k + 1)^(−s).
    sharpness:  c, how peaked each row of T is (0: i.i.d. tokens).
    mix:        m ∈ [0, 1], weight of the variant's own logits against the shared ones.
    structure, variant: seeds of the shared and the variant's logits.
    n_train, n_validation, n_test: sequences per split; ``seed`` draws them.
    """

    vocab: int = 32
    length: int = 32
    zipf: float = 1.0
    sharpness: float = 2.0
    mix: float = 0.0
    structure: int = 0
    variant: int = 0
    n_train: int = 2048
    n_validation: int = 512
    n_test: int = 512
    seed: int = 0

    def __post_init__(self) -> None:
        lows = {"vocab": 2, "length": 1, "n_train": 1, "n_validation": 1, "n_test": 1,
                "structure": 0, "variant": 0, "seed": 0}  # fmt: skip
        for name, low in lows.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        for name in ("zipf", "sharpness"):
            value = getattr(self, name)
            if isinstance(value, bool) or not (
                isinstance(value, int | float) and np.isfinite(value) and value >= 0
            ):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if isinstance(self.mix, bool) or not (isinstance(self.mix, int | float)
                                              and 0 <= self.mix <= 1):  # fmt: skip
            raise ValueError(f"mix must be a number in [0, 1], got {self.mix!r}")

    @property
    def vocab_size(self) -> int:
        return self.vocab + FIRST_TOKEN

    @property
    def sequence_length(self) -> int:
        return self.length + 1

    # ------------------------------------------------------------------ the chain
    @cached_property
    def transition(self) -> np.ndarray:
        """T (V, V), rows sum to 1 (float64)."""
        shape = (self.vocab, self.vocab)
        shared = np.random.default_rng(self.structure).standard_normal(shape)
        own = np.random.default_rng([self.structure, self.variant, 1]).standard_normal(shape)
        logits = self.sharpness * ((1 - self.mix) * shared + self.mix * own)
        logits = logits - self.zipf * np.log(np.arange(1, self.vocab + 1))[None, :]
        logits -= logits.max(axis=1, keepdims=True)
        rows = np.exp(logits)
        return rows / rows.sum(axis=1, keepdims=True)

    @cached_property
    def stationary(self) -> np.ndarray:
        """μ (V,), μ T = μ: the unigram frequency of each content token."""
        values, vectors = np.linalg.eig(self.transition.T)
        if (np.abs(values - 1) < 1e-9).sum() > 1:
            raise ValueError(
                f"sharpness {self.sharpness:g} makes the chain fall apart into closed parts (no "
                "unique stationary distribution); use a smaller sharpness"
            )
        mu = np.abs(np.real(vectors[:, np.argmin(np.abs(values - 1))]))
        return mu / mu.sum()

    @property
    def entropy_rate(self) -> float:
        """H = Σ_i μ_i H(T[i]) nats per token."""
        t = self.transition
        rows = -(t * np.log(np.where(t > 0, t, 1.0))).sum(axis=1)
        return float(self.stationary @ rows)

    @property
    def loss_floor(self) -> float:
        """Expected next-token loss of the true chain per target: (H(μ) + (length − 1) H) /
        length."""
        mu = self.stationary
        first = float(-(mu * np.log(np.where(mu > 0, mu, 1.0))).sum())
        return (first + (self.length - 1) * self.entropy_rate) / self.length

    # ------------------------------------------------------------------ sequences
    def sample(self, n: int, *, generator: torch.Generator) -> Batch:
        """n sequences: ``x`` (n, length + 1) ids (SOS first), ``z`` (n, length) content tokens
        0 … V − 1."""
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be an int >= 0, got {n!r}")
        t = torch.as_tensor(self.transition)
        z = torch.empty((n, self.length), dtype=torch.long)
        if n:
            start = torch.as_tensor(self.stationary).expand(n, -1)
            z[:, 0] = torch.multinomial(start, 1, generator=generator)[:, 0]
            for step in range(1, self.length):
                z[:, step] = torch.multinomial(t[z[:, step - 1]], 1, generator=generator)[:, 0]
        x = torch.cat([torch.full((n, 1), SOS, dtype=torch.long), z + FIRST_TOKEN], dim=1)
        return Batch(z=z, x=x)

    def split(self, name: str) -> Batch:
        """``train``, ``validation`` or ``test``."""
        return pick_split(self._splits, name)

    @cached_property
    def _splits(self) -> dict[str, Batch]:
        sizes = {"train": self.n_train, "validation": self.n_validation, "test": self.n_test}
        return draw_splits(self, sizes, self.seed)
