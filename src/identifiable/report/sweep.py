"""Sweep reports: a mean and a 95% interval over seeds per grid point, figures, CSV and HTML.

For a sweep (see :mod:`identifiable.sweep`) this writes into ``out``:

* ``<name>.csv`` — one row per grid point and metric: the swept values (typed, from each run's
  resolved config), ``metric``, ``mean``, ``std``, ``n`` (runs), ``ci95`` (Student-t half-width
  t·s/√n before clipping; empty for Wilson rows, whose interval is not symmetric),
  ``interval`` (``student-t`` or ``wilson``), ``low`` and ``high`` (the 95% interval as drawn,
  inside the metric's declared bounds), ``min`` and ``max`` of the runs and the metric's
  ``kind``. Which interval a metric gets: :mod:`identifiable.report.intervals`.
* ``<name>-<metric>.png`` — the metric against the first swept key (the order of the sweep's
  ``--grid`` options), one series per combination of the other swept keys; drawn by
  :func:`identifiable.report.figures.sweep_figure` (categorical keys as dodged points, numeric
  keys as lines, no offset notation, equal values said in words). Metrics of kind
  ``diagnostic`` (seconds, throughput, undeclared ``*_seconds``) get their own section, titled
  as diagnostics: they describe the runs, they are not results.
* ``<name>-<figure>.png`` — figures an experiment draws from every finished run's curves pooled,
  where it defines ``sweep_figures(curves, out_dir)`` (loss-to-loss: the fitted curves).
* ``<name>.md`` and ``<name>.html`` — the table and figures; the HTML is self-contained (images
  embedded) and also lists claim verdicts, how each metric is read (kind, interval, direction,
  bounds) and each run's provenance: its resolved, typed config, commit and versions.
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from identifiable import claims as claims_module
from identifiable import experiments
from identifiable.metrics import MetricInfo, metric_info
from identifiable.report.figures import format_value, save_figure, sweep_figure
from identifiable.report.intervals import (
    STUDENT_T,
    interval,
    method_for,
    student_t_half_width,
)
from identifiable.report.markdown import claim_verdicts, markdown_table
from identifiable.store import RunRecord, Store, load_manifest

__all__ = ["aggregate", "write_sweep_report"]

_TIMING = {"train_seconds", "steps_per_second", "fit_seconds", "wall_seconds"}
_COLUMNS = ["metric", "mean", "std", "n", "ci95", "interval", "low", "high", "min", "max", "kind"]


def _typed(value: Any) -> Any:
    """A config value usable as a group key: lists (JSON of tuples) become tuples."""
    if isinstance(value, list):
        return tuple(_typed(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return value


def _record(store: Store, key: str) -> RunRecord | None:
    try:
        return store.get(key)
    except ValueError:  # an unreadable run.json: listed as not run, never fatal for the report
        return None


def _records(store: Store, manifest: dict) -> dict[str, RunRecord | None]:
    """Each manifest run's record, read once (``None``: not run yet)."""
    return {run["key"]: _record(store, run["key"]) for run in manifest["runs"]}


def _swept(manifest: dict) -> list[str]:
    return [*manifest["grid"], *manifest["zipped"]]


def _point(run: dict, record: RunRecord | None, keys: list[str]) -> dict[str, Any]:
    """The run's swept values, typed from its resolved config (the manifest holds what was typed
    on the command line: ``"500"``); the manifest's value only when the record lacks the key."""
    config = record.config if record is not None else {}
    return {k: _typed(config[k]) if k in config else run["params"].get(k) for k in keys}


def _long_metrics(store: Store, manifest: dict) -> tuple[pd.DataFrame, list[str]]:
    rows, swept, records = [], _swept(manifest), _records(store, manifest)
    for run in manifest["runs"]:
        record = records[run["key"]]
        if record is None or record.status != "done":
            continue
        try:
            metrics = store.metrics(run["key"])
        except KeyError:  # damaged since its record was read
            continue
        point = _point(run, record, [*swept, "seed"])
        for name, value in metrics.items():
            rows.append({**point, "metric": name, "_value": value})
    return pd.DataFrame(rows), swept


