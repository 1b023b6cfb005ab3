"""Time-contrastive learning (TCL): classify the segment a sample came from; the features of the
classifier are the sources up to a linear map.

Hyvärinen & Morioka (2016), "Unsupervised Feature Extraction by Time-Contrastive Learning and
Nonlinear ICA", NeurIPS, arXiv:1605.06336 (official code hmorioka/TCL). A feature extractor
h = φ(f(x)) — an MLP f followed by an elementwise nonlinearity φ (|·| in the official code, or
(·)²) — and a multinomial logistic regression (MLR) head with bias,

    L = (1/B) Σ_b −log softmax(W h(x_b) + c)_{e_b},

where e_b is the segment (environment) label of sample b. If the sources' log-densities are
modulated across segments, log p_e(s) = Σ_i λ_{e,i} q(s_i) + const, and the segments are diverse
enough, the optimum's features satisfy h(x) = A q(s) + b for an invertible A (Theorem 1): the
sources are recovered up to a linear map, which linear ICA then resolves (the paper applies
FastICA to the features; so does :mod:`identifiable.experiments.exchangeable_ica`). For the
scale-modulated Laplace sources of :class:`~identifiable.worlds.segments.SegmentWorld`,
q(s_i) = −|s_i|, so the features are compared with |s|.

Deviations from the official code (stated): the MLP's hidden units are leaky ReLUs (0.01), not
maxout; Adam at a fixed learning rate instead of momentum SGD with decay and weight EMA; no MLR
pre-training stage; batches are fresh draws from the world instead of epochs over one sample.
The learner reads only x and the segment labels.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from identifiable._validation import check
from identifiable.learners.classifier import Classifier
from identifiable.models.mlp import MLPEncoder

__all__ = ["TimeContrastive"]

NONLINEARITIES = ("abs", "square")


class _Elementwise(nn.Module):
    """φ(h) elementwise: |h| or h²."""

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h.abs() if self.kind == "abs" else h * h


class TimeContrastive(Classifier):
    """TCL features (scikit-learn contract; the training loop is :class:`Classifier`'s).

    Parameters
    ----------
    n_components:  number of features (= number of sources to recover).
    hidden:        hidden widths of the MLP f.
    nonlinearity:  φ on the features: "abs" (the official code) or "square".
    batch_size, lr, steps, eval_every, random_state, device: as :class:`Classifier` (Adam);
                   ``steps=0`` keeps the initialisation (the untrained baseline).

    ``fit(world)`` trains on ``world.sample(batch_size, generator=...)`` with fields ``x`` and
    ``label`` (the segment) and ``world.n_segments`` classes. Attributes after ``fit``:
    ``encoder_`` (x ↦ φ(f(x)), what :meth:`transform` returns), ``head_`` (the MLR, with bias),
    ``history_`` (loss per evaluation, and what the monitor returns), ``device_``.
    """

    def __init__(
        self,
        n_components: int = 5,
        hidden: tuple[int, ...] = (20, 20),
        nonlinearity: str = "abs",
        batch_size: int = 512,
        lr: float = 1e-3,
        steps: int = 20_000,
        eval_every: int = 2_000,
        random_state: int = 0,
        device: str = "auto",
    ):
        super().__init__(
            n_components=n_components,
            hidden=hidden,
            target="label",
            normalize=False,
            bias=True,
            batch_size=batch_size,
            lr=lr,
            steps=steps,
            eval_every=eval_every,
            random_state=random_state,
            device=device,
        )
        self.nonlinearity = nonlinearity  # target, normalize, bias: fixed for TCL above

    # no per-batch training accuracy (an argmax per step, ≈ 3 % of a step here): the experiment
    # reads held-out segment accuracy through its monitor
    _track_accuracy = False

    def _validate(self) -> None:
        check(
            self,
            integers=("n_components", "batch_size", "steps", "eval_every"),
            one_of={"nonlinearity": NONLINEARITIES},
            positive=("lr",),
            at_least={"n_components": 1, "batch_size": 1, "steps": 0, "eval_every": 1},
        )

    def _n_classes(self, world: Any) -> int:
        n_segments = getattr(world, "n_segments", None)
        if not isinstance(n_segments, int) or n_segments < 2:
            raise ValueError(
                "TimeContrastive needs a world with n_segments >= 2 and batches with a segment "
                f"label, e.g. SegmentWorld; got {type(world).__name__}"
            )
        return n_segments

    def _build_encoder(self, n_in: int, generator: torch.Generator) -> nn.Module:
        f = MLPEncoder(n_in, self.n_components, tuple(self.hidden), normalize=False,
                       generator=generator)  # fmt: skip
        return nn.Sequential(f, _Elementwise(self.nonlinearity))

    @classmethod
    def _example(cls):
        from identifiable.worlds.mixing import LeakyMLPMixing
        from identifiable.worlds.segments import SegmentWorld

        world = SegmentWorld(n_sources=3, n_segments=4, mixing=LeakyMLPMixing(n_layers=2))
        return cls(n_components=3, hidden=(8,), batch_size=32, steps=5, eval_every=2), world
