"""What every learner shares: the fitted check, the device, chunked encoding and input checks.

Learners follow the scikit-learn contract: ``__init__`` only stores parameters, ``fit`` returns
``self``, learned state ends in ``_`` (``encoder_``, ``history_``, ``device_``), ``transform(x)``
returns representations as numpy, ``random_state`` seeds everything. Learners never import
``identifiable.metrics`` or ``identifiable.experiments`` and never read ground truth: what to watch
during training comes in as a ``monitor`` callable (see :mod:`identifiable.learners._loop`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["HeadClassifier", "Learner"]


class Learner:
    """Base class: subclasses set ``encoder_`` in ``fit`` and may override ``_example``."""

    #: rows per forward pass in :meth:`transform` (bounds memory on large inputs)
    chunk_size: int = 8192
    #: dimensions of one observation row: 1 for vectors (n, d), 3 for images (n, C, H, W)
    input_ndim: int = 1

    def _check_fitted(self) -> None:
        if not hasattr(self, "encoder_"):
            raise ValueError(f"this {type(self).__name__} is not fitted yet; call fit(world) first")

    def _as_input(self, x) -> torch.Tensor:
        """``x`` as a float32 tensor of shape (n, *observation), finite; one-line errors."""
        try:
            tensor = torch.as_tensor(
                np.asarray(x, dtype=np.float32) if not isinstance(x, torch.Tensor) else x,
                dtype=torch.float32,
            )
        except (TypeError, ValueError) as error:
            raise ValueError(f"x must be a numeric array, got {type(x).__name__}") from error
        if tensor.ndim != self.input_ndim + 1:
            shape = "(n, n_features)" if self.input_ndim == 1 else "(n, C, H, W)"
            raise ValueError(f"x must have shape {shape}, got {tuple(tensor.shape)}")
        if not torch.isfinite(tensor).all():
            bad = int((~torch.isfinite(tensor)).sum())
            raise ValueError(f"x contains {bad} NaN/inf values; remove or impute them first")
        return tensor

    @torch.no_grad()
    def _encode(self, module: nn.Module, x) -> torch.Tensor:
        """``module`` on ``x`` in eval mode, chunk by chunk, on CPU (train mode restored)."""
        self._check_fitted()
        x = self._as_input(x)
        was_training = module.training
        module.eval()
        try:
            parts = [module(chunk.to(self.device_)).cpu() for chunk in x.split(self.chunk_size)]
        finally:
            module.train(was_training)
        return torch.cat(parts) if parts else torch.empty(0)

    def transform(self, x) -> np.ndarray:
        """Representations f(x), shape (n, n_components), as numpy."""
        self._check_fitted()
        return self._encode(self.encoder_, x).numpy()

    @classmethod
    def _example(cls):
        """(a small learner, a world it fits on) for the shared learner checks in the tests."""
        raise NotImplementedError


class HeadClassifier(Learner):
    """A learner whose encoder f is followed by a linear head W (``head_``): logits = W f(x)."""

    def predict(self, x) -> np.ndarray:
        """Predicted class argmax_c (W f(x))_c for each row of x, shape (n,)."""
        self._check_fitted()
        return self._encode(nn.Sequential(self.encoder_, self.head_), x).argmax(1).numpy()

    def score(self, x, y) -> float:
        """Accuracy of :meth:`predict` against integer targets ``y``, (1/n) Σ 1[ŷ_i = y_i]."""
        y = np.asarray(torch.as_tensor(y).cpu()).reshape(-1)
        predicted = self.predict(x)
        if len(predicted) != len(y):
            raise ValueError(
                f"x and y must have the same length, got {len(predicted)} and {len(y)}"
            )
        return float((predicted == y).mean())
