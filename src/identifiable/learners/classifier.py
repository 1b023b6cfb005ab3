"""Shape classifier: a small CNN trained with cross-entropy on freshly rendered sprites.

Reizinger, Bizeul, Juhos, Vogt, Balestriero, Brendel, Klindt (2024), "Cross-Entropy Is All You
Need To Invert the Data Generating Process", arXiv:2410.21869 (official code klindtlab/csi,
``dislib/main.py``): a network trained to classify one categorical factor of a disentanglement
data set, whose features are then probed linearly for the other factors.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from identifiable.device import pick_device
from identifiable.learners._loop import seeded_generators
from identifiable.models.cnn import ConvEncoder
from identifiable.progress import Progress, no_progress

__all__ = ["ShapeClassifier"]


class ShapeClassifier:
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
    eval_every:    every this many steps, record the held-out accuracy.
    eval_size:     held-out images for that accuracy (drawn once, from their own generator).
    random_state:  seeds the init, the training batches and the held-out sample.
    device:        ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.

    Attributes after ``fit``: ``encoder_`` (f), ``head_`` (the Linear layer W, b), ``classes_``
    (the world's shape names), ``history_`` (one dict per evaluation: step, loss, accuracy,
    train_seconds), ``device_``.
    """

    def __init__(
        self,
        feature_dim: int = 128,
        channels: tuple[int, ...] = (32, 32, 64, 64),
        batch_size: int = 128,
        lr: float = 1e-3,
        steps: int = 1000,
        eval_every: int = 250,
        eval_size: int = 2000,
        random_state: int = 0,
        device: str = "auto",
    ):
        self.feature_dim = feature_dim
        self.channels = channels
        self.batch_size = batch_size
        self.lr = lr
        self.steps = steps
        self.eval_every = eval_every
        self.eval_size = eval_size
        self.random_state = random_state
        self.device = device

    def _validate(self, world: Any) -> None:
        for name, low in (("feature_dim", 1), ("batch_size", 2), ("eval_every", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        for name in ("steps", "eval_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, got {value!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if getattr(world, "n_objects", None) != 1 or getattr(world, "min_objects", None):
            raise ValueError(
                "ShapeClassifier needs a world with exactly one object per scene "
                "(n_objects=1, min_objects=None)"
            )

    def fit(self, world: Any, *, progress: Progress = no_progress) -> ShapeClassifier:
        """Train on ``world.sample(batch_size, generator=...)``: images -> ``shape[:, 0]``."""
        self._validate(world)
        self.device_ = pick_device(self.device)
        init_generator, data_generator, eval_generator = seeded_generators(self.random_state)

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

        held_out = (
            world.sample(self.eval_size, generator=eval_generator) if self.eval_size else None
        )
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

            if not torch.isfinite(losses[step - 1]):
                raise FloatingPointError(
                    f"cross-entropy became {float(losses[step - 1])} at step {step}; lower lr"
                )
            if step % self.eval_every == 0 or step == self.steps:
                record = {"step": float(step), "loss": float(losses[last_eval:step].mean())}
                if held_out is not None:
                    record["accuracy"] = self.score(held_out.x, held_out.shape[:, 0])
                record["train_seconds"] = train_seconds
                self.history_.append(record)
                last_eval = step
                progress(step, self.steps, **{k: v for k, v in record.items() if k != "step"})
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "encoder_"):
            raise ValueError("this ShapeClassifier is not fitted yet; call fit(world) first")

    @torch.no_grad()
    def _apply(self, module: nn.Module, images) -> torch.Tensor:
        self._check_fitted()
        images = torch.as_tensor(images, dtype=torch.float32)
        if images.ndim != 4:
            raise ValueError(f"images must have shape (n, C, H, W), got {tuple(images.shape)}")
        self.encoder_.eval()
        out = torch.cat([module(chunk.to(self.device_)).cpu() for chunk in images.split(1024)])
        self.encoder_.train()
        return out

    def transform(self, images) -> np.ndarray:
        """Penultimate features f(x), shape (n, feature_dim), as numpy."""
        self._check_fitted()
        return self._apply(self.encoder_, images).numpy()

    def predict(self, images) -> np.ndarray:
        """Predicted shape labels argmax_c logits_c, shape (n,)."""
        self._check_fitted()
        return self._apply(nn.Sequential(self.encoder_, self.head_), images).argmax(1).numpy()

    def score(self, images, labels) -> float:
        """Accuracy of ``predict(images)`` against integer ``labels`` (n,)."""
        labels = np.asarray(torch.as_tensor(labels).cpu()).reshape(-1)
        predicted = self.predict(images)
        if len(predicted) != len(labels):
            raise ValueError(
                f"images and labels must have the same length, got {len(predicted)} and "
                f"{len(labels)}"
            )
        return float((predicted == labels).mean())
