"""Scoring users' own arrays: `identifiable.metrics.score` / `align`, the file reader, and the
`identifiable score` / `identifiable align` commands (one-line errors, exit code 2)."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from identifiable.array_files import read_array
from identifiable.cli import app
from identifiable.metrics import align, linear_r2, mcc, score
from identifiable.metrics.alignment import calibrate, cka, mutual_knn, svcca
from identifiable.metrics.disentanglement import dci, mig

runner = CliRunner()


def data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.uniform(-1, 1, size=(n, 3))
    return z, np.tanh(z @ rng.normal(size=(3, 4)))


def test_score_equals_the_metric_functions_and_bins_continuous_truth():
    z, h = data()
    values = score(z, h, metrics="mcc,linear_r2,mig,dci", seed=0)
    assert values["mcc"] == mcc(z, h)
    assert values["linear_r2"] == linear_r2(z, h, random_state=0)
    assert values["mig"] == mig(z, h, factor_bins=20)
    assert values["dci_disentanglement"] == dci(z, h, factor_bins=20, seed=0)["dci_disentanglement"]
    assert set(values) == {"mcc", "linear_r2", "mig", "dci_disentanglement", "dci_completeness",
                           "dci_informativeness_train", "dci_informativeness_test"}  # fmt: skip
    labels = np.floor((z + 1) * 2.5)  # 5 discrete levels
    assert score(labels, h, ["mig"], factors_discrete=True)["mig"] == mig(labels, h)
    assert list(score(z, h)) == ["mcc", "linear_r2", "mig"]  # the defaults


def test_perfect_and_useless_representations():
    z, _ = data(3000)  # plug-in MI of 20 × 20 bins is biased up by ≈ 361 / (2n) nats
    perfect = score(z, 2 * z[:, ::-1] + 1, ["mcc", "linear_r2", "mig"])
    assert perfect["mcc"] == pytest.approx(1.0) and perfect["linear_r2"] == pytest.approx(1.0)
    assert perfect["mig"] > 0.9
    noise = score(z, np.random.default_rng(5).normal(size=(3000, 3)), ["mcc", "linear_r2", "mig"])
    assert noise["mcc"] < 0.1 and noise["linear_r2"] < 0.05 and noise["mig"] < 0.05


def test_align_rows_equal_calibrate_and_raw_scores_without_permutations():
    z, h = data()
    rows = align(z, h, ["mutual_knn", "cka", "svcca"], k=5, permutations=9, seed=2)
    expected = calibrate(mutual_knn, z, h, permutations=9, seed=2, k=5)
    assert (rows[0].score, rows[0].null_mean, rows[0].p_value) == (
        expected.score, expected.null_mean, expected.p_value)  # fmt: skip
    assert rows[1].score == pytest.approx(cka(z, h))
    assert rows[2].score == pytest.approx(svcca(z, h, dims=3))  # min(10, d_A, d_B)
    raw = align(z, h, ["mutual_knn"], permutations=0)[0]
    assert raw.score == mutual_knn(z, h) and np.isnan(raw.null_mean) and raw.permutations == 0
    assert raw.info.higher_is_better is True
    prepared = align(z, h, ["cka"], permutations=0, prepare=True)[0]
    from identifiable.metrics.alignment import prepare_features

    assert prepared.score == pytest.approx(cka(prepare_features(z), prepare_features(h)))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda z, h: score(z, h, ["beta_vae"]), "beta_vae cannot be computed from two arrays"),
        (lambda z, h: score(z, h, "mcc,nope"), "unknown metric 'nope'; choose from mcc"),
        (lambda z, h: score(z, h, []), "no metric given"),
        (lambda z, h: score(z[:5], h[:5], ["mig"]), "mig needs at least 10 samples, got 5"),
        (lambda z, h: score(z, h[:-1]), "same number of samples"),
        (lambda z, h: align(z[:8], h[:8], ["mutual_knn"]), "at least k \\+ 1 = 11 samples"),
        (lambda z, h: align(z, h, ["cka"], permutations=-1), "permutations must be an int"),
        (lambda z, h: align(z, h, ["mcc"]), "unknown metric 'mcc'"),
        (lambda z, h: score(np.where(z > 0.9, np.nan, z), h), "NaN/inf"),
    ],
)
def test_bad_calls_are_one_line_errors(call, message):
    z, h = data()
    with pytest.raises(ValueError, match=message) as error:
        call(z, h)
    assert "\n" not in str(error.value)


def test_read_array_formats(tmp_path):
    z, h = data(20)
    np.save(tmp_path / "a.npy", h)
    np.save(tmp_path / "v.npy", z[:, 0])
    np.savez(tmp_path / "one.npz", h=h)
    np.savez(tmp_path / "two.npz", h=h, z=z)
    pd.DataFrame(h, columns=list("abcd")).to_csv(tmp_path / "head.csv", index=False)
    pd.DataFrame(h).to_csv(tmp_path / "bare.csv", index=False, header=False)
    pd.DataFrame(h, columns=list("abcd")).to_parquet(tmp_path / "t.parquet")
    pd.DataFrame(h).to_csv(tmp_path / "pandas.csv")  # header 0..3 and an index column
    labels = np.array([[0, 1, 2], [2, 0, 1]])
    pd.DataFrame(labels).to_csv(tmp_path / "labels.csv", index=False, header=False)
    np.testing.assert_array_equal(read_array(tmp_path / "labels.csv"), labels)  # data, not header
    for name in (
        "a.npy",
        "one.npz",
        "two.npz:h",
        "head.csv",
        "bare.csv",
        "t.parquet",
        "pandas.csv",
    ):
        np.testing.assert_allclose(read_array(tmp_path / name), h, rtol=1e-12, err_msg=name)
    assert read_array(tmp_path / "v.npy").shape == (20, 1)
    assert read_array(f"{tmp_path / 'two.npz'}:z").shape == (20, 3)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: np.savez(p / "f.npz", a=np.ones(3), b=np.ones(3)), "holds 2 arrays \\(a, b\\)"),
        (lambda p: (p / "f.csv").write_text("a,b\n1,2\n3,oops\n"), "non-numeric value 'oops'"),
        (lambda p: (p / "f.npy").write_bytes(b"not numpy"), "cannot read"),
        (lambda p: (p / "f.parquet").write_bytes(b"not parquet"), "cannot read"),
        (lambda p: np.save(p / "f.npy", np.ones((2, 2, 2))), "must be \\(n_samples, n_dims\\)"),
        (lambda p: np.save(p / "f.npy", np.array([[1.0, np.inf]])), "first in row 1, column 2"),
        (lambda p: np.save(p / "f.npy", np.array(["x", "y"])), "must hold numbers"),
        (lambda p: (p / "f.txt").write_text("1 2"), "use a .npy, .npz, .csv, .parquet file"),
        (lambda p: None, "no file at"),
    ],
)
def test_unreadable_files_are_one_line_errors(tmp_path, make, message):
    make(tmp_path)
    name = next((p.name for p in tmp_path.iterdir()), "f.npy")
    with pytest.raises(ValueError, match=message) as error:
        read_array(tmp_path / name)
    assert "\n" not in str(error.value)


def test_cli_score_and_align(tmp_path):
    z, h = data()
    np.save(tmp_path / "z.npy", z)
    pd.DataFrame(h).to_csv(tmp_path / "h.csv", index=False)
    result = runner.invoke(app, ["score", "--truth", str(tmp_path / "z.npy"), "--learned",
                                 str(tmp_path / "h.csv"), "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [r["metric"] for r in records] == ["mcc", "linear_r2", "mig"]
    assert records[0]["value"] == pytest.approx(mcc(z, h))
    assert records[0]["forgives"] == "permutation + sign + per-dimension affine map"
    out = tmp_path / "out" / "align.csv"
    args = ["align", str(tmp_path / "z.npy"), str(tmp_path / "h.csv"), "--metric",
            "mutual_knn,cka", "--permutations", "5", "--k", "5", "--output", str(out),
            "--format", "csv"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table["metric"]) == ["mutual_knn", "cka"]
    assert table["p_value"].iloc[0] == pytest.approx(1 / 6)
    table_out = runner.invoke(app, ["align", str(tmp_path / "z.npy"), str(tmp_path / "h.csv"),
                                    "--permutations", "3"])  # fmt: skip
    assert table_out.exit_code == 0 and "calibrated" in table_out.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["score", "--truth", "{z}", "--learned", "{short}"], "same number of samples"),
        (["score", "--truth", "{z}", "--learned", "{h}", "--metric", "factor_vae"], "Python"),
        (["score", "--truth", "{z}", "--learned", "{missing}"], "no file at"),
        (["align", "{z}", "{h}", "--metric", "bogus"], "unknown metric 'bogus'"),
        (["align", "{z}", "{h}", "--format", "xml"], "--format must be table, json or csv"),
        (["align", "{short}", "{short}", "--k", "20"], "lower k"),
    ],
)
def test_cli_errors_exit_2_in_one_line(tmp_path, args, message):
    z, h = data()
    paths = {"z": tmp_path / "z.npy", "h": tmp_path / "h.npy", "short": tmp_path / "s.npy",
             "missing": tmp_path / "nothing.npy"}  # fmt: skip
    np.save(paths["z"], z)
    np.save(paths["h"], h)
    np.save(paths["short"], h[:12])
    result = runner.invoke(app, [a.format(**{k: str(v) for k, v in paths.items()}) for a in args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
