"""Multi-label classification metrics and modality confusion, as VGGSounder defines them.

Zverev, Wiedemer, Prabhu, Bethge, Brendel, Koepke (2025), "VGGSounder: Audio-Visual Evaluations
for Foundation Models", ICCV, arXiv:2508.08237; definitions from the reference's
``vggsounder/benchmark.py`` (Bizilizi/VGGSounder, Apache-2.0), re-implemented here on boolean
matrices. Y, Ŷ ∈ {0, 1}^{N×C} (samples × classes); per class c, tp_c = Σ_i Y_ic Ŷ_ic,
fp_c = Σ_i (1 − Y_ic) Ŷ_ic, fn_c = Σ_i Y_ic (1 − Ŷ_ic); tp = Σ_c tp_c etc.

    precision = tp / (tp + fp)          recall = tp / (tp + fn)          (micro; 0 when 0/0)
    f1        = 2 tp / (2 tp + fp + fn) (micro)
    f1_macro  = (1/C) Σ_c 2 tp_c / (2 tp_c + fp_c + fn_c)   (0 for a class never true nor
                                                              predicted — scikit-learn's
                                                              zero_division=0, over all C)
    jaccard   = tp / (tp + fp + fn)     (micro)
    accuracy  = (1/N) Σ_i 1[Ŷ_i = Y_i]  (subset accuracy: the whole label set right)
    hit_rate  = (1/N) Σ_i 1[Ŷ_i ∧ Y_i ≠ ∅]  (at least one correct label)

From scores S ∈ R^{N×C}, the top-k set of each row (the reference's ``argsort(S)[:, -k:]``) gives
``metric@k``; ``auc_roc`` and ``auc_pr`` are per-class ROC-AUC and average precision of S,
macro-averaged over the classes with at least one positive and one negative sample.

Modality confusion (the model succeeds with one modality and fails given both), with
hit_m(i) = 1[Ŷ_m,i ∧ Y_i ≠ ∅]:

    μ_A  = (1/N) Σ_i hit_A(i) ∧ ¬hit_AV(i)
    μ_V  = (1/N) Σ_i hit_V(i) ∧ ¬hit_AV(i)
    μ_AV = (1/N) Σ_i hit_A(i) ∧ hit_V(i) ∧ ¬hit_AV(i)

(from top-1 sets when computed from scores). Which ground truth Y it is taken against is the
caller's choice (:mod:`identifiable.analysis.vggsounder` names both conventions).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "auc_scores",
    "binarize",
    "hits",
    "modality_confusion",
    "multilabel_scores",
    "top_k",
    "top_k_scores",
    "unknown_names",
]

KS = (1, 3, 5, 10)


def binarize(
    label_lists: Sequence[Iterable[str]], classes: Sequence[str], *, unknown: str = "raise"
) -> np.ndarray:
    """Boolean (N, C) matrix: row i has True at the classes named in ``label_lists[i]``.

    A name not among ``classes`` is a one-line ValueError naming it (``unknown="raise"``, for
    ground truth) or dropped (``unknown="ignore"``, for predictions: scikit-learn's
    ``MultiLabelBinarizer``, which the reference uses, ignores them; count them with
    :func:`unknown_names`)."""
    if unknown not in ("raise", "ignore"):
        raise ValueError(f"unknown must be 'raise' or 'ignore', got {unknown!r}")
    index = {name: j for j, name in enumerate(classes)}
    rows, cols, strange = [], [], set()
    for i, labels in enumerate(label_lists):
        for name in labels:
            j = index.get(name)
            if j is None:
                strange.add(name)
            else:
                rows.append(i)
                cols.append(j)
    if strange and unknown == "raise":
        first = sorted(strange)[:3]
        raise ValueError(
            f"{len(strange)} label name(s) not among the {len(classes)} classes, e.g. {first}; "
            "check the label version or the class list"
        )
    matrix = np.zeros((len(label_lists), len(classes)), dtype=bool)
    matrix[np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp)] = True
    return matrix


def unknown_names(label_lists: Iterable[Iterable[str]], classes: Sequence[str]) -> dict[str, int]:
    """Names not among ``classes`` and how often each occurs."""
    known = set(classes)
    counts: dict[str, int] = {}
    for labels in label_lists:
        for name in labels:
            if name not in known:
                counts[name] = counts.get(name, 0) + 1
    return counts


def _check_pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true, dtype=bool)
    y_pred = np.asarray(y_pred, dtype=bool)
    if y_true.ndim != 2 or y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must be (samples, classes) of the same shape, got "
            f"{y_true.shape} and {y_pred.shape}"
        )
    return y_true, y_pred


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


def hits(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """(N,) booleans: at least one predicted label is a true one."""
    y_true, y_pred = _check_pair(y_true, y_pred)
    return (y_true & y_pred).any(axis=1)


def multilabel_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """f1, f1_macro, accuracy, jaccard, precision, recall, hit_rate (module docstring)."""
    y_true, y_pred = _check_pair(y_true, y_pred)
    if len(y_true) == 0:
        raise ValueError("no samples to score")
    both = y_true & y_pred
    tp_c = both.sum(axis=0)
    fp_c = y_pred.sum(axis=0) - tp_c
    fn_c = y_true.sum(axis=0) - tp_c
    tp, fp, fn = int(tp_c.sum()), int(fp_c.sum()), int(fn_c.sum())
    denominator_c = 2 * tp_c + fp_c + fn_c
    f1_c = np.divide(2 * tp_c, denominator_c, out=np.zeros(len(tp_c)), where=denominator_c > 0)
    return {
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "f1_macro": float(f1_c.mean()),
        "accuracy": float((y_true == y_pred).all(axis=1).mean()),
        "jaccard": _ratio(tp, tp + fp + fn),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "hit_rate": float(both.any(axis=1).mean()),
    }


def _check_scores(scores: np.ndarray, n_classes: int | None = None) -> np.ndarray:
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2:
        raise ValueError(f"scores must be (samples, classes), got shape {scores.shape}")
    if n_classes is not None and scores.shape[1] != n_classes:
        raise ValueError(f"scores have {scores.shape[1]} columns but there are {n_classes} classes")
    if not np.isfinite(scores).all():
        bad = int((~np.isfinite(scores)).sum())
        raise ValueError(f"scores contain {bad} NaN/inf values")
    return scores


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Boolean (N, C): the k highest scores of each row (ties broken as ``np.argsort``'s last
    k, the reference's rule)."""
    scores = _check_scores(scores)
    if not 1 <= k <= scores.shape[1]:
        raise ValueError(f"k must be in 1..{scores.shape[1]}, got {k}")
    chosen = np.argsort(scores, axis=1)[:, -k:]
    matrix = np.zeros(scores.shape, dtype=bool)
    np.put_along_axis(matrix, chosen, True, axis=1)
    return matrix


