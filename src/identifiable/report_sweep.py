"""Sweep reports: mean ± std and 95% CI over seeds per grid point, figures, CSV and an HTML page.

For a sweep (see :mod:`identifiable.sweep`) this writes into ``out``:

* ``<name>.csv`` — one row per grid point and metric: mean, std, n, ci95 (Student t, n − 1 dof);
* ``<name>-<metric>.png`` — metric vs the first swept parameter, one line per combination of the
  other swept parameters, error bars = 95% CI; and the data of each figure is the CSV above;
* ``<name>.md`` and ``<name>.html`` — the table and figures; the HTML is self-contained (images
  embedded) and also lists claim verdicts and each run's provenance (config, commit, versions).
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from identifiable.metrics import metric_info  # noqa: E402
from identifiable.report import _markdown_table, claim_verdicts  # noqa: E402
from identifiable.store import Store  # noqa: E402
from identifiable.sweep import load_manifest  # noqa: E402

__all__ = ["aggregate", "write_sweep_report"]

_TIMING = {"train_seconds", "steps_per_second", "fit_seconds", "wall_seconds"}


def _long_metrics(store: Store, manifest: dict) -> tuple[pd.DataFrame, list[str]]:
    rows, swept = [], [k for k in (*manifest["grid"], *manifest["zipped"])]
    for run in manifest["runs"]:
        if not store.is_done(run["key"]):
            continue
        point = {k: run["params"][k] for k in swept}
        for name, value in store.metrics(run["key"]).items():
            rows.append({**point, "seed": run["params"]["seed"], "metric": name, "_value": value})
    return pd.DataFrame(rows), swept


def aggregate(store: Store, name: str) -> tuple[pd.DataFrame, list[str]]:
    """(table, swept keys): mean, std, n and 95% CI half-width per grid point and metric."""
    manifest = load_manifest(store, name)
    frame, swept = _long_metrics(store, manifest)
    if frame.empty:
        return frame, swept
    keys = [*swept, "metric"]
    grouped = frame.groupby(keys, sort=False, dropna=False)["_value"]
    table = grouped.agg(mean="mean", std="std", n="count").reset_index()
    half = stats.t.ppf(0.975, np.maximum(table["n"] - 1, 1)) * table["std"] / np.sqrt(table["n"])
    table["ci95"] = np.where(table["n"] > 1, half, np.nan)
    return table, swept


def _figure(table: pd.DataFrame, swept: list[str], metric: str, path: Path) -> Path:
    data = table[table["metric"] == metric]
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    if swept:
        x, others = swept[0], swept[1:]
        groups = data.groupby(others, sort=False) if others else [((), data)]
        for label, part in groups:
            label = label if isinstance(label, tuple) else (label,)
            text = ", ".join(f"{k}={v}" for k, v in zip(others, label, strict=True)) or metric
            numeric = pd.to_numeric(part[x], errors="coerce")
            xs = numeric if numeric.notna().all() else part[x].astype(str)
            ax.errorbar(
                xs, part["mean"], yerr=part["ci95"].fillna(0), marker="o", capsize=3, label=text
            )
        ax.set_xlabel(x)
        if len(data) and pd.to_numeric(data[x], errors="coerce").notna().all():
            values = pd.to_numeric(data[x])
            if values.min() > 0 and values.max() / values.min() >= 20:
                ax.set_xscale("log")
        ax.legend(fontsize=7)
    else:
        ax.bar([metric], data["mean"], yerr=data["ci95"].fillna(0))
    info = metric_info(metric)
    arrow = (
        ""
        if info is None
        else (" (higher is better)" if info.higher_is_better else " (lower is better)")
    )
    ax.set_ylabel(metric + arrow)
    ax.set_title(f"{metric}: mean ± 95% CI over seeds", fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _html_table(frame: pd.DataFrame) -> str:
    return frame.to_html(
        index=False, float_format=lambda v: f"{v:.4g}", na_rep="", border=0, classes="table"
    )


def write_sweep_report(store: Store, name: str, out_dir: str | Path = "reports") -> Path:
    """Write the sweep's CSV, figures, Markdown and HTML; returns the HTML path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(store, name)
    table, swept = aggregate(store, name)
    statuses = pd.Series(
        [
            (store.get(r["key"]).effective_status() if store.get(r["key"]) else "not run")
            for r in manifest["runs"]
        ]
    ).value_counts()
    csv_path = out / f"{name}.csv"
    table.to_csv(csv_path, index=False)
    metrics = [m for m in dict.fromkeys(table["metric"]) if m not in _TIMING] if len(table) else []
    figures = [_figure(table, swept, m, out / f"{name}-{m}.png") for m in metrics]

    wide = table.copy()
    if len(wide):
        wide["_shown"] = [
            f"{m:.4g} ± {s:.2g}" if s == s else f"{m:.4g}"
            for m, s in zip(wide["mean"], wide["ci95"], strict=True)
        ]
        if swept:
            pivot = wide.pivot_table(
                index=swept, columns="metric", values="_shown", aggfunc="first", sort=False
            )
            pivot.columns = [f"{c} (metric)" if c in swept else c for c in pivot.columns]
            wide = pivot.reset_index()
        else:
            wide = wide[["metric", "_shown"]].rename(columns={"_shown": "mean ± 95% CI"})
    md = [
        f"# Sweep `{name}` ({manifest['experiment']})",
        "",
        f"{len(manifest['runs'])} runs: " + ", ".join(f"{k} {v}" for k, v in statuses.items()),
        "",
        "Mean ± 95% CI over seeds; data in " + f"`{csv_path.name}`.",
        "",
    ]
    if len(wide):
        md.append(_markdown_table(wide))
    md += [""] + [f"![{p.stem}]({p.name})" for p in figures]
    (out / f"{name}.md").write_text("\n".join(md) + "\n")

    images = "".join(
        f'<figure><img alt="{html.escape(p.stem)}" src="data:image/png;base64,'
        f'{base64.b64encode(p.read_bytes()).decode()}"></figure>'
        for p in figures
    )
    verdicts = claim_verdicts(store, manifest["experiment"])
    claims_html = (
        _html_table(
            pd.DataFrame(
                [
                    {
                        "claim": v.claim.name,
                        "expected": "; ".join(e.describe() for e in v.claim.expect),
                        "measured": "; ".join(
                            f"{e.metric}={v.measured.get(e.metric, float('nan')):.4f}"
                            for e in v.claim.expect
                        ),
                        "paper": v.claim.paper_value,
                        "verdict": "PASS" if v.passed else "FAIL",
                    }
                    for v in verdicts
                ]
            )
        )
        if verdicts
        else "<p>No claim of this experiment is in the store.</p>"
    )
    provenance = []
    for run in manifest["runs"]:
        record = store.get(run["key"])
        if record is None:
            continue
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
        provenance.append(
            f"<details><summary><code>{run['key']}</code> "
            f"{html.escape(json.dumps(run['params']))} — {record.status}</summary>"
            f"<pre>{html.escape(body)}</pre></details>"
        )
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>identifiable · sweep {html.escape(name)}</title><style>
body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse;font-size:13px;margin:1em 0}}
td,th{{border-bottom:1px solid #ddd;padding:4px 8px;text-align:right}}
th{{background:#f4f4f4}} figure{{display:inline-block;margin:.5em}} img{{max-width:520px}}
pre{{background:#f8f8f8;padding:.5em;font-size:12px}} code{{font-size:12px}}</style></head><body>
<h1>Sweep <code>{html.escape(name)}</code></h1>
<p>experiment <b>{html.escape(manifest["experiment"])}</b> · {len(manifest["runs"])} runs ·
{html.escape(", ".join(f"{k} {v}" for k, v in statuses.items()))} · seeds
{html.escape(str(manifest["seeds"]))}</p>
<h2>Claims</h2>{claims_html}
<h2>Results (mean ± 95% CI over seeds)</h2>{_html_table(wide) if len(wide) else "<p>none yet</p>"}
<h2>Figures</h2>{images or "<p>none</p>"}
<h2>Runs (provenance)</h2>{"".join(provenance)}
</body></html>"""
    path = out / f"{name}.html"
    path.write_text(page)
    return path
