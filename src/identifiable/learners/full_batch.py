"""A classifier trained full batch on a finite world's training split, with the diagnostics of
grokking: softmax collapse, zero-loss samples, weight and logit norms, and the naïve-loss-
minimisation cosine.

Prieto, Barsbey, Mediano, Birdal (2025), "Grokking at the Edge of Numerical Stability", ICLR,
arXiv:2501.04697: a bias-free ReLU MLP (226 → 200 → 200 → 113 on modular addition) trained on
every training row at once with AdamW (β₂ = 0.99, ε = 1e-25 in the reference), no weight decay
unless stated. Each epoch is one step on

    L(θ) = (1/n) Σ_i ℓ(f_θ(x_i), y_i),   ℓ = softmax cross-entropy at 16/32/64 bits, or
                                          StableMax cross-entropy (float64)

(:mod:`identifiable.losses.stablemax`), optionally through ⊥Grad
(:class:`identifiable.optim.OrthoGrad`). Recorded every ``eval_every`` epochs, from that epoch's
full-batch forward and gradient (before the step):

* ``loss``/``train_loss``, ``train_accuracy``;
* ``collapse_fraction``: SC, the fraction of training rows whose softmax sum is exactly 1 at the
  softmax precision (for StableMax runs, at float32);
* ``zero_loss_fraction``: fraction of training rows whose loss is exactly 0;
* ``weight_norm`` (‖θ‖ over all parameters) and ``weight_norm_<layer>`` (‖W_l‖_F), ``logit_norm``
  (mean ‖f(x_i)‖₂);
* ``nlm_cosine_<layer>``: cos(−∇_{W_l} L, W_l), near 1 when the step mostly scales the weights
  up (naïve loss minimisation, the paper's Fig. 5).

Layers are named ``layer1``, ``layer2``, … and ``output`` (MLP); ``embedding`` and ``output``
(transformer). The reference reshuffles the rows
every epoch, which changes only float rounding of the full-batch sum; rows keep their order here.
Denormal floats are not flushed: softmax collapse is a rounding phenomenon, so arithmetic stays
IEEE as in the reference.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from identifiable._validation import check
from identifiable.device import pick_device
from identifiable.learners._base import HeadClassifier
from identifiable.learners._loop import (
    Monitor,
    check_finite,
    evaluation_due,
    log_evaluation,
    seeded_generators,
)
from identifiable.losses.stablemax import (
    softmax_collapse_fraction,
    softmax_cross_entropy,
    stablemax_cross_entropy,
)
from identifiable.models.relu import relu_mlp
from identifiable.models.transformer import TokenTransformer
from identifiable.optim.orthograd import OrthoGrad
from identifiable.progress import Progress, no_progress

__all__ = ["FullBatchClassifier"]

LOSSES = ("softmax", "stablemax")
MODELS = ("mlp", "transformer")
OPTIMIZERS = ("adamw", "sgd")


class FullBatchClassifier(HeadClassifier):
    """ReLU MLP (or token Transformer) + linear head, one full-batch step per epoch
    (scikit-learn contract).

    Parameters
    ----------
    model:         ``"mlp"`` (inputs: feature vectors) or ``"transformer"``
                   (:class:`identifiable.models.transformer.TokenTransformer`; inputs: integer
                   token ids, one row per sequence, read out at the last position).
    hidden:        hidden widths of the ReLU MLP (the paper: (200, 200)); for the transformer,
                   ``hidden[0]`` is d_model and ``len(hidden)`` the number of blocks.
    heads:         attention heads of the transformer (d_model must be a multiple).
    feedforward:   feed-forward width of the transformer blocks (0: 4 · d_model).
    bias:          biases in every MLP layer (the paper's modular-arithmetic MLP has none).
    loss:          ``"softmax"`` (cross-entropy, softmax at ``precision`` bits) or
                   ``"stablemax"`` (StableMax cross-entropy in float64).
    precision:     16, 32 or 64: bits of the softmax (and of the collapse diagnostic).
    optimizer:     ``"adamw"`` (betas (0.9, ``beta2``), ``eps``) or ``"sgd"`` (``momentum``).
    orthograd:     wrap the optimizer in ⊥Grad (project out the gradient's component along θ).
    lr, weight_decay, beta2, eps, momentum: the optimizer's settings, passed through unchanged.
    batch_size:    0 (default): full batch, one step per epoch. > 0: one step per minibatch of
                   this many rows, passes over the training rows in a fresh seeded order; then
                   ``epochs`` counts optimizer *steps*, and the diagnostics at an evaluation come
                   from an extra full-batch forward and gradient.
    epochs:        full-batch steps (optimizer steps with ``batch_size`` > 0).
    eval_every:    record the diagnostics at epoch 1, every this many epochs and at the last.
    log_evals:     when > 0, record instead at this many log-spaced epochs from 1 to ``epochs``
                   (``round(logspace(0, log10(epochs), log_evals))``, duplicates merged) — for
                   runs of 10⁴–10⁵ epochs whose early and late phases both matter.
    random_state:  seeds the init.
    device:        ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.

    Attributes after ``fit``: ``encoder_`` (the hidden layers), ``head_`` (the output layer),
    ``history_`` (one dict per evaluation, see the module docstring), ``device_``.
    """

    def __init__(
        self,
        model: str = "mlp",
        hidden: tuple[int, ...] = (200, 200),
        heads: int = 4,
        feedforward: int = 0,
        bias: bool = False,
        loss: str = "softmax",
        precision: int = 32,
        optimizer: str = "adamw",
        orthograd: bool = False,
        lr: float = 1e-2,
        weight_decay: float = 0.0,
        beta2: float = 0.99,
        eps: float = 1e-25,
        momentum: float = 0.0,
        batch_size: int = 0,
        epochs: int = 1000,
        eval_every: int = 10,
        log_evals: int = 0,
        random_state: int = 0,
        device: str = "auto",
    ):
        self.model = model
        self.hidden = hidden
        self.heads = heads
        self.feedforward = feedforward
        self.bias = bias
        self.loss = loss
        self.precision = precision
        self.optimizer = optimizer
        self.orthograd = orthograd
        self.lr = lr
        self.weight_decay = weight_decay
        self.beta2 = beta2
        self.eps = eps
        self.momentum = momentum
        self.batch_size = batch_size
        self.epochs = epochs
        self.eval_every = eval_every
        self.log_evals = log_evals
        self.random_state = random_state
        self.device = device

    def _validate(self) -> None:
        check(
            self,
            integers=("epochs", "eval_every", "log_evals", "heads", "feedforward", "batch_size"),
            one_of={
                "model": MODELS,
                "loss": LOSSES,
                "optimizer": OPTIMIZERS,
                "precision": (16, 32, 64),
            },
            positive=("lr", "eps"),
            at_least={
                "heads": 1,
                "feedforward": 0,
                "batch_size": 0,
                "epochs": 1,
                "eval_every": 1,
                "log_evals": 0,
                "weight_decay": 0.0,
                "momentum": 0.0,
            },
        )
        if not 0 <= self.beta2 < 1:
            raise ValueError(f"beta2 must be in [0, 1), got {self.beta2}")
        if self.model == "transformer" and self.hidden[0] % self.heads:
            raise ValueError(
                f"the transformer's d_model (hidden[0] = {self.hidden[0]}) must be a multiple "
                f"of heads ({self.heads})"
            )

    def per_sample_loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """ℓ(f(x_i), y_i) for every row (the training loss before the mean)."""
        if self.loss == "stablemax":
            return stablemax_cross_entropy(logits, y, reduction="none")
        return softmax_cross_entropy(logits, y, self.precision, reduction="none")

    def _make_optimizer(self, parameters: list[nn.Parameter]) -> torch.optim.Optimizer:
        if self.optimizer == "adamw":
            base: torch.optim.Optimizer = torch.optim.AdamW(
                parameters,
                lr=self.lr,
                betas=(0.9, self.beta2),
                eps=self.eps,
                weight_decay=self.weight_decay,
            )
        else:
            base = torch.optim.SGD(
                parameters, lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay
            )
        return OrthoGrad(base) if self.orthograd else base

    def log_schedule(self) -> set[int]:
        """The epochs evaluated when ``log_evals`` > 0 (always 1 and ``epochs``)."""
        points = np.logspace(0, np.log10(self.epochs), self.log_evals)
        return {int(e) for e in np.unique(np.round(points))} | {1, self.epochs}

    def _transformer(
        self, world: Any, seq_len: int, n_classes: int, generator: torch.Generator
    ) -> nn.Sequential:
        """TokenTransformer over the world's token ids + a linear read-out (PyTorch init)."""
        d_model = int(self.hidden[0])
        tokens = torch.as_tensor(world.x)
        if tokens.is_floating_point() and not bool((tokens == tokens.round()).all()):
            raise ValueError(
                "model='transformer' needs integer token ids as inputs (e.g. "
                "modular_arithmetic(..., encoding='tokens')), got non-integer features"
            )
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
        body = TokenTransformer(
            vocab=int(tokens.max()) + 1,
            seq_len=seq_len,
            d_model=d_model,
            heads=self.heads,
            layers=len(self.hidden),
            feedforward=self.feedforward or 4 * d_model,
            seed=seed,
        )
        head = nn.Linear(d_model, n_classes)
        bound = d_model**-0.5
        with torch.no_grad():
            head.weight.uniform_(-bound, bound, generator=generator)
            head.bias.uniform_(-bound, bound, generator=generator)
        return nn.Sequential(body, head)

    def layers(self) -> dict[str, nn.Linear]:
        """The weight layers by name: ``layer1``, ``layer2``, …, ``output`` (MLP) or
        ``embedding``, ``output`` (transformer)."""
        self._check_fitted()
        if isinstance(self.encoder_, TokenTransformer):
            return {"embedding": self.encoder_.embedding, "output": self.head_}
        linears = [m for m in self.encoder_ if isinstance(m, nn.Linear)]
        named = {f"layer{i}": layer for i, layer in enumerate(linears, start=1)}
        return named | {"output": self.head_}

    def fit(
        self, world: Any, *, progress: Progress = no_progress, monitor: Monitor | None = None
    ) -> FullBatchClassifier:
        """Train on ``world.split("train")`` (a finite world: integer labels z, inputs x)."""
        self._validate()
        self.device_ = pick_device(self.device)
        init_generator, data_generator, _ = seeded_generators(self.random_state)
        train = world.split("train")
        x = train.x.to(self.device_, torch.float32)
        y = train.z.to(self.device_).long().reshape(-1)
        n_classes = int(world.z.max()) + 1
        if self.model == "transformer":
            net = self._transformer(world, x.shape[1], n_classes, init_generator)
        else:
            net = relu_mlp(
                x.shape[1], n_classes, tuple(self.hidden), bias=self.bias, generator=init_generator
            )
        net = net.to(self.device_)
        self.encoder_, self.head_ = net[:-1], net[-1]
        if self.model == "transformer":
            self.encoder_ = net[0]
        optimizer = self._make_optimizer(list(net.parameters()))
        named = self.layers()
        batches = _minibatches(len(x), self.batch_size, data_generator) if self.batch_size else None

        schedule = self.log_schedule() if self.log_evals else set()
        self.history_: list[dict[str, float]] = []
        losses = torch.zeros(self.epochs, dtype=torch.float64)
        train_seconds, last_eval = 0.0, 0
        for epoch in range(1, self.epochs + 1):
            start = time.perf_counter()
            due = (
                epoch in schedule
                if schedule
                else epoch == 1 or evaluation_due(epoch, self.eval_every, self.epochs)
            )
            if batches is not None and due:  # diagnostics of the whole training set's gradient
                _, logits, per_sample = self._backward(net, x, y, optimizer)
                extra = self._diagnostics(logits, per_sample, y, named)
            rows = next(batches) if batches is not None else slice(None)
            loss, logits, per_sample = self._backward(net, x[rows], y[rows], optimizer)
            if batches is None and due:  # this epoch's gradient, before the step changes it
                extra = self._diagnostics(logits, per_sample, y, named)
            optimizer.step()
            losses[epoch - 1] = loss.detach()
            train_seconds += time.perf_counter() - start
            check_finite(losses[epoch - 1], epoch, what=f"{self.loss} loss", advice="lower lr")
            if due:
                log_evaluation(
                    self,
                    step=epoch,
                    total=self.epochs,
                    losses=losses,
                    since=last_eval,
                    train_seconds=train_seconds,
                    monitor=monitor,
                    progress=progress,
                    extra=extra,
                )
                last_eval = epoch
        return self

    def _backward(
        self, net: nn.Module, x: torch.Tensor, y: torch.Tensor, optimizer: torch.optim.Optimizer
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Forward, mean loss, fresh gradients: (loss, logits, per-row losses), the last two
        detached."""
        logits = net(x)
        per_sample = self.per_sample_loss(logits, y)
        loss = per_sample.mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        return loss, logits.detach(), per_sample.detach()

    @torch.no_grad()
    def _diagnostics(
        self,
        logits: torch.Tensor,
        per_sample: torch.Tensor,
        y: torch.Tensor,
        named: dict[str, nn.Linear],
    ) -> dict[str, float]:
        precision = self.precision if self.loss == "softmax" else 32
        record = {
            "train_loss": float(per_sample.mean()),
            "train_accuracy": float((logits.argmax(1) == y).double().mean()),
            "collapse_fraction": softmax_collapse_fraction(logits, precision),
            "zero_loss_fraction": float((per_sample == 0).double().mean()),
            "logit_norm": float(logits.double().norm(dim=1).mean()),
        }
        for name, layer in named.items():
            w, g = layer.weight.double(), layer.weight.grad
            norm = float(w.norm())
            record[f"weight_norm_{name}"] = norm
            if g is not None:
                g = g.double()
                denominator = float(g.norm()) * norm
                cosine = -float((g * w).sum()) / denominator if denominator > 0 else 0.0
                record[f"nlm_cosine_{name}"] = cosine
        parameters = [*self.encoder_.parameters(), *self.head_.parameters()]
        record["weight_norm"] = float(sum(p.double().pow(2).sum() for p in parameters)) ** 0.5
        return record

    def predict_loss(self, x, y) -> float:
        """Mean training loss ℓ on (x, y) (e.g. the test split), in eval mode."""
        self._check_fitted()
        logits = self._encode(nn.Sequential(self.encoder_, self.head_), x)
        y = torch.as_tensor(y).long().reshape(-1)
        return float(self.per_sample_loss(logits, y).mean())

    @classmethod
    def _example(cls):
        from identifiable.worlds.modular import modular_arithmetic

        return cls(hidden=(16,), epochs=5, eval_every=2), modular_arithmetic("add", 7, 0.5)


def _minibatches(n: int, size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Row indices of successive minibatches: each pass over the n rows in a fresh seeded order,
    ``size`` rows per batch (the last of a pass may be smaller), forever."""
    while True:
        order = torch.randperm(n, generator=generator)
        yield from order.split(size)
