"""Supervised generator regression z → x: a compositional model C(φ̂_1, …, φ̂_K) with the known
composition C, or a monolithic model on the concatenated latents.

Wiedemer, Mayilvahanan, Bethge, Brendel (2023), "Compositional Generalization from First
Principles", NeurIPS, arXiv:2307.05596 (code brendel-group/compositional-ood-generalization):

    compositional   x̂ = C(φ̂_1(z_1), …, φ̂_K(z_K))     one decoder per slot, C known
    monolithic      x̂ = φ̂(z_1, …, z_K)                one decoder on all K·d latents

fitted by minibatch MSE on a fixed training set of the world's support, AdamW (lr 1e-3, weight
decay 1e-5) with a cosine schedule down to 1e-5, batch 512 (the reference; it trains 100 000
images for 2 000 epochs). Decoders (:mod:`identifiable.models.decoders`): an ELU MLP for vector
observations (n, C, P), the reference's upsampling decoder for images (n, C, S, S). The monolithic
decoder's width is chosen so that its parameter count is the closest to the compositional
model's (``n_parameters_`` says both are within a few per cent).

Not a representation learner (it maps latents to observations): it has ``fit(world)``,
``predict(z)`` and ``history_``, not ``transform``.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch
from torch import nn

from identifiable._validation import check
from identifiable.device import pick_device
from identifiable.learners._loop import (
    Monitor,
    check_finite,
    evaluation_due,
    log_evaluation,
    seeded_generators,
)
from identifiable.models.decoders import (
    MLPDecoder,
    MonolithicDecoder,
    UpsampleDecoder,
    n_parameters,
)
from identifiable.progress import Progress, no_progress
from identifiable.worlds.composition import COMPOSITIONS, compose, n_channels_in

__all__ = ["GeneratorRegressor"]

MODELS = ("compositional", "monolithic")


class _Compositional(nn.Module):
    def __init__(self, decoders: list[nn.Module], composition: str):
        super().__init__()
        self.decoders = nn.ModuleList(decoders)
        self.composition = composition

    def render_slots(self, z: torch.Tensor) -> torch.Tensor:
        return torch.stack([phi(z[:, k]) for k, phi in enumerate(self.decoders)], dim=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return compose(self.render_slots(z), self.composition)


class GeneratorRegressor:
    """Fit x̂(z) on ``world.split("train")`` (z (n, K, d), x (n, C, *rest)).

    Parameters
    ----------
    model:         ``"compositional"`` or ``"monolithic"``.
    composition:   the known C of the compositional model (the world's): sum, occlude, alpha.
    hidden:        width of the compositional model's per-slot decoders (the monolithic one's
                   width is matched by parameter count).
    depth:         Linear layers per decoder (MLP part).
    lr, weight_decay, lr_min: AdamW and its cosine schedule (per step, down to ``lr_min``).
    batch_size:    rows per step; each epoch is a pass in a fresh seeded order.
    epochs:        passes over the training set.
    eval_every:    record ``history_`` (and call the monitor) every this many epochs and last.
    random_state:  seeds the init and the batch order.
    device:        ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.

    Attributes after ``fit``: ``model_``, ``n_parameters_`` (this model's), ``history_``,
    ``device_``.
    """

    chunk_size = 4096

    def __init__(
        self,
        model: str = "compositional",
        composition: str = "occlude",
        hidden: int = 256,
        depth: int = 4,
        lr: float = 1e-3,
        weight_decay: float = 1e-5,
        lr_min: float = 1e-5,
        batch_size: int = 512,
        epochs: int = 100,
        eval_every: int = 10,
        random_state: int = 0,
        device: str = "auto",
    ):
        self.model = model
        self.composition = composition
        self.hidden = hidden
        self.depth = depth
        self.lr = lr
        self.weight_decay = weight_decay
        self.lr_min = lr_min
        self.batch_size = batch_size
        self.epochs = epochs
        self.eval_every = eval_every
        self.random_state = random_state
        self.device = device

    def _validate(self) -> None:
        check(
            self,
            integers=("hidden", "depth", "batch_size", "epochs", "eval_every"),
            one_of={"model": MODELS, "composition": COMPOSITIONS},
            positive=("lr",),
            at_least={
                "hidden": 1,
                "depth": 2,
                "batch_size": 1,
                "epochs": 1,
                "eval_every": 1,
                "weight_decay": 0.0,
                "lr_min": 0.0,
            },
        )

    def _build(self, n_slots: int, slot_dim: int, x_shape: tuple[int, ...], generator):
        channels, rest = x_shape[0], x_shape[1:]
        image = len(rest) == 2
        slot_channels = n_channels_in(self.composition, channels)

        def decoder(d_in: int, out_channels: int, hidden: int) -> nn.Module:
            if image:
                return UpsampleDecoder(
                    d_in, rest[0], out_channels, hidden, self.depth, generator=generator
                )
            return MLPDecoder(d_in, (out_channels, *rest), hidden, self.depth, generator=generator)

        if self.model == "compositional":
            decoders = [decoder(slot_dim, slot_channels, self.hidden) for _ in range(n_slots)]
            return _Compositional(decoders, self.composition)
        target = n_slots * _count(slot_dim, slot_channels, rest, self.hidden, self.depth, image)
        hidden = min(
            range(1, 8 * self.hidden + 1),
            key=lambda h: abs(
                _count(n_slots * slot_dim, channels, rest, h, self.depth, image) - target
            ),  # fmt: skip
        )
        return MonolithicDecoder(decoder(n_slots * slot_dim, channels, hidden))

    def fit(
        self, world: Any, *, progress: Progress = no_progress, monitor: Monitor | None = None
    ) -> GeneratorRegressor:
        """Train on ``world.split("train")``; ``monitor(self)`` at each evaluation."""
        self._validate()
        self.device_ = pick_device(self.device)
        init_generator, data_generator, _ = seeded_generators(self.random_state)
        train = world.split("train")
        z = self._as_latents(train.z).to(self.device_)
        x = torch.as_tensor(train.x, dtype=torch.float32).to(self.device_)
        self.model_ = self._build(z.shape[1], z.shape[2], tuple(x.shape[1:]), init_generator)
        self.model_.to(self.device_)
        self.n_parameters_ = n_parameters(self.model_)
        optimizer = torch.optim.AdamW(
            self.model_.parameters(), lr=self.lr, weight_decay=self.weight_decay
        )
        steps_per_epoch = math.ceil(len(z) / self.batch_size)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=self.epochs * steps_per_epoch, eta_min=min(self.lr_min, self.lr)
        )
        self.history_: list[dict[str, float]] = []
        losses = torch.zeros(self.epochs, dtype=torch.float64)
        train_seconds, last_eval = 0.0, 0
        for epoch in range(1, self.epochs + 1):
            start = time.perf_counter()
            total = torch.zeros((), dtype=torch.float64, device=self.device_)
            for rows in torch.randperm(len(z), generator=data_generator).split(self.batch_size):
                rows = rows.to(self.device_)
                loss = nn.functional.mse_loss(self.model_(z[rows]), x[rows])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
                total += loss.detach() * len(rows)
            losses[epoch - 1] = total.cpu() / len(z)
            train_seconds += time.perf_counter() - start
            check_finite(losses[epoch - 1], epoch, what="MSE", advice="lower lr")
            if evaluation_due(epoch, self.eval_every, self.epochs):
                log_evaluation(
                    self,
                    step=epoch,
                    total=self.epochs,
                    losses=losses,
                    since=last_eval,
                    train_seconds=train_seconds,
                    monitor=monitor,
                    progress=progress,
                )
                last_eval = epoch
        return self

    def _as_latents(self, z) -> torch.Tensor:
        try:
            tensor = torch.as_tensor(
                np.asarray(z, dtype=np.float32) if not isinstance(z, torch.Tensor) else z,
                dtype=torch.float32,
            )
        except (TypeError, ValueError) as error:
            raise ValueError(f"z must be a numeric array, got {type(z).__name__}") from error
        if tensor.ndim != 3:
            raise ValueError(f"z must have shape (n, n_slots, slot_dim), got {tuple(tensor.shape)}")
        if not torch.isfinite(tensor).all():
            raise ValueError("z contains NaN or inf values")
        return tensor

    @torch.no_grad()
    def predict(self, z) -> torch.Tensor:
        """x̂(z) for latents z (n, K, d), chunked, on CPU."""
        if not hasattr(self, "model_"):
            raise ValueError("this GeneratorRegressor is not fitted yet; call fit(world) first")
        z = self._as_latents(z)
        was_training = self.model_.training
        self.model_.eval()
        try:
            parts = [self.model_(c.to(self.device_)).cpu() for c in z.split(self.chunk_size)]
        finally:
            self.model_.train(was_training)
        return torch.cat(parts)


def _count(d_in: int, channels: int, rest: tuple, hidden: int, depth: int, image: bool) -> int:
    """Parameters of a decoder (MLPDecoder or UpsampleDecoder), without building it."""

    def mlp(d: int, out: int) -> int:
        widths = (d, *([hidden] * (depth - 1)), out)
        return sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))

    if not image:
        return mlp(d_in, channels * math.prod(rest))
    feature, steps = 32, int(math.log2(rest[0] / 4))
    convs = (steps - 1) * (feature * feature * 4 + feature) + feature * channels * 4 + channels
    return mlp(d_in, feature * 16) + convs
