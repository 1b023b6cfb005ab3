"""A variational autoencoder over fixed-length token strings, trained on a sequence world's
``train`` split (:class:`identifiable.models.sequence_vae.SequenceVAE`): the generative model
whose latent space latent space optimisation searches (Ronen et al. 2025, arXiv:2406.09657).

Each step draws a minibatch of strings (a fresh seeded order every pass), draws ε ~ N(0, I) from
the data generator, and takes an Adam step on the negative β-ELBO

    loss = −Σ_t log p(x_t | z) + β · KL(q(z|x) ‖ N(0, I)),   z = μ(x) + σ(x) ⊙ ε

(:func:`identifiable.models.sequence_vae.vae_loss`), with β rising linearly from 0 over the
first ``warmup`` fraction of the steps (KL annealing, the usual guard against posterior
collapse).
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
    log_evaluation,
    seeded_generators,
)
from identifiable.models.sequence_vae import SequenceVAE, vae_loss
from identifiable.progress import Progress, no_progress

__all__ = ["SequenceVAELearner"]


class SequenceVAELearner(Learner):
    """β-VAE on token strings (scikit-learn contract); ``transform`` gives the posterior means.

    Parameters
    ----------
    n_latents:     d, the latent dimension.
    hidden:        hidden widths of the encoder MLP (the decoder mirrors them).
    beta:          weight of the KL term.
    warmup:        fraction of the steps over which β rises linearly from 0 (0: no warm-up).
    lr:            Adam learning rate.
    batch_size:    strings per step.
    steps:         Adam steps.
    eval_every:    record the losses every this many steps (and at the last).
    random_state:  seeds the init (``random_state``), batches and noise (+1).
    device:        ``"auto"``, ``"cpu"`` or ``"cuda"``.

    Attributes after ``fit``: ``model_`` (the :class:`SequenceVAE`), ``encoder_`` (tokens → μ),
    ``decoder_`` (z → logits (n, T, V)), ``vocab_``, ``length_``, ``history_`` (``step``,
    ``loss``, ``reconstruction``, ``kl``, ``train_seconds``), ``device_``.
    """

    def __init__(
        self,
        n_latents: int = 8,
        hidden: tuple[int, ...] = (256, 256),
        beta: float = 1.0,
        warmup: float = 0.2,
        lr: float = 1e-3,
        batch_size: int = 128,
        steps: int = 2000,
        eval_every: int = 200,
        random_state: int = 0,
        device: str = "auto",
    ):
        self.n_latents = n_latents
        self.hidden = hidden
        self.beta = beta
        self.warmup = warmup
        self.lr = lr
        self.batch_size = batch_size
        self.steps = steps
        self.eval_every = eval_every
        self.random_state = random_state
        self.device = device

    def _validate(self) -> None:
        check(
            self,
            integers=("n_latents", "batch_size", "steps", "eval_every"),
            positive=("lr",),
            at_least={"n_latents": 1, "batch_size": 1, "steps": 1, "eval_every": 1, "beta": 0.0},
        )
        if not 0 <= self.warmup <= 1:
            raise ValueError(f"warmup must be a fraction in [0, 1], got {self.warmup!r}")

    def _as_input(self, x) -> torch.Tensor:
        """Token ids (n, T) as a long tensor; one-line errors for NaN, fractions, unknown ids."""
        tensor = super()._as_input(x)
        if not torch.equal(tensor, tensor.round()) or (tensor < 0).any():
            raise ValueError("x must hold token ids (integers >= 0)")
        tokens = tensor.long()
        if hasattr(self, "length_") and tokens.shape[1] != self.length_:
            raise ValueError(
                f"x must have shape (n, {self.length_}) (the strings fitted on), "
                f"got {tuple(tokens.shape)}"
            )
        if hasattr(self, "vocab_") and tokens.numel() and int(tokens.max()) >= self.vocab_:
            raise ValueError(
                f"x holds token id {int(tokens.max())}, but the model knows ids 0…{self.vocab_ - 1}"
            )
        return tokens

    def fit(
        self, world: Any, *, progress: Progress = no_progress, monitor: Monitor | None = None
    ) -> SequenceVAELearner:
        """Train on ``world.split("train").x`` ((n, T) token ids; ``world.vocab_size`` if set)."""
        self._validate()
        for name in ("model_", "encoder_", "decoder_", "vocab_", "length_"):
            self.__dict__.pop(name, None)
        self.device_ = pick_device(self.device)
        init_generator, data_generator, _ = seeded_generators(self.random_state)
        train = self._as_input(world.split("train").x)
        self.vocab_ = int(getattr(world, "vocab_size", int(train.max()) + 1))
        self.length_ = int(train.shape[1])
        model = SequenceVAE(
            self.length_, self.vocab_, self.n_latents, tuple(self.hidden), generator=init_generator
        ).to(self.device_)
        optimizer = torch.optim.Adam(model.parameters(), lr=self.lr)
        train = train.to(self.device_)
        n = len(train)
        order = torch.randperm(n, generator=data_generator)
        cursor = 0
        warmup_steps = self.warmup * self.steps
        self.history_: list[dict[str, float]] = []
        losses = torch.zeros(self.steps, dtype=torch.float64)
        parts = torch.zeros(2, dtype=torch.float64)
        train_seconds, last_eval = 0.0, 0
        model.train()
        for step in range(1, self.steps + 1):
            start = time.perf_counter()
            if cursor + self.batch_size > n:
                order, cursor = torch.randperm(n, generator=data_generator), 0
            rows = order[cursor : cursor + self.batch_size]
            cursor += self.batch_size
            tokens = train[rows]
            noise = torch.randn(len(rows), self.n_latents, generator=data_generator)
            beta = self.beta * min(1.0, step / warmup_steps) if warmup_steps > 0 else self.beta
            logits, mean, log_var = model(tokens, noise.to(self.device_))
            loss, reconstruction, kl = vae_loss(logits, tokens, mean, log_var, beta)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses[step - 1] = loss.detach()
            parts += torch.stack([reconstruction.detach(), kl.detach()]).double().cpu()
            train_seconds += time.perf_counter() - start
            check_finite(losses[step - 1], step, what="VAE loss", advice="lower lr")
            if evaluation_due(step, self.eval_every, self.steps):
                self.model_ = model
                self.encoder_, self.decoder_ = model.encoder, model.decoder
                count = step - last_eval
                log_evaluation(
                    self, step=step, total=self.steps, losses=losses, since=last_eval,
                    train_seconds=train_seconds, monitor=monitor, progress=progress,
                    extra={"reconstruction": float(parts[0] / count),
                           "kl": float(parts[1] / count)},
                )  # fmt: skip
                parts.zero_()
                last_eval = step
        model.eval()
        return self

    def decode(self, z) -> np.ndarray:
        """argmax_v ℓ(z)_{t,v} per position: the decoded token strings (n, T) as numpy."""
        self._check_fitted()
        z = torch.as_tensor(np.asarray(z, dtype=np.float32))
        if z.ndim != 2 or z.shape[1] != self.n_latents:
            raise ValueError(f"z must have shape (n, {self.n_latents}), got {tuple(z.shape)}")
        if not torch.isfinite(z).all():
            raise ValueError("z contains NaN/inf values; pass finite latents")
        with torch.no_grad():
            return self.decoder_(z.to(self.device_)).argmax(-1).cpu().numpy()

    @classmethod
    def _example(cls):
        from identifiable.worlds.formal_languages import FormalLanguageWorld

        world = FormalLanguageWorld("dyck", max_length=6, n_train=64, n_validation=8, n_test=8)
        return cls(n_latents=4, hidden=(32,), steps=20, batch_size=16, eval_every=10), world
