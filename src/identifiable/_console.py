"""What the command line prints: rich tables and progress bars that stay readable at 80 columns.

Numbers are the point, so number columns never wrap or get cut (``no_wrap`` with a minimum width)
and text columns fold instead; the progress bar puts the live numbers on a line of their own
below the bar, so step, metrics and ETA all fit an 80-column terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

from rich.console import Console, Group
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column, Table
from rich.text import Text

__all__ = [
    "LiveNumbersProgress",
    "config_table",
    "fmt",
    "metrics_table",
    "progress_bar",
    "runs_table",
    "verdict_table",
]


def fmt(value) -> str:
    """A number as the tables show it: 4 decimals, or 4 significant digits when large."""
    if isinstance(value, float):
        if value != value:
            return "nan"
        return f"{value:.4f}" if abs(value) < 1e4 else f"{value:.4g}"
    return str(value)


def _numbers(title: str, values: Iterable[str]) -> Column:
    """A column whose cells are never wrapped or cut."""
    width = max([len(title), *(len(line) for v in values for line in v.splitlines() or [""])])
    return Column(title, no_wrap=True, min_width=width, overflow="ignore")


class LiveNumbersProgress(Progress):
    """A rich Progress whose tasks' ``info`` field (the live numbers) prints on its own line."""

    def get_renderables(self):
        table = self.make_tasks_table(self.tasks)
        lines = [Text(task.fields.get("info", ""), overflow="fold") for task in self.tasks]
        yield Group(table, *[line for line in lines if line.plain])


@contextmanager
def progress_bar(description: str, console: Console, *, total: int | None = None) -> Iterator:
    """A bar for one long job; yields ``update(done, total, **numbers)``."""
    columns = [
        TextColumn("[bold]{task.description}", table_column=Column(max_width=28, no_wrap=True)),
        BarColumn(bar_width=16),
        MofNCompleteColumn(table_column=Column(no_wrap=True)),
        TimeElapsedColumn(table_column=Column(no_wrap=True)),
        TextColumn("ETA", style="dim"),
        TimeRemainingColumn(table_column=Column(no_wrap=True)),
    ]
    with LiveNumbersProgress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(description, total=total, info="")

        def update(done: int, total: int, **fields: float) -> None:
            info = "  ".join(f"{k}={fmt(v)}" for k, v in fields.items())
            bar.update(task, completed=done, total=total, info=info)

        update.bar = bar  # type: ignore[attr-defined]
        update.task = task  # type: ignore[attr-defined]
        yield update


def metrics_table(title: str, metrics: Mapping[str, float]) -> Table:
    """metric | value | what it forgives (or its description)."""
    from identifiable.metrics import metric_info

    values = [fmt(v) for v in metrics.values()]
    table = Table(
        Column("metric", no_wrap=True, min_width=max(len(k) for k in [*metrics, "metric"])),
        _numbers("value", values),
        Column("forgives", style="dim", overflow="fold"),
        title=title,
    )
    table.columns[1].justify = "right"
    for (name, _), value in zip(metrics.items(), values, strict=True):
        info = metric_info(name)
        table.add_row(name, value, info.forgives if info else "")
    return table


def verdict_table(rows: list[dict[str, str]]) -> Table:
    """The rows of :func:`identifiable.claims.verdict_row`, stacked for narrow terminals.

    claim (the paper's value below it) | each check and its measured value, one per line, never
    wrapped | verdict.
    """
    checks = []
    for row in rows:
        expected = row["expected"].split("; ") if row["expected"] else []
        measured = [m.rpartition("=")[2] for m in row["measured"].split("; ")] if expected else []
        checks.append("\n".join(f"{e} → {m}" for e, m in zip(expected, measured, strict=True)))
    table = Table(
        Column("claim (paper)", overflow="fold", ratio=1),
        _numbers("check → measured", checks),
        Column("verdict", no_wrap=True),
        title="claims",
    )
    for row, lines in zip(rows, checks, strict=True):
        claim = Text(row["claim"])
        if row["paper"]:
            claim.append("\n" + row["paper"], style="dim")
        mark = "[green]PASS[/]" if row["verdict"] == "PASS" else f"[red]{row['verdict']}[/]"
        if row.get("time"):
            mark += f"\n[dim]{row['time']}[/]"
        table.add_row(claim, lines, mark)
    return table


def runs_table(title: str, rows: list[dict]) -> Table:
    """key | run (experiment, then its config) | status and seconds | headline metrics."""
    headline = ["\n".join(f"{k}={fmt(v)}" for k, v in row["headline"].items()) for row in rows]
    states = [
        row["status"]
        + (
            ""
            if row["wall_seconds"] != row["wall_seconds"] or row["wall_seconds"] is None
            else f"\n{row['wall_seconds']:.1f} s"
        )
        for row in rows
    ]
    table = Table(
        Column("key", no_wrap=True, min_width=16),
        Column("run", overflow="fold", ratio=1),
        _numbers("status", states),
        _numbers("headline metrics", headline),
        title=title,
    )
    for row, metrics, state in zip(rows, headline, states, strict=True):
        run = Text(row["experiment"] or "?", style="bold")
        run.append("\n" + row["label"], style="red" if row["status"] == "corrupt" else "dim")
        table.add_row(row["key"], run, state, metrics)
    return table