def top_k_scores(
    y_true: np.ndarray, scores: np.ndarray, ks: Sequence[int] = KS
) -> dict[str, float]:
    """``metric@k`` for every metric of :func:`multilabel_scores` and k in ``ks`` (a k above the
    number of classes predicts them all, as the reference's ``argsort(S)[:, -k:]``)."""
    y_true = np.asarray(y_true, dtype=bool)
    scores = _check_scores(scores, y_true.shape[1] if y_true.ndim == 2 else None)
    order = np.argsort(scores, axis=1)  # one sort for every k
    results: dict[str, float] = {}
    for k in ks:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        # k above the number of classes predicts every class (the reference's argsort[:, -k:])
        predicted = np.zeros(scores.shape, dtype=bool)
        np.put_along_axis(predicted, order[:, -k:], True, axis=1)
        for name, value in multilabel_scores(y_true, predicted).items():
            results[f"{name}@{k}"] = value
    return results


def _average_ranks(column: np.ndarray) -> np.ndarray:
    """1-based ranks of ``column`` with ties averaged (scipy.stats.rankdata's "average")."""
    order = np.argsort(column, kind="mergesort")
    sorted_values = column[order]
    starts = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    last = np.r_[first[1:], len(column)] - 1
    ranks = np.empty(len(column))
    ranks[order] = (first[group] + last[group]) / 2 + 1
    return ranks


def _average_precision(truth: np.ndarray, score: np.ndarray) -> float:
    """scikit-learn's average precision: Σ_t (R_t − R_{t−1}) P_t over distinct thresholds t,
    from the highest down."""
    order = np.argsort(-score, kind="mergesort")
    score, truth = score[order], truth[order]
    distinct = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]
    tps = np.cumsum(truth)[distinct]
    precision = tps / (distinct + 1)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def auc_scores(y_true: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """Macro ROC-AUC and average precision over the classes with ≥ 1 positive and ≥ 1 negative
    (0.0 when there is none, as the reference)."""
    y_true = np.asarray(y_true, dtype=bool)
    if y_true.ndim != 2:
        raise ValueError(f"y_true must be (samples, classes), got shape {y_true.shape}")
    scores = _check_scores(scores, y_true.shape[1])
    if len(scores) != len(y_true):
        raise ValueError(f"y_true has {len(y_true)} rows but scores {len(scores)}")
    n = len(y_true)
    positives = y_true.sum(axis=0)
    valid = np.flatnonzero((positives > 0) & (positives < n))
    roc, pr = [], []
    for c in valid:
        truth, score = y_true[:, c], scores[:, c]
        n_pos = int(positives[c])
        ranks = _average_ranks(score)
        roc.append((ranks[truth].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * (n - n_pos)))
        pr.append(_average_precision(truth, score))
    return {
        "auc_roc": float(np.mean(roc)) if roc else 0.0,
        "auc_pr": float(np.mean(pr)) if pr else 0.0,
    }


def modality_confusion(
    y_true: np.ndarray, pred_a: np.ndarray, pred_v: np.ndarray, pred_av: np.ndarray
) -> dict[str, np.ndarray]:
    """Per-sample confusion masks ``a``, ``v``, ``av`` (module docstring); μ is their mean."""
    hit_a, hit_v, hit_av = (hits(y_true, p) for p in (pred_a, pred_v, pred_av))
    return {"a": hit_a & ~hit_av, "v": hit_v & ~hit_av, "av": hit_a & hit_v & ~hit_av}
