"""Multi-label metrics: the finer points that the main tests leave open (found by mutation
testing): the lowest-scored sample in AUC and AP, one-positive and all-positive classes, inputs
given as 0/1 numbers instead of booleans, k equal to the number of classes, and what the errors
name."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from identifiable.metrics.multilabel import (
    auc_scores,
    binarize,
    hits,
    multilabel_scores,
    top_k,
    top_k_scores,
)

CLASSES = ("dog", "cat", "car", "rain")


def test_auc_and_ap_when_a_positive_is_scored_lowest():
    # truth 1, 0, 1 at scores 3, 2, 1: AP = (1/2)·1 + (1/2)·(2/3) = 5/6; ROC-AUC = 1/2
    truth = np.array([[1], [0], [1]], dtype=bool)
    scores = np.array([[3.0], [2.0], [1.0]])
    got = auc_scores(truth, scores)
    assert got["auc_pr"] == pytest.approx(5 / 6)
    assert got["auc_roc"] == pytest.approx(0.5)
    # the lowest score alone is the positive: every negative ranks above it, AUC = 0
    got = auc_scores(np.array([[1], [0], [0]], dtype=bool), np.array([[0.0], [1.0], [2.0]]))
    assert got["auc_roc"] == 0.0 and got["auc_pr"] == pytest.approx(1 / 3)


def test_auc_counts_one_positive_classes_and_skips_all_positive_ones():
    rng = np.random.default_rng(0)
    y = rng.random((30, 3)) < 0.4
    y[:, 1] = False
    y[7, 1] = True  # exactly one positive: a valid class
    y[:, 2] = True  # no negative: skipped (its ROC-AUC is 0/0)
    scores = rng.normal(size=(30, 3))
    got = auc_scores(y, scores)
    expected_roc = np.mean([roc_auc_score(y[:, c], scores[:, c]) for c in (0, 1)])
    expected_pr = np.mean([average_precision_score(y[:, c], scores[:, c]) for c in (0, 1)])
    assert got["auc_roc"] == pytest.approx(expected_roc)
    assert got["auc_pr"] == pytest.approx(expected_pr)


def test_zero_one_numbers_and_hard_predictions_are_labels_and_scores():
    rng = np.random.default_rng(1)
    y = rng.random((40, 5)) < 0.3
    p = rng.random((40, 5)) < 0.3
    y[0, :] = True  # every class has a positive and (below) a negative
    y[1, :] = False
    expected = multilabel_scores(y, p)
    assert multilabel_scores(y.astype(float), p) == expected
    assert multilabel_scores(y, p.astype(float)) == expected
    assert hits(y.astype(float), p.astype(float)).tolist() == hits(y, p).tolist()
    # boolean predictions used as scores: the AUC of a hard classifier
    got = auc_scores(y.astype(float), p)
    roc = np.mean([roc_auc_score(y[:, c], p[:, c]) for c in range(5)])
    assert got["auc_roc"] == pytest.approx(roc)
    assert got["auc_pr"] == pytest.approx(auc_scores(y, p.astype(float))["auc_pr"])


def test_one_sample_is_scored_and_none_is_refused():
    y = binarize([["dog", "cat"]], CLASSES)
    p = binarize([["dog", "car"]], CLASSES)
    s = multilabel_scores(y, p)  # tp 1, fp 1, fn 1
    assert s["f1"] == pytest.approx(0.5) and s["jaccard"] == pytest.approx(1 / 3)
    assert s["f1_macro"] == pytest.approx(f1_score(y, p, average="macro", zero_division=0))
    with pytest.raises(ValueError, match="no samples"):
        multilabel_scores(np.zeros((0, 4), bool), np.zeros((0, 4), bool))


def test_top_k_of_every_class_and_boolean_output():
    scores = np.array([[0.1, 0.9, 0.5, 0.2], [0.8, 0.1, 0.3, 0.7]])
    every = top_k(scores, 4)
    assert every.dtype == bool and every.all()
    assert top_k(scores, 1).dtype == bool
    # a 1-D ground truth is the one-line shape error, not an IndexError
    with pytest.raises(ValueError, match="same shape"):
        top_k_scores(np.zeros(4), scores[:1], ks=(1,))


def test_auc_refuses_scores_of_another_width():
    with pytest.raises(ValueError, match="3 columns but there are 4 classes"):
        auc_scores(np.zeros((2, 4)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="contain 1 NaN"):
        top_k(np.array([[0.0, np.inf], [1.0, 0.0]]), 1)


def test_binarize_output_and_what_its_error_names():
    empty = binarize([[], []], CLASSES)
    assert empty.dtype == bool and empty.shape == (2, 4) and not empty.any()
    assert binarize([["unicorn"]], CLASSES, unknown="ignore").tolist() == [[0, 0, 0, 0]]
    assert binarize([["cat"]], CLASSES).dtype == bool
    with pytest.raises(ValueError) as error:
        binarize([["dog", "yeti", "unicorn"], ["bigfoot", "elf"]], CLASSES)
    message = str(error.value)
    assert message.startswith("4 label name(s)")
    # the first three in sorted order, not the fourth
    assert "bigfoot" in message and "elf" in message and "unicorn" in message
    assert "yeti" not in message


def test_a_class_never_true_nor_predicted_is_zero_not_leftover_memory():
    # F1 of a 0/0 class is written as 0, not left as whatever the buffer held: recently freed
    # arrays of the same size (filled with 0.75) must not leak into the macro mean
    rng = np.random.default_rng(2)
    for n_classes in (3, 7, 16):
        y = rng.random((20, n_classes)) < 0.5
        p = rng.random((20, n_classes)) < 0.5
        y[:, 0] = p[:, 0] = False
        leftovers = [np.full(n_classes, 0.75) for _ in range(10)]
        del leftovers
        got = multilabel_scores(y, p)["f1_macro"]
        assert got == pytest.approx(f1_score(y, p, average="macro", zero_division=0))
