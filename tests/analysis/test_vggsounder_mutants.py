"""VGGSounder evaluation: the finer points the main tests leave open (found by mutation testing),
on a four-class, three-video label set small enough to score by hand: which videos and labels
make each modality's ground truth and in which order, the coverage counts, the summary's
unknown names, which videos the logits keep, and the confused-sample table against each truth.

The label file lists the videos out of order on purpose: v3 appears first (with an A label) but
its AV label comes last, so "first appearance in the file" and "first appearance among the AV
rows" give different orders — a table that mixes the two pairs videos with wrong labels."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import pickle

import numpy as np
import pandas as pd
import pytest

from identifiable.analysis.vggsounder import (
    Predictions,
    confused_samples,
    confusion_masks,
    evaluate,
    read_labels,
    read_predictions,
)
from identifiable.metrics.multilabel import auc_scores, multilabel_scores, top_k_scores

CLASSES = ("dog", "cat", "car", "bird")
#: video_id, label, modality; truths by hand (ids in first-appearance order v3, v1, v2):
#: a: v3{bird,cat} v1{dog,cat} v2{bird};  v: v3{cat} v1{dog} v2{car,bird};  av: v3{cat} v1{dog}
#: v2{bird};  a only: v3{bird} v1{cat};  v only: v2{car};  all: v3{bird,cat} v1{dog,cat}
#: v2{car,bird}
ROWS = [
    ("v3", "bird", "A"),
    ("v1", "dog", "AV"),
    ("v1", "cat", "A"),
    ("v2", "car", "V"),
    ("v2", "bird", "AV"),
    ("v3", "cat", "AV"),
]
TRUTH = {
    "a": (["v3", "v1", "v2"], [{"bird", "cat"}, {"dog", "cat"}, {"bird"}]),
    "v": (["v3", "v1", "v2"], [{"cat"}, {"dog"}, {"car", "bird"}]),
    "av": (["v3", "v1", "v2"], [{"cat"}, {"dog"}, {"bird"}]),
    "a only": (["v3", "v1"], [{"bird"}, {"cat"}]),
    "v only": (["v2"], [{"car"}]),
    "all": (["v3", "v1", "v2"], [{"bird", "cat"}, {"dog", "cat"}, {"car", "bird"}]),
}
#: discrete predictions; v3 has no "av" entry (an empty prediction), v9 is outside the labels
PREDICTIONS = {
    "v1.mp4": {"predictions": {"a": ["cat"], "v": ["dog"], "av": ["car"]}},
    "v2": {"predictions": {"a": ["bird"], "v": [], "av": ["bird"]}},
    "v3": {"predictions": {"a": ["cat"], "v": ["dog"]}},
    "v9": {"predictions": {"a": ["dog"], "v": ["dog"], "av": ["dog"]}},
}


def matrix(sets):
    return np.array([[c in s for c in CLASSES] for s in sets], dtype=bool)


def write_labels(folder, rows=ROWS, classes=CLASSES, name="labels.csv"):
    lines = ["index,mid,display_name", *(f"{i},m{i},{c}" for i, c in enumerate(classes))]
    (folder / "classes.csv").write_text("\n".join(lines) + "\n")
    body = "".join(f"{v},{label},{m},False,False,False\n" for v, label, m in rows)
    header = "video_id,label,modality,background_music,static_image,voice_over\n"
    (folder / name).write_text(header + body)
    return folder / name


def write_pickle(path, data):
    with path.open("wb") as handle:
        pickle.dump(data, handle)
    return path


@pytest.fixture
def labels(tmp_path):
    return read_labels(write_labels(tmp_path))


@pytest.fixture
def predictions(tmp_path):
    return read_predictions(write_pickle(tmp_path / "p.pkl", PREDICTIONS))


# -- labels and ground truth ----------------------------------------------------------------------
def test_ground_truth_of_every_modality_by_hand(labels):
    """Each modality keeps exactly its label kinds (a = A or AV, a only = A, ...), a video only
    where it has such a label, in the file's order of first appearance (not sorted by id)."""
    assert labels.video_ids == ["v3", "v1", "v2"] and labels.classes == CLASSES
    for modality, (ids, sets) in TRUTH.items():
        got_ids, got = labels.truth(modality)
        assert list(got_ids) == ids, modality
        assert got.dtype == bool
        np.testing.assert_array_equal(got, matrix(sets), err_msg=modality)
    with pytest.raises(ValueError, match="modality must be one of"):
        labels.truth("audio")


