"""Matplotlib figures that cannot mislead at a glance: the plotting rules of every report.

* Numbers are written out: no offset notation ("1e−12+1") and no ×10ⁿ factor on any axis.
* A panel whose values are all equal says so ("all 27 values = 1.000000") on a single tick at
  that value, instead of stretching rounding noise over the whole axis.
* A categorical axis (any non-numeric swept value: ``source = laplace/uniform/gaussian``) gets
  points with error bars per category, dodged per series; a line through categories would
  suggest an order and an in-between that do not exist. Numeric axes keep lines, on a log scale
  when the values span ≥ 20×, with ticks at the swept values.
* Intervals are drawn as given (asymmetric low/high, see :mod:`identifiable.report.intervals`);
  proportions are drawn on their whole [0, 1] range.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, ScalarFormatter  # noqa: E402
from matplotlib.transforms import ScaledTranslation  # noqa: E402

from identifiable.metrics import MetricInfo  # noqa: E402
from identifiable.report.intervals import WILSON  # noqa: E402

__all__ = [
    "PLAIN_NUMBERS",
    "curve_figure",
    "format_value",
    "is_flat",
    "is_numeric_axis",
    "plain_numbers",
    "save_figure",
    "sweep_figure",
]

#: rcParams under which every report figure is drawn: no offset, no scientific factor.
PLAIN_NUMBERS = {"axes.formatter.useoffset": False, "axes.formatter.limits": (-99, 99)}
LOG_SPAN = 20.0
FLAT_RTOL = 1e-9


def plain_numbers(ax) -> None:
    """Turn off offset and scientific notation on the axes' linear, numeric axes."""
    for axis, which in ((ax.xaxis, "x"), (ax.yaxis, "y")):
        if isinstance(axis.get_major_formatter(), ScalarFormatter) and axis.get_scale() == "linear":
            ax.ticklabel_format(axis=which, useOffset=False, style="plain")


def save_figure(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as a PNG (110 dpi) and close it."""
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def format_value(value) -> str:
    """A swept or measured value as a reader wants it: ``500``, ``0.001``, ``laplace``."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        value = float(value)
        if math.isnan(value):
            return "nan"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:g}"
    return str(value)


def _format_level(value: float) -> str:
    if value == 0 or 1e-3 <= abs(value) < 1e6:
        return f"{value:.6f}"
    return f"{value:.6g}"


def is_numeric_axis(values: Sequence) -> bool:
    """True when every value (``None``/NaN aside) is a real number and not a bool."""
    seen = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return bool(seen) and all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_)
        for v in seen
    )


def is_flat(low: float, high: float) -> bool:
    """True when ``high − low`` is rounding noise: ≤ 1e-9 × max(1, |value|)."""
    return high - low <= FLAT_RTOL * max(1.0, abs(low), abs(high))


def _series(data: pd.DataFrame, keys: list[str]):
    if not keys:
        return [("", data)]
    out = []
    for label, part in data.groupby(keys, sort=False, dropna=False):
        label = label if isinstance(label, tuple) else (label,)
        out.append(
            (", ".join(f"{k}={format_value(v)}" for k, v in zip(keys, label, strict=True)), part)
        )
    return out


def _yerr(part: pd.DataFrame) -> np.ndarray:
    mean = part["mean"].to_numpy(float)
    below = np.nan_to_num(mean - part["low"].to_numpy(float), nan=0.0)
    above = np.nan_to_num(part["high"].to_numpy(float) - mean, nan=0.0)
    return np.vstack([np.maximum(below, 0.0), np.maximum(above, 0.0)])


def _draw_series(ax, fig, groups, x, categories, numeric, flat) -> None:
    width = min(0.8 / max(len(groups), 1), 0.25)
    for index, (label, part) in enumerate(groups):
        yerr = None if flat else _yerr(part)
        style = {"marker": "o", "capsize": 3, "label": label or None, "markersize": 5}
        if numeric:  # dodged by a few points on screen; the data keep their exact x
            shift = (index - (len(groups) - 1) / 2) * min(4.0, 24.0 / len(groups)) / 72
            moved = ax.transData + ScaledTranslation(shift, 0, fig.dpi_scale_trans)
            xs = part[x].to_numpy(float)
            ax.errorbar(xs, part["mean"], yerr=yerr, transform=moved, **style)
            for column in ("mean", "low", "high"):  # a moved artist sets no data limits
                ys = part[column].to_numpy(float)
                ax.update_datalim(np.column_stack([xs, ys])[~np.isnan(ys)])
        else:  # points per category, dodged per series, never joined by a line
            offset = (index - (len(groups) - 1) / 2) * width
            at = part[x] if x else ["all runs"] * len(part)
            positions = [categories.index(format_value(v)) + offset for v in at]
            ax.errorbar(positions, part["mean"], yerr=yerr, linestyle="none", **style)
    ax.autoscale_view()


