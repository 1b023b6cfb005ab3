"""Training supports of slot latents, and the test sets off them.

Latents of a scene with K slots of d latents each live in the unit cube, z ∈ [0, 1]^{K×d}
(shape (n, K, d)); a renderer maps them to their ranges. A *support* is the region the training
latents come from. Wiedemer, Mayilvahanan, Bethge, Brendel (2023), "Compositional Generalization
from First Principles", NeurIPS, arXiv:2307.05596 (code brendel-group/compositional-ood-
generalization, ``src/data.py``), and Wiedemer, Brady, Panfilov, Juhos, Bethge, Brendel (2024),
"Provable Compositional Generalization for Object-Centric Learning", ICLR, arXiv:2310.05327 (code
brendel-group/objects-compositional-generalization), prove that a compositional model fitted on a
support whose per-slot marginals cover each slot's range generalises to the whole cube.

==================  =========================================================================
support             training latents
==================  =========================================================================
``random``          uniform on the cube: every combination is seen
``orthogonal``      on planes (i, c): slot i ~ U[0, 1]^d, every other slot fixed at c. Default
                    for K = 2, d = 5: the reference's three planes (slot 0 varies with slot 1 at
                    (1, 1, 1, 0, 1); slot 1 varies with slot 0 at 0; slot 1 varies with slot 0
                    at (½, ½, ½, 0, ½)), a third of the rows each; otherwise one plane per slot
                    with the others at 0 (the reference's default)
``orthogonal_gap``  ``orthogonal`` without the rows whose first latent of slot 0 lies in
                    [0.05, 0.45] (the reference's gap): slot 0's marginal has a hole
``diagonal``        per latent dimension j, the K values (z_1j, …, z_Kj) lie within Euclidean
                    distance δ of the diagonal line t·(1, …, 1): ‖z_·j − mean_k(z_kj)·1‖ ≤ δ.
                    For K = 2 that is |z_1j − z_2j| ≤ √2·δ
==================  =========================================================================

Convention for δ (``delta``): the distance to the diagonal, as both reference repositories define
it (2023: δ ∈ {0.05, 0.1, 0.2}; 2024: δ = 0.125). The 2024 *paper* quotes the width of the band,
δ_paper = 2·δ (its δ = 0.25 is δ = 0.125 here). The diagonal sampler follows the references: a
point t·1 on the diagonal (t ~ U[0, 1]) plus a radius r·δ along a uniformly random direction
orthogonal to it, r the radius of a uniform point of the (K−1)-ball (r = U^{1/(K−1)}), drawn per
latent dimension; rows leaving the cube are redrawn.

Test sets (the spine's split names): ``test`` — more rows of the training support; ``all`` —
uniform on the cube; ``ood`` — uniform rows *off* the support: for ``diagonal`` the rows with at
least one latent dimension farther than δ from the diagonal (the 2024 code's ``off_diagonal``);
for ``orthogonal``/``orthogonal_gap`` the rows farther than ``margin`` (max-norm over the fixed
slots) from every plane, and for ``orthogonal_gap`` also the plane rows inside the gap; for
``random``, whose support is the whole cube, the off-diagonal rows of ``delta``, so models trained
on ``random`` and on ``diagonal`` are scored on the same kind of scenes.

Every sampler is vectorised (rejection in rounds of whole batches, no loop over rows) and draws
only from the caller's generator.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "GAP",
    "SUPPORTS",
    "check_delta",
    "check_planes",
    "default_planes",
    "diagonal_distance",
    "in_support",
    "max_delta",
    "sample_ood",
    "sample_support",
]

SUPPORTS = ("random", "orthogonal", "orthogonal_gap", "diagonal")

#: the reference's gap of ``orthogonal_gap``: (slot, latent, low, high) removed from the planes
GAP = (0, 0, 0.05, 0.45)

#: the reference's three planes for K = 2 slots of d = 5 latents (cfgs/orthogonal_*.yml)
_REFERENCE_PLANES = (
    (0, (1.0, 1.0, 1.0, 0.0, 1.0)),
    (1, (0.0, 0.0, 0.0, 0.0, 0.0)),
    (1, (0.5, 0.5, 0.5, 0.0, 0.5)),
)

Plane = tuple[int, tuple[float, ...]]


def default_planes(n_slots: int, slot_dim: int) -> tuple[Plane, ...]:
    """The reference's planes for K = 2, d = 5; else one plane per slot, the others at 0."""
    if (n_slots, slot_dim) == (2, 5):
        return _REFERENCE_PLANES
    return tuple((k, (0.0,) * slot_dim) for k in range(n_slots))


