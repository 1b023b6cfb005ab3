"""Modular arithmetic: all pairs (a, b) with c = a ∘ b mod p, split into train and test.

Power, Burda, Edwards, Babuschkin, Misra (2022), "Grokking: Generalization Beyond Overfitting on
Small Algorithmic Datasets", arXiv:2201.02177; the MLP setting of Prieto, Barsbey, Mediano, Birdal
(2025), "Grokking at the Edge of Numerical Stability", ICLR, arXiv:2501.04697 (p = 113, 40 %
of the pairs for training):

    rows    {(a, b) : a, b ∈ {s, …, p − 1}}      s = 0 (MLP, all p² pairs) or 1 (the transformer's)
    truth   c = (a + b) mod p,  (a − b) mod p,  (a · b) mod p,  or  a · b⁻¹ mod p (b ≠ 0, p prime)
    x       [onehot_p(a), onehot_p(b)] ∈ {0, 1}^{2p}   (``encoding="onehot"``: the MLP's 226 dims)
            or the tokens (a, b) ∈ {0, …, p − 1}²      (``encoding="tokens"``)

The reference's ``divide_mod`` is floor division and is not wired into its experiments; division
here is the modular inverse (Power et al.'s x/y), defined only for prime p. Rows are split by the
finite world's seeded permutation (train = ``train_fraction`` of the rows, test = the rest),
so a seed fixes the split; the reference draws its split with torch's global RNG seeded 42.
"""

from __future__ import annotations

import math

import torch

from identifiable.worlds.finite import FiniteWorld

__all__ = ["OPERATIONS", "is_prime", "modular_arithmetic"]

OPERATIONS = ("add", "sub", "mul", "div")
ENCODINGS = ("onehot", "tokens")


def is_prime(p: int) -> bool:
    """True for a prime p (trial division up to √p)."""
    return p >= 2 and all(p % k for k in range(2, math.isqrt(p) + 1))


def modular_arithmetic(
    operation: str = "add",
    modulus: int = 113,
    train_fraction: float = 0.4,
    *,
    seed: int = 0,
    encoding: str = "onehot",
    start: int = 0,
) -> FiniteWorld:
    """The finite world of c = a ∘ b mod p (module docstring): ``z`` the answers c (int64, (N,)),
    ``x`` the encoded pairs, splits ``train`` and ``test`` (``validation`` and ``ood`` empty).

    >>> world = modular_arithmetic("add", 113, 0.4, seed=0)
    >>> world.sizes["train"], world.x.shape          # (5108, torch.Size([12769, 226]))
    """
    if operation not in OPERATIONS:
        raise ValueError(f"operation must be one of {', '.join(OPERATIONS)}, got {operation!r}")
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}, got {encoding!r}")
    if isinstance(modulus, bool) or not isinstance(modulus, int) or modulus < 2:
        raise ValueError(f"modulus must be an int >= 2, got {modulus!r}")
    if operation == "div" and not is_prime(modulus):
        raise ValueError(
            f"division mod {modulus} needs a prime modulus (every b ≠ 0 must have an inverse); "
            f"{modulus} is not prime"
        )
    if start not in (0, 1):
        raise ValueError(f"start must be 0 (all pairs) or 1 (a, b ≥ 1), got {start!r}")
    if (
        isinstance(train_fraction, bool)
        or not isinstance(train_fraction, int | float)
        or not 0 < train_fraction < 1
    ):
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction!r}")

    values = torch.arange(start, modulus)
    pairs = torch.cartesian_prod(values, values)  # rows (a, b), a-major
    a, b = pairs[:, 0], pairs[:, 1]
    if operation == "add":
        c = (a + b) % modulus
    elif operation == "sub":
        c = (a - b) % modulus
    elif operation == "mul":
        c = (a * b) % modulus
    else:
        keep = b != 0
        pairs, a, b = pairs[keep], a[keep], b[keep]
        inverse = torch.tensor([pow(int(v), -1, modulus) if v else 0 for v in range(modulus)])
        c = (a * inverse[b]) % modulus
    if encoding == "onehot":
        x = torch.cat(
            [
                torch.nn.functional.one_hot(a, modulus),
                torch.nn.functional.one_hot(b, modulus),
            ],
            dim=1,
        ).to(torch.float32)
    else:
        x = pairs
    return FiniteWorld(z=c, x=x, fractions=(train_fraction, 0.0, 1.0 - train_fraction), seed=seed)