def _x_axis(ax, x, xs, categories, numeric) -> None:
    if x:
        ax.set_xlabel(x)
    if numeric:
        ticks = sorted({float(v) for v in xs})
        if ticks[0] > 0 and ticks[-1] / ticks[0] >= LOG_SPAN:
            ax.set_xscale("log")
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_minor_formatter(NullFormatter())
        if len(ticks) <= 12:
            ax.xaxis.set_major_locator(FixedLocator(ticks))
            ax.set_xticklabels([format_value(v) for v in ticks])
    else:
        ax.set_xticks(range(len(categories)), categories)
        ax.set_xlim(-0.6, len(categories) - 0.4)


def _title(metric: str, data: pd.DataFrame, method: str, kind: str) -> str:
    n = sorted(set(data["n"].astype(int))) if len(data) else [0]
    runs = f"n = {n[0]}" if len(n) == 1 else f"n = {n[0]}–{n[-1]}"
    runs += " run per point" if n == [1] else " runs per point"
    if method == WILSON:
        binary = bool(np.isin(data[["min", "max"]].to_numpy(float), (0.0, 1.0)).all())
        what = "fraction of runs with 1" if binary else "mean"
        title = f"{metric}: {what} and 95% Wilson interval ({runs})"
    elif n[-1] < 2:
        title = f"{metric}: one run per point, no interval"
    else:
        title = f"{metric}: mean and 95% Student-t interval ({runs})"
    return "diagnostic · " + title if kind == "diagnostic" else title


def _say_flat(ax, low: float, high: float, count: int) -> None:
    """All values equal (up to rounding): one tick at the value and the fact in words."""
    level = (low + high) / 2
    ax.set_yticks([level], [_format_level(level)])
    ax.set_ylim(level - 1, level + 1)
    text = f"all {count} values = {_format_level(level)}"
    if high > low:
        text += f"\n(spread {high - low:.1e}: rounding noise)"
    box = {"facecolor": "white", "edgecolor": "0.6", "alpha": 0.9}
    ax.text(0.5, 0.78, text, transform=ax.transAxes, ha="center", va="center", bbox=box)


def sweep_figure(
    data: pd.DataFrame,
    x: str | None,
    series: list[str],
    metric: str,
    info: MetricInfo | None,
    method: str,
) -> Figure:
    """One metric over a sweep: mean and interval per grid point.

    ``data`` has one row per grid point with the swept columns (typed values), ``mean``, ``low``,
    ``high``, ``n``, ``min`` and ``max`` (as :func:`identifiable.report.sweep.aggregate` gives);
    ``x`` is the swept key on the horizontal axis (``None``: no swept key), ``series`` the other
    swept keys (one series per combination); ``method`` the interval's (``wilson`` panels show
    the whole [0, 1]). The caller saves and closes the figure.
    """
    data = data[data["mean"].notna()]
    kind = "undeclared" if info is None else info.kind
    low, high = float(data["min"].min()), float(data["max"].max())
    flat = len(data) > 0 and method != WILSON and is_flat(low, high)
    xs = list(data[x]) if x else ["all runs"] * len(data)
    numeric = x is not None and is_numeric_axis(xs)
    categories = list(dict.fromkeys(format_value(v) for v in xs))
    groups = _series(data, series)
    with plt.rc_context(PLAIN_NUMBERS):
        fig, ax = plt.subplots(figsize=(5.4, 3.7))
        _draw_series(ax, fig, groups, x, categories, numeric, flat)
        _x_axis(ax, x, xs, categories, numeric)
        plain_numbers(ax)
        if method == WILSON:
            ax.set_ylim(-0.04, 1.04)
        if flat:
            _say_flat(ax, low, high, int(data["n"].sum()))
        ax.set_title(_title(metric, data, method, kind), fontsize=8.5)
        direction = (
            ""
            if info is None or info.higher_is_better is None
            else (" (higher is better)" if info.higher_is_better else " (lower is better)")
        )
        note = {"diagnostic": " · diagnostic", "undeclared": " · undeclared"}.get(kind, "")
        ax.set_ylabel(metric + direction + note, fontsize=9)
        ax.grid(alpha=0.3)
        if len(groups) > 1:
            ax.legend(fontsize=7)
        fig.tight_layout()
    return fig


def curve_figure(curves: list[tuple[str, pd.DataFrame]], columns: list[str], title: str) -> Figure:
    """Curves (``step`` vs each column), one line per (label, frame) run."""
    with plt.rc_context(PLAIN_NUMBERS):
        fig, axes = plt.subplots(1, len(columns), figsize=(4.2 * len(columns), 3.4), squeeze=False)
        for ax, column in zip(axes[0], columns, strict=True):
            for label, frame in curves:
                if column in frame:
                    ax.plot(frame["step"], frame[column], marker=".", label=label[:60])
            ax.set_xlabel("step")
            ax.set_title(column)
            ax.grid(alpha=0.3)
            plain_numbers(ax)
        if len(curves) <= 12:
            axes[0][-1].legend(fontsize=7, loc="best")
        fig.suptitle(title)
        fig.tight_layout()
    return fig
