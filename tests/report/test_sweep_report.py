"""A sweep report with every case a figure can get wrong, checked on the matplotlib axes it drew.

The runs come from a test-only experiment (``sweep_report_experiment.py``: known metrics of every
kind, nothing trained) in a 3 (source: categorical) × 3 (n_samples: numeric) × 3-seed sweep.
"""

import math

import numpy as np
import pandas as pd
import pytest

from identifiable import experiments
from identifiable.metrics import metric_info
from identifiable.report import aggregate, sweep, write_sweep_report
from identifiable.report.figures import curve_figure
from identifiable.store import Store
from identifiable.sweep import SweepSpec, run_sweep

SOURCES = ["laplace", "uniform", "gaussian"]
SAMPLES = ["500", "1000", "2000"]  # as typed on the command line


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    experiments.register("report-toy", "sweep_report_experiment")
    store = Store(tmp_path_factory.mktemp("runs"))
    try:
        for name, grid in (
            ("cat", {"source": SOURCES, "n_samples": SAMPLES}),
            # the same runs with n_samples first: the numeric key on the x axis
            ("num", {"n_samples": SAMPLES, "source": SOURCES}),
        ):
            spec = SweepSpec("report-toy", grid=grid, seeds=(0, 1, 2), name=name)
            assert run_sweep(spec, store, backend="inline").ok
        yield store
    finally:
        experiments.unregister("report-toy")


@pytest.fixture(scope="module")
def reports(store, tmp_path_factory):
    """Both reports written, with every figure the writer saves kept open for inspection."""
    out = tmp_path_factory.mktemp("out")
    drawn: dict[str, object] = {}
    original = sweep.save_figure

    def keep(fig, path):
        fig.canvas.draw()
        drawn[path.stem] = fig
        fig.savefig(path, dpi=60)
        return path

    sweep.save_figure = keep
    try:
        pages = {name: write_sweep_report(store, name, out) for name in ("cat", "num")}
    finally:
        sweep.save_figure = original
    yield out, pages, drawn
    import matplotlib.pyplot as plt

    for fig in drawn.values():
        plt.close(fig)


def _axes(drawn, name):
    (ax,) = drawn[name].axes
    return ax


def _errorbar_ys(ax) -> np.ndarray:
    segments = [s for c in ax.collections for s in c.get_segments()]
    return np.concatenate([s[:, 1] for s in segments]) if segments else np.array([])


def test_aggregate_is_typed_and_carries_interval_method_and_limits(store):
    table, swept = aggregate(store, "cat")
    assert swept == ["source", "n_samples"]
    assert sorted(set(table["n_samples"])) == [500, 1000, 2000]  # typed, not "500"
    assert pd.api.types.is_integer_dtype(table["n_samples"])
    methods = dict(zip(table["metric"], table["interval"], strict=False))
    assert (
        methods.items()
        >= {
            "linear_r2": "student-t",
            "mcc": "student-t",
            "accuracy": "wilson",
            "converged": "wilson",
            "report_test_retried": "wilson",
            "wall_seconds": "student-t",
        }.items()
    )
    for row in table.itertuples():
        low, high = (
            (None, None) if metric_info(row.metric) is None else metric_info(row.metric).bounds
        )
        assert low is None or row.low >= low
        assert high is None or row.high <= high
        assert row.low - 1e-12 <= row.mean <= row.high + 1e-12
    mcc = table[(table["metric"] == "mcc") & (table["source"] == "laplace")].iloc[0]
    assert mcc["mean"] + mcc["ci95"] > 1 and mcc["high"] == 1.0  # clipped to the bound
    flag = table[(table["metric"] == "converged") & (table["source"] == "gaussian")].iloc[0]
    assert (flag["low"], flag["high"]) == pytest.approx((0.207660, 0.938508), abs=1e-6)
    assert math.isnan(flag["ci95"])  # no symmetric half-width for a Wilson interval


def test_csv_has_the_interval_method_and_limits(reports):
    out, _, _ = reports
    csv = pd.read_csv(out / "cat.csv")
    assert list(csv.columns[:6]) == ["source", "n_samples", "metric", "mean", "std", "n"]
    assert {"ci95", "interval", "low", "high"} <= set(csv.columns)
    assert set(csv["interval"]) == {"student-t", "wilson"}


