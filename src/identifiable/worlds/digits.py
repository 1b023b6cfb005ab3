"""scikit-learn's handwritten digits as a finite world: 1 797 8×8 images, labels 0–9.

Alpaydin & Kaynak (1998), UCI "Optical Recognition of Handwritten Digits" (the copy shipped with
scikit-learn, ``sklearn.datasets.load_digits``; nothing is downloaded). Pixels (0–16) are scaled
to [0, 1]:

    x = pixels / 16 ∈ [0, 1]^64,   z = the digit,   train = ``n_train`` rows drawn by ``seed``,
    test = the rest

The CPU-sized stand-in for MNIST in the grokking experiments of Humayun, Balestriero, Baraniuk
(2024), arXiv:2402.15555 (1 000 training images there too).
"""

from __future__ import annotations

import torch

from identifiable.worlds.finite import FiniteWorld

__all__ = ["N_DIGITS", "digits"]

N_DIGITS = 1797


def digits(n_train: int = 1000, *, seed: int = 0) -> FiniteWorld:
    """The digits world: ``n_train`` training rows (1 ≤ n_train < 1 797), the rest as test."""
    if isinstance(n_train, bool) or not isinstance(n_train, int) or not 1 <= n_train < N_DIGITS:
        raise ValueError(f"n_train must be an int in [1, {N_DIGITS - 1}], got {n_train!r}")
    from sklearn.datasets import load_digits

    data = load_digits()
    x = torch.as_tensor(data.data, dtype=torch.float32) / 16.0
    z = torch.as_tensor(data.target, dtype=torch.int64)
    train = n_train / N_DIGITS
    return FiniteWorld(z=z, x=x, fractions=(train, 0.0, 1.0 - train), seed=seed)
