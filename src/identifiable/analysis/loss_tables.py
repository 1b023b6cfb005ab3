"""Loss-to-loss fits of a result table (a CSV of one row per model), one curve per group.

Reads messy tables as released: a sub-header row to skip (``skip_rows``), empty loss cells
(those rows are dropped and counted per group), groups without model size / token counts (E
falls back to the smallest loss for that group, and the row says so). Works on the reference's
own table, brendel-group/llm-line ``data/latest_pm_hf.csv`` (Mayilvahanan*, Wiedemer*, Mallick,
Bethge, Brendel 2025, arXiv:2502.12120): ``skip_rows=1``, x a validation loss, y a task loss,
grouped by ``Pretraining Data``. The law and the recipe: :mod:`identifiable.analysis.scaling`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from identifiable.analysis.scaling import MIN_POINTS, LossToLossFit, fit_loss_to_loss

__all__ = ["GroupedFits", "curve_gap", "fit_table", "plot_fits", "read_table"]

DEFAULT_SIZE, DEFAULT_TOKENS = "Size", "Tokens"


def read_table(path: str | Path, skip_rows: int = 0) -> pd.DataFrame:
    """The CSV at ``path`` with the ``skip_rows`` rows after the header dropped (a sub-header)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no file at {path}; give the path of a CSV table")
    if skip_rows < 0:
        raise ValueError(f"skip_rows must be >= 0, got {skip_rows}")
    try:
        return pd.read_csv(path, skiprows=range(1, skip_rows + 1))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"cannot read {path} as CSV: {reason}") from error


def _column(table: pd.DataFrame, name: str, role: str) -> None:
    if name not in table.columns:
        have = ", ".join(map(str, table.columns))
        raise ValueError(f"{role} column {name!r} is not in the table; its columns are: {have}")


def _numeric(table: pd.DataFrame, name: str) -> pd.Series:
    """The column as floats; empty cells become NaN, any other non-number is an error."""
    values = pd.to_numeric(table[name], errors="coerce")
    bad = values.isna() & table[name].notna() & (table[name].astype(str).str.strip() != "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(
            f"column {name!r} has non-numeric values (e.g. {table[name].iloc[row]!r} in data row "
            f"{row + 1}); a sub-header row can be skipped with --skip-rows"
        )
    return values.astype(float)


@dataclass(frozen=True)
class GroupedFits:
    """Fits per group, the rows used (``points``: group, x, y) and a summary ``table`` with one
    row per group: n, rows dropped (empty x/y), K, κ, E_x, E_y with interval bounds, R², and a
    note where E fell back to the smallest loss."""

    fits: dict[str, LossToLossFit]
    points: pd.DataFrame
    table: pd.DataFrame
    x: str
    y: str
    by: str


def fit_table(
    table: pd.DataFrame,
    *,
    x: str,
    y: str,
    by: str,
    size: str | None = None,
    tokens: str | None = None,
    where: dict[str, str] | None = None,
    e_min: float = 0.0,
    bootstrap: int = 100,
    seed: int = 0,
    progress=None,
) -> GroupedFits:
    """Fit L_y = K (L_x − E_x)^κ + E_y per value of column ``by``.

    size, tokens: columns of model parameters / training tokens (default ``Size`` / ``Tokens``
                  when the table has them); a group where any of them is empty uses E = min L.
    progress:     called ``progress(done, total)`` after each group (a progress bar).
    where:        keep only rows whose column equals the value (as text, or as numbers when
                  both are numbers: ``Size=1e9`` matches 1000000000.0).
    """
    for name, role in ((x, "--x"), (y, "--y"), (by, "--by")):
        _column(table, name, role)
    size = size if size is not None else (DEFAULT_SIZE if DEFAULT_SIZE in table else None)
    tokens = tokens if tokens is not None else (DEFAULT_TOKENS if DEFAULT_TOKENS in table else None)
    for name, role in ((size, "--size"), (tokens, "--tokens")):
        if name is not None:
            _column(table, name, role)
    for name, value in (where or {}).items():
        _column(table, name, "--where")
        same = table[name].astype(str) == str(value)
        number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
        if not np.isnan(number):
            same |= pd.to_numeric(table[name], errors="coerce") == number
        table = table[same]
    if table.empty:
        raise ValueError(f"no rows left after --where {where}")
    data = pd.DataFrame({"group": table[by].astype(str), "x": _numeric(table, x),
                         "y": _numeric(table, y)})  # fmt: skip
    data["size"] = _numeric(table, size) if size and tokens else np.nan
    data["tokens"] = _numeric(table, tokens) if size and tokens else np.nan
    data = data[table[by].notna().to_numpy()]
    fits: dict[str, LossToLossFit] = {}
    rows, kept = [], []
    groups = data.groupby("group", sort=True)
    for done, (group, part) in enumerate(groups, start=1):
        usable = part.dropna(subset=["x", "y"])
        if len(usable) < MIN_POINTS:
            raise ValueError(
                f"group {group!r} has {len(usable)} rows with both {x!r} and {y!r}; a fit needs "
                f"at least {MIN_POINTS} (filter it out with --where or pick other columns)"
            )
        known = usable[["size", "tokens"]].notna().all(axis=1).all()
        fit = fit_loss_to_loss(
            usable["x"], usable["y"],
            usable["size"] if known else None, usable["tokens"] if known else None,
            e_min=e_min, bootstrap=bootstrap, seed=seed,
        )  # fmt: skip
        fits[group] = fit
        kept.append(usable[["group", "x", "y"]])
        note = _note(fit)
        row = {"group": group, "n": fit.n, "dropped": len(part) - len(usable)}
        for name, value in fit.parameters().items():
            low, high = fit.ci[name]
            row |= {name: value, f"{name}_low": low, f"{name}_high": high}
        rows.append(row | {"r2": fit.r2, "note": note})
        if progress is not None:
            progress(done, groups.ngroups)
    points = pd.concat(kept, ignore_index=True)
    return GroupedFits(fits, points, pd.DataFrame(rows), x, y, by)


def _note(fit: LossToLossFit) -> str:
    fallen = [(axis, e.reason) for axis, e in (("E_x", fit.e_x), ("E_y", fit.e_y))
              if e.source == "min"]  # fmt: skip
    if len(fallen) == 2 and fallen[0][1] == fallen[1][1]:
        return f"E_x, E_y = min loss ({fallen[0][1]})"
    return "; ".join(f"{axis} = min loss ({reason})" for axis, reason in fallen)


def curve_gap(a: LossToLossFit, b: LossToLossFit, low: float, high: float) -> float:
    """Largest vertical distance between two fitted curves over L_x ∈ [low, high]."""
    grid = np.linspace(low, high, 200)
    return float(np.max(np.abs(a.predict(grid) - b.predict(grid))))


def plot_fits(result: GroupedFits, path: str | Path, title: str = "") -> Path:
    """Points and fitted curve per group (one colour each)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    colors = plt.get_cmap("tab10")
    for i, (group, fit) in enumerate(result.fits.items()):
        part = result.points[result.points["group"] == group]
        color = colors(i % 10)
        ax.scatter(part["x"], part["y"], s=14, color=color, alpha=0.8)
        grid = np.linspace(max(part["x"].min(), fit.e_x.value), part["x"].max(), 200)
        label = f"{group}: K {fit.k:.2f}, κ {fit.kappa:.2f}"
        ax.plot(grid, fit.predict(grid), color=color, lw=1.4, label=label)
    ax.set_xlabel(result.x)
    ax.set_ylabel(result.y)
    ax.set_title(title or f"loss-to-loss by {result.by}", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
