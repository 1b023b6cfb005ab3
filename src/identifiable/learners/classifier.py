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

The learner reads only x and the targets; held-out scores against the true z are the
experiment's ``monitor``.
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
    flushed_denormals,
    log_evaluation,
    seeded_generators,
)
from identifiable.models.mlp import MLPEncoder
from identifiable.progress import Progress, no_progress

__all__ = ["Classifier"]

TARGETS = ("label", "index")


class Classifier(HeadClassifier):
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
    eval_every:    every this many steps (and at the last), record the mean loss and training
                   accuracy since the last record and what ``monitor`` returns.
    random_state:  seeds the encoder/head init and the training batches.
    device:        ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.

    Attributes after ``fit``: ``encoder_``, ``head_`` (``nn.Linear`` with weight W, shape
    (n_classes, n_components)), ``history_`` (one dict per evaluation: step, loss, accuracy on the
    training batches since the last evaluation, the monitor's numbers, train_seconds), ``device_``.
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
        self.random_state = random_state
        self.device = device

    def _validate(self) -> None:
        check(
            self,
            integers=("n_components", "batch_size", "steps", "eval_every"),
            one_of={"target": TARGETS},
            positive=("lr",),
            at_least={"n_components": 1, "batch_size": 1, "steps": 1, "eval_every": 1},
        )

    #: record the training accuracy of every batch (an argmax per step) for ``history_``
    _track_accuracy = True

    def _n_classes(self, world: Any) -> int:
        return world.n_clusters if self.target == "label" else world.n_indices

    def _build_encoder(self, n_in: int, generator: torch.Generator) -> nn.Module:
        """The representation f (subclasses may add a feature nonlinearity)."""
        return MLPEncoder(
            n_in,
            self.n_components,
            tuple(self.hidden),
            normalize=self.normalize,
            generator=generator,
        )

    def fit(
        self,
        world: Any,
        *,
        progress: Progress = no_progress,
        monitor: Monitor | None = None,
    ) -> Classifier:
        """Train on ``world.sample(batch_size, generator=...)`` (fields x, index, label)."""
        self._validate()
        with flushed_denormals():
            return self._fit(world, progress, monitor)

    def _fit(self, world: Any, progress: Progress, monitor: Monitor | None) -> Classifier:
        self.device_ = pick_device(self.device)
        init_generator, data_generator, _ = seeded_generators(self.random_state)
        probe = world.sample(2, generator=torch.Generator().manual_seed(self.random_state))
        self.encoder_ = self._build_encoder(probe.x.shape[1], init_generator).to(self.device_)
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
            if self._track_accuracy:
                correct[step - 1] = (logits.detach().argmax(1) == y).float().mean()
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
                    extra=(
                        {"accuracy": float(correct[last_eval:step].mean())}
                        if self._track_accuracy
                        else None
                    ),
                )
                last_eval = step
        return self

    @classmethod
    def _example(cls):
        from identifiable.worlds.clusters import ClusterWorld
        from identifiable.worlds.mixing import LeakyMLPMixing

        world = ClusterWorld(
            n_latents=3, n_clusters=4, n_indices=16, kappa=10.0, mixing=LeakyMLPMixing(n_layers=2)
        )
        return cls(n_components=3, hidden=(16,), batch_size=32, steps=5, eval_every=2), world
