"""The ``identifiable`` command line (typer + rich); thin: it calls the modules that do the work."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    help="Worlds -> learners -> metrics -> store -> report. "
    "Identifiability claims you can run and check.",
)
console = Console()
errors = Console(stderr=True)

StoreOption = Annotated[
    Path | None,
    typer.Option("--store", help="Result store folder (default ./runs or $IDENTIFIABLE_STORE)."),
]


def _fail(message: str, code: int = 2) -> None:
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def _user_errors():
    """Turn our one-line ValueErrors into 'error: ...' + exit code 2, no traceback."""
    try:
        yield
    except ValueError as error:
        _fail(str(error).splitlines()[0] if str(error) else type(error).__name__)


def _store(path: Path | None):
    from identifiable.store import Store

    return Store(path)


def _key(experiment: str, config) -> str:
    from identifiable.config import config_to_dict
    from identifiable.store import run_key

    return run_key(experiment, config_to_dict(config))


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1e4 else f"{value:.4g}"
    return str(value)


def _metrics_table(title: str, metrics: dict[str, float]) -> Table:
    from identifiable.metrics import metric_info

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("forgives", style="dim")
    for name, value in metrics.items():
        info = metric_info(name)
        table.add_row(name, _fmt(value), info.forgives if info else "")
    return table


@contextmanager
def _progress_bar(description: str):
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=errors, transient=False) as bar:
        task = bar.add_task(description, total=None, info="")

        def update(done: int, total: int, **fields: float) -> None:
            info = "  ".join(f"{k}={_fmt(v)}" for k, v in fields.items())
            bar.update(task, completed=done, total=total, info=info)

        yield update


@app.command("list")
def list_experiments() -> None:
    """List experiments (one line each) and their claims."""
    from identifiable import experiments

    table = Table(title="experiments")
    table.add_column("name")
    table.add_column("claims", justify="right")
    table.add_column("summary")
    for name in experiments.names():
        module = experiments.get(name)
        table.add_row(name, str(len(getattr(module, "CLAIMS", ()))), module.SUMMARY)
    console.print(table)


@app.command()
def run(
    experiment: Annotated[str, typer.Argument(help="Experiment name (see `identifiable list`).")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Config override key=value (repeatable), e.g. --set world=box."),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed (same as --set seed=N).")] = None,
    force: Annotated[
        bool, typer.Option(help="Re-run even if this config already finished.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Run one experiment config, record it in the store and print its metrics."""
    from identifiable import experiments
    from identifiable.config import build_config, parse_overrides
    from identifiable.run import execute

    with _user_errors():
        module = experiments.get(experiment)
        config = build_config(module.Config, parse_overrides(set_ or []), seed=seed)
    result_store = _store(store)
    try:
        if not force and result_store.is_done(_key(experiment, config)):
            outcome = execute(experiment, config, result_store)
        else:
            with _progress_bar(experiment) as update:
                outcome = execute(experiment, config, result_store, force=force, progress=update)
    except KeyboardInterrupt:
        _fail("interrupted; the run is recorded as interrupted", code=130)
    except Exception as error:  # recorded as failed by execute
        _fail(
            f"run failed ({type(error).__name__}: {error}); recorded in {result_store.root}", code=1
        )
    if outcome.status == "skipped":
        console.print(
            f"[yellow]already finished[/] (key {outcome.key}); showing stored "
            "metrics. Use --force to run again."
        )
    console.print(_metrics_table(f"{experiment} · key {outcome.key}", outcome.metrics))
    console.print(f"stored in {result_store.root / outcome.key}")


