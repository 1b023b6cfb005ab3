"""Contrastive learner: an MLP encoder trained with InfoNCE on freshly sampled positive pairs.

Zimmermann, Sharma, Schneider, Bethge, Brendel (2021), "Contrastive Learning Inverts the Data
Generating Process", arXiv:2102.08850: minimising InfoNCE (:func:`identifiable.losses.info_nce`)
over encoders f makes h = f(g(z)) recover z up to the indeterminacy of the similarity (an
orthogonal map for the dot product on the sphere, permutation and sign for L1 on the box).

``similarity="anisotropic"`` trains with AnInfoNCE instead (:func:`identifiable.losses.an_info_nce`;
Rusak et al. 2025, arXiv:2407.00143): the encoder output lies on the unit sphere and a diagonal
Λ̂ = softplus(λ) is learned jointly with f (its own Adam learning rate ``lambda_lr``), as in
brendel-group/AnInfoNCE ``main_mlp.py``. ``lambda_shape="isotropic"`` learns one shared value,
Λ̂ = softplus(λ)·I: plain dot-product InfoNCE with a learned temperature τ = 1/Λ̂, the baseline
that differs from AnInfoNCE only in the diagonal.

The learner sees only observations: what to record during training (e.g. held-out linear R²
against the true latents) is the experiment's ``monitor``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

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
from identifiable.losses import SIMILARITIES, an_info_nce, info_nce
from identifiable.models.mlp import MLPEncoder
from identifiable.progress import Progress, no_progress

__all__ = ["ContrastiveLearner"]

LEARNER_SIMILARITIES = (*SIMILARITIES, "anisotropic")


class ContrastiveLearner(Learner):
    """InfoNCE encoder (scikit-learn contract: ``fit`` returns self, learned state ends in ``_``).

    Parameters
    ----------
    n_components:  output dimension of the encoder (usually the number of latents).
    hidden:        hidden widths of the MLP encoder.
    similarity:    ``"dot"`` (output normalised to the unit sphere), ``"l1"``, ``"l2"``, or
                   ``"anisotropic"`` (AnInfoNCE on the unit sphere with a learned Λ̂).
    tau:           InfoNCE temperature (unused by ``"anisotropic"``: Λ̂ is the temperature).
    lambda_shape:  ``"diagonal"`` (AnInfoNCE) or ``"isotropic"`` (one learned Λ̂ for all
                   dimensions, i.e. plain InfoNCE with a learned temperature); anisotropic only.
    lambda_init:   initial value of every Λ̂_k (anisotropic only).
    lambda_lr:     Adam learning rate of λ, Λ̂ = softplus(λ) (anisotropic only).
    batch_size:    pairs per step; the other B − 1 positives are each row's negatives.
    lr:            Adam learning rate.
    lr_schedule:   ``"constant"`` (as the reference) or ``"cosine"`` (decay to 0 over ``steps``).
    steps:         optimisation steps, each on a fresh batch from the world.
    eval_every:    every this many steps (and at the last), record the mean loss since the last
                   record and what ``monitor`` returns.
    random_state:  seeds the encoder init and the training batches.
    device:        ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.

    Attributes after ``fit``: ``encoder_`` (the torch module), ``history_`` (one dict per
    evaluation: step, loss, the monitor's numbers, train_seconds), ``device_``; for
    ``similarity="anisotropic"`` also ``lambda_`` (the learned Λ̂ as a numpy array, shape
    (n_components,)) and ``lambda_k`` columns in ``history_``.
    """

    def __init__(
        self,
        n_components: int = 10,
        hidden: tuple[int, ...] = (256, 256, 256),
        similarity: str = "dot",
        tau: float = 0.1,
        lambda_shape: str = "diagonal",
        lambda_init: float = 1.0,
        lambda_lr: float = 1e-2,
        batch_size: int = 512,
        lr: float = 1e-3,
        lr_schedule: str = "constant",
        steps: int = 3000,
        eval_every: int = 250,
        random_state: int = 0,
        device: str = "auto",
    ):
        self.n_components = n_components
        self.hidden = hidden
        self.similarity = similarity
        self.tau = tau
        self.lambda_shape = lambda_shape
        self.lambda_init = lambda_init
        self.lambda_lr = lambda_lr
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.steps = steps
        self.eval_every = eval_every
        self.random_state = random_state
        self.device = device

    def _validate(self) -> None:
        check(
            self,
            integers=("n_components", "batch_size", "steps", "eval_every"),
            one_of={
                "similarity": LEARNER_SIMILARITIES,
                "lambda_shape": ("diagonal", "isotropic"),
                "lr_schedule": ("constant", "cosine"),
            },
            positive=("lambda_init", "lambda_lr", "tau", "lr"),
            at_least={
                "n_components": 1,
                "batch_size": (2, "negatives come from the batch"),
                "steps": 1,
                "eval_every": 1,
            },
        )

    def fit(
        self,
        world: Any,
        *,
        progress: Progress = no_progress,
        monitor: Monitor | None = None,
    ) -> ContrastiveLearner:
        """Train on ``world.pairs(batch_size, generator=...)``.

        ``monitor(self)`` is called on the evaluation schedule and its numbers are recorded in
        ``history_`` and shown by ``progress``. On the CPU, denormal floats are flushed to zero
        while fitting: InfoNCE's softmax produces gradients around 1e-40 once positives are well
        separated, and denormal arithmetic made steps up to 50x slower (measured on the box world).
        """
        self._validate()
        with flushed_denormals():
            return self._fit(world, progress, monitor)

    def _fit(self, world: Any, progress: Progress, monitor: Monitor | None) -> ContrastiveLearner:
        self.device_ = pick_device(self.device)
        init_generator, data_generator, _ = seeded_generators(self.random_state)
        probe = world.sample(2, generator=torch.Generator().manual_seed(self.random_state))
        self.encoder_ = MLPEncoder(
            probe.x.shape[1],
            self.n_components,
            tuple(self.hidden),
            normalize=self.similarity in ("dot", "anisotropic"),
            generator=init_generator,
        ).to(self.device_)
        groups: list[dict] = [{"params": list(self.encoder_.parameters())}]
        anisotropic = self.similarity == "anisotropic"
        if anisotropic:  # Λ̂ = softplus(λ), one λ per dimension or one shared
            size = self.n_components if self.lambda_shape == "diagonal" else 1
            inverse_softplus = self.lambda_init + float(np.log(-np.expm1(-self.lambda_init)))
            self._lambda_raw = torch.full((size,), inverse_softplus, device=self.device_)
            self._lambda_raw.requires_grad_(True)
            groups.append({"params": [self._lambda_raw], "lr": self.lambda_lr})
        optimizer = torch.optim.Adam(groups, lr=self.lr)
        schedule = (
            torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.steps)
            if self.lr_schedule == "cosine"
            else None
        )

        self.history_: list[dict[str, float]] = []
        losses = torch.zeros(self.steps)
        train_seconds = 0.0
        last_eval = 0
        for step in range(1, self.steps + 1):
            start = time.perf_counter()
            batch = world.pairs(self.batch_size, generator=data_generator)
            x = torch.cat([batch.x, batch.x_pos]).to(self.device_, non_blocking=True)
            h = self.encoder_(x)
            h, h_pos = h[: self.batch_size], h[self.batch_size :]
            if anisotropic:
                lambda_ = torch.nn.functional.softplus(self._lambda_raw)
                loss = an_info_nce(h, h_pos, lambda_.expand(self.n_components))
            else:
                loss = info_nce(h, h_pos, self.tau, self.similarity)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
            losses[step - 1] = loss.detach()
            train_seconds += time.perf_counter() - start

            check_finite(
                losses[step - 1], step, what="the contrastive loss", advice="lower lr or raise tau"
            )
            if evaluation_due(step, self.eval_every, self.steps):
                extra = {}
                if anisotropic:
                    self.lambda_ = self._learned_lambda()
                    extra = {f"lambda_{k}": float(v) for k, v in enumerate(self.lambda_)}
                log_evaluation(
                    self,
                    step=step,
                    total=self.steps,
                    losses=losses,
                    since=last_eval,
                    train_seconds=train_seconds,
                    monitor=monitor,
                    progress=progress,
                    extra=extra,
                )
                last_eval = step
        return self

    @torch.no_grad()
    def _learned_lambda(self) -> np.ndarray:
        lambda_ = torch.nn.functional.softplus(self._lambda_raw).expand(self.n_components)
        return lambda_.detach().cpu().numpy().copy()

    @classmethod
    def _example(cls):
        from identifiable.worlds.latents import SphereSpace
        from identifiable.worlds.mixing import LeakyMLPMixing
        from identifiable.worlds.world import LatentWorld

        world = LatentWorld(SphereSpace(n_latents=3, kappa=10.0), LeakyMLPMixing(n_layers=2))
        return cls(n_components=3, hidden=(16,), batch_size=32, steps=5, eval_every=2), world