def max_delta(n_slots: int) -> float:
    """The largest δ that leaves an off-diagonal set: the farthest a point of [0, 1]^K gets from
    the diagonal is √(⌊K/2⌋·⌈K/2⌉/K) (half the corners at 0, half at 1); ½√2 for K = 2."""
    return math.sqrt((n_slots // 2) * ((n_slots + 1) // 2) / n_slots)


def diagonal_distance(z: torch.Tensor) -> torch.Tensor:
    """Per row and latent dimension, the distance of (z_1j, …, z_Kj) to the diagonal line:
    ‖z_·j − mean_k z_kj·1‖₂, shape (n, d) from z of shape (n, K, d)."""
    return (z - z.mean(dim=1, keepdim=True)).norm(dim=1)


def _check(n: int, n_slots: int, slot_dim: int) -> None:
    for name, value, low in (("n", n, 0), ("n_slots", n_slots, 1), ("slot_dim", slot_dim, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")


def check_delta(delta: float, n_slots: int) -> None:
    limit = max_delta(n_slots)
    if not 0 < delta < limit:
        raise ValueError(
            f"delta must be in (0, {limit:.4f}) for {n_slots} slots (the distance to the diagonal "
            f"beyond which no point of the cube lies; larger leaves no ood set), got {delta}"
        )


def check_planes(planes, n_slots: int, slot_dim: int) -> tuple[Plane, ...]:
    planes = tuple(planes)
    ok = bool(planes) and all(
        len(plane) == 2
        and isinstance(plane[0], int)
        and 0 <= plane[0] < n_slots
        and len(plane[1]) == slot_dim
        and all(0.0 <= float(v) <= 1.0 for v in plane[1])
        for plane in planes
    )
    if not ok:
        raise ValueError(
            f"planes must be pairs (slot in 0..{n_slots - 1}, {slot_dim} fixed values in [0, 1]), "
            f"got {planes!r}"
        )
    return planes


def _rounds(sample_batch, keep, n: int, shape: tuple[int, ...], generator) -> torch.Tensor:
    """Rejection sampling in whole batches: draw, keep rows where ``keep`` holds, until n."""
    kept, total = [], 0
    for _ in range(200):
        if total >= n:
            break
        batch = sample_batch(max(2 * (n - total), 64), generator)
        batch = batch[keep(batch)]
        kept.append(batch)
        total += len(batch)
    if total < n:
        raise ValueError(
            f"the support is too small to sample from: {total} of {n} rows accepted in 200 rounds"
        )
    return torch.cat(kept)[:n] if kept else torch.empty(0, *shape)


def _diagonal_batch(m: int, n_slots: int, slot_dim: int, delta: float, generator) -> torch.Tensor:
    t = torch.rand(m, 1, slot_dim, generator=generator)
    direction = torch.randn(m, n_slots, slot_dim, generator=generator)
    direction = direction - direction.mean(dim=1, keepdim=True)  # orthogonal to the diagonal
    direction = direction / direction.norm(dim=1, keepdim=True).clamp_min(1e-12)
    radius = torch.rand(m, 1, slot_dim, generator=generator) ** (1.0 / max(n_slots - 1, 1))
    return t + delta * radius * direction


def _plane_batch(m: int, n_slots: int, slot_dim: int, planes, generator) -> torch.Tensor:
    """m rows, each on a plane chosen uniformly (the reference: an equal share per plane)."""
    which = torch.randint(len(planes), (m,), generator=generator)
    fixed = torch.tensor([p[1] for p in planes], dtype=torch.float32)  # (P, d)
    varying = torch.tensor([p[0] for p in planes])  # (P,)
    z = fixed[which].unsqueeze(1).expand(m, n_slots, slot_dim).clone()
    free = torch.rand(m, slot_dim, generator=generator)
    z[torch.arange(m), varying[which]] = free
    return z


def _on_plane_distance(z: torch.Tensor, planes) -> torch.Tensor:
    """Per row, the max-norm distance of the fixed slots to the nearest plane, shape (n,)."""
    n_slots = z.shape[1]
    distances = []
    for slot, values in planes:
        others = [k for k in range(n_slots) if k != slot]
        if not others:
            distances.append(torch.zeros(len(z)))
            continue
        fixed = torch.tensor(values, dtype=z.dtype)
        distances.append((z[:, others] - fixed).abs().amax(dim=(1, 2)))
    return torch.stack(distances, 1).amin(1)


def _in_gap(z: torch.Tensor) -> torch.Tensor:
    slot, latent, low, high = GAP
    value = z[:, slot, latent]
    return (value >= low) & (value <= high)


def _inside(z: torch.Tensor) -> torch.Tensor:
    return ((z >= 0) & (z <= 1)).flatten(1).all(1)


def sample_support(
    support: str,
    n: int,
    n_slots: int,
    slot_dim: int,
    *,
    generator: torch.Generator,
    delta: float = 0.1,
    planes=None,
) -> torch.Tensor:
    """n latent rows (n, K, d) from a training support (module docstring); float32 in [0, 1]."""
    _check(n, n_slots, slot_dim)
    shape = (n_slots, slot_dim)
    if support == "random":
        return torch.rand(n, *shape, generator=generator)
    if support == "diagonal":
        check_delta(delta, n_slots)
        return _rounds(
            lambda m, g: _diagonal_batch(m, n_slots, slot_dim, delta, g), _inside, n, shape,
            generator,
        )  # fmt: skip
    if support in ("orthogonal", "orthogonal_gap"):
        planes = check_planes(planes or default_planes(n_slots, slot_dim), n_slots, slot_dim)
        if support == "orthogonal":
            return _plane_batch(n, n_slots, slot_dim, planes, generator)
        return _rounds(
            lambda m, g: _plane_batch(m, n_slots, slot_dim, planes, g),
            lambda z: ~_in_gap(z),
            n,
            shape,
            generator,
        )
    raise ValueError(f"support must be one of {', '.join(SUPPORTS)}, got {support!r}")


def in_support(
    z: torch.Tensor,
    support: str,
    *,
    delta: float = 0.1,
    planes=None,
    tolerance: float = 1e-6,
) -> torch.Tensor:
    """Boolean (n,): which rows of z (n, K, d) lie in the support (up to ``tolerance``)."""
    n_slots, slot_dim = z.shape[1], z.shape[2]
    inside = ((z >= -tolerance) & (z <= 1 + tolerance)).flatten(1).all(1)
    if support == "random":
        return inside
    if support == "diagonal":
        return inside & (diagonal_distance(z) <= delta + tolerance).all(1)
    if support in ("orthogonal", "orthogonal_gap"):
        planes = check_planes(planes or default_planes(n_slots, slot_dim), n_slots, slot_dim)
        on = inside & (_on_plane_distance(z, planes) <= tolerance)
        return on & ~_in_gap(z) if support == "orthogonal_gap" else on
    raise ValueError(f"support must be one of {', '.join(SUPPORTS)}, got {support!r}")


def sample_ood(
    support: str,
    n: int,
    n_slots: int,
    slot_dim: int,
    *,
    generator: torch.Generator,
    delta: float = 0.1,
    planes=None,
    margin: float = 0.05,
) -> torch.Tensor:
    """n rows (n, K, d) off the training support (module docstring: ``ood``)."""
    _check(n, n_slots, slot_dim)
    shape = (n_slots, slot_dim)

    def uniform(m, g):
        return torch.rand(m, *shape, generator=g)

    if support in ("random", "diagonal"):
        check_delta(delta, n_slots)
        return _rounds(
            uniform, lambda z: (diagonal_distance(z) > delta).any(1), n, shape, generator
        )
    if support in ("orthogonal", "orthogonal_gap"):
        planes = check_planes(planes or default_planes(n_slots, slot_dim), n_slots, slot_dim)
        off = _rounds(
            uniform, lambda z: _on_plane_distance(z, planes) > margin, n, shape, generator
        )
        if support == "orthogonal":
            return off
        # half of the rows from the planes' gap: in-plane, but unseen values of slot 0
        gap = _rounds(
            lambda m, g: _plane_batch(m, n_slots, slot_dim, planes, g), _in_gap, n // 2, shape,
            generator,
        )  # fmt: skip
        mixed = torch.cat([off[: n - len(gap)], gap])
        return mixed[torch.randperm(n, generator=generator)]
    raise ValueError(f"support must be one of {', '.join(SUPPORTS)}, got {support!r}")
