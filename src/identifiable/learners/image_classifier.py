"""Shape classifier: a small CNN trained with cross-entropy on freshly rendered sprites.

Reizinger, Bizeul, Juhos, Vogt, Balestriero, Brendel, Klindt (2024), "Cross-Entropy Is All You
Need To Invert the Data Generating Process", arXiv:2410.21869 (official code klindtlab/csi,
``dislib/main.py``): a network trained to classify one categorical factor of a disentanglement
data set, whose features are then probed linearly for the other factors.

What to watch during training (e.g. held-out accuracy) is the experiment's ``monitor``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
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
from identifiable.models.cnn import ConvEncoder
from identifiable.progress import Progress, no_progress

__all__ = ["ImageClassifier"]


class ImageClassifier(HeadClassifier):
    """CNN that predicts the shape of a single-object sprite scene (scikit-learn contract).

    logits = W·f(x) + b with f the :class:`~identifiable.models.cnn.ConvEncoder`; the loss is
    the cross-entropy −log softmax(logits)_c of the true shape label c.

    Parameters
    ----------
    feature_dim:   width of the penultimate layer f(x) (what ``transform`` returns).
    channels:      output channels of the stride-2 convolutions.
    batch_size:    images per step, each batch freshly rendered by the world.
    lr:            Adam learning rate.
    steps:         optimisation steps; ``0`` keeps the initialisation (the untrained baseline:
                   same architecture and same init as a trained run with this random_state).
    eval_every:    every this many steps (and at the last), record the mean loss since the last
                   record and what ``monitor`` returns.
    random_state:  seeds the init and the training batches.
    device:        ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.

    Attributes after ``fit``: ``encoder_`` (f), ``head_`` (the Linear layer W, b), ``classes_``
    (the world's shape names), ``history_`` (one dict per evaluation: step, loss, the monitor's
    numbers, train_seconds), ``device_``.
    """

    input_ndim = 3
    chunk_size = 1024

    def __init__(
        self,
        feature_dim: int = 128,
        channels: tuple[int, ...] = (32, 32, 64, 64),
        batch_size: int = 128,
        lr: float = 1e-3,
        steps: int = 1000,
        eval_every: int = 250,
        random_state: int = 0,
        device: str = "auto",
    ):
        self.feature_dim = feature_dim
        self.channels = channels
        self.batch_size = batch_size
        self.lr = lr
        self.steps = steps
        self.eval_every = eval_every
        self.random_state = random_state
        self.device = device

    def _validate(self, world: Any) -> None:
        check(
            self,
            integers=("feature_dim", "batch_size", "eval_every", "steps"),
            positive=("lr",),
            at_least={"feature_dim": 1, "batch_size": 2, "eval_every": 1, "steps": 0},
        )
        if getattr(world, "n_objects", None) != 1 or getattr(world, "min_objects", None):
            raise ValueError(
                "ImageClassifier needs a world with exactly one object per scene "
                "(n_objects=1, min_objects=None)"
            )

    def fit(
        self,
        world: Any,
        *,
        progress: Progress = no_progress,
        monitor: Monitor | None = None,
    ) -> ImageClassifier:
        """Train on ``world.sample(batch_size, generator=...)``: images ``x`` -> ``shape[:, 0]``."""
        self._validate(world)
        self.device_ = pick_device(self.device)
        init_generator, data_generator, _ = seeded_generators(self.random_state)

        self.classes_ = tuple(world.shapes)
        self.encoder_ = ConvEncoder(
            world.image_size, self.feature_dim, tuple(self.channels), generator=init_generator
        ).to(self.device_)
        self.head_ = nn.Linear(self.feature_dim, len(self.classes_))
        bound = 1.0 / np.sqrt(self.feature_dim)
        with torch.no_grad():
            self.head_.weight.uniform_(-bound, bound, generator=init_generator)
            self.head_.bias.uniform_(-bound, bound, generator=init_generator)
        self.head_.to(self.device_)
        self.history_: list[dict[str, float]] = []
        if self.steps == 0:
            return self

        parameters = [*self.encoder_.parameters(), *self.head_.parameters()]
        optimizer = torch.optim.Adam(parameters, lr=self.lr)
        losses = torch.zeros(self.steps)
        train_seconds = 0.0
        last_eval = 0
        for step in range(1, self.steps + 1):
            start = time.perf_counter()
            batch = world.sample(self.batch_size, generator=data_generator)
            images = batch.x.to(self.device_, non_blocking=True)
            labels = batch.shape[:, 0].to(self.device_, non_blocking=True)
            loss = F.cross_entropy(self.head_(self.encoder_(images)), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses[step - 1] = loss.detach()
            train_seconds += time.perf_counter() - start

            check_finite(losses[step - 1], step, what="cross-entropy", advice="lower lr")
            if evaluation_due(step, self.eval_every, self.steps):
                log_evaluation(
                    self,
                    step=step,
                    total=self.steps,
                    losses=losses,
                    since=last_eval,
                    train_seconds=train_seconds,
                    monitor=monitor,
                    progress=progress,
                )
                last_eval = step
        return self

    @classmethod
    def _example(cls):
        from identifiable.worlds.sprites import SpritesWorld

        world = SpritesWorld(image_size=16, n_objects=1, shapes=("square", "triangle"))
        return cls(feature_dim=8, channels=(4, 4), batch_size=8, steps=4, eval_every=2), world
