"""A tiny causal language model trained by next-token cross-entropy, kept at its best validation
loss, with batched greedy (or sampled) completion of prompts.

Loss on a batch of padded sequences x (SOS … EOS PAD…), inputs x_{<T}, targets x_{≥1}:

    L = (1 / |M|) Σ_{(i,t) ∈ M} −log p_θ(x_{i,t} | x_{i,<t}),   M = {(i, t) : x_{i,t} ≠ PAD}

— padding is masked (the reference meszarosanna/rule_extrapolation also scores PAD targets, which
only adds predictable tokens). AdamW (lr 2·10⁻³, weight decay 0.01, batch 128 as the reference's
paper runs) with the inverse-square-root schedule lr·min(s/w, √(w/s)) over optimiser steps s (the
reference steps it per epoch with w = 1000); the validation loss is computed every ``eval_every``
steps and the weights with the lowest are restored at the end ("at min validation loss", as the
reference reports). Completion (:meth:`LanguageModel.complete`) appends the argmax (or a sample)
of the last position's distribution to every prompt at once, recomputing the prefix, until every
row has emitted EOS or the length limit is reached; tokens after a row's EOS are PAD (the reference
always generates to its length limit and cuts at the first EOS when scoring).

Mészáros, Ujváry, Brendel, Reizinger, Huszár (2024), "Rule Extrapolation in Language Modeling",
NeurIPS, arXiv:2409.13728; models in :mod:`identifiable.models.causal_lm`.
"""

from __future__ import annotations

import copy
import math
import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from identifiable.device import pick_device
from identifiable.learners._base import Learner
from identifiable.learners._loop import (
    Monitor,
    check_finite,
    evaluation_due,
    log_evaluation,
    seeded_generators,
)
from identifiable.models.causal_lm import ARCHITECTURES, build_language_model
from identifiable.progress import Progress, no_progress
from identifiable.worlds.grammar_rules import EOS, PAD

__all__ = ["LanguageModel"]

_LAYERS = {"transformer": 7, "lstm": 5}
_DROPOUT = {"transformer": 0.1, "lstm": 0.4}


