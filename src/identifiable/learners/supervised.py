"""Classification learners: an MLP encoder f with a linear head W, trained with cross-entropy.

Reizinger, Bizeul, Juhos, Vogt, Balestriero, Brendel, Klindt (2024), "Cross-Entropy Is All You Need
To Invert the Data Generating Process", arXiv:2410.21869 (klindtlab/csi ``simulation/main_sup.py``,
``main_diet.py``): with logits W f(x), W ∈ R^{K×n},

    L = (1/B) Σ_b [ −(W f(x_b))_{y_b} + log Σ_k exp((W f(x_b))_k) ]

and latents drawn from vMF clusters on the sphere, the minimisers make f(g(z)) an affine function
of z — cross-entropy inverts the data-generating process up to a linear map.

``target="label"``: supervised classification of the cluster label c (K = C classes);
``target="index"``: DIET, parametric instance discrimination (Ibrahim et al. 2022,
arXiv:2206.00960), one class per sample index i (K = N classes).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from torch import nn

from identifiable.device import pick_device
from identifiable.learners._training import flushed_denormals, seeded_generators
from identifiable.learners.encoders import MLPEncoder
from identifiable.metrics import linear_r2
from identifiable.progress import Progress, no_progress

__all__ = ["SupervisedClassifier"]

TARGETS = ("label", "index")


class SupervisedClassifier:
    """Encoder + linear head trained with cross-entropy (scikit-learn contract).

    Parameters
    ----------
    n_components:  output dimension of the encoder f (the representation).
    hidden:        hidden widths of the MLP encoder.
    target:        ``"label"`` (cluster label, C classes) or ``"index"`` (DIET: sample index,
                   N classes).
    normalize:     put f's output on the unit sphere (the reference's ``--sphere-norm``).
    bias:          give the head W a bias (the reference's ``--W-bias-used``; off by default).
    batch_size:    samples per step, drawn fresh from the world each step.
    lr:            Adam learning rate (encoder and head).
    steps:         optimisation steps.
    eval_every:    every this many steps, score ``linear_r2`` (f(x) -> z) on a held-out sample.
    eval_size:     size of that held-out sample (drawn once, from its own generator).
    random_state:  seeds the encoder/head init, the training batches and the held-out sample.
    device:        ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.

    Attributes after ``fit``: ``encoder_``, ``head_`` (``nn.Linear`` with weight W, shape
    (n_classes, n_components)), ``history_`` (one dict per evaluation: step, loss, accuracy on the
    training batches since the last evaluation, linear_r2, train_seconds), ``device_``.
    """

    def __init__(
        self,
        n_components: int = 5,
        hidden: tuple[int, ...] = (256, 256, 256),
        target: str = "label",
        normalize: bool = False,
        bias: bool = False,
        batch_size: int = 1024,
        lr: float = 1e-3,
        steps: int = 2000,
        eval_every: int = 250,
        eval_size: int = 4096,
        random_state: int = 0,
        device: str = "auto",
    ):
        self.n_components = n_components
        self.hidden = hidden
        self.target = target
        self.normalize = normalize
        self.bias = bias
        self.batch_size = batch_size
        self.lr = lr
        self.steps = steps
        self.eval_every = eval_every
        self.eval_size = eval_size
        self.random_state = random_state
        self.device = device

    def _validate(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"target must be label or index, got {self.target!r}")
        for name in ("n_components", "batch_size", "steps", "eval_every", "eval_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")

    def _n_classes(self, world: Any) -> int:
        return world.n_clusters if self.target == "label" else world.n_indices

    def fit(self, world: Any, *, progress: Progress = no_progress) -> SupervisedClassifier:
        """Train on ``world.sample(batch_size, generator=...)`` (fields x, z, index, label)."""
        self._validate()
        with flushed_denormals():
            return self._fit(world, progress)

    def _fit(self, world: Any, progress: Progress) -> SupervisedClassifier:
        self.device_ = pick_device(self.device)
        init_generator, data_generator, eval_generator = seeded_generators(self.random_state)

        held_out = world.sample(self.eval_size, generator=eval_generator)
        self.encoder_ = MLPEncoder(
            held_out.x.shape[1],
            self.n_components,
            tuple(self.hidden),
            normalize=self.normalize,
            generator=init_generator,
        ).to(self.device_)
        self.head_ = nn.Linear(self.n_components, self._n_classes(world), bias=self.bias)
        bound = 1.0 / np.sqrt(self.n_components)
        with torch.no_grad():
            self.head_.weight.uniform_(-bound, bound, generator=init_generator)
            if self.bias:
                self.head_.bias.uniform_(-bound, bound, generator=init_generator)
        self.head_.to(self.device_)
        parameters = [*self.encoder_.parameters(), *self.head_.parameters()]
        optimizer = torch.optim.Adam(parameters, lr=self.lr)

        self.history_: list[dict[str, float]] = []
        losses = torch.zeros(self.steps)
        correct = torch.zeros(self.steps)
        train_seconds = 0.0
        last_eval = 0
        for step in range(1, self.steps + 1):
            start = time.perf_counter()
            batch = world.sample(self.batch_size, generator=data_generator)
            y = (batch.label if self.target == "label" else batch.index).to(self.device_)
            logits = self.head_(self.encoder_(batch.x.to(self.device_)))
            loss = nn.functional.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses[step - 1] = loss.detach()
            correct[step - 1] = (logits.detach().argmax(1) == y).float().mean()
            train_seconds += time.perf_counter() - start

            if not torch.isfinite(losses[step - 1]):
                raise FloatingPointError(
                    f"cross-entropy became {float(losses[step - 1])} at step {step}; lower lr"
                )
            if step % self.eval_every == 0 or step == self.steps:
                record = {
                    "step": float(step),
                    "loss": float(losses[last_eval:step].mean()),
                    "accuracy": float(correct[last_eval:step].mean()),
                    **self.score(held_out.x, held_out.z),
                    "train_seconds": train_seconds,
                }
                self.history_.append(record)
                last_eval = step
                progress(step, self.steps, loss=record["loss"], linear_r2=record["linear_r2"])
        return self

    @torch.no_grad()
    def transform(self, x) -> np.ndarray:
        """Representations f(x) (before the head), shape (n, n_components), as numpy."""
        if not hasattr(self, "encoder_"):
            raise ValueError("this SupervisedClassifier is not fitted yet; call fit(world) first")
        x = torch.as_tensor(x, dtype=torch.float32)
        self.encoder_.eval()
        out = torch.cat([self.encoder_(chunk.to(self.device_)).cpu() for chunk in x.split(8192)])
        self.encoder_.train()
        return out.numpy()

    @torch.no_grad()
    def predict(self, x) -> np.ndarray:
        """Predicted class (cluster label or sample index) for each row of x."""
        h = torch.as_tensor(self.transform(x)).to(self.device_)
        return self.head_(h).argmax(1).cpu().numpy()

    def score(self, x, z) -> dict[str, float]:
        """``linear_r2`` of f(x) against the true latents z."""
        return {"linear_r2": linear_r2(z, self.transform(x))}
