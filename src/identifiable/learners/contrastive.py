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
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from identifiable.device import pick_device
from identifiable.learners._training import flushed_denormals, seeded_generators
from identifiable.learners.encoders import MLPEncoder
from identifiable.losses import SIMILARITIES, an_info_nce, info_nce
from identifiable.metrics import linear_r2, mcc
from identifiable.progress import Progress, no_progress

__all__ = ["ContrastiveLearner"]

LEARNER_SIMILARITIES = (*SIMILARITIES, "anisotropic")


class ContrastiveLearner:
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
    eval_every:    every this many steps, score ``linear_r2`` and ``mcc`` on a held-out sample.
    eval_size:     size of that held-out sample (drawn once, from its own generator).
    random_state:  seeds the encoder init, the training batches and the held-out sample.
    device:        ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.

    Attributes after ``fit``: ``encoder_`` (the torch module), ``history_`` (one dict per
    evaluation: step, loss, linear_r2, mcc, train_seconds), ``device_``; for
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
        eval_size: int = 4096,
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
        self.eval_size = eval_size
        self.random_state = random_state
        self.device = device

    def _validate(self) -> None:
        if self.similarity not in LEARNER_SIMILARITIES:
            raise ValueError(
                f"similarity must be one of {', '.join(LEARNER_SIMILARITIES)}, "
                f"got {self.similarity!r}"
            )
        if self.lambda_shape not in ("diagonal", "isotropic"):
            raise ValueError(
                f"lambda_shape must be diagonal or isotropic, got {self.lambda_shape!r}"
            )
        for name in ("lambda_init", "lambda_lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("n_components", "batch_size", "steps", "eval_every", "eval_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < (2 if name == "batch_size" else 1):
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not self.tau > 0:
            raise ValueError(f"tau must be > 0, got {self.tau}")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"lr_schedule must be constant or cosine, got {self.lr_schedule!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")

    def fit(self, world: Any, *, progress: Progress = no_progress) -> ContrastiveLearner:
        """Train on ``world.pairs(batch_size, generator=...)``; evaluate on ``world.sample``.

        On the CPU, denormal floats are flushed to zero while fitting: InfoNCE's softmax produces
        gradients around 1e-40 once positives are well separated, and denormal arithmetic made
        steps up to 50x slower (measured on the box world).
        """
        self._validate()
        with flushed_denormals():
            return self._fit(world, progress)

    def _fit(self, world: Any, progress: Progress) -> ContrastiveLearner:
        self.device_ = pick_device(self.device)
        init_generator, data_generator, eval_generator = seeded_generators(self.random_state)

        held_out = world.sample(self.eval_size, generator=eval_generator)
        n_observed = held_out.x.shape[1]
        self.encoder_ = MLPEncoder(
            n_observed,
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

            if not torch.isfinite(losses[step - 1]):
                raise FloatingPointError(
                    f"the contrastive loss became {float(losses[step - 1])} at step {step}; "
                    "lower lr or raise tau"
                )
            if step % self.eval_every == 0 or step == self.steps:
                scores = self.score(held_out.x, held_out.z)
                record = {
                    "step": float(step),
                    "loss": float(losses[last_eval:step].mean()),
                    **scores,
                    "train_seconds": train_seconds,
                }
                if anisotropic:
                    self.lambda_ = self._learned_lambda()
                    record.update({f"lambda_{k}": float(v) for k, v in enumerate(self.lambda_)})
                self.history_.append(record)
                last_eval = step
                progress(step, self.steps, **{k: record[k] for k in ("loss", *scores)})
        return self

    @torch.no_grad()
    def _learned_lambda(self) -> np.ndarray:
        lambda_ = torch.nn.functional.softplus(self._lambda_raw).expand(self.n_components)
        return lambda_.detach().cpu().numpy().copy()

    @torch.no_grad()
    def transform(self, x) -> np.ndarray:
        """Representations f(x) of observations x, shape (n, n_components), as numpy."""
        if not hasattr(self, "encoder_"):
            raise ValueError("this ContrastiveLearner is not fitted yet; call fit(world) first")
        x = torch.as_tensor(x, dtype=torch.float32)
        self.encoder_.eval()
        out = torch.cat([self.encoder_(chunk.to(self.device_)).cpu() for chunk in x.split(8192)])
        self.encoder_.train()
        return out.numpy()

    def score(self, x, z) -> dict[str, float]:
        """``linear_r2`` and ``mcc`` of f(x) against the true latents z."""
        h = self.transform(x)
        return {"linear_r2": linear_r2(z, h), "mcc": mcc(z, h)}
