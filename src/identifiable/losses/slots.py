"""Slot losses: the squared distance between two sets of slots under the best matching, and the
recombination step of the compositional consistency loss.

Wiedemer*, Brady*, Panfilov*, Juhos*, Bethge, Brendel (2024), "Provable Compositional
Generalization for Object-Centric Learning", ICLR, arXiv:2310.05327 (code brendel-group/objects-
compositional-generalization, ``metrics.hungarian_slots_loss``, ``sample_z_from_latents``):

    L_match(z̃, ẑ) = (1/n) Σ_i min_π Σ_k ‖s(z̃)_{i,k} − s(ẑ)_{i,π(k)}‖²

over scenes i, slots k and permutations π of the K slots, with s(t) = (t − mean(t)) / std(t)
one scalar mean and standard deviation of each whole tensor (the reference standardises both sides
so that the loss cannot be lowered by shrinking the slots). The reference solves the matching with
the Hungarian algorithm scene by scene; here every permutation's cost is computed at once (K! ≤
720 for K ≤ 6; the minimum over all permutations *is* the optimal assignment), so there is no
Python loop over scenes.

The consistency loss (the learner puts it together): slots ẑ = ĝ(x) of a batch are recombined —
``recombine_slots`` draws n·K slots uniformly with replacement from all B·K slots of the batch,
regardless of which scene they came from — decoded without gradient, clamped to the image range,
re-encoded, and matched to the recombined slots: L_cons = L_match(z̃, ĝ(f̂(z̃))); gradients reach
the encoder only.
"""

from __future__ import annotations

import itertools
import math

import torch

__all__ = ["matched_slot_distance", "recombine_slots", "slot_permutations"]

#: the largest K whose permutations are enumerated (6! = 720)
MAX_SLOTS = 6


def slot_permutations(n_slots: int, device: torch.device | None = None) -> torch.Tensor:
    """All K! permutations of range(K) as a (K!, K) int64 tensor."""
    if not 1 <= n_slots <= MAX_SLOTS:
        raise ValueError(
            f"slot matching enumerates permutations: n_slots must be in 1..{MAX_SLOTS}"
        )
    return torch.tensor(list(itertools.permutations(range(n_slots))), device=device)


def _standardise(t: torch.Tensor) -> torch.Tensor:
    return (t - t.mean()) / (t.std() + 1e-8)


def matched_slot_distance(
    target: torch.Tensor, predicted: torch.Tensor, *, standardise: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """L_match (module docstring) and the best permutation per scene.

    target, predicted: (n, K, d). Returns (loss: scalar tensor, differentiable in both inputs;
    permutation: (n, K) int64 with predicted[i, permutation[i, k]] matched to target[i, k]).
    """
    if target.ndim != 3 or target.shape != predicted.shape:
        raise ValueError(
            f"target and predicted must both have shape (n, K, d), got {tuple(target.shape)} and "
            f"{tuple(predicted.shape)}"
        )
    if standardise:
        target, predicted = _standardise(target), _standardise(predicted)
    n, k, _ = target.shape
    cost = torch.cdist(target, predicted).pow(2)  # (n, K, K): target slot × predicted slot
    perms = slot_permutations(k, target.device)  # (P, K)
    slots = torch.arange(k, device=target.device)
    per_perm = cost[:, slots, perms].sum(-1)  # (n, P): Σ_k cost[i, k, π(k)]
    best = per_perm.argmin(dim=1)
    return per_perm.gather(1, best[:, None]).mean(), perms[best]


def recombine_slots(
    slots: torch.Tensor, n_scenes: int, *, generator: torch.Generator
) -> torch.Tensor:
    """n_scenes new scenes of K slots drawn uniformly with replacement from all B·K slots of
    ``slots`` (B, K, d), detached: (n_scenes, K, d)."""
    b, k, d = slots.shape
    if b * k == 0 or n_scenes < 1:
        raise ValueError(f"need slots and n_scenes >= 1, got {tuple(slots.shape)} and {n_scenes}")
    picks = torch.randint(b * k, (n_scenes * k,), generator=generator).to(slots.device)
    return slots.detach().reshape(b * k, d)[picks].reshape(n_scenes, k, d)


def n_permutations(n_slots: int) -> int:
    """K!, the number of slot matchings compared per scene."""
    return math.factorial(n_slots)
