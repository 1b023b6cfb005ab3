"""Grouped loss-to-loss fits of CSV tables and the `identifiable fit loss-to-loss` command."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from identifiable.analysis.loss_tables import curve_gap, fit_table, plot_fits, read_table
from identifiable.analysis.scaling import compute_to_loss
from identifiable.cli import app


def messy_csv(path):
    """Two families on different curves (K 0.9 and 1.4) with Size/Tokens, one without, a
    sub-header row and an empty loss cell — the shape of the llm-line table."""
    n, d = np.meshgrid([1, 2, 4, 8, 16, 32], [1, 3, 10, 30, 100])
    n, d = n.ravel().astype(float), d.ravel().astype(float)
    x = compute_to_loss(n, d, 1.5, 2.0, 3.0, 0.5, 0.6)
    rows = []
    for family, k in (("alpha", 0.9), ("beta", 1.4)):
        for i in range(len(x)):
            rows.append({"Name": f"{family}-{i}", "Data": family, "Size": n[i], "Tokens": d[i],
                         "Val Loss": x[i], "Task Loss": k * (x[i] - 1.5) ** 1.3 + 2.0})  # fmt: skip
    for i in range(8):
        rows.append({"Name": f"gamma-{i}", "Data": "gamma", "Size": None, "Tokens": None,
                     "Val Loss": 2.0 + 0.2 * i, "Task Loss": 2.5 + 0.3 * i})  # fmt: skip
    rows[3]["Task Loss"] = None
    table = pd.DataFrame(rows)
    sub = pd.DataFrame([{c: "(sub-header)" for c in table.columns}])
    pd.concat([sub, table]).to_csv(path, index=False)
    return path


@pytest.fixture
def table(tmp_path):
    return read_table(messy_csv(tmp_path / "models.csv"), skip_rows=1)


def test_groups_are_fitted_with_their_own_law_and_the_gaps_read_right(table):
    result = fit_table(table, x="Val Loss", y="Task Loss", by="Data", bootstrap=0)
    summary = result.table.set_index("group")
    assert summary.loc["alpha", "K"] == pytest.approx(0.9, abs=1e-4)
    assert summary.loc["beta", "K"] == pytest.approx(1.4, abs=1e-4)
    assert summary.loc["alpha", "dropped"] == 1 and summary.loc["alpha", "n"] == 29
    assert summary.loc["gamma", "note"].startswith("E_x, E_y = min loss (no model size")
    assert summary.loc["alpha", "note"] == ""
    gap = curve_gap(result.fits["alpha"], result.fits["beta"], 1.6, 2.5)
    assert gap > 0.1
    assert curve_gap(result.fits["alpha"], result.fits["alpha"], 1.6, 2.5) == 0.0


def test_where_keeps_the_matching_rows(table):
    result = fit_table(table, x="Val Loss", y="Task Loss", by="Data", where={"Data": "beta"},
                       bootstrap=0)  # fmt: skip
    assert list(result.fits) == ["beta"]


def test_figure_is_written(table, tmp_path):
    result = fit_table(table, x="Val Loss", y="Task Loss", by="Data", bootstrap=0)
    assert plot_fits(result, tmp_path / "fig.png").stat().st_size > 1000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"x": "Nope"}, "'Nope' is not in the table; its columns are: Name, Data"),
        ({"size": "Params"}, "--size column 'Params'"),
        ({"where": {"Data": "delta"}}, "no rows left"),
        ({"x": "Name"}, "non-numeric values (e.g. 'alpha-0'"),
    ],
)
def test_bad_columns_are_one_line_errors(table, kwargs, message):
    args = {"x": "Val Loss", "y": "Task Loss", "by": "Data", "bootstrap": 0} | kwargs
    with pytest.raises(ValueError) as error:
        fit_table(table, **args)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_group_with_too_few_points_says_how_many_are_needed(table):
    small = pd.concat([table, table.iloc[:2].assign(Data="tiny")])
    with pytest.raises(ValueError, match="group 'tiny' has 2 rows .* at least 3"):
        fit_table(small, x="Val Loss", y="Task Loss", by="Data", bootstrap=0)


def test_the_sub_header_must_be_skipped(tmp_path):
    raw = read_table(messy_csv(tmp_path / "m.csv"))
    with pytest.raises(ValueError, match="--skip-rows"):
        fit_table(raw, x="Val Loss", y="Task Loss", by="Data", bootstrap=0)


def test_unreadable_files(tmp_path):
    with pytest.raises(ValueError, match="no file at"):
        read_table(tmp_path / "missing.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="cannot read"):
        read_table(tmp_path / "empty.csv")


runner = CliRunner()
BASE = ["fit", "loss-to-loss", "--x", "Val Loss", "--y", "Task Loss", "--by", "Data"]


def test_cli_json_csv_and_figure(tmp_path):
    path = messy_csv(tmp_path / "m.csv")
    figure = str(tmp_path / "f.png")
    args = [*BASE, str(path), "--skip-rows", "1", "--format", "json", "--bootstrap", "10"]
    out = runner.invoke(app, [*args, "--figure", figure])
    assert out.exit_code == 0, out.output
    records = json.loads(out.stdout[: out.stdout.rindex("]") + 1])
    assert [r["group"] for r in records] == ["alpha", "beta", "gamma"]
    assert records[0]["K_low"] - 1e-6 <= 0.9 <= records[0]["K_high"] + 1e-6
    assert (tmp_path / "f.png").is_file()
    args = [*BASE, str(path), "--skip-rows", "1", "--format", "csv", "--bootstrap", "0"]
    out = runner.invoke(app, [*args, "--output", str(tmp_path / "fits.csv")])
    assert out.exit_code == 0, out.output
    assert pd.read_csv(tmp_path / "fits.csv")["group"].tolist() == ["alpha", "beta", "gamma"]
    out = runner.invoke(app, [*BASE, str(path), "--skip-rows", "1", "--bootstrap", "0"])
    assert out.exit_code == 0 and "alpha" in out.stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--x", "Loss"], "'Loss' is not in the table"),
        (["--format", "xml"], "--format must be table, json or csv"),
        (["--where", "Data"], "COLUMN=VALUE"),
        (["--skip-rows", "0"], "non-numeric"),
        (["--skip-rows", "-1"], "skip_rows must be >= 0"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(tmp_path, extra, message):
    path = messy_csv(tmp_path / "m.csv")
    args = [*BASE, str(path), "--skip-rows", "1", "--bootstrap", "0", *extra]
    out = runner.invoke(app, args)
    assert out.exit_code == 2, out.output
    assert message in out.output and "Traceback" not in out.output


def test_cli_missing_file_exits_2(tmp_path):
    out = runner.invoke(app, [*BASE, str(tmp_path / "none.csv")])
    assert out.exit_code == 2 and "no file at" in out.output


def test_cli_on_the_reference_table(llm_line_csv, tmp_path):
    """The released llm-line table: sub-header skipped, empty cells dropped and counted, Dolma
    (no Size/Tokens) falls back to E = min L."""
    columns = ["--x", "FineWeb-Edu Validation Loss", "--y", "HellaSwag Loss"]
    args = ["fit", "loss-to-loss", str(llm_line_csv), "--skip-rows", "1", *columns]
    out = runner.invoke(
        app, [*args, "--by", "Pretraining Data", "--bootstrap", "0", "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    records = {r["group"]: r for r in json.loads(out.stdout[: out.stdout.rindex("]") + 1])}
    assert set(records) == {"C4", "Dolma", "FineWeb-Edu", "The Pile", "The Pile Deduped"}
    assert "= min loss" in records["Dolma"]["note"] and records["Dolma"]["n"] == 36
    # the CLI gives the library's fit (the reference's numbers are checked in test_scaling.py;
    # The Pile's parameters move with the CPU's BLAS kernels, see there)
    from identifiable.analysis.scaling import fit_loss_to_loss

    rows = pd.read_csv(llm_line_csv, skiprows=[1])
    rows = rows[rows["Pretraining Data"] == "The Pile"].dropna(subset=columns[1::2])
    fit = fit_loss_to_loss(rows[columns[1]], rows[columns[3]], rows["Size"], rows["Tokens"],
                           bootstrap=0)  # fmt: skip
    assert records["The Pile"]["K"] == pytest.approx(fit.k, rel=1e-9)
    assert "12 rows" in out.output  # 10 Dolma + 2 C4 rows lack the FineWeb-Edu loss


def test_where_matches_numbers_as_numbers(table):
    result = fit_table(table, x="Val Loss", y="Task Loss", by="Data", where={"Tokens": "1e2"},
                       bootstrap=0)  # fmt: skip
    assert result.table["n"].sum() == 12  # D = 100 rows of alpha and beta (6 sizes each)
