"""A slot autoencoder: an encoder into K slots, an additive (or monolithic) decoder, and the
compositional consistency loss.

Wiedemer*, Brady*, Panfilov*, Juhos*, Bethge, Brendel (2024), "Provable Compositional
Generalization for Object-Centric Learning", ICLR, arXiv:2310.05327 (code brendel-group/objects-
compositional-generalization, ``SlotMLPAdditive``):

    ẑ = ĝ(x) ∈ R^{K×d}                         one encoder, its output split into K slots
    additive decoder    x̂ = Σ_k φ̂(ẑ_k)         one φ̂ shared by all slots
    monolithic decoder  x̂ = φ̂(ẑ_1, …, ẑ_K)     the baseline without the additive structure

    L = Σ_pixels (x − x̂)² (per image, mean over the batch; the reference's sum, not a mean)
        + λ · L_cons  once epoch ≥ ``consistency_start``

with L_cons the compositional consistency loss (:mod:`identifiable.losses.slots`): recombine the
batch's slots into ``consistency_scenes`` new scenes, decode them without gradient, clamp to the
training data's range, re-encode, and match the re-encoded slots to the recombined ones — only
the encoder learns from it. The theory: an additive decoder that reconstructs the training
support generalises to every combination of slots; the encoder does not, unless it is made to
invert the decoder on the recombined scenes too.

Networks: :class:`identifiable.models.slot_encoder.SlotEncoder` (the reference's conv encoder
for images, an ELU MLP for vector observations (n, C, P)) and, as φ̂,
:class:`identifiable.models.decoders.UpsampleDecoder` for images (the reference uses transposed
convolutions) or :class:`identifiable.models.decoders.MLPDecoder` for vectors. AdamW (lr
4e-4, weight decay 1e-3 — the reference), the learning rate halved every ``lr_step`` epochs (the
reference: 50; its warm-up from 1e-7 and its doubling of the lr when the consistency loss
switches on are left out), batch 64; ``transform(x)`` returns the K·d slot values,
``encode_slots`` (n, K, d), ``decode`` the observations.
"""

from __future__ import annotations

import time
from typing import Any

import torch
from torch import nn

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
from identifiable.losses.slots import MAX_SLOTS, matched_slot_distance, recombine_slots
from identifiable.models.decoders import (
    AdditiveDecoder,
    MLPDecoder,
    MonolithicDecoder,
    UpsampleDecoder,
)
from identifiable.models.slot_encoder import SlotEncoder
from identifiable.progress import Progress, no_progress

__all__ = ["SlotAutoencoder"]

DECODERS = ("additive", "monolithic")


