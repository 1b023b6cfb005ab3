"""A CLIP-like two-tower contrastive learner: a CNN image tower and a bag-of-concepts text tower
trained with the symmetric InfoNCE loss on image–caption pairs.

Radford et al. (2021), "Learning Transferable Visual Models From Natural Language Supervision"
(CLIP), arXiv:2103.00020: with L2-normalised image features u_i = g(x_i) and caption features
v_i = h(t_i) of a batch of B pairs and temperature τ,

    L = ½ [ (1/B) Σ_i −log softmax_j(⟨u_i, v_j⟩/τ)_i + (1/B) Σ_i −log softmax_j(⟨v_i, u_j⟩/τ)_i ].

Image tower: :class:`~identifiable.models.cnn.ConvEncoder` then a linear map to ``dim``. Text
tower: a caption is a bag of concept ids; h(t) = W Σ_{c∈t} e_c (learned concept embeddings
e_c, a linear map W). Used by :mod:`identifiable.experiments.concept_frequency` (Wiedemer et
al. 2025, arXiv:2502.18326). The learner reads only images and captions.
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
    flushed_denormals,
    log_evaluation,
    seeded_generators,
)
from identifiable.models.cnn import ConvEncoder
from identifiable.progress import Progress, no_progress

__all__ = ["TwoTowerContrastive"]


class _TextTower(nn.Module):
    def __init__(self, n_concepts: int, width: int, dim: int, generator: torch.Generator):
        super().__init__()
        self.embedding = nn.Embedding(n_concepts, width)
        self.project = nn.Linear(width, dim)
        with torch.no_grad():
            self.embedding.weight.normal_(0.0, 1.0, generator=generator)
            bound = 1.0 / width**0.5
            self.project.weight.uniform_(-bound, bound, generator=generator)
            self.project.bias.uniform_(-bound, bound, generator=generator)

    def forward(self, concepts: torch.Tensor) -> torch.Tensor:  # (n, k) ids -> (n, dim)
        return self.project(self.embedding(concepts).sum(dim=1))


class TwoTowerContrastive(Learner):
    """CLIP-style pretraining on captioned scenes (scikit-learn contract).

    Parameters
    ----------
    dim:          joint embedding dimension.
    channels:     CNN channels of the image tower (4×4 stride-2 convolutions).
    text_width:   width of the concept embeddings.
    temperature:  τ of the InfoNCE loss.
    batch_size:   pairs per step, drawn fresh from the world.
    lr:           Adam learning rate.
    steps:        optimisation steps.
    eval_every:   record loss (and the monitor) every this many steps and at the last.
    random_state: seeds the init and the batches.
    device:       "auto", "cpu" or "cuda".

    ``fit(world)``: ``world.sample(n, generator=...)`` gives ``x`` (n, 3, S, S) and ``concepts``
    (n, k) ints; ``world.n_concepts``. After ``fit``: ``encoder_`` (image tower), ``text_``
    (text tower), ``history_``, ``device_``; :meth:`transform` embeds images,
    :meth:`embed_captions` captions (both L2-normalised).
    """

    input_ndim = 3

    def __init__(
        self,
        dim: int = 64,
        channels: tuple[int, ...] = (32, 64, 64),
        text_width: int = 64,
        temperature: float = 0.1,
        batch_size: int = 256,
        lr: float = 1e-3,
        steps: int = 2000,
        eval_every: int = 200,
        random_state: int = 0,
        device: str = "auto",
    ):
        self.dim = dim
        self.channels = channels
        self.text_width = text_width
        self.temperature = temperature
        self.batch_size = batch_size
        self.lr = lr
        self.steps = steps
        self.eval_every = eval_every
        self.random_state = random_state
        self.device = device

    def _validate(self) -> None:
        check(
            self,
            integers=("dim", "text_width", "batch_size", "steps", "eval_every"),
            positive=("lr", "temperature"),
            at_least={"dim": 1, "text_width": 1, "batch_size": 2, "steps": 0, "eval_every": 1},
        )

    def fit(
        self, world: Any, *, progress: Progress = no_progress, monitor: Monitor | None = None
    ) -> TwoTowerContrastive:
        self._validate()
        n_concepts = getattr(world, "n_concepts", None)
        if not isinstance(n_concepts, int) or n_concepts < 2:
            raise ValueError(
                "TwoTowerContrastive needs a captioned world with n_concepts, e.g. ConceptScenes"
            )
        with flushed_denormals():
            return self._fit(world, n_concepts, progress, monitor)

    def _fit(self, world, n_concepts, progress, monitor) -> TwoTowerContrastive:
        self.device_ = pick_device(self.device)
        init_generator, data_generator, _ = seeded_generators(self.random_state)
        probe = world.sample(2, generator=torch.Generator().manual_seed(self.random_state))
        size = probe.x.shape[-1]
        cnn = ConvEncoder(size, 128, tuple(self.channels), probe.x.shape[1],
                          generator=init_generator)  # fmt: skip
        head = nn.Linear(128, self.dim)
        with torch.no_grad():
            bound = 1.0 / 128**0.5
            head.weight.uniform_(-bound, bound, generator=init_generator)
            head.bias.uniform_(-bound, bound, generator=init_generator)
        self.encoder_ = nn.Sequential(cnn, head).to(self.device_)
        self.text_ = _TextTower(n_concepts, self.text_width, self.dim, init_generator)
        self.text_.to(self.device_)
        optimizer = torch.optim.Adam([*self.encoder_.parameters(), *self.text_.parameters()],
                                     lr=self.lr)  # fmt: skip
        self.history_: list[dict[str, float]] = []
        losses = torch.zeros(max(self.steps, 1))
        seconds, last = 0.0, 0
        for step in range(1, self.steps + 1):
            start = time.perf_counter()
            batch = world.sample(self.batch_size, generator=data_generator)
            u = nn.functional.normalize(self.encoder_(batch.x.to(self.device_)), dim=1)
            v = nn.functional.normalize(self.text_(batch.concepts.to(self.device_)), dim=1)
            logits = u @ v.T / self.temperature
            target = torch.arange(len(u), device=self.device_)
            loss = (nn.functional.cross_entropy(logits, target)
                    + nn.functional.cross_entropy(logits.T, target)) / 2  # fmt: skip
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses[step - 1] = loss.detach()
            seconds += time.perf_counter() - start
            check_finite(losses[step - 1], step, what="InfoNCE", advice="lower lr")
            if evaluation_due(step, self.eval_every, self.steps):
                log_evaluation(self, step=step, total=self.steps, losses=losses, since=last,
                               train_seconds=seconds, monitor=monitor,
                               progress=progress)  # fmt: skip
                last = step
        return self

    def transform(self, x) -> torch.Tensor:
        """L2-normalised image embeddings (n, dim) as numpy."""
        self._check_fitted()
        return nn.functional.normalize(self._encode(self.encoder_, x), dim=1).numpy()

    @torch.no_grad()
    def embed_captions(self, concepts) -> torch.Tensor:
        """L2-normalised caption embeddings (n, dim) of bags of concept ids (n, k), as numpy."""
        self._check_fitted()
        ids = torch.as_tensor(concepts, dtype=torch.int64)
        if ids.ndim != 2:
            raise ValueError(f"captions must be (n, k) concept ids, got shape {tuple(ids.shape)}")
        out = self.text_(ids.to(self.device_)).cpu()
        return nn.functional.normalize(out, dim=1).numpy()

    @classmethod
    def _example(cls):
        from identifiable.worlds.concept_scenes import ConceptScenes

        world = ConceptScenes(shapes=("square", "circle"), hues=(0.0, 0.5), image_size=16,
                              n_held_out=1)  # fmt: skip
        return cls(dim=4, channels=(4, 8), text_width=4, batch_size=8, steps=5, eval_every=2), world
