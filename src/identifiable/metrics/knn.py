"""k-nearest-neighbour classification accuracy of representations: the standard probe of what a
self-supervised representation encodes without training a head (Wu et al. 2018, "Unsupervised
Feature Learning via Non-Parametric Instance Discrimination", arXiv:1805.01978; used by X-CLR,
Sobal et al. 2024, arXiv:2407.18134, to read super-class structure off a representation).

    ŷ(q) = the majority label among the k memory points nearest to q
           (cosine similarity; ties broken towards the nearest neighbour's label)
    accuracy = (1/n) Σ_q 1[ŷ(q) = y(q)]
"""

from __future__ import annotations

import numpy as np

from identifiable._validation import as_2d_array
from identifiable.metrics._registry import metric

__all__ = ["knn_accuracy"]


@metric(higher_is_better=True, kind="proportion", forgives="any rescaling of each row")
def knn_accuracy(memory, memory_labels, queries, query_labels, k: int = 5) -> float:
    """Share of queries whose k cosine-nearest memory points vote for their label.

    memory: (m, d) representations of labelled points; queries: (n, d); labels: integer arrays
    of length m and n. Higher is better, in [0, 1]: 1.0 when every query's neighbours carry its
    label; about the majority-class share for representations unrelated to the labels.
    """
    h_mem = as_2d_array("memory", memory, min_rows=1)
    h_q = as_2d_array("queries", queries, min_rows=1)
    y_mem = np.asarray(memory_labels).ravel()
    y_q = np.asarray(query_labels).ravel()
    if h_mem.shape[1] != h_q.shape[1]:
        raise ValueError(
            f"memory and queries must have the same width, got {h_mem.shape[1]} and {h_q.shape[1]}"
        )
    if len(y_mem) != len(h_mem) or len(y_q) != len(h_q):
        raise ValueError(
            f"need one label per row: memory {len(h_mem)} rows / {len(y_mem)} labels, queries "
            f"{len(h_q)} rows / {len(y_q)} labels"
        )
    if not isinstance(k, int | np.integer) or not 1 <= k <= len(h_mem):
        raise ValueError(f"k must be an int in [1, {len(h_mem)}] (the memory's size), got {k!r}")
    classes, y_mem = np.unique(y_mem, return_inverse=True)
    a = h_mem / np.maximum(np.linalg.norm(h_mem, axis=1, keepdims=True), 1e-12)
    b = h_q / np.maximum(np.linalg.norm(h_q, axis=1, keepdims=True), 1e-12)
    similarity = b @ a.T
    nearest = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    votes = np.zeros((len(b), len(classes)))
    np.add.at(votes, (np.arange(len(b))[:, None], y_mem[nearest]), 1.0)
    # ties: a tiny bonus to the nearest neighbour's class decides
    votes[np.arange(len(b)), y_mem[nearest[:, 0]]] += 0.5
    predicted = classes[votes.argmax(axis=1)]
    return float((predicted == y_q).mean())
