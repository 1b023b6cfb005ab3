"""X-Sample contrastive loss: InfoNCE's one-positive target replaced by a soft similarity graph.

Sobal, Ibrahim, Balestriero, Cabannes, Bouchacourt, Astolfi, Cho, LeCun (2024), "X-Sample
Contrastive Loss: Improving Contrastive Learning with Sample Similarity Graphs", arXiv:2407.18134
(ICLR 2025; no official code). A contrastive loss fits a similarity graph between samples: InfoNCE
fits the binary graph "i is similar only to its own positive", SupCon the binary graph "same
class". X-CLR fits a *soft* graph G (G_ii = 1; in the paper the cosine similarity of frozen text
embeddings of the samples' captions or class names), turned into one target distribution per row
by a softmax over the batch:

    s_ij = exp(G_ij / τ_s) / Σ_k exp(G_ik / τ_s)                   (targets; rows sum to 1)
    p_ij = exp(h_iᵀh̃_j / τ) / Σ_k exp(h_iᵀh̃_k / τ)                 (the model's row softmax)
    L    = −(1/B) Σ_i Σ_j s_ij log p_ij                           (cross-entropy, soft targets)

with h = f(x), h̃ = f(x̃) the representations of two views of the same B samples. Special cases
(tested): one-hot targets s = I give InfoNCE (:func:`~identifiable.losses.info_nce`) exactly;
targets uniform over the same-class candidates give SupCon's L_out in its cross-view form
(Khosla et al. 2020, arXiv:2004.11362), the τ_s → 0 limit of a 0/1 class graph.

The loss is one-directional (anchors against the other view), as the paper's loss is: no
symmetric image↔text form was found in its text. The temperatures τ and τ_s were not readable in
the paper; both are parameters (0.1 each by default, as the re-implementations use).
"""

from __future__ import annotations

import torch

from identifiable.losses.contrastive import similarity_matrix

__all__ = ["graph_targets", "same_label_targets", "x_sample_loss"]


def graph_targets(graph: torch.Tensor, tau_graph: float) -> torch.Tensor:
    """s = row-softmax(G / τ_s): the target distribution of every row of a (B, B) similarity graph.

    ``graph`` must be square with finite, non-negative weights; τ_s > 0 (small = sharp targets,
    close to the argmax set of each row; large = near-uniform targets, no contrast left).
    """
    _check_graph(graph)
    if not tau_graph > 0:
        raise ValueError(f"tau_graph must be > 0, got {tau_graph}")
    return torch.softmax(graph / tau_graph, dim=1)


def same_label_targets(labels: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """SupCon's binary graph as targets: s_ij = 1[y_i = y_j] / #{k : y_k = y_i}, shape (B, B).

    ``dtype`` of the result (the default float dtype when None)."""
    if labels.ndim != 1:
        raise ValueError(f"labels must be one-dimensional, got shape {tuple(labels.shape)}")
    same = (labels[:, None] == labels[None, :]).to(dtype or torch.get_default_dtype())
    return same / same.sum(dim=1, keepdim=True)


def x_sample_loss(
    h: torch.Tensor, h_pos: torch.Tensor, targets: torch.Tensor, tau: float, similarity="dot"
) -> torch.Tensor:
    """L = −(1/B) Σ_ij s_ij log softmax_j(s(h_i, h̃_j)/τ) (module docstring); a scalar tensor.

    h, h_pos: (B, d) representations of two views, row i of both from sample i; targets: (B, B),
    non-negative rows summing to 1 (from :func:`graph_targets` or :func:`same_label_targets`);
    tau > 0. ``similarity`` as InfoNCE's ("dot" on normalised representations in the paper).
    """
    if h.ndim != 2 or h.shape != h_pos.shape:
        raise ValueError(
            f"h and h_pos must both have shape (batch, dim), got {tuple(h.shape)} and "
            f"{tuple(h_pos.shape)}"
        )
    batch = h.shape[0]
    if batch < 2:
        raise ValueError(f"the X-Sample loss needs a batch of at least 2, got {batch}")
    if targets.shape != (batch, batch):
        raise ValueError(f"targets must have shape ({batch}, {batch}), got {tuple(targets.shape)}")
    if not tau > 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    log_p = torch.log_softmax(similarity_matrix(h, h_pos, similarity) / tau, dim=1)
    return -(targets.to(log_p.dtype) * log_p).sum(dim=1).mean()


def _check_graph(graph: torch.Tensor) -> None:
    if graph.ndim != 2 or graph.shape[0] != graph.shape[1]:
        raise ValueError(f"the similarity graph must be square, got shape {tuple(graph.shape)}")
    low, high = torch.aminmax(graph)  # one pass; NaN propagates into both
    if not (torch.isfinite(low) and torch.isfinite(high)):
        raise ValueError("the similarity graph has NaN or infinite entries")
    if low < 0:
        raise ValueError(
            f"similarity graph weights must be >= 0, got a minimum of {float(low):.3g}; "
            "shift a cosine graph by +1 (adding a constant leaves the softmax targets unchanged)"
        )
