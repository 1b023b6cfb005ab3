"""Composition functions C: per-slot renderings → one observation, x = C(φ_1(z_1), …, φ_K(z_K)).

Wiedemer, Mayilvahanan, Bethge, Brendel (2023), "Compositional Generalization from First
Principles", NeurIPS, arXiv:2307.05596 (code brendel-group/compositional-ood-generalization,
``src/models.py``): the composition is known and shared by the ground truth and the compositional
model, so only the per-slot functions are learned.

Renderings have shape (n, K, C, *rest): K slots, a channel axis C (RGB for images; the channels of
each "pixel" for the vector variant), any trailing axes. Slot 0 is in front.

==========  ==========================================================================
``sum``     x = Σ_k φ_k  (additive: objects never occlude)
``occlude`` the reference's ``OccludeAdd(add="sigmoid")``, folded from the front:
            x ← φ_0;  for k = 1..K−1:  x ← x·σ(α·s) + φ_k·σ(−α·s),  s = Σ_c x_c
            (s per pixel: the channel sum of what is in front; α = 1). Where the front is
            black (s = 0) a back object shows at half intensity, as in the reference
``alpha``   "over" compositing with the last channel as opacity a ∈ [0, 1] (clamped), front
            to back over a black canvas: x = Σ_k a_k Π_{j<k} (1 − a_j) · rgb_k; returns the
            colour channels only (C − 1 of them)
==========  ==========================================================================
"""

from __future__ import annotations

import torch

__all__ = ["COMPOSITIONS", "compose", "n_channels_in"]

COMPOSITIONS = ("sum", "occlude", "alpha")


def n_channels_in(composition: str, channels: int) -> int:
    """Channels each slot must render to give ``channels`` observed ones (alpha adds opacity)."""
    return channels + 1 if composition == "alpha" else channels


def compose(renders: torch.Tensor, composition: str = "sum", *, alpha: float = 1.0) -> torch.Tensor:
    """x = C(renders) (module docstring): (n, K, C, *rest) → (n, C, *rest) (C − 1 for alpha)."""
    if composition not in COMPOSITIONS:
        raise ValueError(
            f"composition must be one of {', '.join(COMPOSITIONS)}, got {composition!r}"
        )
    if renders.ndim < 3:
        raise ValueError(f"renders must have shape (n, K, C, ...), got {tuple(renders.shape)}")
    if composition == "sum":
        return renders.sum(dim=1)
    if composition == "occlude":
        out = renders[:, 0]
        for k in range(1, renders.shape[1]):
            s = alpha * out.sum(dim=1, keepdim=True)
            out = out * torch.sigmoid(s) + renders[:, k] * torch.sigmoid(-s)
        return out
    if renders.shape[2] < 2:
        raise ValueError("composition='alpha' needs a colour channel and an opacity channel")
    colour, opacity = renders[:, :, :-1], renders[:, :, -1:].clamp(0.0, 1.0)
    behind = torch.cumprod(1.0 - opacity, dim=1)
    visible = opacity * torch.cat([torch.ones_like(behind[:, :1]), behind[:, :-1]], dim=1)
    return (visible * colour).sum(dim=1)
