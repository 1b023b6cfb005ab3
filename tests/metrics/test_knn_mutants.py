"""k-NN accuracy: the finer points the main tests leave open (found by mutation testing): the
majority vote against the nearest neighbour, the default k, a one-point memory, per-row scale of
the memory (cosine, not dot product), exact ties between memory points, and which argument an
error names."""

from __future__ import annotations

import numpy as np
import pytest

from identifiable.metrics.knn import knn_accuracy


def test_the_majority_beats_the_nearest_neighbour():
    """k = 3: the nearest neighbour says 1, the next two say 0 → the majority 0 wins (2 votes
    against 1); the nearest neighbour only breaks ties, it is not a 1-NN classifier."""
    memory = np.array([[1.0, 0.0], [0.9, 0.3], [0.9, -0.3], [-1.0, 0.0]])
    labels = np.array([1, 0, 0, 1])
    query = [[1.0, 0.0]]
    assert knn_accuracy(memory, labels, query, [0], k=3) == 1.0
    assert knn_accuracy(memory, labels, query, [1], k=1) == 1.0  # its nearest alone says 1


def test_the_default_k_is_five():
    """Without k, five neighbours vote: a memory of exactly five points is allowed, and its three
    far points of class 1 outvote the two near points of class 0."""
    memory = np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [-0.1, 1.0], [0.1, 1.0]])
    labels = np.array([0, 0, 1, 1, 1])
    query = [[1.0, 0.05]]
    assert knn_accuracy(memory, labels, query, [1]) == 1.0
    assert knn_accuracy(memory, labels, query, [0], k=2) == 1.0


def test_a_memory_of_one_point_labels_every_query():
    """One labelled point is a valid memory (k = 1): every query gets its label."""
    queries = np.random.default_rng(0).normal(size=(7, 3))
    assert knn_accuracy([[1.0, 2.0, 3.0]], [4], queries, np.full(7, 4), k=1) == 1.0
    assert knn_accuracy([[1.0, 2.0, 3.0]], [4], queries, np.full(7, 5), k=1) == 0.0


def test_each_memory_row_is_normalised_including_short_ones():
    """Cosine similarity: a short memory row (‖·‖ < 1) close in angle beats a longer one far in
    angle (the dot product would pick the longer one), and rescaling every memory row by its own
    factor leaves the score unchanged."""
    memory = np.array([[0.1, 0.0], [0.5, 0.5]])
    assert knn_accuracy(memory, [0, 1], [[1.0, 0.1]], [0], k=1) == 1.0
    memory = np.array([[1.0, 0.0], [10.0, 10.0]])
    assert knn_accuracy(memory, [0, 1], [[1.0, 0.1]], [0], k=1) == 1.0

    rng = np.random.default_rng(1)
    centres = rng.normal(size=(3, 5))
    y = np.repeat(np.arange(3), 20)
    memory = centres[y] + 0.6 * rng.normal(size=(60, 5))
    queries, y_q = centres[y] + 0.6 * rng.normal(size=(60, 5)), y
    scale = 10.0 ** rng.uniform(-3, 3, size=(60, 1))
    plain = knn_accuracy(memory, y, queries, y_q, k=5)
    assert 0.3 < plain < 1.0  # a score with errors, so a wrong neighbour order would show
    assert knn_accuracy(memory * scale, y, queries, y_q, k=5) == plain


def test_equally_similar_memory_points_count_in_memory_order():
    """Exact duplicates in memory (equal cosine) are ordered as they come, earlier = nearer, so
    the k nearest are well defined: at k = 1 each query takes the label of the *first* copy of
    its duplicate group (a stable sort; an unstable one picks any copy)."""
    rng = np.random.default_rng(1)
    group = rng.integers(0, 4, 64)
    labels = rng.integers(0, 2, 64)
    memory = np.eye(4)[group]
    first = np.array([labels[np.flatnonzero(group == g)[0]] for g in range(4)])
    assert knn_accuracy(memory, labels, np.eye(4), first, k=1) == 1.0


@pytest.mark.parametrize("bad", ["memory", "queries"])
def test_a_bad_value_is_reported_under_its_argument_name(bad):
    """NaN in the memory is reported as the memory's, in the queries as the queries'."""
    arrays = {"memory": np.ones((3, 2)), "queries": np.ones((2, 2))}
    arrays[bad][0, 0] = np.nan
    with pytest.raises(ValueError, match=f"{bad} contains 1 NaN"):
        knn_accuracy(arrays["memory"], [0, 1, 0], arrays["queries"], [0, 1], k=1)