def test_no_figure_uses_offset_or_scientific_notation(reports):
    _, _, drawn = reports
    assert len(drawn) >= 12  # 6 metrics × 2 sweeps
    for name, fig in drawn.items():
        for ax in fig.axes:
            assert ax.xaxis.get_offset_text().get_text() == "", name
            assert ax.yaxis.get_offset_text().get_text() == "", name


def test_a_flat_metric_says_so_instead_of_drawing_noise(reports):
    _, _, drawn = reports
    ax = _axes(drawn, "cat-linear_r2")
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "all 27 values = 1.000000" in texts and "rounding noise" in texts
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1.000000"]
    assert len(_errorbar_ys(ax)) == 0  # no interval drawn around rounding noise


def test_categorical_axis_draws_dodged_points_not_lines(reports):
    _, _, drawn = reports
    ax = _axes(drawn, "cat-mcc")
    assert [t.get_text() for t in ax.get_xticklabels()] == SOURCES
    data = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(data) == 3  # one series per n_samples
    assert all(line.get_linestyle() == "None" for line in ax.get_lines())
    first = [line.get_xdata()[0] for line in data]
    assert len(set(first)) == 3 and max(first) - min(first) < 1  # dodged inside one category
    assert _errorbar_ys(ax).max() <= 1.0  # the t interval stops at mcc's bound
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "n_samples=500",
        "n_samples=1000",
        "n_samples=2000",
    ]


def test_numeric_axis_keeps_lines_with_ticks_at_the_swept_values(reports):
    _, _, drawn = reports
    ax = _axes(drawn, "num-mcc")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["500", "1000", "2000"]
    data = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(data) == 3 and all(line.get_linestyle() == "-" for line in data)
    assert list(data[0].get_xdata()) == [500, 1000, 2000]
    assert ax.get_xscale() == "linear"  # 2000 / 500 < 20


def test_proportions_get_wilson_intervals_inside_zero_one(reports):
    _, _, drawn = reports
    for name in ("cat-converged", "cat-accuracy", "cat-report_test_retried"):
        ax = _axes(drawn, name)
        assert "Wilson" in ax.get_title()
        ys = _errorbar_ys(ax)
        assert len(ys) and ys.min() >= 0.0 and ys.max() <= 1.0
        assert ax.get_ylim() == pytest.approx((-0.04, 1.04))
    assert "fraction of runs with 1" in _axes(drawn, "cat-converged").get_title()


def test_diagnostics_are_labelled_and_kept_apart(reports):
    out, pages, drawn = reports
    for name in ("cat-report_test_retried", "cat-wall_seconds"):
        ax = _axes(drawn, name)
        assert ax.get_title().startswith("diagnostic") and "diagnostic" in ax.get_ylabel()
    assert not _axes(drawn, "cat-mcc").get_title().startswith("diagnostic")
    page = pages["cat"].read_text()
    figures, diagnostics = page.split("<h2>Diagnostics</h2>")
    assert 'alt="cat-mcc"' in figures and 'alt="cat-converged"' in figures
    assert 'alt="cat-wall_seconds"' in diagnostics
    assert 'alt="cat-report_test_retried"' in diagnostics
    assert 'alt="cat-wall_seconds"' not in figures
    assert "## Diagnostics" in (out / "cat.md").read_text()


def test_provenance_shows_the_typed_resolved_config(reports):
    _, pages, _ = reports
    page = pages["cat"].read_text()
    assert "n_samples ∈ {500, 1000, 2000}" in page
    assert "source=gaussian, n_samples=2000, seed=2" in page
    assert "&quot;n_samples&quot;: 2000" in page and "&quot;n_samples&quot;: &quot;" not in page
    assert "&quot;scale&quot;: 1.5" in page  # the whole resolved config, defaults included


def test_curve_figures_write_numbers_out_too():
    curves = [("run", pd.DataFrame({"step": [1, 2, 3], "value": [1.0, 1.0 + 1e-12, 1.0]}))]
    fig = curve_figure(curves, ["value"], "curves")
    fig.canvas.draw()
    assert fig.axes[0].yaxis.get_offset_text().get_text() == ""
    import matplotlib.pyplot as plt

    plt.close(fig)