class SlotAutoencoder(Learner):
    """Encoder into K slots + additive or monolithic decoder (+ consistency), module docstring.

    Parameters
    ----------
    n_slots:             K.
    slot_dim:            d, values per slot (the reference: 16; the truth has 5).
    decoder:             ``"additive"`` (one φ̂ for all slots, summed) or ``"monolithic"``.
    hidden:              width of the decoder's MLP.
    consistency:         add the compositional consistency loss from ``consistency_start`` on.
    consistency_start:   first epoch (1-based) with the consistency loss (the reference's AE:
                         101 of 300; its Slot Attention: 151 of 400).
    consistency_weight:  λ.
    consistency_scenes:  recombined scenes per step (the reference: 64).
    lr, weight_decay:    AdamW; the lr is halved every ``lr_step`` epochs.
    batch_size, epochs, eval_every, random_state, device: as every learner.
    """

    def __init__(
        self,
        n_slots: int = 2,
        slot_dim: int = 16,
        decoder: str = "additive",
        hidden: int = 256,
        consistency: bool = False,
        consistency_start: int = 101,
        consistency_weight: float = 1.0,
        consistency_scenes: int = 64,
        lr: float = 4e-4,
        weight_decay: float = 1e-3,
        lr_step: int = 50,
        batch_size: int = 64,
        epochs: int = 300,
        eval_every: int = 10,
        random_state: int = 0,
        device: str = "auto",
    ):
        self.n_slots = n_slots
        self.slot_dim = slot_dim
        self.decoder = decoder
        self.hidden = hidden
        self.consistency = consistency
        self.consistency_start = consistency_start
        self.consistency_weight = consistency_weight
        self.consistency_scenes = consistency_scenes
        self.lr = lr
        self.weight_decay = weight_decay
        self.lr_step = lr_step
        self.batch_size = batch_size
        self.epochs = epochs
        self.eval_every = eval_every
        self.random_state = random_state
        self.device = device

    @property
    def input_ndim(self) -> int:  # type: ignore[override]
        return getattr(self, "_input_ndim", 1)

    def _validate(self) -> None:
        check(
            self,
            integers=(
                "n_slots", "slot_dim", "hidden", "consistency_start", "consistency_scenes",
                "lr_step", "batch_size", "epochs", "eval_every",
            ),
            one_of={"decoder": DECODERS},
            positive=("lr",),
            at_least={
                "n_slots": 1, "slot_dim": 1, "hidden": 1, "consistency_start": 1,
                "consistency_scenes": 1, "lr_step": 1, "batch_size": 1, "epochs": 1,
                "eval_every": 1, "weight_decay": 0.0, "consistency_weight": 0.0,
            },
        )  # fmt: skip
        if self.n_slots > MAX_SLOTS:
            raise ValueError(f"n_slots must be <= {MAX_SLOTS} (slots are matched exhaustively)")
        if self.consistency and self.consistency_start > self.epochs:
            raise ValueError(
                f"consistency_start ({self.consistency_start}) is after the last epoch "
                f"({self.epochs}): the consistency loss would never switch on; lower it or "
                "set consistency=false"
            )

    def _build(self, x_shape: tuple[int, ...], generator) -> None:
        image = len(x_shape) == 3
        if image and (x_shape[1] != x_shape[2] or x_shape[1] < 16):
            raise ValueError(f"images must be square and at least 16×16, got {x_shape}")
        d_in = self.slot_dim if self.decoder == "additive" else self.n_slots * self.slot_dim
        if image:
            phi: nn.Module = UpsampleDecoder(
                d_in, x_shape[1], x_shape[0], self.hidden, 4, generator=generator
            )
        else:
            phi = MLPDecoder(d_in, x_shape, self.hidden, 4, generator=generator)
        self.encoder_ = SlotEncoder(x_shape, self.n_slots, self.slot_dim, generator=generator).to(
            self.device_
        )
        decoder = AdditiveDecoder(phi) if self.decoder == "additive" else MonolithicDecoder(phi)
        self.decoder_ = decoder.to(self.device_)

    def fit(
        self, world: Any, *, progress: Progress = no_progress, monitor: Monitor | None = None
    ) -> SlotAutoencoder:
        """Train on ``world.split("train").x`` (the latents are never read)."""
        self._validate()
        self.device_ = pick_device(self.device)
        init_generator, data_generator, _ = seeded_generators(self.random_state)
        x = torch.as_tensor(world.split("train").x, dtype=torch.float32)
        self._input_ndim = x.ndim - 1
        x = self._as_input(x).to(self.device_)
        self._build(tuple(x.shape[1:]), init_generator)
        low, high = float(x.min()), float(x.max())
        parameters = [*self.encoder_.parameters(), *self.decoder_.parameters()]
        optimizer = torch.optim.AdamW(parameters, lr=self.lr, weight_decay=self.weight_decay)
        schedule = torch.optim.lr_scheduler.StepLR(optimizer, self.lr_step, gamma=0.5)
        self.history_: list[dict[str, float]] = []
        losses = torch.zeros(self.epochs, dtype=torch.float64)
        train_seconds, last_eval = 0.0, 0
        for epoch in range(1, self.epochs + 1):
            start = time.perf_counter()
            consistent = self.consistency and epoch >= self.consistency_start
            sums = torch.zeros(2, dtype=torch.float64, device=self.device_)
            for rows in torch.randperm(len(x), generator=data_generator).split(self.batch_size):
                batch = x[rows.to(self.device_)]
                slots = self.encoder_(batch)
                reconstruction = (self.decoder_(slots) - batch).pow(2).flatten(1).sum(1).mean()
                loss = reconstruction
                if consistent:
                    mixed = recombine_slots(
                        slots, self.consistency_scenes, generator=data_generator
                    )
                    with torch.no_grad():
                        scenes = self.decoder_(mixed).clamp(low, high)
                    term, _ = matched_slot_distance(mixed, self.encoder_(scenes))
                    loss = loss + self.consistency_weight * term
                    sums[1] += term.detach() * len(rows)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                sums[0] += reconstruction.detach() * len(rows)
            schedule.step()
            losses[epoch - 1] = sums[0].cpu() / len(x)
            train_seconds += time.perf_counter() - start
            check_finite(losses[epoch - 1], epoch, what="reconstruction loss", advice="lower lr")
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
                    extra={"consistency_loss": float(sums[1].cpu() / len(x))},
                )
                last_eval = epoch
        return self

    def encode_slots(self, x) -> torch.Tensor:
        """Slots ẑ = ĝ(x), shape (n, K, d), on CPU."""
        self._check_fitted()
        return self._encode(self.encoder_, x)

    def transform(self, x):
        """The slot values flattened, (n, K·d), as numpy."""
        return self.encode_slots(x).flatten(1).numpy()

    @torch.no_grad()
    def decode(self, slots) -> torch.Tensor:
        """x̂ = f̂(ẑ) for slots (n, K, d), on CPU (eval mode)."""
        self._check_fitted()
        slots = torch.as_tensor(slots, dtype=torch.float32)
        if slots.ndim != 3 or slots.shape[1:] != (self.n_slots, self.slot_dim):
            raise ValueError(
                f"slots must have shape (n, {self.n_slots}, {self.slot_dim}), "
                f"got {tuple(slots.shape)}"
            )
        parts = [
            self.decoder_(chunk.to(self.device_)).cpu() for chunk in slots.split(self.chunk_size)
        ]
        return torch.cat(parts) if parts else torch.empty(0)

    def reconstruct(self, x) -> torch.Tensor:
        """f̂(ĝ(x)), the full model's reconstruction, on CPU."""
        return self.decode(self.encode_slots(x))

    @classmethod
    def _example(cls):
        from identifiable.worlds.compositional import CompositionalWorld

        world = CompositionalWorld(
            support="diagonal", composition="sum", pixels=8, n_train=64, n_test=16
        )
        learner = cls(slot_dim=4, hidden=16, epochs=3, eval_every=1, batch_size=16,
                      consistency=True, consistency_start=2, consistency_scenes=8)  # fmt: skip
        return learner, world