class LanguageModel(Learner):
    """Next-token learner over a sequence world (``split(name).x``: (n, T) token ids with
    SOS 0, EOS 1, PAD 2; ``vocab_size``).

    architecture:  ``transformer``, ``lstm`` or ``linear`` (:mod:`identifiable.models.causal_lm`).
    d_model:       embedding width (all three; the reference's runs: 10).
    heads, feedforward: the Transformer's (reference 5, 1024).
    layers:        Transformer blocks or LSTM layers; 0 = the reference's (7 and 5).
    hidden:        the LSTM's width (reference 64).
    dropout:       None = the reference's (Transformer 0.1, LSTM 0.4; the linear model has none).
    lr, weight_decay: AdamW's (reference 2·10⁻³ and torch's default 0.01).
    decay:         which parameters weight decay pulls to 0: ``all`` (torch's AdamW default, the
                   output bias included) or ``matrices`` (nanoGPT's choice: tensors of ≥ 2
                   dimensions — weights and embeddings — not biases or norm gains).
    warmup:        inverse-square-root warm-up steps; 0 = a tenth of ``steps``.
    batch_size:    sequences per step (reference 128).
    steps:         optimiser steps.
    eval_every:    steps between validation losses (the best weights are kept).
    random_state:  seeds the weights, the batches, dropout and sampled completions.
    device:        ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
    """

    def __init__(
        self,
        architecture: str = "transformer",
        d_model: int = 10,
        heads: int = 5,
        feedforward: int = 1024,
        layers: int = 0,
        hidden: int = 64,
        dropout: float | None = None,
        lr: float = 2e-3,
        weight_decay: float = 0.01,
        decay: str = "all",
        warmup: int = 0,
        batch_size: int = 128,
        steps: int = 1000,
        eval_every: int = 100,
        random_state: int = 0,
        device: str = "auto",
    ):
        self.architecture = architecture
        self.d_model = d_model
        self.heads = heads
        self.feedforward = feedforward
        self.layers = layers
        self.hidden = hidden
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.decay = decay
        self.warmup = warmup
        self.batch_size = batch_size
        self.steps = steps
        self.eval_every = eval_every
        self.random_state = random_state
        self.device = device

    # ------------------------------------------------------------------ checks
    def _validate(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}"
            )
        for name in ("d_model", "heads", "feedforward", "hidden", "batch_size", "steps",
                     "eval_every"):  # fmt: skip
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        for name in ("layers", "warmup"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, got {value!r}")
        if not (isinstance(self.lr, int | float) and self.lr > 0):
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        if not (isinstance(self.weight_decay, int | float) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if self.decay not in ("all", "matrices"):
            raise ValueError(f"decay must be all or matrices, got {self.decay!r}")
        if self.dropout is not None and not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1) or None, got {self.dropout!r}")
        if self.architecture == "transformer" and self.d_model % self.heads:
            raise ValueError(f"d_model ({self.d_model}) must be a multiple of heads ({self.heads})")

    def _as_input(self, x) -> torch.Tensor:
        """Token ids (n, T) as a long tensor; one-line errors for NaN, fractions, unknown ids."""
        tensor = super()._as_input(x)
        if not torch.equal(tensor, tensor.round()) or (tensor < 0).any():
            raise ValueError("x must hold token ids (integers >= 0)")
        tokens = tensor.long()
        if hasattr(self, "vocab_") and tokens.numel() and int(tokens.max()) >= self.vocab_:
            raise ValueError(
                f"x holds token id {int(tokens.max())}, but the model knows ids 0…{self.vocab_ - 1}"
            )
        if tokens.shape[1] < 1:
            raise ValueError("x must have at least one token per row")
        return tokens

    # ------------------------------------------------------------------ model
    def _build(self, vocab: int, length: int) -> torch.nn.Module:
        sizes: dict[str, Any] = {"d_model": self.d_model}
        if self.architecture == "transformer":
            sizes |= {"heads": self.heads, "feedforward": self.feedforward,
                      "layers": self.layers or _LAYERS["transformer"]}  # fmt: skip
        elif self.architecture == "lstm":
            sizes |= {"hidden": self.hidden, "layers": self.layers or _LAYERS["lstm"]}
        if self.architecture != "linear":
            sizes["dropout"] = _DROPOUT[self.architecture] if self.dropout is None else self.dropout
        return build_language_model(
            self.architecture, vocab, length, seed=self.random_state, **sizes
        )

    def _logits(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.encoder_(tokens)

    def _token_losses(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(per-target CE (n, T−1), mask of non-PAD targets), columns after the last non-PAD
        token of the batch dropped (a causal model's other outputs do not change)."""
        used = int((tokens != PAD).any(0).nonzero().max()) + 1 if tokens.numel() else 1
        tokens = tokens[:, : max(used, 2)]
        logits = self._logits(tokens[:, :-1])
        targets = tokens[:, 1:]
        losses = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
        return losses, targets != PAD

    def _mean_loss(self, tokens: torch.Tensor) -> torch.Tensor:
        losses, mask = self._token_losses(tokens)
        return (losses * mask).sum() / mask.sum().clamp(min=1)

    # ------------------------------------------------------------------ fit
    def fit(
        self, world: Any, *, progress: Progress = no_progress, monitor: Monitor | None = None
    ) -> LanguageModel:
        """Train on ``world.split("train").x``; keep the weights of the lowest
        ``world.split("validation")`` loss."""
        self._validate()
        self.device_ = pick_device(self.device)
        init_generator, data_generator, _ = seeded_generators(self.random_state)
        train = self._as_input(world.split("train").x).to(self.device_)
        validation = self._as_input(world.split("validation").x).to(self.device_)
        self.vocab_ = int(getattr(world, "vocab_size", int(train.max()) + 1))
        self.max_length_ = int(train.shape[1])
        self.encoder_ = self._build(self.vocab_, self.max_length_).to(self.device_)
        optimizer = torch.optim.AdamW(self._parameter_groups(), lr=self.lr)
        warmup = self.warmup or max(self.steps // 10, 1)
        self.history_: list[dict[str, float]] = []
        losses = torch.zeros(self.steps, dtype=torch.float64)
        best, self.best_step_, self.best_validation_loss_ = None, 0, math.inf
        train_seconds, last_eval = 0.0, 0
        start = time.perf_counter()
        with torch.random.fork_rng(devices=[self.device_] if self.device_.type == "cuda" else []):
            torch.manual_seed(self.random_state)  # dropout
            for step in range(1, self.steps + 1):
                self.encoder_.train()
                for group in optimizer.param_groups:
                    group["lr"] = self.lr * min(step / warmup, math.sqrt(warmup / step))
                rows = torch.randint(len(train), (self.batch_size,), generator=data_generator)
                loss = self._mean_loss(train[rows.to(self.device_)])
                check_finite(loss.detach(), step, what="the language-model loss",
                             advice="lower lr or check the input tokens")  # fmt: skip
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                losses[step - 1] = loss.detach().cpu()
                if evaluation_due(step, self.eval_every, self.steps):
                    train_seconds += time.perf_counter() - start
                    validation_loss = self._evaluate(validation)
                    if validation_loss < self.best_validation_loss_:
                        self.best_validation_loss_, self.best_step_ = validation_loss, step
                        best = copy.deepcopy(self.encoder_.state_dict())
                    log_evaluation(
                        self, step=step, total=self.steps, losses=losses, since=last_eval,
                        train_seconds=train_seconds, monitor=monitor, progress=progress,
                        extra={"validation_loss": validation_loss},
                    )  # fmt: skip
                    last_eval = step
                    start = time.perf_counter()
        if best is not None:
            self.encoder_.load_state_dict(best)
        self.encoder_.eval()
        return self

    def _parameter_groups(self) -> list[dict[str, Any]]:
        """AdamW groups: every parameter decayed, or (``matrices``) only tensors of ≥ 2 dims."""
        parameters = list(self.encoder_.parameters())
        if self.decay == "all":
            return [{"params": parameters, "weight_decay": self.weight_decay}]
        return [
            {"params": [p for p in parameters if p.dim() >= 2], "weight_decay": self.weight_decay},
            {"params": [p for p in parameters if p.dim() < 2], "weight_decay": 0.0},
        ]

    @torch.no_grad()
    def _evaluate(self, tokens: torch.Tensor) -> float:
        self.encoder_.eval()
        total, count = 0.0, 0
        for chunk in tokens.split(1024):
            losses, mask = self._token_losses(chunk)
            total += float((losses * mask).sum())
            count += int(mask.sum())
        return total / max(count, 1)

    # ------------------------------------------------------------------ use
    def loss(self, x) -> float:
        """Mean next-token cross-entropy (nats) over the non-PAD targets of the sequences x."""
        self._check_fitted()
        return self._evaluate(self._as_input(x).to(self.device_))

    @torch.no_grad()
    def token_losses(self, x) -> np.ndarray:
        """Per-target cross-entropy (n, T − 1) in nats, NaN where the target is PAD."""
        self._check_fitted()
        tokens = self._as_input(x).to(self.device_)
        self.encoder_.eval()
        logits = self._logits(tokens[:, :-1])
        losses = F.cross_entropy(logits.transpose(1, 2), tokens[:, 1:], reduction="none")
        return torch.where(tokens[:, 1:] == PAD, torch.nan, losses).cpu().numpy()

    @torch.no_grad()
    def transform(self, x) -> np.ndarray:
        """Next-token log-probabilities after each row's last non-PAD token, shape (n, V)."""
        self._check_fitted()
        tokens = self._as_input(x).to(self.device_)
        self.encoder_.eval()
        last = ((tokens != PAD).long().cumsum(1).argmax(1)).clamp(min=0)
        logits = self._logits(tokens)[torch.arange(len(tokens), device=tokens.device), last]
        return torch.log_softmax(logits, -1).cpu().numpy()

    @torch.no_grad()
    def complete(
        self,
        prompts,
        max_length: int | None = None,
        *,
        sample: bool = False,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Prompts (n, P) continued to (n, max_length) tokens (default: the training sequences'
        length): argmax — or, with ``sample``, a draw from ``generator`` (default: seeded by
        ``random_state``) — of the next-token distribution, all unfinished rows at once; PAD
        after a row's EOS; stops early once every row has ended."""
        self._check_fitted()
        tokens = self._as_input(prompts).to(self.device_)
        total = self.max_length_ if max_length is None else max_length
        if not isinstance(total, int) or total < tokens.shape[1]:
            raise ValueError(
                f"max_length ({total!r}) must be an int >= the prompt length ({tokens.shape[1]})"
            )
        if total > self.max_length_:
            raise ValueError(
                f"max_length ({total}) must be <= {self.max_length_}, the longest sequence the "
                "model was built for (the training sequences' length)"
            )
        if sample and generator is None:
            generator = torch.Generator().manual_seed(self.random_state)
        self.encoder_.eval()
        out = tokens
        done = (tokens == EOS).any(1)
        for _ in range(tokens.shape[1], total):
            if bool(done.all()):
                break
            rows = (~done).nonzero()[:, 0]  # only unfinished rows are run
            logits = self._logits(out[rows])[:, -1]
            if sample:
                probs = torch.softmax(logits.double(), -1).cpu()
                drawn = torch.multinomial(probs, 1, generator=generator)[:, 0].to(out.device)
            else:
                drawn = logits.argmax(-1)
            token = torch.full_like(done, PAD, dtype=torch.long).index_put((rows,), drawn)
            out = torch.cat([out, token[:, None]], 1)
            done = done | (token == EOS)
        if out.shape[1] < total:
            out = F.pad(out, (0, total - out.shape[1]), value=PAD)
        return out.cpu()

    @classmethod
    def _example(cls):
        from identifiable.worlds.formal_languages import FormalLanguageWorld

        learner = cls(d_model=8, heads=2, feedforward=16, layers=1, batch_size=16, steps=6,
                      eval_every=3)  # fmt: skip
        return learner, FormalLanguageWorld("aNbN", max_length=8)
