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
* ``weight_norm`` (all weights) and ``weight_norm_<layer>`` (‖W_l‖_F), ``logit_norm``
  (mean ‖f(x_i)‖₂);
* ``nlm_cosine_<layer>``: cos(−∇_{W_l} L, W_l), near 1 when the step mostly scales the weights
  up (naïve loss minimisation, the paper's Fig. 5).

Layers are named ``layer1``, ``layer2``, … and ``output``. The reference reshuffles the rows
every epoch, which changes only float rounding of the full-batch sum; rows keep their order here.
Denormal floats are not flushed: softmax collapse is a rounding phenomenon, so arithmetic stays
IEEE as in the reference.
"""

from __future__ import annotations

import time
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
from identifiable.optim.orthograd import OrthoGrad
from identifiable.progress import Progress, no_progress

__all__ = ["FullBatchClassifier"]

LOSSES = ("softmax", "stablemax")
OPTIMIZERS = ("adamw", "sgd")


class FullBatchClassifier(HeadClassifier):
    """ReLU MLP + linear head, one full-batch step per epoch (scikit-learn contract).

    Parameters
    ----------
    hidden:        hidden widths of the ReLU MLP (the paper: (200, 200)).
    bias:          biases in every layer (the paper's modular-arithmetic MLP has none).
    loss:          ``"softmax"`` (cross-entropy, softmax at ``precision`` bits) or
                   ``"stablemax"`` (StableMax cross-entropy in float64).
    precision:     16, 32 or 64: bits of the softmax (and of the collapse diagnostic).
    optimizer:     ``"adamw"`` (betas (0.9, ``beta2``), ``eps``) or ``"sgd"`` (``momentum``).
    orthograd:     wrap the optimizer in ⊥Grad (project out the gradient's component along θ).
    lr, weight_decay, beta2, eps, momentum: the optimizer's settings, passed through unchanged.
    epochs:        full-batch steps.
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
        hidden: tuple[int, ...] = (200, 200),
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
        epochs: int = 1000,
        eval_every: int = 10,
        log_evals: int = 0,
        random_state: int = 0,
        device: str = "auto",
    ):
        self.hidden = hidden
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
        self.epochs = epochs
        self.eval_every = eval_every
        self.log_evals = log_evals
        self.random_state = random_state
        self.device = device

    def _validate(self) -> None:
        check(
            self,
            integers=("epochs", "eval_every", "log_evals"),
            one_of={"loss": LOSSES, "optimizer": OPTIMIZERS, "precision": (16, 32, 64)},
            positive=("lr", "eps"),
            at_least={
                "epochs": 1,
                "eval_every": 1,
                "log_evals": 0,
                "weight_decay": 0.0,
                "momentum": 0.0,
            },
        )
        if not 0 <= self.beta2 < 1:
            raise ValueError(f"beta2 must be in [0, 1), got {self.beta2}")

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

    def layers(self) -> dict[str, nn.Linear]:
        """The linear layers by name: ``layer1``, ``layer2``, …, ``output``."""
        self._check_fitted()
        linears = [m for m in self.encoder_ if isinstance(m, nn.Linear)]
        named = {f"layer{i}": layer for i, layer in enumerate(linears, start=1)}
        return named | {"output": self.head_}

    def fit(
        self, world: Any, *, progress: Progress = no_progress, monitor: Monitor | None = None
    ) -> FullBatchClassifier:
        """Train on ``world.split("train")`` (a finite world: integer labels z, inputs x)."""
        self._validate()
        self.device_ = pick_device(self.device)
        init_generator, _, _ = seeded_generators(self.random_state)
        train = world.split("train")
        x = train.x.to(self.device_, torch.float32)
        y = train.z.to(self.device_).long().reshape(-1)
        n_classes = int(world.z.max()) + 1
        net = relu_mlp(
            x.shape[1], n_classes, tuple(self.hidden), bias=self.bias, generator=init_generator
        ).to(self.device_)
        self.encoder_, self.head_ = net[:-1], net[-1]
        optimizer = self._make_optimizer(list(net.parameters()))
        named = self.layers()

        schedule = self.log_schedule() if self.log_evals else set()
        self.history_: list[dict[str, float]] = []
        losses = torch.zeros(self.epochs, dtype=torch.float64)
        train_seconds, last_eval = 0.0, 0
        for epoch in range(1, self.epochs + 1):
            start = time.perf_counter()
            logits = net(x)
            per_sample = self.per_sample_loss(logits, y)
            loss = per_sample.mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            due = (
                epoch in schedule
                if schedule
                else epoch == 1 or evaluation_due(epoch, self.eval_every, self.epochs)
            )
            if due:  # the diagnostics of this epoch's gradient, before the step changes it
                extra = self._diagnostics(logits.detach(), per_sample.detach(), y, named)
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
        total = 0.0
        for name, layer in named.items():
            w, g = layer.weight.double(), layer.weight.grad
            norm = float(w.norm())
            total += norm**2
            record[f"weight_norm_{name}"] = norm
            if g is not None:
                g = g.double()
                denominator = float(g.norm()) * norm
                cosine = -float((g * w).sum()) / denominator if denominator > 0 else 0.0
                record[f"nlm_cosine_{name}"] = cosine
        record["weight_norm"] = total**0.5
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