def config_table(title: str, fields) -> Table:
    """key | type | default | allowed | documentation (``identifiable show``)."""
    table = Table(
        Column("key", no_wrap=True, min_width=max(len(f.name) for f in fields)),
        Column("type", overflow="fold"),
        Column("default", overflow="fold"),
        Column("allowed", overflow="fold"),
        Column("documentation", overflow="fold", ratio=3),
        title=title,
    )
    for field in fields:
        table.add_row(field.name, field.type, str(field.default), field.allowed, field.doc)
    return table


class SweepDisplay:
    """The sweep's ``on_event``: one line per finished run above the bar, counts on the bar."""

    def __init__(self, update, headline: list[str]):
        self.bar, self.task, self.headline = update.bar, update.task, set(headline)
        self.counts = {"done": 0, "failed": 0, "skipped": 0, "interrupted": 0, "running": 0}

    def __call__(self, kind: str, item, info: dict) -> None:
        params = ", ".join(f"{k}={v}" for k, v in item.params.items())
        say = self.bar.console.print
        if kind == "start":
            self.counts["running"] += 1
            if info.get("quarantined"):
                say(f"[yellow]moved a damaged record of {item.key} to {info['quarantined']}[/]")
        else:
            if kind != "skipped":
                self.counts["running"] -= 1
            self.counts[kind] = self.counts.get(kind, 0) + 1
            if kind == "done":
                shown = {k: v for k, v in info["metrics"].items() if k in self.headline}
                say(
                    f"[green]✓[/] {item.key} {params}  "
                    + "  ".join(f"{k}={fmt(v)}" for k, v in shown.items())
                )
            elif kind in ("failed", "interrupted"):
                say(f"[red]✗[/] {item.key} {params}  {kind}: {info['error']}")
        finished = sum(v for k, v in self.counts.items() if k != "running")
        info_text = "  ".join(f"{k} {v}" for k, v in self.counts.items())
        self.bar.update(self.task, completed=finished, info=info_text)


def sweep_plan_table(title: str, runs, is_done) -> tuple[Table, int]:
    """``# | key | params | in store`` for ``--dry-run``; also the number already done."""
    table = Table(
        Column("#", no_wrap=True),
        Column("key", no_wrap=True, min_width=16),
        Column("params", overflow="fold"),
        Column("in store", no_wrap=True),
        title=title,
    )
    done = 0
    for item in runs:
        finished = is_done(item.key)
        done += finished
        params = ", ".join(f"{k}={v}" for k, v in item.params.items())
        table.add_row(str(item.index), item.key, params, "done" if finished else "")
    return table, done


def experiments_table(rows: list[tuple[str, int, str]]) -> Table:
    """name | claims | summary (``identifiable list``)."""
    table = Table(
        Column("name", no_wrap=True),
        Column("claims", justify="right", no_wrap=True),
        Column("summary", overflow="fold"),
        title="experiments",
    )
    for name, count, summary in rows:
        table.add_row(name, str(count), summary)
    return table


def loss_fits_table(title: str, summary) -> Table:
    """group | n | K | κ | E_x | E_y (each with its interval) | R² | note — one row per group."""

    def cell(row, name: str) -> str:
        low, high = row[f"{name}_low"], row[f"{name}_high"]
        interval = "" if low != low else f" [{low:.3g}, {high:.3g}]"  # NaN: no interval
        return f"{row[name]:.3g}{interval}"

    table = Table(
        Column("group", no_wrap=True), Column("n", justify="right"),
        *(Column(name, justify="right") for name in ("K", "κ", "E_x", "E_y", "R²")),
        Column("note", style="dim", overflow="fold"),
        title=title,
    )  # fmt: skip
    for row in summary.to_dict("records"):
        table.add_row(
            row["group"], str(row["n"]), cell(row, "K"), cell(row, "kappa"), cell(row, "E_x"),
            cell(row, "E_y"), f"{row['r2']:.3f}", row["note"],
        )  # fmt: skip
    return table


def scores_table(title: str, rows: list[dict]) -> Table:
    """metric | value | (null mean | p | calibrated) | better (higher/lower) | forgives — one row
    per number; the null columns only where the rows have them."""
    with_null = any(row.get("permutations") for row in rows)
    table = Table(
        Column("metric", no_wrap=True), _numbers("value", ()),
        *((_numbers("null mean", ()), _numbers("p", ()), _numbers("calibrated", ()))
          if with_null else ()),
        Column("better", no_wrap=True), Column("forgives", style="dim", overflow="fold"),
        title=title,
    )  # fmt: skip
    for row in rows:
        direction = {True: "higher", False: "lower"}.get(row.get("higher_is_better"), "—")
        nulls = (
            (fmt(row["null_mean"]), fmt(row["p_value"]), fmt(row["calibrated"]))
            if with_null else ()
        )  # fmt: skip
        table.add_row(
            row["metric"], fmt(row["value"]), *nulls, direction,
            row.get("forgives") or "",
        )  # fmt: skip
    return table
