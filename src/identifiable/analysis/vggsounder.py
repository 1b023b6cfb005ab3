"""VGGSounder evaluation of a model's predictions: label sets, per-modality ground truth, the
metric table and modality confusion.

Zverev, Wiedemer, Prabhu, Bethge, Brendel, Koepke (2025), "VGGSounder: Audio-Visual Evaluations
for Foundation Models", ICCV, arXiv:2508.08237 (Bizilizi/VGGSounder, Apache-2.0; its labels are on
the package registry as ``vggsounder``, the ``vggsounder`` extra here). The reference's
protocol, re-implemented:

* **Labels**: one CSV row per (video, label) with ``modality`` ∈ {A, V, AV} and meta flags. Four
  label sets: versions 0.1.6 (the paper's) and 1.0 (re-reviewed), each without or with the
  background-music videos (:data:`LABEL_FILES`); or any CSV of that format by path. Classes: the
  309 display names of ``classes.csv`` in its order.
* **Ground truth per modality**: ``a`` = labels A or AV, ``v`` = V or AV, ``av`` = AV only,
  ``a only`` = A, ``v only`` = V, ``all`` = every label; a video belongs to a modality's set
  only if it has at least one label there (the reference's ``set_modality``).
* **Predictions**: ``{video_id: {"predictions": {"a", "v", "av": [names]}, "logits": {...}}}``
  (pickle, as released; or the same as JSON / Parquet with columns ``video_id, modality,
  predictions[, logits]``); ``.mp4`` is stripped from ids. ``a only``/``v only`` are scored with
  the ``a``/``v`` predictions. A video of the ground truth without a prediction counts as an
  empty prediction; predicted videos outside the label set are ignored (and counted).
* **Metrics** (:mod:`identifiable.metrics.multilabel`): from discrete predictions the seven
  multi-label scores; from logits ``metric@k`` (k = 1, 3, 5, 10), ``auc_roc``, ``auc_pr``.
* **Modality confusion μ_A, μ_V, μ_AV**, against a ground truth named by ``confusion_truth``:
  ``"all"`` (every label; the reference's current code) or ``"av"`` (AV labels only; the code
  ≤ v0.1.4 that made the paper's precomputed tables). Which one a table uses is in its name.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from identifiable.metrics.multilabel import (
    auc_scores,
    binarize,
    modality_confusion,
    multilabel_scores,
    top_k,
    top_k_scores,
    unknown_names,
)

__all__ = [
    "CONFUSION_TRUTHS",
    "LABEL_FILES",
    "MODALITIES",
    "LabelSet",
    "Predictions",
    "confused_samples",
    "evaluate",
    "read_labels",
    "read_predictions",
]

MODALITIES = ("a", "v", "av", "a only", "v only")
GROUND_TRUTHS = (*MODALITIES, "all")
CONFUSION_TRUTHS = ("all", "av")
#: (version, with background-music videos) -> the reference's file name
LABEL_FILES = {
    ("0.1.6", False): "vggsounder_0.1.6.csv",
    ("0.1.6", True): "vggsounder+background-music_0.1.6.csv",
    ("1.0", False): "vggsounder.csv",
    ("1.0", True): "vggsounder+background-music.csv",
}
_LABEL_COLUMNS = ("video_id", "label", "modality")
_PREDICTION_SOURCE = {"a": "a", "v": "v", "av": "av", "a only": "a", "v only": "v"}


@dataclass(frozen=True)
class LabelSet:
    """One label file: ``rows`` (video_id, label, modality, …), ``classes`` (display names, in
    ``classes.csv`` order) and where it came from."""

    rows: pd.DataFrame
    classes: tuple[str, ...]
    source: str

    @cached_property
    def _codes(self) -> tuple[pd.Index, np.ndarray, np.ndarray, np.ndarray]:
        """(video ids in file order, per-row video index, per-row class index, per-row kind)."""
        video_index, videos = pd.factorize(self.rows["video_id"], sort=False)
        class_index = pd.Index(self.classes).get_indexer(self.rows["label"])
        if (class_index < 0).any():
            strange = sorted(set(self.rows["label"][class_index < 0]))
            raise ValueError(
                f"{len(strange)} label name(s) of {self.source} are not among the "
                f"{len(self.classes)} classes, e.g. {strange[:3]}; wrong classes.csv?"
            )
        return (
            pd.Index(videos),
            video_index,
            class_index,
            self.rows["modality"].str.upper().to_numpy(),
        )

    @property
    def video_ids(self) -> list[str]:
        return list(self._codes[0])

    def _keep(self, modality: str) -> np.ndarray:
        if modality not in GROUND_TRUTHS:
            raise ValueError(
                f"modality must be one of {', '.join(GROUND_TRUTHS)}, got {modality!r}"
            )
        kind = self._codes[3]
        return {
            "a": (kind == "A") | (kind == "AV"),
            "v": (kind == "V") | (kind == "AV"),
            "av": kind == "AV",
            "a only": kind == "A",
            "v only": kind == "V",
            "all": np.ones(len(kind), dtype=bool),
        }[modality]

    def truth(self, modality: str) -> tuple[pd.Index, np.ndarray]:
        """(video ids, boolean (videos, classes) matrix) of ``modality``: only the videos with at
        least one label there, in file order (the reference's ``set_modality``)."""
        videos, video_index, class_index, _ = self._codes
        keep = self._keep(modality)
        present = np.unique(video_index[keep])  # sorted = file order of first appearance
        row_of = np.full(len(videos), -1)
        row_of[present] = np.arange(len(present))
        matrix = np.zeros((len(present), len(self.classes)), dtype=bool)
        matrix[row_of[video_index[keep]], class_index[keep]] = True
        return videos[present], matrix


def _package_data() -> Path:
    """The data folder of the installed ``vggsounder`` package (its modules are not imported:
    they need the heavy ``datasets`` package)."""
    spec = importlib.util.find_spec("vggsounder")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            "the VGGSounder labels need the vggsounder package: pip install "
            "'identifiable[vggsounder]' (or give a labels CSV with --labels)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def read_labels(
    path: str | Path | None = None,
    *,
    version: str = "0.1.6",
    background_music: bool = False,
    classes: str | Path | None = None,
) -> LabelSet:
    """A label set from a CSV ``path``, else from the ``vggsounder`` package by ``version``
    ("0.1.6" or "1.0") and ``background_music``. ``classes`` (a ``classes.csv``) defaults to the
    one beside ``path``, else the package's."""
    if path is None:
        key = (str(version), bool(background_music))
        if key not in LABEL_FILES:
            raise ValueError(f"label version must be 0.1.6 or 1.0, got {version!r}")
        path = _package_data() / LABEL_FILES[key]
    path = Path(path)
    try:
        rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read the labels CSV {path}: {error}") from error
    missing = [c for c in _LABEL_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(
            f"labels CSV {path} lacks column(s) {missing}; it has {list(rows.columns)}"
        )
    bad = sorted(set(rows["modality"].str.upper()) - {"A", "V", "AV"})
    if bad:
        raise ValueError(f"labels CSV {path}: modality must be A, V or AV, found {bad[:3]}")
    class_file = Path(classes) if classes is not None else path.parent / "classes.csv"
    if not class_file.exists() and classes is None:
        class_file = _package_data() / "classes.csv"
    try:
        names = pd.read_csv(class_file, dtype=str, keep_default_na=False)["display_name"]
    except (OSError, KeyError, pd.errors.ParserError) as error:
        raise ValueError(f"cannot read the class list {class_file}: {error}") from error
    return LabelSet(rows=rows, classes=tuple(names), source=str(path))


@dataclass(frozen=True)
class Predictions:
    """A model's predictions: ``labels[modality][video_id]`` (lists of names) and, where given,
    ``logits[modality]`` = (video ids, (n, C) array)."""

    labels: dict[str, dict[str, list[str]]]
    logits: dict[str, tuple[list[str], np.ndarray]]
    source: str
    _matrices: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def video_ids(self) -> set[str]:
        ids: set[str] = set()
        for per_video in self.labels.values():
            ids |= set(per_video)
        for names, _ in self.logits.values():
            ids |= set(names)
        return ids

    def matrix(self, modality: str, ids: pd.Index, classes: tuple[str, ...]) -> np.ndarray:
        """Boolean (len(ids), C) predictions of ``modality`` for the videos ``ids`` (a video
        without a prediction: an empty row; names outside ``classes`` dropped)."""
        key = (modality, classes)
        if key not in self._matrices:
            per_video = self.labels[modality]
            self._matrices[key] = (
                pd.Index(list(per_video)),
                binarize(list(per_video.values()), classes, unknown="ignore"),
            )
        predicted_ids, predicted = self._matrices[key]
        rows = predicted_ids.get_indexer(ids)
        out = np.zeros((len(ids), len(classes)), dtype=bool)
        out[rows >= 0] = predicted[rows[rows >= 0]]
        return out

    def scores(self, modality: str, ids: pd.Index) -> tuple[pd.Index, np.ndarray]:
        """The videos of ``ids`` that have logits (the reference drops the others), their rows."""
        names, array = self.logits[modality]
        rows = pd.Index(names).get_indexer(ids)
        return ids[rows >= 0], array[rows[rows >= 0]]


def _from_mapping(data: Any, source: str) -> Predictions:
    if not isinstance(data, dict):
        raise ValueError(
            f"{source}: expected {{video_id: {{'predictions': …}}}}, got {type(data).__name__}"
        )
    labels: dict[str, dict[str, list[str]]] = {m: {} for m in ("a", "v", "av")}
    logit_rows: dict[str, tuple[list[str], list[Any]]] = {m: ([], []) for m in ("a", "v", "av")}
    for raw_id, entry in data.items():
        video_id = str(raw_id).replace(".mp4", "")
        if not isinstance(entry, dict):
            raise ValueError(f"{source}: the entry of {raw_id!r} is not a dict")
        for modality, names in (entry.get("predictions") or {}).items():
            if modality in labels and names is not None:
                labels[modality][video_id] = [str(n) for n in names]
        for modality, values in (entry.get("logits") or {}).items():
            if modality in logit_rows and values is not None:
                logit_rows[modality][0].append(video_id)
                logit_rows[modality][1].append(values)
    logits = {}
    for modality, (ids, values) in logit_rows.items():
        if ids:
            try:
                array = np.asarray(values, dtype=float)
            except ValueError as error:
                raise ValueError(
                    f"{source}: {modality} logits have rows of different lengths"
                ) from error
            logits[modality] = (ids, array)
    if not any(labels.values()) and not logits:
        raise ValueError(f"{source}: no predictions or logits for the modalities a, v, av")
    return Predictions(labels={m: v for m, v in labels.items() if v}, logits=logits, source=source)


def read_predictions(path: str | Path) -> Predictions:
    """Predictions from a pickle (the reference's format), JSON (the same mapping) or Parquet
    (rows ``video_id, modality, predictions[, logits]``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".pkl", ".pickle"):
            with path.open("rb") as handle:
                data = pickle.load(handle)  # noqa: S301 - the reference's released format
        elif suffix == ".json":
            data = json.loads(path.read_text())
        elif suffix == ".parquet":
            table = pd.read_parquet(path)
            missing = [c for c in ("video_id", "modality") if c not in table.columns]
            if missing:
                raise ValueError(f"{path}: Parquet predictions need columns video_id, modality")
            data = {}
            for row in table.itertuples(index=False):
                entry = data.setdefault(row.video_id, {"predictions": {}, "logits": {}})
                if "predictions" in table.columns and row.predictions is not None:
                    entry["predictions"][row.modality] = list(row.predictions)
                if "logits" in table.columns and row.logits is not None:
                    entry["logits"][row.modality] = list(row.logits)
        else:
            raise ValueError(f"{path}: predictions must be .pkl, .json or .parquet")
    except (OSError, pickle.UnpicklingError, EOFError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read the predictions {path}: {error}") from error
    return _from_mapping(data, str(path))


def _coverage(labels: LabelSet, predictions: Predictions, allow_missing: bool) -> dict[str, int]:
    known = set(labels.video_ids)
    predicted = predictions.video_ids
    outside = predicted - known
    counts = {
        "videos_labelled": len(known),
        "videos_predicted": len(predicted),
        "predicted_outside_labels": len(outside),
        "labelled_without_prediction": len(known - predicted),
    }
    if predicted and not predicted & known and not allow_missing:
        raise ValueError(
            f"none of the {len(predicted)} predicted videos is in the label set {labels.source}; "
            "wrong label version or file? (--allow-missing scores them as empty predictions)"
        )
    return counts


def evaluate(
    labels: LabelSet,
    predictions: Predictions,
    *,
    modalities: tuple[str, ...] = MODALITIES,
    confusion_truth: str = "all",
    allow_missing: bool = False,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The metric table (one row per modality) and a summary: μ (``confusion_truth``), how many
    videos were labelled / predicted / outside the label set."""
    if confusion_truth not in CONFUSION_TRUTHS:
        raise ValueError(f"confusion_truth must be 'all' or 'av', got {confusion_truth!r}")
    unknown = [m for m in modalities if m not in MODALITIES]
    if unknown:
        raise ValueError(f"modalities must be among {', '.join(MODALITIES)}, got {unknown}")
    summary: dict[str, Any] = _coverage(labels, predictions, allow_missing)
    strange = unknown_names(
        (names for per_video in predictions.labels.values() for names in per_video.values()),
        labels.classes,
    )
    # names outside the class list are dropped, as the reference's MultiLabelBinarizer does
    summary["unknown_predicted_names"] = sum(strange.values())
    summary["unknown_predicted_examples"] = sorted(strange, key=strange.get, reverse=True)[:3]
    rows = []
    for modality in modalities:
        source = _PREDICTION_SOURCE[modality]
        ids, y_true = labels.truth(modality)
        row: dict[str, Any] = {"modality": modality, "videos": len(ids)}
        if source in predictions.logits:
            _, width = predictions.logits[source][1].shape
            if width != len(labels.classes):
                raise ValueError(
                    f"{source} logits have {width} columns but the label set has "
                    f"{len(labels.classes)} classes"
                )
            kept, scores = predictions.scores(source, ids)
            y_kept = y_true[ids.get_indexer(kept)]
            row |= top_k_scores(y_kept, scores) | auc_scores(y_kept, scores)
            row["videos"] = len(kept)
        elif source in predictions.labels:
            y_pred = predictions.matrix(source, ids, labels.classes)
            row |= multilabel_scores(y_true, y_pred)
        else:
            continue
        rows.append(row)
    masks, ids = confusion_masks(labels, predictions, confusion_truth)
    if masks is not None:
        summary |= {f"mu_{m}": float(mask.mean()) for m, mask in masks.items()}
        summary["confusion_truth"] = confusion_truth
        summary["confusion_videos"] = len(ids)
    return pd.DataFrame(rows), summary


def _prediction_sets(
    labels: LabelSet, predictions: Predictions, ids: pd.Index
) -> tuple[pd.Index, dict[str, np.ndarray]] | None:
    """Boolean prediction matrices of a, v, av on the videos ``ids`` (top-1 from logits, on the
    videos with logits in all three)."""
    if all(m in predictions.logits for m in ("a", "v", "av")):
        for m in ("a", "v", "av"):
            ids, _ = predictions.scores(m, ids)
        return ids, {m: top_k(predictions.scores(m, ids)[1], 1) for m in ("a", "v", "av")}
    if all(m in predictions.labels for m in ("a", "v", "av")):
        return ids, {m: predictions.matrix(m, ids, labels.classes) for m in ("a", "v", "av")}
    return None


def confusion_masks(
    labels: LabelSet, predictions: Predictions, confusion_truth: str = "all"
) -> tuple[dict[str, np.ndarray] | None, pd.Index]:
    """Per-video confusion masks a, v, av against ``confusion_truth`` and the video ids."""
    ids, y_true = labels.truth(confusion_truth)
    sets = _prediction_sets(labels, predictions, ids)
    if sets is None:
        return None, pd.Index([])
    kept, matrices = sets
    y_kept = y_true[ids.get_indexer(kept)]
    return modality_confusion(y_kept, matrices["a"], matrices["v"], matrices["av"]), kept


def confused_samples(
    labels: LabelSet, predictions: Predictions, confusion_truth: str = "all"
) -> pd.DataFrame:
    """The confused videos (any of a, v, av): id, ground truth, the three predictions, the
    three flags (the reference's ``analyze_modality_confusion_detailed``)."""
    masks, ids = confusion_masks(labels, predictions, confusion_truth)
    if masks is None:
        raise ValueError("modality confusion needs predictions for all of a, v and av")
    chosen = np.flatnonzero(masks["a"] | masks["v"] | masks["av"])
    table = pd.DataFrame({"video_id": list(ids[chosen])})
    rows = labels.rows[labels._keep(confusion_truth) & labels.rows["video_id"].isin(ids[chosen])]
    truth = rows.groupby("video_id", sort=False)["label"].agg(list)
    table["ground_truth"] = list(truth.reindex(table["video_id"]))
    for m in ("av", "a", "v"):
        if m in predictions.labels:
            table[f"pred_{m}"] = [predictions.labels[m].get(v, []) for v in table["video_id"]]
    for m in ("a", "v", "av"):
        table[f"confused_{m}"] = masks[m][chosen]
    return table