@app.command()
def runs(
    experiment: Annotated[str | None, typer.Option(help="Only this experiment.")] = None,
    status: Annotated[
        str | None,
        typer.Option(
            help="Only runs with this status: running, done, failed, interrupted, corrupt."
        ),
    ] = None,
    format_: Annotated[
        str, typer.Option("--format", help="table, csv, json or parquet (needs --output).")
    ] = "table",
    output: Annotated[Path | None, typer.Option(help="File for --format parquet.")] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Read every run's files in full; list damaged ones (exit 1 if any)."
        ),
    ] = False,
    store: StoreOption = None,
) -> None:
    """Show the runs in the store (one row per run, with final metrics)."""
    from identifiable.store import STATUSES

    result_store = _store(store)
    if check:
        problems = result_store.check()
        for problem in problems:
            console.print(
                f"{problem.key or '-'}  {problem.path}  {problem.reason}",
                highlight=False,
                soft_wrap=True,
            )
        if problems:
            errors.print(
                f"{len(problems)} damaged file(s) in {result_store.root}; running a damaged "
                f"run again moves it to {result_store.root / '_corrupt'} first",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1)
        console.print(f"store OK: {len(result_store.records())} runs", highlight=False)
        return
    if format_ not in ("table", "csv", "json", "parquet"):
        _fail(f"--format must be table, csv, json or parquet, got {format_!r}")
    if status is not None and status not in STATUSES:
        _fail(f"--status must be one of {', '.join(STATUSES)}, got {status!r}")
    frame = result_store.table(experiment=experiment, status=status)
    frame = frame.drop(columns=["attempt"], errors="ignore")
    if format_ == "csv":
        sys.stdout.write(frame.to_csv(index=False))
        return
    if format_ == "parquet":
        if output is None:
            _fail("--format parquet writes a file: add --output runs.parquet")
        frame.to_parquet(output, index=False)
        console.print(f"wrote {len(frame)} runs to {output}")
        return
    if format_ == "json":
        records = (
            frame.assign(config=[json.loads(c) for c in frame["config"]]) if len(frame) else frame
        )
        sys.stdout.write(records.to_json(orient="records", indent=1) + "\n")
        return
    if frame.empty:
        console.print(f"no runs in {result_store.root}")
        return
    from rich.text import Text

    from identifiable import experiments
    from identifiable.metrics import METRICS
    from identifiable.report import run_label

    table = Table(title=f"runs in {result_store.root} (all columns: --format csv)")
    shown = [
        "key",
        "experiment",
        "status",
        "wall_seconds",
        *[c for c in frame.columns if c in METRICS],
    ]
    for column in [*shown, "config"]:
        table.add_column(column, overflow="fold")
    known = set(experiments.names())
    for values in frame.to_dict("records"):
        if values["status"] == "corrupt":  # the reason, in place of the config
            label = Text(values["error"] or "", style="red")
        elif values["experiment"] in known:
            label = Text(run_label(values["experiment"], json.loads(values["config"])))
        else:
            label = Text(values["config"])
        cells = [
            _fmt(values[c]) if values[c] == values[c] and values[c] is not None else ""
            for c in shown
        ]
        table.add_row(*cells, label)
    console.print(table)


