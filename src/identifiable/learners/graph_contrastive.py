"""Contrastive learners that fit a similarity graph between samples, and their supervised baseline.

Sobal et al. (2024), "X-Sample Contrastive Loss: Improving Contrastive Learning with Sample
Similarity Graphs", arXiv:2407.18134: InfoNCE, SupCon and X-CLR are one loss,
:func:`~identifiable.losses.x_sample_loss`, fitted to different target graphs over the batch.
This learner trains the same MLP encoder (output on the unit sphere) on two fresh views of a
finite labelled training set with one of

    "infonce"        s = I                         (label-free; Oord et al. 2018, arXiv:1807.03748)
    "supcon"         s_ij ∝ 1[y_i = y_j]             (binary class graph; Khosla et al. 2020,
                                                    arXiv:2004.11362, L_out in cross-view form)
    "x-sample"       s = row-softmax(G[y_i, y_j]/τ_s) (soft class-relation graph G, X-CLR)
    "x-sample-onehot" s = I through the X-Sample code path (the control: must behave as "infonce")
    "cross-entropy"  a linear head on the same encoder, softmax cross-entropy on the labels of
                     the first view (the supervised baseline)

with the same optimiser, steps and batches, so the arms differ only in the loss.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from torch import nn

from identifiable._validation import check
from identifiable.device import pick_device
from identifiable.learners._base import Learner
from identifiable.learners._loop import (
    Monitor,
    check_finite,
    evaluation_due,
    flushed_denormals,
    log_evaluation,
    seeded_generators,
)
from identifiable.losses import graph_targets, info_nce, same_label_targets, x_sample_loss
from identifiable.models.mlp import MLPEncoder
from identifiable.progress import Progress, no_progress

__all__ = ["GRAPH_LOSSES", "GraphContrastiveLearner"]

GRAPH_LOSSES = ("infonce", "supcon", "x-sample", "x-sample-onehot", "cross-entropy")


class GraphContrastiveLearner(Learner):
    """Encoder trained on a labelled finite dataset with one of :data:`GRAPH_LOSSES`.

    Parameters
    ----------
    loss:          which target graph (module docstring).
    class_graph:   (n_classes, n_classes) non-negative class-relation graph G for "x-sample"
                   (1 on the diagonal by convention); ignored by the other losses.
    tau:           temperature τ of the model's softmax (contrastive losses).
    tau_graph:     temperature τ_s of the target softmax ("x-sample").
    n_components:  output dimension of the encoder (normalised to the unit sphere).
    hidden:        hidden widths of the MLP encoder.
    batch_size:    samples per step (at most the dataset's size is used: distinct samples).
    lr:            Adam learning rate.
    steps:         optimisation steps, each on fresh views of a random batch.
    eval_every:    every this many steps (and at the last), record the mean loss and ``monitor``.
    random_state:  seeds the init and the batches.
    device:        ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.

    ``fit(dataset)`` takes any object with ``len()``, ``n_classes`` and ``pairs(n, generator=…)``
    returning ``(x, x_pos, label)`` (e.g.
    :class:`~identifiable.worlds.hierarchical_clusters.ViewedDataset`).
    Attributes after ``fit``: ``encoder_``, ``head_`` (cross-entropy only), ``history_``,
    ``device_``.
    """

    def __init__(
        self,
        loss: str = "x-sample",
        class_graph: Any = None,
        tau: float = 0.1,
        tau_graph: float = 0.1,
        n_components: int = 8,
        hidden: tuple[int, ...] = (128, 128),
        batch_size: int = 256,
        lr: float = 1e-3,
        steps: int = 1000,
        eval_every: int = 250,
        random_state: int = 0,
        device: str = "auto",
    ):
        self.loss = loss
        self.class_graph = class_graph
        self.tau = tau
        self.tau_graph = tau_graph
        self.n_components = n_components
        self.hidden = hidden
        self.batch_size = batch_size
        self.lr = lr
        self.steps = steps
        self.eval_every = eval_every
        self.random_state = random_state
        self.device = device

    def _validate(self, n_classes: int) -> torch.Tensor | None:
        check(
            self,
            integers=("n_components", "batch_size", "steps", "eval_every"),
            one_of={"loss": GRAPH_LOSSES},
            positive=("tau", "tau_graph", "lr"),
            at_least={
                "n_components": 1,
                "batch_size": (2, "negatives come from the batch"),
                "steps": 1,
                "eval_every": 1,
            },
        )
        if self.loss != "x-sample":
            return None
        if self.class_graph is None:
            raise ValueError('loss="x-sample" needs class_graph, an (n_classes, n_classes) array')
        graph = torch.as_tensor(np.asarray(self.class_graph, dtype=np.float32))
        if graph.shape != (n_classes, n_classes):
            raise ValueError(
                f"class_graph must have shape ({n_classes}, {n_classes}) for this dataset's "
                f"{n_classes} classes, got {tuple(graph.shape)}"
            )
        graph_targets(graph, self.tau_graph)  # the graph's own checks (finite, non-negative)
        return graph

    def fit(
        self, dataset: Any, *, progress: Progress = no_progress, monitor: Monitor | None = None
    ) -> GraphContrastiveLearner:
        """Train on ``dataset.pairs(min(batch_size, len(dataset)), generator=...)``."""
        graph = self._validate(int(dataset.n_classes))
        with flushed_denormals():
            return self._fit(dataset, graph, progress, monitor)

    def _fit(self, dataset, graph, progress: Progress, monitor: Monitor | None):
        self.device_ = pick_device(self.device)
        init_generator, data_generator, _ = seeded_generators(self.random_state)
        batch_size = min(self.batch_size, len(dataset))
        if batch_size < 2:
            raise ValueError(f"the dataset has {len(dataset)} sample(s); need at least 2")
        probe = dataset.pairs(2, generator=torch.Generator().manual_seed(self.random_state))
        self.encoder_ = MLPEncoder(
            probe.x.shape[1],
            self.n_components,
            tuple(self.hidden),
            normalize=True,
            generator=init_generator,
        ).to(self.device_)
        parameters = list(self.encoder_.parameters())
        if self.loss == "cross-entropy":
            self.head_ = nn.Linear(self.n_components, int(dataset.n_classes))
            bound = 1.0 / np.sqrt(self.n_components)
            with torch.no_grad():  # seeded like the encoder (PyTorch's default init's bounds)
                self.head_.weight.uniform_(-bound, bound, generator=init_generator)
                self.head_.bias.uniform_(-bound, bound, generator=init_generator)
            self.head_.to(self.device_)
            parameters += list(self.head_.parameters())
        if graph is not None:
            graph = graph.to(self.device_)
        optimizer = torch.optim.Adam(parameters, lr=self.lr)
        eye = torch.eye(batch_size, device=self.device_)

        self.history_: list[dict[str, float]] = []
        losses = torch.zeros(self.steps)
        train_seconds, last_eval = 0.0, 0
        for step in range(1, self.steps + 1):
            start = time.perf_counter()
            batch = dataset.pairs(batch_size, generator=data_generator)
            label = batch.label.to(self.device_)
            x = torch.cat([batch.x, batch.x_pos]).to(self.device_)
            h = self.encoder_(x)
            h, h_pos = h[:batch_size], h[batch_size:]
            if self.loss == "infonce":
                loss = info_nce(h, h_pos, self.tau)
            elif self.loss == "cross-entropy":
                loss = nn.functional.cross_entropy(self.head_(h), label)
            else:
                if self.loss == "supcon":
                    targets = same_label_targets(label)
                elif self.loss == "x-sample":
                    targets = graph_targets(graph[label][:, label], self.tau_graph)
                else:  # x-sample-onehot
                    targets = eye
                loss = x_sample_loss(h, h_pos, targets, self.tau)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses[step - 1] = loss.detach()
            train_seconds += time.perf_counter() - start
            check_finite(losses[step - 1], step, what=f"the {self.loss} loss", advice="lower lr")
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
        from identifiable.worlds.hierarchical_clusters import HierarchicalClusterWorld

        world = HierarchicalClusterWorld(n_latents=3, n_superclasses=2, classes_per_superclass=2)
        dataset = world.dataset(64, generator=torch.Generator().manual_seed(0))
        learner = cls(
            class_graph=world.class_graph(), n_components=3, hidden=(16,), batch_size=32, steps=5,
            eval_every=2,
        )  # fmt: skip
        return learner, dataset
