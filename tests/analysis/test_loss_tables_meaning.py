"""Grouped loss-to-loss fits of a table, tested for what the summary says: one row per group
(sorted), the rows used and dropped, the parameters and their intervals as fit_loss_to_loss gives
them, the fallback notes, the gap between curves and what the figure draws."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

from identifiable.analysis.loss_tables import curve_gap, fit_table, plot_fits, read_table
from identifiable.analysis.scaling import compute_to_loss, fit_loss_to_loss

matplotlib.use("Agg")


def family(name, k, e_y=2.0):
    """30 models of one family on L_y = k (L_x − 1.5)^1.3 + e_y, L_x from the compute law."""
    n, d = np.meshgrid([1, 2, 4, 8, 16, 32], [1, 3, 10, 30, 100])
    n, d = n.ravel().astype(float), d.ravel().astype(float)
    x = compute_to_loss(n, d, 1.5, 2.0, 3.0, 0.5, 0.6)
    return pd.DataFrame({"group": name, "Size": n, "Tokens": d, "x": x,
                         "y": k * (x - 1.5) ** 1.3 + e_y})  # fmt: skip


def noisy(frame, seed=0):
    rng = np.random.default_rng(seed)
    return frame.assign(y=frame["y"] + rng.normal(0, 0.02, len(frame)))


def test_groups_come_out_sorted_with_their_own_fits():
    table = pd.concat([family("zeta", 1.4), family("alpha", 0.9)], ignore_index=True)
    result = fit_table(table, x="x", y="y", by="group", bootstrap=0)
    assert result.table["group"].tolist() == ["alpha", "zeta"] == list(result.fits)
    assert result.table["K"].tolist() == pytest.approx([0.9, 1.4], abs=1e-6)
    assert result.table["E_x"].tolist() == pytest.approx([1.5, 1.5], abs=1e-6)
    assert (result.x, result.y, result.by) == ("x", "y", "group")


def test_summary_row_is_the_fit_with_its_intervals():
    table = noisy(family("a", 0.9))
    result = fit_table(table, x="x", y="y", by="group", bootstrap=30, seed=4)
    direct = fit_loss_to_loss(table["x"], table["y"], table["Size"], table["Tokens"],
                              bootstrap=30, seed=4)  # fmt: skip
    row = result.table.iloc[0]
    for name, value in direct.parameters().items():
        assert row[name] == value
        assert (row[f"{name}_low"], row[f"{name}_high"]) == direct.ci[name]
    assert row["K_low"] < row["K"] < row["K_high"]  # y is noisy: K is uncertain
    assert row["r2"] == direct.r2 and row["n"] == 30 and row["dropped"] == 0
    other = fit_table(table, x="x", y="y", by="group", bootstrap=30, seed=5)
    assert other.table.loc[0, "K_low"] != row["K_low"]  # the seed reaches the bootstrap


def test_e_min_reaches_the_fit_and_a_fallback_is_noted():
    table = family("a", 0.9)
    bounded = fit_table(table, x="x", y="y", by="group", bootstrap=0, e_min=1.6)
    assert bounded.table.loc[0, "E_x"] == pytest.approx(1.6, abs=1e-9)  # true 1.5 < bound
    # e_min at the smallest L_x: E_x falls back, E_y is still fitted
    fallen = fit_table(table, x="x", y="y", by="group", bootstrap=0, e_min=table["x"].min())
    note = fallen.table.loc[0, "note"]
    assert note.startswith("E_x = min loss (lower bound") and "E_y" not in note
    assert fallen.table.loc[0, "E_x"] == table["x"].min()


def test_size_and_tokens_are_used_only_where_a_group_has_all_of_them():
    part = family("a", 0.9)
    part.loc[4, "Tokens"] = np.nan  # one model without its token count
    result = fit_table(pd.concat([part, family("b", 0.9)]), x="x", y="y", by="group",
                       bootstrap=0)  # fmt: skip
    summary = result.table.set_index("group")
    assert summary.loc["a", "note"] == "E_x, E_y = min loss (no model size / token counts)"
    assert summary.loc["a", "E_x"] == part["x"].min() and summary.loc["a", "dropped"] == 0
    assert summary.loc["b", "note"] == "" and summary.loc["b", "E_x"] == pytest.approx(1.5)
    # a table with a size column but no token column: no law at all, no error
    sizes_only = fit_table(family("a", 0.9).drop(columns="Tokens"), x="x", y="y", by="group",
                           bootstrap=0)  # fmt: skip
    assert sizes_only.table.loc[0, "note"].startswith("E_x, E_y = min loss (no model size")


def test_named_size_and_token_columns_replace_the_defaults():
    table = family("a", 0.9).rename(columns={"Size": "params", "Tokens": "data"})
    result = fit_table(table, x="x", y="y", by="group", size="params", tokens="data", bootstrap=0)
    assert result.table.loc[0, "note"] == "" and result.table.loc[0, "E_x"] == pytest.approx(1.5)
    with pytest.raises(ValueError, match="--tokens column 'Tokens'"):
        fit_table(table, x="x", y="y", by="group", size="params", tokens="Tokens", bootstrap=0)


def test_empty_cells_are_dropped_counted_and_left_out_of_the_points():
    table = family("a", 0.9).astype({"y": object})
    table.loc[2, "y"] = ""
    table.loc[5, "y"] = "   "
    table.loc[7, "x"] = np.nan
    result = fit_table(table, x="x", y="y", by="group", bootstrap=0)
    assert result.table.loc[0, "dropped"] == 3 and result.table.loc[0, "n"] == 27
    assert len(result.points) == 27 and list(result.points.columns) == ["group", "x", "y"]
    assert not result.points["x"].isin(table.loc[[2, 5, 7], "x"]).any()


def test_a_non_number_names_its_data_row():
    table = family("a", 0.9).astype({"y": object})
    table.loc[2, "y"] = "n/a"
    with pytest.raises(ValueError, match=r"'n/a' in data row 3\)"):
        fit_table(table, x="x", y="y", by="group", bootstrap=0)


def test_rows_without_a_group_belong_to_none_and_three_rows_are_enough():
    table = pd.concat([family("a", 0.9), family("b", 1.4).iloc[[0, 10, 20]]], ignore_index=True)
    table.loc[0, "group"] = None
    result = fit_table(table, x="x", y="y", by="group", bootstrap=0)
    assert result.table["group"].tolist() == ["a", "b"]
    assert result.table.set_index("group").loc["a", "n"] == 29
    assert result.table.set_index("group").loc["b", "n"] == 3


def test_where_compares_as_text():
    table = pd.concat([family("a", 0.9), family("b", 1.4)], ignore_index=True)
    table["run"] = np.where(table["group"] == "a", 1, 2)
    result = fit_table(table, x="x", y="y", by="group", where={"run": "2"}, bootstrap=0)
    assert list(result.fits) == ["b"]


def test_skip_rows_drops_exactly_the_rows_after_the_header(tmp_path):
    table = family("a", 0.9)
    sub = pd.DataFrame([{c: "(unit)" for c in table.columns}] * 2)
    path = tmp_path / "t.csv"
    pd.concat([sub, table]).to_csv(path, index=False)
    read = read_table(path, skip_rows=2)
    assert len(read) == 30 and read["x"].astype(float).tolist() == table["x"].tolist()
    assert len(read_table(path)) == 32


def test_curve_gap_is_the_largest_distance_either_way_round():
    result = fit_table(pd.concat([family("a", 0.9), family("b", 1.4)]), x="x", y="y",
                       by="group", bootstrap=0)  # fmt: skip
    a, b = result.fits["a"], result.fits["b"]
    # the curves part as 0.5 (L_x − 1.5)^1.3: widest at the top of the range
    assert curve_gap(a, b, 1.6, 2.5) == pytest.approx(0.5 * 1.0**1.3, abs=1e-5)
    assert curve_gap(b, a, 1.6, 2.5) == curve_gap(a, b, 1.6, 2.5)
    # and narrowest at the bottom: the largest distance over [1.6, 1.7] is at 1.7
    assert curve_gap(a, b, 1.6, 1.7) == pytest.approx(0.5 * 0.2**1.3, abs=1e-5)


def test_the_figure_draws_each_groups_points_and_curve(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    drawn = []
    monkeypatch.setattr(plt, "close", drawn.append)
    table = pd.concat([family("a", 0.9), family("b", 1.4)], ignore_index=True)
    result = fit_table(table, x="x", y="y", by="group", bootstrap=0)
    path = plot_fits(result, tmp_path / "sub" / "fig.png")
    assert path == tmp_path / "sub" / "fig.png" and path.stat().st_size > 1000
    (ax,) = drawn[0].axes
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("x", "y", "loss-to-loss by group")
    lines, dots = ax.get_lines(), ax.collections
    assert [line.get_label() for line in lines] == ["a: K 0.90, κ 1.30", "b: K 1.40, κ 1.30"]
    for line, dot, group in zip(lines, dots, ("a", "b"), strict=True):
        xs = line.get_xdata()
        part = table[table["group"] == group]
        assert xs[0] == pytest.approx(max(part["x"].min(), result.fits[group].e_x.value))
        assert xs[-1] == pytest.approx(part["x"].max())
        np.testing.assert_allclose(line.get_ydata(), result.fits[group].predict(xs))
        np.testing.assert_allclose(dot.get_offsets(), part[["x", "y"]].to_numpy())
        assert np.allclose(dot.get_facecolor()[0][:3], matplotlib.colors.to_rgb(line.get_color()))
    assert lines[0].get_color() != lines[1].get_color()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [x.get_label() for x in lines]
    plot_fits(result, tmp_path / "g.png", title="mine")
    assert drawn[1].axes[0].get_title() == "mine"