def _info(metric: str) -> MetricInfo | None:
    """The metric's declaration; an undeclared ``*_seconds`` is read as a duration (a
    diagnostic, ≥ 0) so its interval cannot reach negative seconds."""
    info = metric_info(metric)
    if info is None and metric.endswith("_seconds"):
        return MetricInfo(
            metric, False, (0.0, None), "diagnostic", "", "seconds (undeclared: read as a duration)"
        )
    return info


def _kind(info: MetricInfo | None) -> str:
    return "undeclared" if info is None else info.kind


def _is_diagnostic(metric: str, info: MetricInfo | None) -> bool:
    return metric in _TIMING if info is None else info.kind == "diagnostic"


def aggregate(store: Store, name: str) -> tuple[pd.DataFrame, list[str]]:
    """(table, swept keys): one row per grid point and metric; columns in the module docs.

    The swept columns hold typed values (``500``, not ``"500"``) from each run's resolved config.
    """
    manifest = load_manifest(store, name)
    frame, swept = _long_metrics(store, manifest)
    if frame.empty:
        return pd.DataFrame(columns=[*swept, *_COLUMNS]), swept
    methods = {
        metric: method_for(_info(metric), part["_value"].to_numpy(float))
        for metric, part in frame.groupby("metric", sort=False)
    }
    keys = [*swept, "metric"]
    rows = []
    for values, part in frame.groupby(keys, sort=False, dropna=False):
        metric = values[-1]
        info = _info(metric)
        method = methods[metric]
        x = part["_value"].to_numpy(float)
        x = x[~np.isnan(x)]
        low, high = interval(x, method, (None, None) if info is None else info.bounds)
        rows.append(
            {
                **dict(zip(keys, values, strict=True)),
                "mean": float(x.mean()) if x.size else math.nan,
                "std": float(x.std(ddof=1)) if x.size > 1 else math.nan,
                "n": int(x.size),
                "ci95": student_t_half_width(x) if method == STUDENT_T else math.nan,
                "interval": method,
                "low": low,
                "high": high,
                "min": float(x.min()) if x.size else math.nan,
                "max": float(x.max()) if x.size else math.nan,
                "kind": _kind(info),
            }
        )
    return pd.DataFrame(rows, columns=[*swept, *_COLUMNS]), swept


def _shown(mean: float, low: float, high: float) -> str:
    if mean != mean:
        return ""
    if low != low:
        return f"{mean:.4g}"
    return f"{mean:.4g} [{low:.4g}, {high:.4g}]"


def _wide(table: pd.DataFrame, swept: list[str]) -> pd.DataFrame:
    """Grid points × metrics, each cell ``mean [low, high]``."""
    if table.empty:
        return table
    cells = table.assign(
        _shown=[
            _shown(m, lo, hi)
            for m, lo, hi in zip(table["mean"], table["low"], table["high"], strict=True)
        ]
    )
    if not swept:
        return cells[["metric", "_shown"]].rename(columns={"_shown": "mean [95% interval]"})
    for key in swept:
        cells[key] = [format_value(v) for v in cells[key]]
    pivot = cells.pivot_table(
        index=swept, columns="metric", values="_shown", aggfunc="first", sort=False
    )
    pivot.columns = [f"{c} (metric)" if c in swept else c for c in pivot.columns]
    return pivot.reset_index()


