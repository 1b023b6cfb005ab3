"""Reports from the store: a Markdown page with tables and matplotlib figures.

``write_report(store, experiment)`` writes ``<out>/report.md`` plus one PNG per experiment of the
curves (loss and metrics vs step, one line per run; drawn by
:func:`identifiable.report.figures.curve_figure`, so no offset notation), experiment-specific
figures (when the experiment module defines ``figures``), and a verdict table for every claim
whose run is in the store.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from identifiable import claims as claims_module
from identifiable import experiments
from identifiable.config import config_to_dict
from identifiable.report.figures import curve_figure, save_figure
from identifiable.run import stored_verdicts
from identifiable.store import Store

__all__ = ["claim_verdicts", "markdown_table", "run_label", "write_report"]

_CURVE_SKIP = {"key", "attempt", "step", "train_seconds"}


def run_label(experiment: str, config: dict) -> str:
    """The config fields that differ from the experiment's defaults, e.g. ``world=box, seed=1``."""
    defaults = config_to_dict(experiments.get(experiment).Config())
    diff = [f"{k}={v}" for k, v in config.items() if defaults.get(k) != v]
    return ", ".join(diff) or "defaults"


def claim_verdicts(store: Store, experiment: str | None = None) -> list:
    """Verdicts for the claims (of ``experiment``, or all) whose run has finished in the store."""
    claims = experiments.claims(experiment) if experiment else experiments.all_claims()
    return stored_verdicts(store, claims)


def markdown_table(frame: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (floats to 4 significant digits, NaN as blank)."""
    if frame.empty:
        return "_(none)_\n"
    cells = frame.astype(object).where(frame.notna(), "")

    def fmt(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += [
        "| " + " | ".join(fmt(v) for v in row) + " |" for row in cells.itertuples(index=False)
    ]
    return "\n".join(lines) + "\n"


def _curve_figure(experiment: str, runs: pd.DataFrame, store: Store, out_dir: Path) -> Path | None:
    curves = []
    for row in runs.itertuples():
        frame = store.curves(row.key)
        if "step" in frame.columns and len(frame):
            curves.append((run_label(experiment, json.loads(row.config)), frame))
    if not curves:
        return None
    first = curves[0][1]
    columns = [
        c for c in first.columns if c not in _CURVE_SKIP and pd.api.types.is_numeric_dtype(first[c])
    ]
    if not columns:
        return None
    title = f"{experiment}: curves ({len(curves)} run{'s' * (len(curves) != 1)})"
    return save_figure(curve_figure(curves, columns, title), out_dir / f"{experiment}-curves.png")


def write_report(
    store: Store, experiment: str | None = None, out_dir: str | Path = "reports"
) -> Path:
    """Write ``report.md`` and figures for ``experiment`` (or every experiment with runs)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = store.table(experiment=experiment)
    known = set(experiments.names())  # a corrupt run.json has no readable experiment name
    names = (
        [experiment]
        if experiment
        else sorted(set(table["experiment"]) & known)
        if len(table)
        else []
    )
    lines = ["# identifiable report", "", f"Store: `{store.root}` · runs: {len(table)}", ""]

    verdicts = claim_verdicts(store, experiment)
    lines += ["## Claims", ""]
    rows = [claims_module.verdict_row(v) for v in verdicts]
    lines.append(
        markdown_table(pd.DataFrame(rows))
        if rows
        else "_No claim has a finished run yet: `identifiable reproduce`._\n"
    )

    for name in names:
        runs = table[table["experiment"] == name]
        done = runs[runs["status"] == "done"]
        lines += [f"## {name}", "", experiments.get(name).SUMMARY, ""]
        shown = ["key", "status", "label", "wall_seconds"]
        metric_cols = [
            c
            for c in runs.columns
            if c
            not in (
                "key",
                "attempt",
                "experiment",
                "status",
                "wall_seconds",
                "finished_at",
                "config",
                "error",
            )
        ]
        frame = runs.assign(label=[run_label(name, json.loads(c)) for c in runs["config"]])
        lines.append(markdown_table(frame[shown + metric_cols]))
        figure = _curve_figure(name, done, store, out) if len(done) else None
        if figure:
            lines += ["", f"![{name} curves]({figure.name})", ""]
        extra = getattr(experiments.get(name), "figures", None)
        if extra and len(done):
            allcurves = pd.concat([store.curves(k) for k in done["key"]], ignore_index=True)
            for path in extra(allcurves, out):
                lines += [f"![{Path(path).stem}]({Path(path).name})", ""]
        failed = runs[runs["status"].isin(["failed", "interrupted"])]
        for row in failed.itertuples():
            first = (row.error or "").splitlines()[0] if row.error else ""
            lines.append(f"- `{row.key}` {row.status}: {first}")
        lines.append("")
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
