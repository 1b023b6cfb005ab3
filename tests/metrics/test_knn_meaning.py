"""k-NN accuracy: perfect recovery, useless input, a hand example, ties, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from identifiable.metrics import metric_info
from identifiable.metrics.knn import knn_accuracy

CENTRES = np.random.default_rng(0).normal(size=(4, 6))


def _clusters(n_per=30, spread=0.05, seed=0):
    labels = np.repeat(np.arange(len(CENTRES)), n_per)
    noise = np.random.default_rng(seed).normal(size=(len(labels), CENTRES.shape[1]))
    return CENTRES[labels] + spread * noise, labels


def test_perfect_recovery_scores_one():
    memory, y = _clusters()
    queries, y_q = _clusters(n_per=10, seed=1)
    assert knn_accuracy(memory, y, queries, y_q, k=5) == 1.0
    # invariant to rescaling rows (cosine)
    assert knn_accuracy(memory * 3.0, y, queries * np.arange(1, 41)[:, None], y_q, k=5) == 1.0


def test_useless_representation_scores_chance():
    rng = np.random.default_rng(3)
    memory, queries = rng.normal(size=(2000, 8)), rng.normal(size=(2000, 8))
    y, y_q = rng.integers(0, 4, 2000), rng.integers(0, 4, 2000)
    assert abs(knn_accuracy(memory, y, queries, y_q, k=5) - 0.25) < 0.04


def test_hand_example_majority_and_tie():
    memory = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [-1.0, 0.0]])
    labels = np.array([0, 0, 1, 1, 2])
    # query near the first two: both neighbours say 0
    assert knn_accuracy(memory, labels, [[1.0, 0.05]], [0], k=2) == 1.0
    # k = 3 at (1, 1)/√2: neighbours 1 (0.1/0.9 side), 0, 1 → majority 1
    q = np.array([[0.6, 0.8]])
    assert knn_accuracy(memory, labels, q, [1], k=3) == 1.0
    # a 1–1 tie at k = 2 goes to the nearest neighbour's label
    q = np.array([[0.75, 0.7]])  # nearest (0.9, 0.1)? cosines: 0.79 vs 0.70 for (0.1, 0.9)
    nearest = labels[np.argmax(memory @ q[0] / np.linalg.norm(memory, axis=1))]
    assert knn_accuracy(memory[[1, 3]], labels[[1, 3]], q, [nearest], k=2) == 1.0
    assert knn_accuracy(memory[[1, 3]], labels[[1, 3]], q, [1 - nearest], k=2) == 0.0


def test_labels_need_not_be_contiguous():
    memory, y = _clusters()
    assert knn_accuracy(memory, y * 10 + 7, memory, y * 10 + 7, k=1) == 1.0


def test_declared_meaning():
    info = metric_info("knn_accuracy")
    assert info.higher_is_better is True and info.bounds == (0.0, 1.0)
    assert metric_info("xs_superclass_knn_accuracy_n100").name == "xs_superclass_knn_accuracy_n100"


@pytest.mark.parametrize(
    "args, message",
    [
        ((np.ones((3, 2)), [0, 1, 0], np.ones((2, 3)), [0, 1]), "same width"),
        ((np.ones((3, 2)), [0, 1], np.ones((2, 2)), [0, 1]), "one label per row"),
        ((np.ones((3, 2)), [0, 1, 0], [[np.nan, 1.0]], [0]), "NaN"),
    ],
)
def test_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        knn_accuracy(*args, k=1)


def test_k_out_of_range():
    with pytest.raises(ValueError, match="k must be an int in"):
        knn_accuracy(np.ones((3, 2)), [0, 1, 0], np.ones((1, 2)), [0], k=4)