def _legend(table: pd.DataFrame) -> pd.DataFrame:
    """How each metric is read: kind, interval, direction, bounds, meaning."""
    rows = []
    for metric, method in dict(zip(table["metric"], table["interval"], strict=True)).items():
        info = _info(metric)
        bounds = (
            "" if info is None else ", ".join("·" if b is None else f"{b:g}" for b in info.bounds)
        )
        rows.append(
            {
                "metric": metric,
                "kind": _kind(info)
                + (" (figure under Diagnostics)" * _is_diagnostic(metric, info)),
                "interval": {
                    "wilson": "Wilson (binomial, n = runs)",
                    "student-t": "Student-t over runs, clipped to bounds",
                }[method],
                "better": ""
                if info is None or info.higher_is_better is None
                else ("higher" if info.higher_is_better else "lower"),
                "bounds": f"[{bounds}]" if bounds else "",
                "meaning": "" if info is None else info.description,
            }
        )
    return pd.DataFrame(rows)


def _html_table(frame: pd.DataFrame) -> str:
    return frame.to_html(
        index=False, float_format=lambda v: f"{v:.4g}", na_rep="", border=0, classes="table"
    )


def _images(paths: list[Path]) -> str:
    return "".join(
        f'<figure><img alt="{html.escape(p.stem)}" src="data:image/png;base64,'
        f'{base64.b64encode(p.read_bytes()).decode()}"></figure>'
        for p in paths
    )


def _provenance(records: dict[str, RunRecord | None], manifest: dict) -> list[str]:
    """One collapsible block per run: its typed swept values in the summary, the resolved config
    (as stored in its record, typed) and where it ran in the body."""
    blocks, keys = [], [*_swept(manifest), "seed"]
    for run in manifest["runs"]:
        record = records[run["key"]]
        if record is None:
            continue
        point = ", ".join(f"{k}={format_value(v)}" for k, v in _point(run, record, keys).items())
        body = json.dumps(
            {
                "status": record.effective_status(),
                "config": record.config,
                "git_commit": record.git_commit,
                "versions": record.versions,
                "host": record.host,
                "wall_seconds": record.wall_seconds,
                "error": record.error,
            },
            indent=1,
        )
        blocks.append(
            f"<details><summary><code>{run['key']}</code> {html.escape(point)} — "
            f"{html.escape(record.effective_status())}</summary>"
            f"<pre>{html.escape(body)}</pre></details>"
        )
    return blocks


def _axes_text(records: dict[str, RunRecord | None], manifest: dict) -> str:
    """``source ∈ {laplace, uniform, gaussian} · n_samples ∈ {500, 1000, 2000}`` (typed values)."""
    swept = _swept(manifest)
    seen: dict[str, dict[str, None]] = {k: {} for k in swept}
    for run in manifest["runs"]:
        for k, v in _point(run, records[run["key"]], swept).items():
            seen[k][format_value(v)] = None
    return " · ".join(f"{k} ∈ {{{', '.join(v)}}}" for k, v in seen.items())


def _experiment_figures(
    store: Store, manifest: dict, records: dict[str, RunRecord | None], out: Path, name: str
) -> list[Path]:
    """Figures the experiment draws from all finished runs' curves pooled (its optional
    ``sweep_figures(curves, out_dir)``, e.g. loss-to-loss curves fitted over every run's
    models), saved as ``<name>-<figure>.png``."""
    try:
        hook = getattr(experiments.get(manifest["experiment"]), "sweep_figures", None)
    except experiments.UnknownExperimentError:
        return []
    if hook is None:
        return []
    parts = []
    for key, record in records.items():
        if record is None or record.status != "done":
            continue
        try:
            parts.append(store.curves(key))
        except (KeyError, ValueError, OSError):  # damaged since its record was read
            continue
    if not parts:
        return []
    scratch = out / f".{name}-figures"
    paths = []
    for path in hook(pd.concat(parts, ignore_index=True), scratch):
        target = out / f"{name}-{path.name}"
        path.replace(target)
        paths.append(target)
    if scratch.exists() and not any(scratch.iterdir()):
        scratch.rmdir()
    return paths


