"""Losses as pure functions of representations or logits, one family per module.

* :mod:`~identifiable.losses.contrastive`: InfoNCE and AnInfoNCE (Zimmermann et al. 2021,
  arXiv:2102.08850; Rusak et al. 2025, arXiv:2407.00143).
* :mod:`~identifiable.losses.stablemax`: StableMax and its cross-entropy, softmax cross-entropy
  at a chosen floating-point precision, and the softmax-collapse diagnostic (Prieto et al. 2025,
  arXiv:2501.04697).
* :mod:`~identifiable.losses.x_sample`: the X-Sample contrastive loss, InfoNCE with soft targets
  from a similarity graph (Sobal et al. 2024, arXiv:2407.18134).
"""

from identifiable.losses.contrastive import SIMILARITIES, an_info_nce, info_nce, similarity_matrix
from identifiable.losses.stablemax import (
    PRECISIONS,
    log_stablemax,
    softmax_collapse_fraction,
    softmax_cross_entropy,
    stablemax,
    stablemax_cross_entropy,
)
from identifiable.losses.x_sample import graph_targets, same_label_targets, x_sample_loss

__all__ = [
    "PRECISIONS",
    "SIMILARITIES",
    "an_info_nce",
    "graph_targets",
    "info_nce",
    "log_stablemax",
    "same_label_targets",
    "similarity_matrix",
    "softmax_collapse_fraction",
    "softmax_cross_entropy",
    "stablemax",
    "stablemax_cross_entropy",
    "x_sample_loss",
]
