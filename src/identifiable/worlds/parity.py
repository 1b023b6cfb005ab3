"""Sparse parity: the label is the parity of k bits hidden among n noise bits.

Barak, Edelman, Goel, Kakade, Malach, Zhang (2022), "Hidden Progress in Deep Learning: SGD Learns
Parities Near the Computational Limit", arXiv:2207.08799; the setting of Prieto, Barsbey,
Mediano, Birdal (2025), arXiv:2501.04697 (k = 3 parity bits, n = 40 noise bits, 2 000 distinct
rows, half for training):

    x ∈ {0, 1}^{k + n}, distinct rows drawn uniformly,   y = (x_1 + … + x_k) mod 2

The rows and the split are fixed by ``seed``.
"""

from __future__ import annotations

import torch

from identifiable.worlds.finite import FiniteWorld

__all__ = ["sparse_parity"]


def sparse_parity(
    n_parity: int = 3,
    n_noise: int = 40,
    n_samples: int = 2000,
    train_fraction: float = 0.5,
    *,
    seed: int = 0,
) -> FiniteWorld:
    """A finite world of ``n_samples`` distinct bit rows (float32 x, int64 parity z)."""
    for name, value, low in (("n_parity", n_parity, 1), ("n_noise", n_noise, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    d = n_parity + n_noise
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or not 2 <= n_samples <= 2**d:
        raise ValueError(
            f"n_samples must be an int in [2, 2^{d} = {2**d}] (distinct rows of {d} bits), "
            f"got {n_samples!r}"
        )
    if not isinstance(train_fraction, int | float) or not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction!r}")
    generator = torch.Generator().manual_seed(seed)
    rows = torch.empty(0, d, dtype=torch.int64)
    while len(rows) < n_samples:  # distinct rows: draw, deduplicate, repeat (rarely more than once)
        drawn = torch.randint(0, 2, (2 * n_samples, d), generator=generator)
        rows = torch.unique(torch.cat([rows, drawn]), dim=0)
    order = torch.randperm(len(rows), generator=generator)[:n_samples]
    x = rows[order]
    y = x[:, :n_parity].sum(1) % 2
    return FiniteWorld(
        z=y, x=x.to(torch.float32), fractions=(train_fraction, 0.0, 1.0 - train_fraction), seed=seed
    )