@app.command()
def report(
    experiment: Annotated[str | None, typer.Argument(help="Only this experiment.")] = None,
    sweep: Annotated[
        str | None,
        typer.Option(help="Aggregate this sweep: mean ± 95% CI over seeds, figures, CSV, HTML."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for report.md and figures.")] = Path("reports"),
    store: StoreOption = None,
) -> None:
    """Write a Markdown report with figures from the store (or a sweep's HTML report)."""
    from identifiable import experiments
    from identifiable.report import write_report

    with _user_errors():
        if sweep:
            from identifiable.report import write_sweep_report

            path = write_sweep_report(_store(store), sweep, out)
            console.print(f"sweep report written to [bold]{path}[/] (+ .md, .csv, figures)")
            return
        if experiment:
            experiments.get(experiment)
        path = write_report(_store(store), experiment, out)
    console.print(f"report written to [bold]{path}[/] (figures beside it)")


@app.command()
def reproduce(
    claim: Annotated[
        str | None,
        typer.Argument(
            help="A claim name or experiment prefix (e.g. `contrastive`); all when omitted."
        ),
    ] = None,
    fast: Annotated[
        bool, typer.Option(help="Only claims marked fast (a few CPU minutes each).")
    ] = False,
    force: Annotated[bool, typer.Option(help="Re-run claims already in the store.")] = False,
    store: StoreOption = None,
) -> None:
    """Run claims and print a verdict table: expected vs measured, pass/fail."""
    from identifiable import claims as claims_module
    from identifiable import experiments
    from identifiable.config import build_config
    from identifiable.run import execute

    with _user_errors():
        chosen = experiments.select_claims(claim)
    if fast:
        chosen = [c for c in chosen if c.fast]
    result_store = _store(store)
    verdicts = []
    for item in chosen:
        config = build_config(experiments.get(item.experiment).Config, item.overrides)
        try:
            with _progress_bar(item.name) as update:
                outcome = execute(
                    item.experiment, config, result_store, force=force, progress=update
                )
        except KeyboardInterrupt:
            _fail("interrupted; finished claims are kept in the store", code=130)
        except Exception as error:
            errors.print(f"[red]{item.name} failed:[/] {type(error).__name__}: {error}")
            verdicts.append(claims_module.judge(item, {}))
            continue
        verdicts.append(claims_module.judge(item, outcome.metrics))
    table = Table(title="claims")
    for column in ("claim", "expected", "measured", "paper", "verdict"):
        table.add_column(column)
    for v in verdicts:
        measured = "; ".join(
            f"{e.metric}={v.measured.get(e.metric, float('nan')):.4f}" for e in v.claim.expect
        )
        mark = "[green]PASS[/]" if v.passed else "[red]FAIL[/]"
        name = v.claim.name + (" (control)" if v.claim.control else "")
        table.add_row(
            name,
            "; ".join(e.describe() for e in v.claim.expect),
            measured,
            v.claim.paper_value,
            mark,
        )
    console.print(table)
    failed = [v for v in verdicts if not v.passed]
    if failed:
        raise typer.Exit(1)


@app.command()
def sweep(
    experiment: Annotated[str | None, typer.Argument(help="Experiment (or give --file).")] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", help="TOML sweep file: experiment, name, seeds, [base], [grid], [zip]."
        ),
    ] = None,
    grid: Annotated[
        list[str] | None,
        typer.Option("--grid", help="Swept key=v1,v2,... (repeatable; cartesian product)."),
    ] = None,
    zip_: Annotated[
        list[str] | None,
        typer.Option("--zip", help="Key=v1,v2,... varied together with the other --zip keys."),
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Fixed override key=value for every run.")
    ] = None,
    seeds: Annotated[str, typer.Option(help="Seed count (5 = 0..4) or list (3,7).")] = "1",
    name: Annotated[str | None, typer.Option(help="Sweep name (default: derived).")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Parallel runs (default: cores // threads).")
    ] = None,
    threads: Annotated[int, typer.Option(help="torch threads per run.")] = 1,
    backend: Annotated[str, typer.Option(help="local, ray or inline.")] = "local",
    address: Annotated[
        str | None,
        typer.Option(help="Ray cluster address (ray backend); default starts a local Ray."),
    ] = None,
    cpus_per_run: Annotated[float, typer.Option(help="Ray CPUs per run.")] = 1.0,
    gpus_per_run: Annotated[float, typer.Option(help="Ray GPUs (fraction) per run.")] = 0.0,
    dry_run: Annotated[bool, typer.Option(help="Print the expanded runs; run nothing.")] = False,
    force: Annotated[bool, typer.Option(help="Re-run finished runs too.")] = False,
    store: StoreOption = None,
) -> None:
    """Run a grid of configs × seeds in parallel (locally or on Ray); resumable."""
    import os

    from identifiable.config import ConfigError, parse_overrides
    from identifiable.sweep import SweepSpec, parse_axis, run_sweep, seeds_from

    with _user_errors():
        seed_list = seeds_from(int(seeds) if seeds.strip().isdigit() else seeds)
        axes = {
            "grid": parse_axis(grid or []),
            "zipped": parse_axis(zip_ or []),
            "base": parse_overrides(set_ or []),
        }
        if file is not None:
            spec = SweepSpec.from_file(file, name=name)
            spec = SweepSpec(
                spec.experiment,
                {**spec.base, **axes["base"]},
                {**spec.grid, **axes["grid"]},
                {**spec.zipped, **axes["zipped"]},
                seed_list if seeds != "1" else spec.seeds,
                spec.name,
            )
        elif experiment is None:
            raise ConfigError("give an experiment name or --file sweep.toml")
        else:
            spec = SweepSpec(
                experiment, axes["base"], axes["grid"], axes["zipped"], seed_list, name
            )
        runs = spec.expand()
    result_store = _store(store)
    cores = os.cpu_count() or 1
    workers = workers or max(1, cores // threads)
    if dry_run:
        table = Table(title=f"sweep {spec.sweep_name}: {len(runs)} runs")
        for column in ("#", "key", "params", "in store"):
            table.add_column(column)
        done = 0
        for run in runs:
            finished = result_store.is_done(run.key)
            done += finished
            params = ", ".join(f"{k}={v}" for k, v in run.params.items())
            table.add_row(str(run.index), run.key, params, "done" if finished else "")
        console.print(table)
        past = result_store.table(experiment=spec.experiment, status="done")
        todo = len(runs) - (0 if force else done)
        if len(past) and "wall_seconds" in past:
            each = float(past["wall_seconds"].median())
            console.print(
                f"{todo} to run; ≈ {each * todo / workers / 60:.1f} min with {workers} "
                f"worker(s) (median {each:.1f} s per finished {spec.experiment} run)"
            )
        else:
            console.print(
                f"{todo} to run with {workers} worker(s); no finished "
                f"{spec.experiment} run in the store to estimate the cost from"
            )
        return

    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    counts = {"done": 0, "failed": 0, "skipped": 0, "interrupted": 0, "running": 0}
    with Progress(*columns, console=errors) as bar:
        task = bar.add_task(spec.sweep_name, total=len(runs), info="")

        def on_event(kind, run, info) -> None:
            params = ", ".join(f"{k}={v}" for k, v in run.params.items())
            if kind == "start":
                counts["running"] += 1
            else:
                if kind != "skipped":
                    counts["running"] -= 1
                counts[kind] += 1
                bar.advance(task)
                if kind == "done":
                    shown = {
                        k: v
                        for k, v in info["metrics"].items()
                        if k in ("linear_r2", "mcc", "ica_rel_error")
                    }
                    text = "  ".join(f"{k}={_fmt(v)}" for k, v in shown.items())
                    bar.console.print(f"[green]✓[/] {run.key} {params}  {text}")
                elif kind in ("failed", "interrupted"):
                    bar.console.print(f"[red]✗[/] {run.key} {params}  {kind}: {info['error']}")
            bar.update(task, info="  ".join(f"{k} {v}" for k, v in counts.items()))

        try:
            with _user_errors():
                summary = run_sweep(
                    spec,
                    result_store,
                    workers=workers,
                    threads=threads,
                    backend=backend,
                    force=force,
                    address=address,
                    cpus_per_run=cpus_per_run,
                    gpus_per_run=gpus_per_run,
                    on_event=on_event,
                )
        except KeyboardInterrupt:
            _fail(
                "interrupted; finished runs are kept, in-flight runs marked interrupted; "
                "run the same command again to resume",
                code=130,
            )
    console.print(
        f"sweep {spec.sweep_name}: {summary.done} done, {summary.skipped} skipped, "
        f"{summary.failed} failed, {summary.interrupted} interrupted in {summary.seconds:.1f} s "
        f"— report: identifiable report --sweep {spec.sweep_name}"
    )
    if not summary.ok:
        raise typer.Exit(1)


def main() -> None:
    app()