def write_sweep_report(store: Store, name: str, out_dir: str | Path = "reports") -> Path:
    """Write the sweep's CSV, figures, Markdown and HTML; returns the HTML path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(store, name)
    table, swept = aggregate(store, name)
    records = _records(store, manifest)
    statuses = pd.Series(
        [
            record.effective_status() if (record := records[r["key"]]) else "not run"
            for r in manifest["runs"]
        ]
    ).value_counts()
    csv_path = out / f"{name}.csv"
    table.to_csv(csv_path, index=False)

    headline, diagnostics = [], []
    x, series = (swept[0], swept[1:]) if swept else (None, [])
    for metric in dict.fromkeys(table["metric"]):
        info = _info(metric)
        data = table[table["metric"] == metric]
        fig = sweep_figure(data, x, series, metric, info, data["interval"].iloc[0])
        path = save_figure(fig, out / f"{name}-{metric}.png")
        (diagnostics if _is_diagnostic(metric, info) else headline).append(path)

    headline += _experiment_figures(store, manifest, records, out, name)
    wide = _wide(table, swept)
    legend = _legend(table) if len(table) else pd.DataFrame()
    status_text = ", ".join(f"{k} {v}" for k, v in statuses.items())
    axes = _axes_text(records, manifest)
    md = [
        f"# Sweep `{name}` ({manifest['experiment']})",
        "",
        f"{len(manifest['runs'])} runs: {status_text}" + (f" · {axes}" if axes else ""),
        "",
        "Mean [95% interval] over seeds; data in " + f"`{csv_path.name}`.",
        "",
    ]
    if len(wide):
        md += [markdown_table(wide), "How each metric is read:", "", markdown_table(legend)]
    md += [""] + [f"![{p.stem}]({p.name})" for p in headline]
    if diagnostics:
        md += ["", "## Diagnostics (describe the runs; not results)", ""]
        md += [f"![{p.stem}]({p.name})" for p in diagnostics]
    (out / f"{name}.md").write_text("\n".join(md) + "\n")

    try:
        verdicts = claim_verdicts(store, manifest["experiment"])
    except experiments.UnknownExperimentError:  # a plug-in no longer installed: no claims
        verdicts = []
    claims_html = (
        _html_table(pd.DataFrame([claims_module.verdict_row(v) for v in verdicts]))
        if verdicts
        else "<p>No claim of this experiment is in the store.</p>"
    )
    diagnostics_html = (
        "<h2>Diagnostics</h2><p>Bookkeeping about the runs (time, throughput): it describes how "
        f"they ran and is not a result.</p>{_images(diagnostics)}"
        if diagnostics
        else ""
    )
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>identifiable · sweep {html.escape(name)}</title><style>
body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse;font-size:13px;margin:1em 0}}
td,th{{border-bottom:1px solid #ddd;padding:4px 8px;text-align:right}}
th{{background:#f4f4f4}} figure{{display:inline-block;margin:.5em}} img{{max-width:500px}}
pre{{background:#f8f8f8;padding:.5em;font-size:12px}} code{{font-size:12px}}</style></head><body>
<h1>Sweep <code>{html.escape(name)}</code></h1>
<p>experiment <b>{html.escape(manifest["experiment"])}</b> · {len(manifest["runs"])} runs ·
{html.escape(status_text)} · seeds {html.escape(str(manifest["seeds"]))}</p>
<p>{html.escape(axes)}</p>
<h2>Claims</h2>{claims_html}
<h2>Results (mean [95% interval] over seeds)</h2>
{_html_table(wide) if len(wide) else "<p>none yet</p>"}
<h3>How each metric is read</h3>{_html_table(legend) if len(legend) else ""}
<p>Intervals: Student-t (x̄ ± t·s/√n over the runs of a grid point) for continuous metrics,
Wilson score intervals for proportions and yes/no flags; both clipped to the metric's declared
bounds. Data: <code>{html.escape(csv_path.name)}</code>.</p>
<h2>Figures</h2>{_images(headline) or "<p>none</p>"}
{diagnostics_html}
<h2>Runs (provenance: resolved, typed config)</h2>{"".join(_provenance(records, manifest))}
</body></html>"""
    path = out / f"{name}.html"
    path.write_text(page)
    return path
