"""Multi-label metrics and modality confusion (VGGSounder's definitions): hand-made 3-sample
cases for every metric, agreement with scikit-learn, perfect and useless predictions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    jaccard_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from identifiable.metrics.multilabel import (
    auc_scores,
    binarize,
    hits,
    modality_confusion,
    multilabel_scores,
    top_k,
    top_k_scores,
    unknown_names,
)

CLASSES = ("dog", "cat", "car", "rain")


def test_three_samples_by_hand():
    # truth: {dog, cat}, {car}, {rain};  prediction: {dog}, {car, rain}, {}
    y = binarize([["dog", "cat"], ["car"], ["rain"]], CLASSES)
    p = binarize([["dog"], ["car", "rain"], []], CLASSES)
    s = multilabel_scores(y, p)
    # tp = 2 (dog, car), fp = 1 (rain in row 2), fn = 2 (cat, rain in row 3)
    assert s["precision"] == pytest.approx(2 / 3)
    assert s["recall"] == pytest.approx(2 / 4)
    assert s["f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 2))
    assert s["jaccard"] == pytest.approx(2 / (2 + 1 + 2))
    assert s["accuracy"] == 0.0  # no row exactly right
    assert s["hit_rate"] == pytest.approx(2 / 3)  # rows 1 and 2 hit
    # per class F1: dog 1, cat 0, car 1, rain 0 (tp 0, fp 1, fn 1) -> macro 0.5
    assert s["f1_macro"] == pytest.approx(0.5)


def test_agrees_with_scikit_learn_on_random_sets():
    rng = np.random.default_rng(0)
    y = rng.random((300, 12)) < 0.15
    p = rng.random((300, 12)) < 0.2
    y[:, 11] = p[:, 11] = False  # a class never true nor predicted counts 0 in the macro mean
    s = multilabel_scores(y, p)
    assert s["f1"] == pytest.approx(f1_score(y, p, average="micro", zero_division=0))
    assert s["f1_macro"] == pytest.approx(f1_score(y, p, average="macro", zero_division=0))
    assert s["precision"] == pytest.approx(precision_score(y, p, average="micro", zero_division=0))
    assert s["recall"] == pytest.approx(recall_score(y, p, average="micro", zero_division=0))
    assert s["jaccard"] == pytest.approx(jaccard_score(y, p, average="micro"))
    assert s["accuracy"] == pytest.approx(accuracy_score(y, p))


def test_perfect_and_useless_predictions():
    rng = np.random.default_rng(1)
    y = rng.random((50, 6)) < 0.3
    y[0] = False
    y[0, 0] = True  # every row has a label
    y[~y.any(axis=1), 1] = True
    perfect = multilabel_scores(y, y)
    assert all(v == pytest.approx(1.0) for k, v in perfect.items() if k != "f1_macro")
    empty = multilabel_scores(y, np.zeros_like(y))
    assert all(v == 0.0 for v in empty.values())
    wrong = multilabel_scores(y, ~y)  # every prediction wrong, every truth missed
    assert wrong["hit_rate"] == 0.0 and wrong["f1"] == 0.0 and wrong["accuracy"] == 0.0


def test_top_k_is_the_k_highest_and_its_metrics():
    scores = np.array([[0.1, 0.9, 0.5, 0.2], [0.8, 0.1, 0.3, 0.7], [0.2, 0.3, 0.1, 0.4]])
    assert top_k(scores, 1).tolist() == [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]]
    assert top_k(scores, 2).sum(axis=1).tolist() == [2, 2, 2]
    y = binarize([["cat"], ["rain"], ["car"]], CLASSES)
    s = top_k_scores(y, scores, ks=(1, 2))
    assert s["hit_rate@1"] == pytest.approx(1 / 3)  # only row 1 (cat) right at k = 1
    assert s["hit_rate@2"] == pytest.approx(2 / 3)  # row 2 gets rain at k = 2; row 3 never car
    assert s["precision@2"] == pytest.approx(2 / 6) and s["recall@2"] == pytest.approx(2 / 3)


def test_auc_matches_scikit_learn_with_ties_and_skips_one_class_columns():
    rng = np.random.default_rng(2)
    y = rng.random((200, 5)) < 0.3
    y[:, 4] = False  # no positive: skipped
    scores = np.round(rng.normal(size=(200, 5)) + y, 1)  # rounded: many ties
    valid = range(4)
    expected_roc = np.mean([roc_auc_score(y[:, c], scores[:, c]) for c in valid])
    expected_pr = np.mean([average_precision_score(y[:, c], scores[:, c]) for c in valid])
    got = auc_scores(y, scores)
    assert got["auc_roc"] == pytest.approx(expected_roc, abs=1e-12)
    assert got["auc_pr"] == pytest.approx(expected_pr, abs=1e-12)
    assert auc_scores(y, y.astype(float))["auc_roc"] == pytest.approx(1.0)  # perfect ranking
    assert auc_scores(np.zeros((3, 2), bool), np.zeros((3, 2))) == {"auc_roc": 0.0, "auc_pr": 0.0}


def test_modality_confusion_by_hand():
    # sample 1: A right, V wrong, AV wrong  -> audio-confused
    # sample 2: A right, V right, AV wrong  -> audio-, visual- and both-confused
    # sample 3: A right, V right, AV right  -> not confused
    y = binarize([["dog"], ["cat"], ["car"]], CLASSES)
    a = binarize([["dog"], ["cat"], ["car"]], CLASSES)
    v = binarize([["rain"], ["cat"], ["car"]], CLASSES)
    av = binarize([["cat"], [], ["car"]], CLASSES)
    masks = modality_confusion(y, a, v, av)
    assert masks["a"].tolist() == [True, True, False]
    assert masks["v"].tolist() == [False, True, False]
    assert masks["av"].tolist() == [False, True, False]
    assert hits(y, av).tolist() == [False, False, True]


def test_bad_input_is_one_line():
    with pytest.raises(ValueError, match="1 label name.*not among the 4 classes") as error:
        binarize([["dog", "unicorn"]], CLASSES)
    assert "\n" not in str(error.value)
    assert binarize([["dog", "unicorn"]], CLASSES, unknown="ignore").tolist() == [[1, 0, 0, 0]]
    assert unknown_names([["dog", "unicorn"], ["unicorn"]], CLASSES) == {"unicorn": 2}
    with pytest.raises(ValueError, match="same shape"):
        multilabel_scores(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="3 columns but there are 4 classes"):
        top_k_scores(np.zeros((2, 4)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        auc_scores(np.zeros((2, 2)), np.array([[0.0, np.nan], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="y_true must be \\(samples, classes\\)"):
        auc_scores(np.zeros(3), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="y_true has 3 rows but scores 2"):
        auc_scores(np.zeros((3, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="k must be in 1..4"):
        top_k(np.zeros((2, 4)), 5)
