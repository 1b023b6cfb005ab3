"""Which slot explains which pixel: ARI against object masks, the decoder's slot Jacobians, J-ARI
and the Jacobian interaction score (JIS).

Brady, von Kügelgen, Lachapelle, Buchholz, Kipf, Brendel (2024), "Interaction Asymmetry: A
General Principle for Learning Composable Abstractions", arXiv:2411.07784; official code
JackBrady/interaction-asymmetry (``eval/eval_metrics.py``, read for the facts).

Slot Jacobian norms of a decoder f: R^{K×d} → R^{C×H×W} at slots ẑ, per pixel p and slot k,

    N_k(p) = Σ_c Σ_i |∂f_{c,p}(ẑ) / ∂ẑ_{k,i}|          (L1 over channels and slot latents)

computed with forward-mode ``torch.func.jacfwd`` (K·d JVPs) under ``vmap`` over scenes, and
normalised over slots, N̄_k(p) = N_k(p) / Σ_j N_j(p) (1/K where no slot moves the pixel).

* ``ari``: the adjusted Rand index (Hubert and Arabie 1985) between the ground-truth object label
  of each *foreground* pixel and a predicted label (argmax over slots of a mask), per scene, then
  averaged over scenes (scenes without foreground are skipped). Forgives any permutation of slots;
  1 = the same partition, ≈ 0 = chance, may be negative. Background pixels are left out as in the
  reference (FG-ARI).
* ``j_ari``: ``ari`` with the mask N̄ — which slot the decoder's output at p depends on most.
* ``jacobian_interaction_score`` (JIS): the mean over foreground pixels (pooled over scenes) of
  max_k N̄_k(p), rescaled from [1/K, 1] to [0, 1]: 1 when every object pixel depends on one slot
  only, 0 when it depends on all slots equally. Forgives permutations of slots and any
  reparametrisation within a slot; it does not ask *which* slot is the object's (J-ARI does).

All higher is better. Labels: ground-truth masks (n, K_obj, H, W) with background 1 − Σ masks
(the sprites world's visible masks) give label 0 (background) or 1..K_obj by argmax.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from identifiable.metrics._registry import metric

__all__ = [
    "adjusted_rand_index",
    "ari",
    "foreground_labels",
    "j_ari",
    "jacobian_interaction_score",
    "normalized_slot_jacobians",
    "slot_jacobian_norms",
]


_JACOBIAN_BUDGET = 1 << 18  # numbers per chunk of scene Jacobians


def _tensor(name: str, value, ndim: int) -> torch.Tensor:
    try:
        tensor = value if isinstance(value, torch.Tensor) else torch.from_numpy(np.array(value))
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a numeric array") from error
    tensor = tensor.detach().cpu()
    if tensor.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(tensor.shape)}")
    if tensor.is_floating_point() and not torch.isfinite(tensor).all():
        raise ValueError(f"{name} contains NaN or inf")
    return tensor


def foreground_labels(object_masks) -> torch.Tensor:
    """Object masks (n, K, H, W), background 1 − Σ_k masks → labels (n, H·W): 0 = background,
    k = 1..K the object with the largest share of the pixel."""
    masks = _tensor("object_masks", object_masks, 4).double()
    background = (1.0 - masks.sum(dim=1, keepdim=True)).clamp_min(0.0)
    return torch.cat([background, masks], dim=1).argmax(dim=1).flatten(1)


def adjusted_rand_index(labels_true, labels_pred, weights=None) -> torch.Tensor:
    """ARI of each row: labels (n, P) as integers, ``weights`` (n, P) in {0, 1} picks the points.

    The pair-counting form of scikit-learn's ``adjusted_rand_score`` (its
    ``pair_confusion_matrix``), vectorised over rows through contingency tables:
    ARI = 2(tp·tn − fn·fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn)), and 1 when the two
    partitions agree on every pair (fn = fp = 0). Rows with no point are NaN.
    """
    true = _tensor("labels_true", labels_true, 2).long()
    pred = _tensor("labels_pred", labels_pred, 2).long()
    if true.shape != pred.shape:
        raise ValueError(
            f"labels_true and labels_pred must have the same shape, got {tuple(true.shape)} "
            f"and {tuple(pred.shape)}"
        )
    if (true < 0).any() or (pred < 0).any():
        raise ValueError("labels must be non-negative integers")
    w = torch.ones(true.shape, dtype=torch.float64) if weights is None else (
        _tensor("weights", weights, 2).double()
    )  # fmt: skip
    if w.shape != true.shape:
        raise ValueError(f"weights must have shape {tuple(true.shape)}, got {tuple(w.shape)}")
    one_true = torch.nn.functional.one_hot(true, int(true.max()) + 1).double() * w[..., None]
    one_pred = torch.nn.functional.one_hot(pred, int(pred.max()) + 1).double()
    table = torch.einsum("npa,npb->nab", one_true, one_pred)  # contingency n_ab per row
    n = table.sum(dim=(1, 2))
    squares = table.pow(2).sum(dim=(1, 2))
    rows, cols = table.sum(dim=2), table.sum(dim=1)
    tp = squares - n
    fp = cols.pow(2).sum(dim=1) - squares
    fn = rows.pow(2).sum(dim=1) - squares
    tn = n.pow(2) - fp - fn - squares
    denominator = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn)
    agree = (fn == 0) & (fp == 0)
    value = torch.where(agree, 1.0, 2.0 * (tp * tn - fn * fp) / denominator.clamp_min(1e-300))
    return torch.where(n > 0, value, torch.nan)


def _foreground_ari(object_masks, predicted: torch.Tensor) -> float:
    labels = foreground_labels(object_masks)
    if predicted.shape[0] != labels.shape[0] or predicted.shape[2:] != object_masks.shape[2:]:
        raise ValueError(
            f"predicted masks {tuple(predicted.shape)} and object masks "
            f"{tuple(object_masks.shape)} must agree on scenes and image size"
        )
    scores = adjusted_rand_index(labels, predicted.argmax(dim=1).flatten(1), labels > 0)
    scores = scores[~torch.isnan(scores)]
    if len(scores) == 0:
        raise ValueError("no scene has a foreground pixel: ARI is undefined")
    return float(scores.mean())


@metric(higher_is_better=True, bounds=(-1.0, 1.0), forgives="permutation of slots")
def ari(object_masks, slot_masks) -> float:
    """Foreground ARI between the objects and argmax_k of ``slot_masks`` (n, K, H, W), averaged
    over scenes (module docstring)."""
    truth = _tensor("object_masks", object_masks, 4)
    return _foreground_ari(truth, _tensor("slot_masks", slot_masks, 4))


def slot_jacobian_norms(
    decode: Callable[[torch.Tensor], torch.Tensor],
    slots: torch.Tensor,
    *,
    chunk: int | None = None,
) -> torch.Tensor:
    """N_k(p) = Σ_c Σ_i |∂f_{c,p}/∂ẑ_{k,i}| for slots (n, K, d) → (n, K, H, W).

    ``decode`` maps slots (m, K, d) to images (m, C, H, W) and must be composed of operations
    ``torch.func`` can differentiate forward (no in-place updates of inputs, no ``.item()``).
    Scenes are taken ``chunk`` at a time; by default as many as keep one chunk's Jacobian within
    2¹⁸ numbers (one scene's holds C·H·W·K·d): on a CPU, larger chunks only add memory traffic
    (32×32 images, 3 slots of 16: one scene per chunk ran 2.4× faster than 16).
    """
    slots = _tensor("slots", slots, 3).float()
    if len(slots) == 0:
        raise ValueError("slots must hold at least one scene")

    def one(scene: torch.Tensor) -> torch.Tensor:  # (K, d) → (C, H, W)
        return decode(scene.unsqueeze(0)).squeeze(0)

    jac = torch.func.vmap(torch.func.jacfwd(one))
    parts = []
    with torch.no_grad():
        if chunk is None:
            per_scene = decode(slots[:1]).numel() * slots[0].numel()
            chunk = max(1, _JACOBIAN_BUDGET // per_scene)
        for start in range(0, len(slots), chunk):
            j = jac(slots[start : start + chunk])  # (m, C, H, W, K, d)
            parts.append(j.abs().sum(dim=(1, 5)).permute(0, 3, 1, 2))
    return torch.cat(parts)


def normalized_slot_jacobians(norms) -> torch.Tensor:
    """N̄_k(p) = N_k(p) / Σ_j N_j(p); 1/K at pixels no slot moves."""
    norms = _tensor("norms", norms, 4).double()
    if (norms < 0).any():
        raise ValueError("Jacobian norms must be non-negative")
    total = norms.sum(dim=1, keepdim=True)
    uniform = torch.full_like(norms, 1.0 / norms.shape[1])
    return torch.where(total > 0, norms / total.clamp_min(1e-300), uniform)


@metric(higher_is_better=True, bounds=(-1.0, 1.0), forgives="permutation of slots")
def j_ari(object_masks, jacobian_norms) -> float:
    """Foreground ARI between the objects and argmax_k N_k(p) of the decoder's slot Jacobian
    norms (n, K, H, W) (module docstring)."""
    truth = _tensor("object_masks", object_masks, 4)
    norms = _tensor("jacobian_norms", jacobian_norms, 4)
    return _foreground_ari(truth, normalized_slot_jacobians(norms))


@metric(
    higher_is_better=True,
    bounds=(0.0, 1.0),
    forgives="permutation of slots; reparametrisation within a slot",
)
def jacobian_interaction_score(object_masks, jacobian_norms) -> float:
    """JIS = (mean over foreground pixels of max_k N̄_k(p) − 1/K) / (1 − 1/K) (module
    docstring)."""
    truth = _tensor("object_masks", object_masks, 4)
    normalized = normalized_slot_jacobians(_tensor("jacobian_norms", jacobian_norms, 4))
    if normalized.shape[0] != truth.shape[0] or normalized.shape[2:] != truth.shape[2:]:
        raise ValueError(
            f"Jacobian norms {tuple(normalized.shape)} and object masks {tuple(truth.shape)} "
            "must agree on scenes and image size"
        )
    k = normalized.shape[1]
    if k < 2:
        raise ValueError("JIS needs at least 2 slots")
    foreground = foreground_labels(truth) > 0
    if not foreground.any():
        raise ValueError("no scene has a foreground pixel: JIS is undefined")
    best = normalized.max(dim=1).values.flatten(1)[foreground]
    return float((best.mean() - 1.0 / k) / (1.0 - 1.0 / k))