def test_modality_letters_are_read_case_insensitively(tmp_path):
    """'av', 'a', 'v' in the file mean AV, A, V: the same truths as the upper-case file."""
    lower = [(v, label, m.lower()) for v, label, m in ROWS]
    labels = read_labels(write_labels(tmp_path, rows=lower))
    for modality, (ids, sets) in TRUTH.items():
        got_ids, got = labels.truth(modality)
        assert list(got_ids) == ids
        np.testing.assert_array_equal(got, matrix(sets))


def test_the_first_class_is_a_class_and_a_strange_label_is_refused(tmp_path):
    """Class index 0 (dog) is a valid label; a label outside classes.csv is an error naming it."""
    labels = read_labels(write_labels(tmp_path, rows=[("v1", "dog", "A")]))
    np.testing.assert_array_equal(labels.truth("a")[1], [[True, False, False, False]])
    strange = read_labels(write_labels(tmp_path, rows=[("v1", "dog", "A"), ("v2", "emu", "V")]))
    with pytest.raises(
        ValueError, match=r"1 label name\(s\) .* not among the 4 classes, e.g. \['emu'\]"
    ):
        strange.truth("all")


def test_classes_come_from_beside_the_file_or_the_given_list(tmp_path):
    """classes.csv beside the labels by default; an explicit ``classes`` wins (its order is the
    column order); a missing or malformed one is a ValueError."""
    path = write_labels(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    write_labels(other, classes=("bird", "car", "cat", "dog"))
    labels = read_labels(path, classes=other / "classes.csv")
    assert labels.classes == ("bird", "car", "cat", "dog")
    np.testing.assert_array_equal(labels.truth("v only")[1], [[False, True, False, False]])
    with pytest.raises(ValueError, match="cannot read the class list"):
        read_labels(path, classes=tmp_path / "missing.csv")
    (tmp_path / "bad.csv").write_text("index,name\n0,dog\n")
    with pytest.raises(ValueError, match="cannot read the class list"):
        read_labels(path, classes=tmp_path / "bad.csv")


def test_ids_and_names_are_read_as_verbatim_text(tmp_path):
    """Digit-only video ids keep their leading zeros and digit class names are names; 'NA' and
    'None' are a video and a class, not missing values: labels match classes and predictions
    by their exact text."""
    digits = [("007", "1", "A"), ("010", "2", "AV")]
    labels = read_labels(write_labels(tmp_path, rows=digits, classes=("2", "1")))
    assert labels.video_ids == ["007", "010"] and labels.classes == ("2", "1")
    np.testing.assert_array_equal(labels.truth("a")[1], [[False, True], [True, False]])
    p = Predictions(labels={"a": {"007": ["1"], "010": ["1"]}}, logits={}, source="x")
    table, _ = evaluate(labels, p, modalities=("a",))
    assert table["hit_rate"].tolist() == [0.5]  # 007 {1} hit, 010 {2} missed
    missing = [("NA", "None", "A"), ("v1", "dog", "V")]
    labels = read_labels(write_labels(tmp_path, rows=missing, classes=("None", "dog")))
    assert labels.video_ids == ["NA", "v1"] and labels.classes == ("None", "dog")
    np.testing.assert_array_equal(labels.truth("all")[1], [[True, False], [False, True]])


def test_label_file_checks(tmp_path):
    """An unreadable file, a missing column and a modality other than A/V/AV are refused."""
    with pytest.raises(ValueError, match="cannot read the labels CSV"):
        read_labels(tmp_path / "absent.csv")
    write_labels(tmp_path)
    (tmp_path / "x.csv").write_text("video_id,label\nv1,dog\n")
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['modality'\]"):
        read_labels(tmp_path / "x.csv")
    with pytest.raises(ValueError, match=r"modality must be A, V or AV, found \['B'\]"):
        read_labels(write_labels(tmp_path, rows=[("v1", "dog", "A"), ("v2", "cat", "B")]))


def test_labels_from_the_package_by_version(tmp_path):
    """version/background_music pick the package's file (a version given as a number too); the
    class list falls back to the package's when none lies beside the labels; an unknown version
    is refused."""
    pytest.importorskip("vggsounder", reason="needs the vggsounder extra")
    assert read_labels().source.endswith("/vggsounder_0.1.6.csv")  # the paper's, no music
    music = read_labels(version=1.0, background_music=1)
    assert music.source.endswith("/vggsounder+background-music.csv")
    assert len(music.classes) == 309
    with pytest.raises(ValueError, match="label version must be 0.1.6 or 1.0"):
        read_labels(version="0.2")
    (tmp_path / "solo").mkdir()
    path = tmp_path / "solo" / "labels.csv"
    path.write_text("video_id,label,modality\nv1,dog,A\n")
    assert read_labels(path).classes == music.classes


def test_without_the_vggsounder_package_the_labels_need_a_path(monkeypatch):
    """No package (find_spec gives None) or a module that is no package: a ValueError that says
    what to install, not an AttributeError."""
    for spec in (None, importlib.machinery.ModuleSpec("vggsounder", None)):
        monkeypatch.setattr(importlib.util, "find_spec", lambda name, spec=spec: spec)
        with pytest.raises(ValueError, match="need the vggsounder package"):
            read_labels(version="0.1.6")


# -- predictions ----------------------------------------------------------------------------------
def test_prediction_video_ids_are_the_union_over_modalities_and_logits():
    """Every video with a prediction in any modality or logits counts as predicted."""
    p = Predictions(
        labels={"a": {"v1": ["dog"]}, "v": {"v2": ["cat"]}},
        logits={"a": (["v3"], np.zeros((1, 4))), "av": (["v4"], np.zeros((1, 4)))},
        source="x",
    )
    assert p.video_ids == {"v1", "v2", "v3", "v4"}


def test_reading_predictions_strips_mp4_and_skips_missing_entries(predictions):
    """'.mp4' is cut from ids; a modality a video lacks is absent, not an empty list."""
    assert predictions.labels["a"] == {"v1": ["cat"], "v2": ["bird"], "v3": ["cat"], "v9": ["dog"]}
    assert "v3" not in predictions.labels["av"] and predictions.labels["v"]["v2"] == []
    assert predictions.logits == {}


def test_predictions_in_every_format_are_the_same(tmp_path):
    """.pickle / upper-case .PKL / .json / Parquet (with a logits column and None cells) read
    to the same predictions."""
    data = {
        "v1": {"predictions": {"a": ["cat"]}, "logits": {"a": [1.0, 2.0, 0.0, 0.0]}},
        "v2": {"predictions": {"a": ["dog", "car"]}, "logits": {"v": [0.0, 0.0, 3.0, 1.0]}},
    }
    expected = read_predictions(write_pickle(tmp_path / "p.pickle", data))
    assert expected.labels == {"a": {"v1": ["cat"], "v2": ["dog", "car"]}}
    np.testing.assert_array_equal(expected.logits["v"][1], [[0.0, 0.0, 3.0, 1.0]])
    (tmp_path / "p.json").write_text(json.dumps(data))
    rows = [
        {"video_id": "v1", "modality": "a", "predictions": ["cat"], "logits": [1.0, 2.0, 0, 0]},
        {"video_id": "v2", "modality": "a", "predictions": ["dog", "car"], "logits": None},
        {"video_id": "v2", "modality": "v", "predictions": None, "logits": [0.0, 0, 3.0, 1.0]},
    ]
    pd.DataFrame(rows).to_parquet(tmp_path / "p.parquet")
    for name in ("P.PKL", "p.json", "p.parquet"):
        if name == "P.PKL":
            write_pickle(tmp_path / name, data)
        got = read_predictions(tmp_path / name)
        assert got.labels == expected.labels, name
        assert got.logits.keys() == expected.logits.keys(), name
        for m, (ids, array) in expected.logits.items():
            assert got.logits[m][0] == ids
            np.testing.assert_array_equal(got.logits[m][1], array)


def test_prediction_file_checks(tmp_path):
    """Empty, broken or ragged files and a Parquet without video_id/modality are ValueErrors."""
    (tmp_path / "empty.pkl").write_bytes(b"")
    (tmp_path / "bad.json").write_text("{not json")
    pd.DataFrame({"video_id": ["v1"], "predictions": [["dog"]]}).to_parquet(tmp_path / "m.parquet")
    for name, message in (("empty.pkl", "cannot read the predictions"),
                          ("absent.pkl", "cannot read the predictions"),
                          ("bad.json", "cannot read the predictions"),
                          ("m.parquet", "need columns video_id, modality")):  # fmt: skip
        with pytest.raises(ValueError, match=message):
            read_predictions(tmp_path / name)
    bad = {
        "list.pkl": ([1, 2], "expected"),
        "entry.pkl": ({"v1": ["dog"]}, "is not a dict"),
        "nothing.pkl": ({"v1": {"predictions": {"x": ["dog"]}}}, "no predictions or logits"),
        "ragged.pkl": ({"v1": {"logits": {"a": [1.0]}}, "v2": {"logits": {"a": [1.0, 2.0]}}},
                       "rows of different lengths"),
    }  # fmt: skip
    for name, (data, message) in bad.items():
        with pytest.raises(ValueError, match=message):
            read_predictions(write_pickle(tmp_path / name, data))
    # logits alone, or a None modality beside a real one, are fine
    only = read_predictions(write_pickle(tmp_path / "l.pkl", {"v1": {"logits": {"a": [1.0]}}}))
    assert only.labels == {} and only.logits["a"][0] == ["v1"]
    assert only.source == str(tmp_path / "l.pkl")
    # logits of other modalities or None are skipped; integer logits are read as floats
    mixed = {"v1": {"logits": {"a": [1, 3], "v": None, "audio": [1.0]}}}
    mixed = read_predictions(write_pickle(tmp_path / "m.pkl", mixed))
    assert list(mixed.logits) == ["a"] and mixed.logits["a"][1].dtype == np.float64
    some = read_predictions(
        write_pickle(tmp_path / "n.pkl", {"v1": {"predictions": {"a": ["dog"], "v": None}}})
    )
    assert some.labels == {"a": {"v1": ["dog"]}}


def test_prediction_matrix_of_given_videos(predictions):
    """Rows follow the asked ids; a video without a prediction, or outside the set, is empty."""
    ids = pd.Index(["v3", "v8", "v1"])
    got = predictions.matrix("av", ids, CLASSES)
    assert got.dtype == bool
    np.testing.assert_array_equal(got, matrix([set(), set(), {"car"}]))
    np.testing.assert_array_equal(predictions.matrix("a", ids, CLASSES),
                                  matrix([{"cat"}, set(), {"cat"}]))  # fmt: skip


# -- evaluate -------------------------------------------------------------------------------------
def test_metric_table_scores_each_modality_against_its_truth(labels, predictions):
    """Each row is multilabel_scores of that modality's truth and the a/v/av predictions (a only
    with a, v only with v), over the truth's videos (a missing prediction counts as empty)."""
    table, summary = evaluate(labels, predictions)
    table = table.set_index("modality")
    pred = {"a": [{"cat"}, {"cat"}, {"bird"}],  # v3, v1, v2
            "v": [{"dog"}, {"dog"}, set()], "av": [set(), {"car"}, {"bird"}]}  # fmt: skip
    order = {"v3": 0, "v1": 1, "v2": 2}
    for modality, (ids, sets) in TRUTH.items():
        if modality == "all":
            continue
        source = modality.split()[0]
        y_pred = matrix([pred[source][order[v]] for v in ids])
        expected = multilabel_scores(matrix(sets), y_pred)
        for metric, value in expected.items():
            assert table.loc[modality, metric] == pytest.approx(value), (modality, metric)
        assert table.loc[modality, "videos"] == len(ids)
    assert table.loc["a", "f1"] == pytest.approx(0.75) and table.loc["av", "hit_rate"] == 1 / 3


def test_summary_counts_coverage_and_confusion(labels, predictions):
    """3 labelled, 4 predicted (v9 outside), 0 labelled without prediction; μ by hand on the
    'all' truth: a hits v3, v1, v2; v hits v1; av hits v2 -> μ_A = 2/3, μ_V = 1/3, μ_AV = 1/3."""
    _, summary = evaluate(labels, predictions)
    assert summary["videos_labelled"] == 3 and summary["videos_predicted"] == 4
    assert summary["predicted_outside_labels"] == 1
    assert summary["labelled_without_prediction"] == 0
    assert summary["mu_a"] == pytest.approx(2 / 3) and summary["mu_v"] == pytest.approx(1 / 3)
    assert summary["mu_av"] == pytest.approx(1 / 3)
    assert summary["confusion_truth"] == "all" and summary["confusion_videos"] == 3
    # against AV labels only: a hits v3, v2; v hits v1; av hits v2 -> 1/3, 1/3, 0
    _, av = evaluate(labels, predictions, confusion_truth="av")
    assert (av["mu_a"], av["mu_v"], av["mu_av"]) == pytest.approx((1 / 3, 1 / 3, 0.0))
    assert av["confusion_truth"] == "av"


def test_labelled_videos_without_prediction_are_counted_and_scored_empty(labels):
    """Only v1 predicted: v3 and v2 are labelled without prediction; their rows are empty."""
    p = Predictions(labels={"a": {"v1": ["cat"]}}, logits={}, source="x")
    table, summary = evaluate(labels, p, modalities=("a",))
    assert summary["labelled_without_prediction"] == 2
    assert table["hit_rate"].tolist() == [pytest.approx(1 / 3)]
    # predictions for a only: no rows for v/av, and no modality confusion in the summary
    assert table["modality"].tolist() == ["a"]
    full, summary = evaluate(labels, p)
    assert full["modality"].tolist() == ["a", "a only"] and "mu_a" not in summary


def test_no_predicted_video_in_the_label_set_is_an_error_unless_allowed(labels):
    """By default a prediction set disjoint from the labels (wrong version?) is refused."""
    p = Predictions(labels={"a": {"w1": ["dog"]}, "v": {}, "av": {}}, logits={}, source="x")
    with pytest.raises(ValueError, match="none of the 1 predicted videos"):
        evaluate(labels, p)
    table, summary = evaluate(labels, p, allow_missing=True)
    assert summary["labelled_without_prediction"] == 3 and (table["hit_rate"] == 0).all()


def test_argument_checks(labels, predictions):
    with pytest.raises(ValueError, match="modalities must be among"):
        evaluate(labels, predictions, modalities=("a", "audio"))
    with pytest.raises(ValueError, match="confusion_truth must be 'all' or 'av'"):
        evaluate(labels, predictions, confusion_truth="a")


def test_unknown_predicted_names_are_counted_with_the_most_frequent_first(labels):
    """Names outside the class list: their total and the three most frequent, most first (the
    alphabetical order is neither)."""
    names = ["zebra"] + ["unicorn"] * 4 + ["yeti"] * 3 + ["griffin"] * 2
    p = Predictions(labels={"a": {"v1": names[:5], "v2": names[5:], "v3": ["cat"]}},
                    logits={}, source="x")  # fmt: skip
    _, summary = evaluate(labels, p)
    assert summary["unknown_predicted_names"] == 10
    assert summary["unknown_predicted_examples"] == ["unicorn", "yeti", "griffin"]


LOGITS = {  # classes dog, cat, car, bird; v2 has no av logits
    "v1": {"a": [0, 5, 1, 2], "v": [5, 0, 1, 2], "av": [0, 1, 5, 2]},
    "v2": {"a": [0, 0, 1, 5], "v": [0, 0, 5, 1]},
    "v3": {"a": [1, 5, 0, 2], "v": [5, 1, 0, 0], "av": [1, 0, 5, 2]},
}


def test_logits_are_scored_on_the_videos_that_have_them(labels, tmp_path):
    """With logits, each row uses the truth's videos that have logits (av: v3, v1 — v2 has none)
    and reports their number; the scores are top_k_scores and auc_scores of those rows."""
    data = {v: {"logits": {m: [float(s) for s in x] for m, x in e.items()}}
            for v, e in LOGITS.items()}  # fmt: skip
    p = read_predictions(write_pickle(tmp_path / "l.pkl", data))
    table, summary = evaluate(labels, p)
    table = table.set_index("modality")
    assert table["videos"].to_dict() == {"a": 3, "v": 3, "av": 2, "a only": 2, "v only": 1}
    y_av = matrix([{"cat"}, {"dog"}])  # v3, v1
    scores = np.array([LOGITS["v3"]["av"], LOGITS["v1"]["av"]], dtype=float)
    for metric, value in (top_k_scores(y_av, scores) | auc_scores(y_av, scores)).items():
        assert table.loc["av", metric] == pytest.approx(value, nan_ok=True), metric
    # μ from top-1 on the videos with logits in all three (v3, v1), 'all' truth:
    # a top-1 cat, cat (hits both); v dog, dog (hits v1); av car, car (hits none)
    assert summary["confusion_videos"] == 2
    assert (summary["mu_a"], summary["mu_v"], summary["mu_av"]) == (1.0, 0.5, 0.5)
    masks, ids = confusion_masks(labels, p)
    assert list(ids) == ["v3", "v1"] and masks["v"].tolist() == [False, True]


# -- confused samples -----------------------------------------------------------------------------
def test_confused_samples_against_the_av_truth_by_hand(labels, predictions):
    """AV truth v3{cat}, v1{dog}, v2{bird}: v3 is confused in a (cat hit with audio, missed with
    both), v1 in v (dog); v2 is hit with both. Each row carries that video's AV labels (not its
    A labels) and its three predictions, [] where a modality has none."""
    table = confused_samples(labels, predictions, confusion_truth="av")
    assert table.to_dict(orient="list") == {
        "video_id": ["v3", "v1"],
        "ground_truth": [["cat"], ["dog"]],
        "pred_av": [[], ["car"]],
        "pred_a": [["cat"], ["cat"]],
        "pred_v": [["dog"], ["dog"]],
        "confused_a": [True, False],
        "confused_v": [False, True],
        "confused_av": [False, False],
    }


def test_confused_samples_against_every_label(labels, predictions):
    """'all' truth (the default): v3 confused in a; v1 in a, v and so av; labels in file order."""
    table = confused_samples(labels, predictions)
    assert table["video_id"].tolist() == ["v3", "v1"]
    assert table["ground_truth"].tolist() == [["bird", "cat"], ["dog", "cat"]]
    assert table["confused_av"].tolist() == [False, True]
    logits_only = Predictions(labels={}, logits={"a": (["v1"], np.eye(4)[:1])}, source="x")
    with pytest.raises(ValueError, match="needs predictions for all of a, v and av"):
        confused_samples(labels, logits_only)
