"""Reports from the store: a Markdown page with tables and matplotlib figures.

``write_report(store, experiment)`` writes ``<out>/report.md`` plus one PNG per experiment of the
curves (loss and metrics vs step, one line per run), experiment-specific figures (when the
experiment module defines ``figures``), and a verdict table for every claim whose run is in the
store.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from identifiable import claims as claims_module  # noqa: E402
from identifiable import experiments  # noqa: E402
from identifiable.config import build_config, config_to_dict  # noqa: E402
from identifiable.store import Store, run_key  # noqa: E402

__all__ = ["claim_verdicts", "run_label", "write_report"]

_CURVE_SKIP = {"key", "attempt", "step", "train_seconds"}


def run_label(experiment: str, config: dict) -> str:
    """The config fields that differ from the experiment's defaults, e.g. ``world=box, seed=1``."""
    defaults = config_to_dict(experiments.get(experiment).Config())
    diff = [f"{k}={v}" for k, v in config.items() if defaults.get(k) != v]
    return ", ".join(diff) or "defaults"


def claim_verdicts(store: Store, experiment: str | None = None) -> list:
    """Verdicts for claims whose config has a finished run in the store."""
    found = []
    candidates = (
        experiments.claims(experiment)
        if experiment
        else experiments.all_claims()
    )
    for claim in candidates:
        module = experiments.get(claim.experiment)
        config = build_config(module.Config, claim.overrides)
        key = run_key(claim.experiment, config_to_dict(config))
        if store.is_done(key):
            found.append(claims_module.judge(claim, store.metrics(key)))
    return found


def _markdown_table(frame: pd.DataFrame) -> str:
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
    curves = {}
    for row in runs.itertuples():
        frame = store.curves(row.key)
        if "step" in frame.columns and len(frame):
            curves[row.key] = (run_label(experiment, json.loads(row.config)), frame)
    if not curves:
        return None
    columns = [c for c in next(iter(curves.values()))[1].columns if c not in _CURVE_SKIP]
    columns = [
        c for c in columns if pd.api.types.is_numeric_dtype(next(iter(curves.values()))[1][c])
    ]
    if not columns:
        return None
    fig, axes = plt.subplots(1, len(columns), figsize=(4.2 * len(columns), 3.4), squeeze=False)
    for ax, column in zip(axes[0], columns, strict=True):
        for label, frame in curves.values():
            if column in frame:
                ax.plot(frame["step"], frame[column], marker=".", label=label[:60])
        ax.set_xlabel("step")
        ax.set_title(column)
        ax.grid(alpha=0.3)
    if len(curves) <= 12:
        axes[0][-1].legend(fontsize=7, loc="best")
    fig.suptitle(f"{experiment}: curves ({len(curves)} run{'s' * (len(curves) != 1)})")
    fig.tight_layout()
    path = out_dir / f"{experiment}-curves.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(
    store: Store, experiment: str | None = None, out_dir: str | Path = "reports"
) -> Path:
    """Write ``report.md`` and figures for ``experiment`` (or every experiment with runs)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = store.table(experiment=experiment)
    names = [experiment] if experiment else sorted(set(table["experiment"])) if len(table) else []
    lines = ["# identifiable report", "", f"Store: `{store.root}` · runs: {len(table)}", ""]

    verdicts = claim_verdicts(store, experiment)
    lines += ["## Claims", ""]
    rows = [
        {
            "claim": v.claim.name,
            "control": "yes" if v.claim.control else "",
            "expected": "; ".join(e.describe() for e in v.claim.expect),
            "measured": "; ".join(
                f"{e.metric} = {v.measured.get(e.metric, float('nan')):.4f}" for e in v.claim.expect
            ),
            "paper": v.claim.paper_value,
            "verdict": "PASS" if v.passed else "FAIL",
        }
        for v in verdicts
    ]
    lines.append(
        _markdown_table(pd.DataFrame(rows))
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
        lines.append(_markdown_table(frame[shown + metric_cols]))
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


def config_fields(config_cls) -> list[tuple[str, str, str]]:
    """(name, type, default) of each Config field, for ``identifiable list --verbose``."""
    return [(f.name, str(f.type), repr(f.default)) for f in dataclasses.fields(config_cls)]
