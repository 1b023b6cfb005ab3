"""A slot (V)AE with a Transformer decoder whose cross-slot interactions are penalised, or with a
spatial-broadcast decoder (the explicit object-centric prior).

Brady, von Kügelgen, Lachapelle, Buchholz, Kipf, Brendel (2024), "Interaction Asymmetry: A
General Principle for Learning Composable Abstractions", arXiv:2411.07784 (official code
JackBrady/interaction-asymmetry, ``train_model.py``):

    ẑ = ĝ(x) ∈ R^{K×d}          :class:`~identifiable.models.query_slot_encoder.QuerySlotEncoder`
                                (with β > 0 it gives (μ, s) per slot and ẑ = μ + ½e^s·ε)
    x̂ = f̂(ẑ)                    ``transformer``: :class:`~identifiable.models.pixel_transformer.
                                PixelTransformerDecoder`; ``broadcast``: :class:`~identifiable.
                                models.broadcast_decoder.BroadcastDecoder`

    L = Σ_pixels (x − x̂)²  (per image, mean over the batch)  + β·KL  + α_t·L_int

with KL and L_int from :mod:`identifiable.losses.interaction` (L_int only for the Transformer
decoder) and α_t = α·min(1, t / ``alpha_warmup``) warmed up linearly over the first steps. Adam,
lr warmed up linearly over ``lr_warmup`` steps, then constant (the reference: 5e-4, 10 000
warm-up steps, then ×0.1 over 500 000 steps — a drop that is negligible over the few thousand
steps run here; its switch of the regularised model to a second schedule after 30 000 steps is
beyond them too). Each step draws ``batch_size`` scenes at random from the fixed training set.

After ``fit``: ``encode_slots`` (the means μ with β > 0), ``decode``, ``reconstruct``,
``slot_masks`` (the Transformer's cross-attention, heads summed and layers averaged, or the
broadcast decoder's alpha masks) and ``decoder_function`` (a pure function of the slots for the
Jacobian metrics of :mod:`identifiable.metrics.slot_masks`).
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
    on_device,
    seeded_generators,
)
from identifiable.losses.interaction import cross_attention_interaction, gaussian_slots
from identifiable.models.broadcast_decoder import BroadcastDecoder
from identifiable.models.decoders import seeded_init
from identifiable.models.pixel_transformer import PixelTransformerDecoder
from identifiable.models.query_slot_encoder import QuerySlotEncoder
from identifiable.progress import Progress, no_progress

__all__ = ["InteractionAutoencoder"]

DECODERS = ("transformer", "broadcast")


class InteractionAutoencoder(Learner):
    """Slot encoder + Transformer or spatial-broadcast decoder; module docstring.

    Parameters
    ----------
    n_slots:        K (the reference: objects + 1, a slot for the background).
    slot_dim:       d, latents per slot (the reference: 32).
    decoder:        ``"transformer"`` or ``"broadcast"``.
    alpha:          weight of the interaction regulariser (Transformer only; reference 0.05).
    beta:           weight of the KL term; 0 = a deterministic autoencoder (reference 0.05).
    alpha_warmup:   steps over which α rises linearly from 0 (reference 25 000).
    lr, lr_warmup:  Adam's learning rate and its linear warm-up in steps (reference 5e-4, 10 000).
    width:          the encoder's slot width (twice as many outputs with β > 0).
    proj, query, query_hidden, heads, layers:  sizes of the Transformer decoder (reference: 516,
                    180, 360, 12, 2); L_int sums the attention over heads, so its scale grows
                    with ``heads`` — keep the reference's 12 for its α.
    encoder_heads:  heads of the encoder's attention blocks (reference 4).
    query_init:     the encoder's slot queries from N(0, 1) (``"normal"``) or U[0, 1)
                    (``"uniform"``, the reference; its queries are alike, and over a few thousand
                    steps the slots stay nearly identical — cosine 0.99 after 300 steps).
    channels:       convolution channels of the encoder and the broadcast decoder (reference 32).
    batch_size, steps, eval_every, random_state, device: as every learner (steps, not epochs).
    """

    def __init__(
        self,
        n_slots: int = 3,
        slot_dim: int = 16,
        decoder: str = "transformer",
        alpha: float = 0.05,
        beta: float = 0.05,
        alpha_warmup: int = 1000,
        lr: float = 5e-4,
        lr_warmup: int = 500,
        width: int = 64,
        proj: int = 96,
        query: int = 32,
        query_hidden: int = 64,
        heads: int = 12,
        layers: int = 2,
        encoder_heads: int = 4,
        query_init: str = "normal",
        channels: int = 32,
        batch_size: int = 64,
        steps: int = 4000,
        eval_every: int = 500,
        random_state: int = 0,
        device: str = "auto",
    ):
        self.n_slots = n_slots
        self.slot_dim = slot_dim
        self.decoder = decoder
        self.alpha = alpha
        self.beta = beta
        self.alpha_warmup = alpha_warmup
        self.lr = lr
        self.lr_warmup = lr_warmup
        self.width = width
        self.proj = proj
        self.query = query
        self.query_hidden = query_hidden
        self.heads = heads
        self.layers = layers
        self.encoder_heads = encoder_heads
        self.query_init = query_init
        self.channels = channels
        self.batch_size = batch_size
        self.steps = steps
        self.eval_every = eval_every
        self.random_state = random_state
        self.device = device

    input_ndim = 3

    def _validate(self) -> None:
        check(
            self,
            integers=(
                "n_slots", "slot_dim", "alpha_warmup", "lr_warmup", "width", "proj", "query",
                "query_hidden", "heads", "layers", "encoder_heads", "channels", "batch_size",
                "steps", "eval_every",
            ),
            one_of={"decoder": DECODERS, "query_init": ("normal", "uniform")},
            positive=("lr",),
            at_least={
                "n_slots": 1, "slot_dim": 1, "alpha": 0.0, "beta": 0.0, "alpha_warmup": 0,
                "lr_warmup": 0, "width": 1, "proj": 1, "query": 1, "query_hidden": 1,
                "heads": 1, "layers": 1, "encoder_heads": 1, "channels": 1, "batch_size": 1,
                "steps": 1, "eval_every": 1,
            },
        )  # fmt: skip
        if self.alpha > 0 and self.decoder != "transformer":
            raise ValueError("alpha > 0 penalises the Transformer decoder's attention; set "
                             "decoder=transformer or alpha=0")  # fmt: skip
        for name, heads in (("width", "encoder_heads"), ("proj", "heads")):
            if getattr(self, name) % getattr(self, heads):
                raise ValueError(f"{name} ({getattr(self, name)}) must be a multiple of {heads} "
                                 f"({getattr(self, heads)})")  # fmt: skip

    def _build(self, image_size: int, generator: torch.Generator) -> None:
        if image_size % 8 or image_size < 16 or (image_size & (image_size - 1)):
            raise ValueError(
                f"images must be square with a side that is a power of 2 and >= 16 (the "
                f"encoder halves it twice, the broadcast decoder doubles 8), got {image_size}"
            )
        out = 2 * self.slot_dim if self.beta > 0 else self.slot_dim
        encoder = QuerySlotEncoder(
            image_size,
            self.n_slots,
            self.width,
            channels=self.channels,
            heads=self.encoder_heads,
            layers=self.layers,
            generator=generator,
        )
        with torch.random.fork_rng(devices=[]):  # the global RNG is left alone
            head = nn.Linear(self.width, out)
        seeded_init(head, generator)
        self.encoder_ = nn.Sequential(encoder, head).to(self.device_)  # fmt: skip
        if self.decoder == "transformer":
            self.decoder_: nn.Module = PixelTransformerDecoder(
                self.slot_dim, image_size, proj=self.proj, query=self.query,
                query_hidden=self.query_hidden, heads=self.heads, layers=self.layers,
                generator=generator,
            )  # fmt: skip
        else:
            self.decoder_ = BroadcastDecoder(
                self.slot_dim, image_size, channels=self.channels, generator=generator
            )
        self.decoder_.to(self.device_)

    def _slots(self, x: torch.Tensor, generator: torch.Generator | None, sample: bool):
        encoded = self.encoder_(x)
        if self.beta > 0:
            return gaussian_slots(encoded, generator=generator, sample=sample)
        return encoded, encoded, encoded.new_zeros(())

    def _decode(self, slots: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        if isinstance(self.decoder_, PixelTransformerDecoder):
            return self.decoder_.attend(slots)
        return self.decoder_(slots), None

    def fit(
        self, world: Any, *, progress: Progress = no_progress, monitor: Monitor | None = None
    ) -> InteractionAutoencoder:
        """Train on ``world.split("train").x`` (images (n, 3, S, S); masks are never read)."""
        self._validate()
        self.device_ = pick_device(self.device)
        init_generator, data_generator, noise_generator = seeded_generators(self.random_state)
        x = self._as_input(world.split("train").x)
        if x.shape[1] != 3 or x.shape[2] != x.shape[3]:
            raise ValueError(f"images must be (n, 3, S, S), got {tuple(x.shape)}")
        x = x.to(self.device_)
        self._build(x.shape[-1], init_generator)
        parameters = [*self.encoder_.parameters(), *self.decoder_.parameters()]
        optimizer = torch.optim.Adam(parameters, lr=self.lr)
        # the VAE's noise is drawn where the slots live, from a generator seeded like the others
        # (the global CUDA RNG made two fits of one seed differ on a GPU)
        noise = on_device(noise_generator, self.device_)
        self.history_: list[dict[str, float]] = []
        losses = torch.zeros(self.steps, dtype=torch.float64)
        terms = torch.zeros(2, dtype=torch.float64)  # KL and interaction summed since last eval
        train_seconds, last_eval = 0.0, 0
        start = time.perf_counter()
        for step in range(1, self.steps + 1):
            for group in optimizer.param_groups:
                group["lr"] = self.lr * min(1.0, step / max(self.lr_warmup, 1))
            rows = torch.randint(len(x), (self.batch_size,), generator=data_generator)
            batch = x[rows.to(self.device_)]
            slots, _, kl = self._slots(batch, noise, sample=True)
            images, weights = self._decode(slots)
            reconstruction = (images - batch).pow(2).flatten(1).sum(1).mean()
            loss = reconstruction + self.beta * kl
            interaction = cross_attention_interaction(weights) if weights is not None else kl * 0
            if self.alpha > 0:
                loss = loss + self.alpha * min(1.0, step / max(self.alpha_warmup, 1)) * interaction
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses[step - 1] = reconstruction.detach().cpu()
            terms[0] += float(kl.detach())
            terms[1] += float(interaction.detach())
            check_finite(losses[step - 1], step, what="reconstruction loss", advice="lower lr")
            if evaluation_due(step, self.eval_every, self.steps):
                train_seconds += time.perf_counter() - start
                since = step - last_eval
                log_evaluation(
                    self, step=step, total=self.steps, losses=losses, since=last_eval,
                    train_seconds=train_seconds, monitor=monitor, progress=progress,
                    extra={"kl": float(terms[0]) / since, "interaction": float(terms[1]) / since},
                )  # fmt: skip
                terms.zero_()
                last_eval = step
                start = time.perf_counter()
        return self

    @torch.no_grad()
    def encode_slots(self, x) -> torch.Tensor:
        """Slots ẑ (the means μ with β > 0), shape (n, K, d), on CPU."""
        self._check_fitted()
        x = self._as_input(x)
        self.encoder_.eval()
        try:
            parts = [
                self._slots(chunk.to(self.device_), None, sample=False)[0].cpu()
                for chunk in x.split(256)
            ]
        finally:
            self.encoder_.train()
        return torch.cat(parts)

    def transform(self, x):
        """The slots flattened, (n, K·d), as numpy."""
        return self.encode_slots(x).flatten(1).numpy()

    def _slots_tensor(self, slots) -> torch.Tensor:
        self._check_fitted()
        slots = torch.as_tensor(slots, dtype=torch.float32)
        if slots.ndim != 3 or slots.shape[1:] != (self.n_slots, self.slot_dim):
            raise ValueError(
                f"slots must have shape (n, {self.n_slots}, {self.slot_dim}), "
                f"got {tuple(slots.shape)}"
            )
        return slots

    @torch.no_grad()
    def decode(self, slots) -> torch.Tensor:
        """x̂ = f̂(ẑ) for slots (n, K, d), on CPU."""
        slots = self._slots_tensor(slots)
        parts = [self._decode(c.to(self.device_))[0].cpu() for c in slots.split(256)]
        return torch.cat(parts)

    def reconstruct(self, x) -> torch.Tensor:
        """f̂(ĝ(x)), on CPU."""
        return self.decode(self.encode_slots(x))

    @torch.no_grad()
    def slot_masks(self, slots) -> torch.Tensor:
        """(n, K, S, S): the Transformer's cross-attention A_k(p) (heads summed, layers averaged,
        so each pixel's masks sum to the number of heads) or the broadcast decoder's alpha masks."""
        slots = self._slots_tensor(slots)
        parts = []
        for chunk in slots.split(256):
            chunk = chunk.to(self.device_)
            if isinstance(self.decoder_, PixelTransformerDecoder):
                masks = self.decoder_.attention_masks(self.decoder_.attend(chunk)[1])
            else:
                masks = self.decoder_.render(chunk)[1]
            parts.append(masks.cpu())
        return torch.cat(parts)

    def decoder_function(self):
        """The decoder as a function of slots (m, K, d) → images (m, 3, S, S), on the learner's
        device, for :func:`identifiable.metrics.slot_masks.slot_jacobian_norms`."""
        self._check_fitted()
        decoder, device = self.decoder_, self.device_

        def decode(slots: torch.Tensor) -> torch.Tensor:
            return decoder(slots.to(device)).cpu()

        return decode

    @property
    def n_parameters_(self) -> int:
        self._check_fitted()
        modules = (self.encoder_, self.decoder_)
        return sum(p.numel() for m in modules for p in m.parameters())

    @classmethod
    def _example(cls):
        from identifiable.worlds.object_scenes import ObjectScenesWorld

        world = ObjectScenesWorld(n_objects=2, image_size=16, n_train=32, n_test=8)
        learner = cls(slot_dim=4, width=8, proj=8, query=8, query_hidden=8, heads=2, layers=1,
                      encoder_heads=2, channels=4, batch_size=8, steps=3, eval_every=1,
                      alpha_warmup=2, lr_warmup=1)  # fmt: skip
        return learner, world
