"""VGGSounder on the released data: our metrics equal the reference code's numbers exactly, the
paper's precomputed tables to their precision, and the README's modality-confusion counts."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from identifiable.analysis.vggsounder import (
    confused_samples,
    evaluate,
    read_labels,
    read_predictions,
)
from identifiable.cli import app

MODELS = ("gemini-1.5-flash", "gemini-1.5-pro", "gemini-2.0-flash", "ola", "pandagpt",
          "unified-io-2", "video-llama-2-av")  # fmt: skip
METRICS = ("f1", "f1_macro", "accuracy", "jaccard", "precision", "recall", "hit_rate")
REFERENCE = json.loads((Path(__file__).parent / "data" / "vggsounder_reference.json").read_text())


@pytest.fixture(scope="module")
def data(request):
    from tests.conftest import SHARED_DATA  # noqa: PLC0415

    root = SHARED_DATA / "vggsounder"
    if not (root / "classes.csv").is_file():
        pytest.skip(f"released VGGSounder data not at {root} (set IDENTIFIABLE_SHARED_DATA)")
    return root


@pytest.mark.parametrize("label_file", ["vggsounder_0.1.6.csv", "vggsounder.csv"])
def test_every_number_equals_the_reference_code(data, label_file):
    labels = read_labels(data / label_file)
    for model in MODELS:
        table, summary = evaluate(
            labels, read_predictions(data / "models-results" / f"{model}.pkl")
        )
        expected = REFERENCE["labels"][label_file][model]
        for row in table.to_dict(orient="records"):
            for metric in METRICS:
                assert row[metric] == pytest.approx(expected[row["modality"]][metric], abs=1e-12)
        for m in ("a", "v", "av"):
            assert summary[f"mu_{m}"] == pytest.approx(expected[m]["mu"], abs=1e-12)


def test_the_paper_tables_to_their_precision_with_the_legacy_confusion_truth(data):
    """The precomputed tables (the paper's) were made with a slightly earlier label file: the
    0.1.6 labels give F1 and hit rate within 2e-4 (one video of 'a only'), AV to 2 decimals of
    a percent; their μ used AV labels as the truth (code ≤ v0.1.4): confusion_truth="av"."""
    pre = pickle.load((data / "precomputed_results" / "vggsounder_results.pkl").open("rb"))
    labels = read_labels(data / "vggsounder_0.1.6.csv")
    for model in MODELS:
        table, summary = evaluate(
            labels, read_predictions(data / "models-results" / f"{model}.pkl"),
            confusion_truth="av",
        )  # fmt: skip
        for row in table.to_dict(orient="records"):
            for metric in ("f1", "hit_rate"):
                tolerance = 5e-5 if row["modality"] == "av" else 2e-4
                assert row[metric] == pytest.approx(pre[model][row["modality"]][metric],
                                                    abs=tolerance)  # fmt: skip
        for m in ("a", "v", "av"):
            assert summary[f"mu_{m}"] == pytest.approx(pre[model][m]["mu"], abs=1e-4)
    flash = evaluate(labels, read_predictions(data / "models-results/gemini-1.5-flash.pkl"))[1]
    assert flash["mu_av"] == pytest.approx(0.0147, abs=5e-5)  # the current convention


def test_confused_samples_match_the_reference_readme(data):
    labels = read_labels(data / "vggsounder+background-music_0.1.6.csv")
    table = confused_samples(labels, read_predictions(data / "models-results/gemini-1.5-flash.pkl"))
    counts = [len(table), *(int(table[f"confused_{m}"].sum()) for m in ("a", "v", "av"))]
    assert counts == [2625, 2228, 612, 215]


def test_coverage_counts_predictions_outside_the_label_set(data):
    labels = read_labels(data / "vggsounder_0.1.6.csv")
    _, summary = evaluate(labels, read_predictions(data / "models-results/gemini-1.5-flash.pkl"))
    assert summary["videos_labelled"] == 12372 and summary["videos_predicted"] == 15161
    assert summary["predicted_outside_labels"] == 3013  # background-music videos: not errors


def test_json_and_parquet_predictions_give_the_same_table(data, tmp_path):
    labels = read_labels(data / "vggsounder_0.1.6.csv")
    raw = pickle.load((data / "models-results/pandagpt.pkl").open("rb"))
    (tmp_path / "p.json").write_text(json.dumps(raw))
    rows = [{"video_id": v, "modality": m, "predictions": names}
            for v, entry in raw.items() for m, names in entry["predictions"].items()]  # fmt: skip
    pd.DataFrame(rows).to_parquet(tmp_path / "p.parquet")
    tables = [evaluate(labels, read_predictions(p))[0]
              for p in (data / "models-results/pandagpt.pkl", tmp_path / "p.json",
                        tmp_path / "p.parquet")]  # fmt: skip
    pd.testing.assert_frame_equal(tables[0], tables[1])
    pd.testing.assert_frame_equal(tables[0], tables[2])


def _tiny_labels(tmp_path):
    (tmp_path / "classes.csv").write_text("index,mid,display_name\n0,a,dog\n1,b,cat\n2,c,car\n")
    (tmp_path / "labels.csv").write_text(
        "video_id,label,modality,background_music,static_image,voice_over\n"
        "v1,dog,AV,False,False,False\nv1,cat,A,False,False,False\n"
        "v2,car,V,False,False,False\nv3,cat,AV,False,False,False\n"
    )
    return tmp_path / "labels.csv"


def test_logits_give_top_k_and_auc_and_top1_confusion(tmp_path):
    path = _tiny_labels(tmp_path)
    logits = {"v1": [3.0, 2.0, 1.0], "v2": [0.0, 1.0, 2.0], "v3": [2.0, 1.0, 0.0]}
    preds = {v: {"logits": {"a": s, "v": s, "av": s[::-1]}} for v, s in logits.items()}
    with (tmp_path / "p.pkl").open("wb") as handle:
        pickle.dump(preds, handle)
    table, summary = evaluate(read_labels(path), read_predictions(tmp_path / "p.pkl"))
    av = table.set_index("modality").loc["av"]  # AV truth: v1 {dog}, v3 {cat}
    # reversed logits: v1 top-1 car (miss), v3 top-1 car (miss); top-3 always hits
    assert av["hit_rate@1"] == 0.0 and av["hit_rate@3"] == 1.0
    assert "auc_roc" in table.columns and "f1" not in table.columns
    # μ with top-1: a and v hit v1 (dog) and v2 (car), v3 a top-1 dog ≠ cat; AV hits none
    assert summary["mu_a"] == pytest.approx(2 / 3) and summary["mu_av"] == pytest.approx(2 / 3)


def test_cli_prints_the_table_and_refuses_bad_input(data, tmp_path):
    runner = CliRunner()
    pkl = str(data / "models-results/gemini-1.5-flash.pkl")
    result = runner.invoke(app, ["vggsounder", pkl, "--labels", str(data / "vggsounder_0.1.6.csv"),
                                 "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    parsed = json.loads(result.output)
    av = next(r for r in parsed["metrics"] if r["modality"] == "av")
    assert round(100 * av["f1"], 2) == 42.52 and round(100 * av["hit_rate"], 2) == 59.10
    out = tmp_path / "confused.csv"
    music = str(data / "vggsounder+background-music_0.1.6.csv")
    result = runner.invoke(app, ["vggsounder", pkl, "--labels", music, "--confused",
                                 "--format", "csv", "--output", str(out)])  # fmt: skip
    assert result.exit_code == 0 and len(pd.read_csv(out)) == 2625
    # no predicted video in the label set: one line, exit 2, unless --allow-missing
    other = _tiny_labels(tmp_path)
    result = runner.invoke(app, ["vggsounder", pkl, "--labels", str(other)])
    assert result.exit_code == 2 and "none of the 15161 predicted videos" in result.output
    assert result.output.strip().count("\n") == 0
    ok = runner.invoke(app, ["vggsounder", pkl, "--labels", str(other), "--allow-missing",
                             "--format", "json"])  # fmt: skip
    assert ok.exit_code == 0, ok.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--label-version", "2.0"], "label version must be 0.1.6 or 1.0"),
        (["--confusion-truth", "both"], "confusion_truth must be 'all' or 'av'"),
        (["--format", "xml"], "--format must be table, json or csv"),
    ],
)
def test_cli_bad_options(tmp_path, args, message):
    path = _tiny_labels(tmp_path)
    with (tmp_path / "p.pkl").open("wb") as handle:
        pickle.dump({"v1": {"predictions": {"a": ["dog"], "v": [], "av": ["cat"]}}}, handle)
    extra = [] if "--label-version" in args else ["--labels", str(path)]
    result = CliRunner().invoke(app, ["vggsounder", str(tmp_path / "p.pkl"), *extra, *args])
    assert result.exit_code == 2 and message in result.output, result.output


def test_unreadable_files_and_wrong_widths(tmp_path):
    path = _tiny_labels(tmp_path)
    (tmp_path / "bad.pkl").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="cannot read the predictions"):
        read_predictions(tmp_path / "bad.pkl")
    with pytest.raises(ValueError, match=r"must be \.pkl, \.json or \.parquet"):
        read_predictions(tmp_path / "p.txt")
    with pytest.raises(ValueError, match="lacks column"):
        (tmp_path / "x.csv").write_text("video,label\nv1,dog\n")
        read_labels(tmp_path / "x.csv")
    with (tmp_path / "w.pkl").open("wb") as handle:
        pickle.dump({"v1": {"logits": {"a": [1.0, 2.0], "v": [1.0, 2.0], "av": [1.0, 2.0]}}},
                    handle)  # fmt: skip
    with pytest.raises(ValueError, match="2 columns but the label set has 3 classes"):
        evaluate(read_labels(path), read_predictions(tmp_path / "w.pkl"))
    with (tmp_path / "u.pkl").open("wb") as handle:
        pickle.dump(
            {"v1": {"predictions": {"a": ["dog"], "v": ["unicorn"], "av": ["dog"]}}}, handle
        )
    _, summary = evaluate(read_labels(path), read_predictions(tmp_path / "u.pkl"))
    assert summary["unknown_predicted_names"] == 1  # dropped, as the reference does
    assert np.isfinite(summary["mu_a"])


def test_label_versions_from_the_vggsounder_package_are_the_released_files(data):
    pytest.importorskip("vggsounder", reason="needs the vggsounder extra")
    for version, music, name in (("0.1.6", False, "vggsounder_0.1.6.csv"),
                                 ("1.0", True, "vggsounder+background-music.csv")):  # fmt: skip
        packaged = read_labels(version=version, background_music=music)
        released = read_labels(data / name)
        pd.testing.assert_frame_equal(packaged.rows, released.rows)
        assert packaged.classes == released.classes and len(packaged.classes) == 309
