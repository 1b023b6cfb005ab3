"""The ``identifiable`` command line (typer + rich): argument parsing and printing only.

Every command calls one function that does the work (``run.execute``, ``run.reproduce``,
``sweep.run_sweep``, ``report.write_report`` ...); what it prints comes from ``_console``.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

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
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Config override key=value (repeatable), e.g. --set world=box."),
]


def _fail(message: str, code: int = 2) -> None:
    from rich.markup import escape  # plain-text messages: "identifiable[lingam]" stays

    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
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


@app.command("list")
def list_experiments() -> None:
    """List experiments (one line each) and their claims."""
    from identifiable import experiments
    from identifiable._console import experiments_table

    with _user_errors():
        rows = [
            (name, len(experiments.claims(name)), getattr(experiments.get(name), "SUMMARY", ""))
            for name in experiments.names()
        ]
    console.print(experiments_table(rows))


@app.command()
def show(
    experiment: Annotated[str, typer.Argument(help="Experiment name (see `identifiable list`).")],
) -> None:
    """Every config key of an experiment: type, default, allowed values, documentation."""
    from identifiable import experiments
    from identifiable._console import config_table
    from identifiable.config import describe

    with _user_errors():
        module = experiments.get(experiment)
    console.print(f"[bold]{experiment}[/]: {getattr(module, 'SUMMARY', '')}", soft_wrap=True)
    console.print(config_table("config (set with --set key=value)", describe(module.Config)))
    claims = experiments.claims(experiment)
    if claims:
        console.print("claims: " + ", ".join(c.name for c in claims), soft_wrap=True)


@app.command()
def run(
    experiment: Annotated[str, typer.Argument(help="Experiment name (see `identifiable list`).")],
    set_: SetOption = None,
    seed: Annotated[int | None, typer.Option(help="Seed (same as --set seed=N).")] = None,
    force: Annotated[
        bool, typer.Option(help="Re-run even if this config already finished.")
    ] = False,
    store: StoreOption = None,
    threads: Annotated[
        int | None,
        typer.Option(
            help="torch intra-op threads for this run (default: torch's, one per core); "
            "1 when another busy job shares the cores.",
        ),
    ] = None,
) -> None:
    """Run one experiment config, record it in the store and print its metrics."""
    import torch

    from identifiable import experiments
    from identifiable._console import metrics_table, progress_bar
    from identifiable.config import build_config, config_to_dict, parse_overrides
    from identifiable.run import execute
    from identifiable.store import run_key

    if threads is not None and threads < 1:
        _fail(f"threads must be >= 1, got {threads}")
    with _user_errors():
        module = experiments.get(experiment)
        config = build_config(module.Config, parse_overrides(set_ or []), seed=seed)
    result_store = _store(store)
    done = not force and result_store.is_done(run_key(experiment, config_to_dict(config)))
    preflight = getattr(module, "preflight", None)  # e.g. an optional package the run needs
    if not done and preflight is not None:
        with _user_errors():
            preflight(config)
    default_threads = torch.get_num_threads()
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        if done:
            outcome = execute(experiment, config, result_store)
        else:
            with progress_bar(experiment, errors) as update:
                outcome = execute(experiment, config, result_store, force=force, progress=update)
    except KeyboardInterrupt:
        _fail("interrupted; the run is recorded as interrupted", code=130)
    except Exception as error:  # recorded as failed by execute
        _fail(
            f"run failed ({type(error).__name__}: {error}); recorded in {result_store.root}", code=1
        )
    finally:
        torch.set_num_threads(default_threads)
    if getattr(outcome, "quarantined", None):
        errors.print(f"[yellow]a damaged record of this run was moved to {outcome.quarantined}[/]")
    if outcome.status == "skipped":
        console.print(
            f"[yellow]already finished[/] (key {outcome.key}); showing stored "
            "metrics. Use --force to run again."
        )
    console.print(metrics_table(f"{experiment} · key {outcome.key}", outcome.metrics))
    console.print(f"stored in {result_store.root / outcome.key}")


def _check_store(result_store) -> None:
    problems = result_store.check()
    for problem in problems:
        console.print(
            f"{problem.key or '-'}  {problem.path}  {problem.reason}",
            highlight=False,
            soft_wrap=True,
        )
    if problems:
        errors.print(
            f"{len(problems)} damaged file(s) in {result_store.root}; running a damaged run "
            f"again moves it to {result_store.root / '_corrupt'} first",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    console.print(f"store OK: {len(result_store.records())} runs", highlight=False)


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
    """Show the runs in the store (one row per run, with its headline metrics)."""
    from identifiable import experiments
    from identifiable._console import runs_table
    from identifiable.report import run_label
    from identifiable.store import STATUSES

    result_store = _store(store)
    if check:
        _check_store(result_store)
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
    known = set(experiments.names())
    headlines = {name: experiments.headline(name) for name in set(frame["experiment"]) & known}
    rows = []
    for values in frame.to_dict("records"):
        name = values["experiment"]
        if values["status"] == "corrupt":  # the reason, in place of the config
            label = values["error"] or ""
        elif name in known:
            label = run_label(name, json.loads(values["config"]))
        else:
            label = values["config"]
        shown = {
            m: values[m]
            for m in headlines.get(name, [])
            if m in values and values[m] == values[m] and values[m] is not None
        }
        rows.append({**values, "label": label, "headline": shown})
    console.print(runs_table(f"runs in {result_store.root} (all columns: --format csv)", rows))


@app.command()
def report(
    experiment: Annotated[str | None, typer.Argument(help="Only this experiment.")] = None,
    sweep: Annotated[
        str | None,
        typer.Option(help="Aggregate this sweep: mean and 95% intervals over seeds, figures."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for report.md and figures.")] = Path("reports"),
    site: Annotated[
        Path | None,
        typer.Option(
            help="Build the documentation site here (MkDocs; the reproduction page from the store)."
        ),
    ] = None,
    reproduction: Annotated[
        Path | None,
        typer.Option(help="Write the state-of-reproduction page (Markdown) into this docs folder."),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Write a Markdown report with figures from the store (or a sweep's HTML report, the
    documentation site, or the state-of-reproduction page)."""
    from identifiable import experiments
    from identifiable.report import write_report, write_sweep_report

    if site is not None:
        from identifiable.report.site import build_site

        with _user_errors():
            pages = {"cli-reference.md": cli_reference()}
            index = build_site(_store(store), site, extra_pages=pages)
        console.print(f"site built: [bold]{index}[/]")
        return
    if reproduction is not None:
        from identifiable.report.reproduction import write_reproduction

        with _user_errors():
            source = _store(store)
            if not source.records():  # a mistyped path must not blank the committed snapshot
                _fail(
                    f"the store {source.root} holds no runs, so every claim would show as "
                    "not run; pass the store with the claim runs (--store reproduction/store)"
                )
            page = write_reproduction(source, reproduction)
        console.print(f"reproduction page written to [bold]{page}[/]")
        return
    with _user_errors():
        if sweep:
            path = write_sweep_report(_store(store), sweep, out)
            console.print(f"sweep report written to [bold]{path}[/] (+ .md, .csv, figures)")
            return
        if experiment:
            experiments.get(experiment)
        path = write_report(_store(store), experiment, out)
    console.print(f"report written to [bold]{path}[/] (figures beside it)")


def cli_reference() -> str:
    """Every command and option of this CLI as Markdown (typer's own generator on the live app,
    so the site's reference page cannot drift from the code)."""
    from typer.cli import get_docs_for_click

    command = typer.main.get_command(app)
    text = get_docs_for_click(obj=command, ctx=typer.Context(command), name="identifiable",
                              title="Command-line reference")  # fmt: skip
    return text.strip() + "\n"


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
    slow: Annotated[bool, typer.Option(help="Only claims not marked fast.")] = False,
    all_: Annotated[
        bool,
        typer.Option(
            "--all", help="Every claim, through the sweep machinery (parallel, one progress view)."
        ),
    ] = False,
    backend: Annotated[
        str | None,
        typer.Option(help="local, ray or inline (implies the sweep machinery; default local)."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Parallel runs (implies the sweep machinery).")
    ] = None,
    threads: Annotated[int, typer.Option(help="torch threads per run (sweep machinery).")] = 1,
    address: Annotated[str | None, typer.Option(help="Ray cluster address (ray backend).")] = None,
    force: Annotated[bool, typer.Option(help="Re-run claims already in the store.")] = False,
    store: StoreOption = None,
) -> None:
    """Run claims and print a verdict table: expected vs measured, pass/fail; exit 1 if any
    claim fails. Finished claims are read from the store (resumable)."""
    from identifiable import experiments
    from identifiable import run as run_module
    from identifiable._console import progress_bar, verdict_table
    from identifiable.claims import verdict_row

    if all_ and claim is not None:
        _fail("give a claim (or experiment prefix) or --all, not both")
    if fast and slow:
        _fail("--fast and --slow exclude each other; give one or neither")
    with _user_errors():
        chosen = experiments.select_claims(claim)
    if fast:
        chosen = [c for c in chosen if c.fast]
    if slow:
        chosen = [c for c in chosen if not c.fast]
    if all_ or backend is not None or workers is not None:
        workers, backend = (1 if workers is None else workers), (backend or "local")
        _reproduce_swept(chosen, _store(store), backend, workers, threads, address, force)
        return

    def on_error(item, error) -> None:
        errors.print(f"[red]{item.name} failed:[/] {type(error).__name__}: {error}")

    try:
        verdicts = run_module.reproduce(
            chosen,
            _store(store),
            force=force,
            progress_for=lambda item: progress_bar(item.name, errors),
            on_error=on_error,
        )
    except KeyboardInterrupt:
        _fail("interrupted; finished claims are kept in the store", code=130)
    console.print(verdict_table([verdict_row(v) for v in verdicts]))
    if not all(v.passed for v in verdicts):
        raise typer.Exit(1)


def _reproduce_swept(chosen, store, backend, workers, threads, address, force) -> None:
    """``reproduce --all`` / ``--backend`` / ``--workers``: the claims' runs on a sweep backend,
    one progress line per event, then the verdict table with each claim's wall time."""
    from identifiable._console import verdict_table
    from identifiable.claims import verdict_row
    from identifiable.sweep import BACKENDS
    from identifiable.sweep.reproduce import claim_runs, reproduce_claims, run_estimates

    if backend not in BACKENDS:
        _fail(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if workers < 1 or threads < 1:
        _fail(f"workers and threads must be >= 1, got {workers} and {threads}")
    with _user_errors():
        plan = claim_runs(chosen)
        todo = [r for r in plan.runs if force or not store.is_done(r.key)]
        estimates = run_estimates(todo, store)
    pending = {r.key for r in todo}
    eta = sum(estimates.values()) / workers if estimates else None
    errors.print(
        f"{len(chosen)} claims, {len(plan.runs)} runs: {len(plan.runs) - len(todo)} finished in "
        f"the store, {len(todo)} to run on {backend} ({workers} at a time)"
        + (f", about {eta / 60:.0f} min from past wall times" if eta else "")
        + (
            f" (+ {len(todo) - len(estimates)} runs with no past to go by)"
            if estimates and len(estimates) < len(todo)
            else ""
        ),
        highlight=False,
    )
    counts = {"done": 0, "failed": 0, "running": 0}

    def on_event(kind: str, run, info: dict) -> None:
        if kind == "start":
            counts["running"] += 1
        elif kind in ("done", "failed", "interrupted"):
            counts["running"] -= 1
            counts["done" if kind == "done" else "failed"] += 1
            pending.discard(run.key)
        if kind == "skipped":
            return
        names = ", ".join(plan.claims_of[run.key])
        state = f"[{counts['done'] + counts['failed']}/{len(todo)} · {counts['running']} running"
        state += f" · {counts['failed']} failed" if counts["failed"] else ""
        left = sum(estimates.get(key, 0.0) for key in pending) / workers
        unknown = "+" if any(key not in estimates for key in pending) else ""
        state += f" · ETA ~{left / 60:.0f}{unknown} min]" if estimates and pending else "]"
        detail = f": {info['error']}" if kind in ("failed", "interrupted") else ""
        errors.print(f"{state} {kind} {names}{detail}", highlight=False, markup=False)

    try:
        with _user_errors():
            verdicts, _ = reproduce_claims(chosen, store, backend=backend, workers=workers,
                                           threads=threads, force=force, address=address,
                                           on_event=on_event)  # fmt: skip
    except KeyboardInterrupt:
        _fail("interrupted; finished claims are kept in the store", code=130)
    rows = []
    for verdict in verdicts:
        row = verdict_row(verdict)
        record = store.get(plan.key_of[verdict.claim.name])
        seconds = getattr(record, "wall_seconds", None) if record is not None else None
        row["time"] = f"{seconds / 60:.1f} min" if seconds else ""
        rows.append(row)
    console.print(verdict_table(rows))
    tally = {v: sum(r["verdict"] == v for r in rows) for v in ("PASS", "FAIL", "FAIL (known)",
                                                                 "ERROR")}  # fmt: skip
    console.print(
        f"{len(rows)} claims: {tally['PASS']} PASS, {tally['FAIL']} FAIL, "
        f"{tally['FAIL (known)']} FAIL (known), {tally['ERROR']} ERROR",
        highlight=False,
    )
    if not all(v.passed for v in verdicts):
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
    from identifiable import experiments
    from identifiable._console import SweepDisplay, progress_bar, sweep_plan_table
    from identifiable.sweep import estimate_seconds, run_sweep, spec_from_options

    with _user_errors():
        spec = spec_from_options(
            experiment,
            file=file,
            grid=grid or [],
            zipped=zip_ or [],
            base=set_ or [],
            seeds=seeds,
            name=name,
        )
        runs = spec.expand()
    result_store = _store(store)
    workers = workers or max(1, (os.cpu_count() or 1) // threads)
    if dry_run:
        table, done = sweep_plan_table(
            f"sweep {spec.sweep_name}: {len(runs)} runs", runs, result_store.is_done
        )
        console.print(table)
        todo = len(runs) - (0 if force else done)
        seconds = estimate_seconds(spec, result_store, todo, workers)
        console.print(
            f"{todo} to run with {workers} worker(s); "
            + (
                f"≈ {seconds / 60:.1f} min (median wall time of finished {spec.experiment} runs)"
                if seconds is not None
                else f"no finished {spec.experiment} run in the store to estimate the cost from"
            )
        )
        return

    with progress_bar(spec.sweep_name, errors, total=len(runs)) as update:
        on_event = SweepDisplay(update, experiments.headline(spec.experiment))
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


fit_app = typer.Typer(no_args_is_help=True, help="Fit laws to your own result tables.")
app.add_typer(fit_app, name="fit")


@fit_app.command("loss-to-loss")
def fit_loss_to_loss(
    table: Annotated[Path, typer.Argument(help="CSV with one row per model.")],
    x: Annotated[str, typer.Option("--x", help="Column of the loss on the x axis.")],
    y: Annotated[str, typer.Option("--y", help="Column of the loss on the y axis.")],
    by: Annotated[str, typer.Option("--by", help="Column that groups models (one curve each).")],
    size: Annotated[
        str | None, typer.Option(help="Column of model parameters N (default: Size if present).")
    ] = None,
    tokens: Annotated[
        str | None, typer.Option(help="Column of training tokens D (default: Tokens if present).")
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(help="Keep rows with COLUMN=VALUE (repeatable), e.g. 'Architecture=GPT'."),
    ] = None,
    skip_rows: Annotated[
        int, typer.Option(help="Rows after the header to skip (the llm-line table: 1).")
    ] = 0,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples for the intervals.")] = 100,
    e_min: Annotated[float, typer.Option(help="Lower bound of E_x (reference: 0 or 0.1).")] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    format_: Annotated[
        str, typer.Option("--format", help="table, json or csv (stdout, or --output).")
    ] = "table",
    output: Annotated[Path | None, typer.Option(help="Write the result here.")] = None,
    figure: Annotated[Path | None, typer.Option(help="Save a figure (PNG/PDF) here.")] = None,
) -> None:
    """Fit L_y = K (L_x − E_x)^κ + E_y per group (Mayilvahanan et al. 2025, arXiv:2502.12120)."""
    from rich.progress import Progress

    from identifiable._console import loss_fits_table
    from identifiable.analysis.loss_tables import fit_table, plot_fits, read_table

    with _user_errors():
        if format_ not in ("table", "json", "csv"):
            raise ValueError(f"--format must be table, json or csv, got {format_!r}")
        conditions = {}
        for item in where or []:
            if "=" not in item:
                raise ValueError(f"--where must look like COLUMN=VALUE, got {item!r}")
            key, value = item.split("=", 1)
            conditions[key.strip()] = value.strip()
        frame = read_table(table, skip_rows)
        with Progress(console=errors, transient=True) as bar:  # gone once done (or failed)
            task = bar.add_task("fitting groups", total=None)
            result = fit_table(
                frame, x=x, y=y, by=by, size=size, tokens=tokens, where=conditions,
                e_min=e_min, bootstrap=bootstrap, seed=seed,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )  # fmt: skip
    summary = result.table
    if format_ == "json":
        text = summary.to_json(orient="records", indent=2)
    elif format_ == "csv":
        text = summary.to_csv(index=False)
    else:
        text = None
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text if text is not None else summary.to_string(index=False) + "\n")
        errors.print(f"wrote {output}")  # notes on stderr: stdout may carry the data
    elif text is not None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    if text is None:
        console.print(loss_fits_table(f"{y} vs {x}, by {by}", summary))
    dropped = int(summary["dropped"].sum())
    if dropped:
        errors.print(f"{dropped} rows with an empty {x!r} or {y!r} cell were left out")
    if figure is not None:
        errors.print(f"figure: {plot_fits(result, figure)}")


FormatOption = Annotated[
    str, typer.Option("--format", help="table, json or csv (stdout, or --output).")
]
OutputOption = Annotated[Path | None, typer.Option(help="Write the result here.")]


def _emit_scores(title: str, rows: list[dict], format_: str, output: Path | None) -> None:
    """Print (or write) score rows as a rich table, JSON records or CSV."""
    import pandas as pd

    from identifiable._console import scores_table

    frame = pd.DataFrame(rows)
    if format_ == "json":
        text = frame.to_json(orient="records", indent=2)
    elif format_ == "csv":
        text = frame.to_csv(index=False)
    else:
        text = None
    _deliver(text, frame, output)
    if text is None:
        console.print(scores_table(title, rows))


def _deliver(text: str | None, frame, output: Path | None) -> None:
    """Write ``text`` (JSON/CSV), or the frame as plain text for the table format, to ``output``
    (a note on stderr); else print ``text`` to stdout (the table format prints elsewhere)."""
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text if text is not None else frame.to_string(index=False) + "\n")
        errors.print(f"wrote {output}")
    elif text is not None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _check_format(format_: str) -> None:
    if format_ not in ("table", "json", "csv"):
        raise ValueError(f"--format must be table, json or csv, got {format_!r}")


def _meaning(name: str) -> dict:
    from identifiable.metrics import metric_info

    info = metric_info(name)
    return {
        "higher_is_better": info.higher_is_better if info else None,
        "forgives": info.forgives if info else "",
    }


@app.command()
def score(
    truth: Annotated[
        Path, typer.Option("--truth", help="True factors Z (n × F): .npy/.npz/.csv/.parquet.")
    ],
    learned: Annotated[Path, typer.Option("--learned", help="Learned representation H (n × d).")],
    metric: Annotated[
        str | None,
        typer.Option(help="Comma-separated metrics (default mcc,linear_r2,mig); e.g. dci,sap."),
    ] = None,
    factors_discrete: Annotated[
        bool,
        typer.Option(
            "--factors-discrete",
            help="Z holds integer labels (else binned in 20 bins for DCI/MIG/SAP/modularity).",
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of train/test splits and classifiers.")] = 0,
    format_: FormatOption = "table",
    output: OutputOption = None,
) -> None:
    """Score a learned representation against the true factors (identifiability and
    disentanglement metrics; see docs/metrics.md)."""
    from identifiable.array_files import read_array
    from identifiable.metrics.scoring import score as score_arrays

    with _user_errors():
        _check_format(format_)
        z, h = read_array(truth), read_array(learned)
        with errors.status("scoring"):
            values = score_arrays(z, h, metric, factors_discrete=factors_discrete, seed=seed)
    rows = [{"metric": name, "value": value, **_meaning(name)} for name, value in values.items()]
    _emit_scores(f"{learned.name} against {truth.name} ({len(z)} samples)", rows, format_, output)


@app.command()
def align(
    a: Annotated[Path, typer.Argument(help="Representation A (n × d_A): .npy/.npz/.csv/.parquet.")],
    b: Annotated[Path, typer.Argument(help="Representation B (n × d_B) of the same samples.")],
    metric: Annotated[
        str | None,
        typer.Option(help="Comma-separated metrics (default mutual_knn,cka,unbiased_cka,cknna)."),
    ] = None,
    k: Annotated[int, typer.Option("--k", help="Neighbours of the k-NN scores.")] = 10,
    permutations: Annotated[
        int, typer.Option(help="Shuffles of B's rows for the null (0: raw scores only).")
    ] = 100,
    prepare: Annotated[
        bool,
        typer.Option(
            "--prepare",
            help="Clamp at the 0.95 quantile and L2-normalise first (platonic-rep's pipeline).",
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the shuffles.")] = 0,
    format_: FormatOption = "table",
    output: OutputOption = None,
) -> None:
    """How alike two representations of the same samples are, against a permutation null
    (Platonic Representation Hypothesis scores; see docs/metrics.md)."""
    import dataclasses

    from identifiable.array_files import read_array
    from identifiable.metrics.scoring import align as align_arrays

    with _user_errors():
        _check_format(format_)
        x, y = read_array(a), read_array(b)
        with errors.status(f"scoring against {permutations} shuffles"):
            result = align_arrays(x, y, metric, k=k, permutations=permutations, seed=seed,
                                  prepare=prepare)  # fmt: skip
    rows = []
    for row in result:
        record = dataclasses.asdict(row)
        record["value"] = record.pop("score")
        rows.append({"metric": record.pop("metric"), "value": record.pop("value"), **record,
                     **_meaning(row.metric)})  # fmt: skip
    _emit_scores(f"{a.name} vs {b.name} ({len(x)} samples)", rows, format_, output)


@fit_app.command("concept-frequency")
def fit_concept_frequency(
    table: Annotated[Path, typer.Argument(help="CSV/Parquet with one row per sample.")],
    concepts: Annotated[
        str, typer.Option(help="Column of each sample's concepts, separated by --separator.")
    ],
    performance: Annotated[str, typer.Option(help="Column of each sample's performance.")],
    frequencies: Annotated[
        Path, typer.Option(help="CSV/Parquet of concepts and pretraining frequencies.")
    ],
    concept_column: Annotated[str, typer.Option(help="Concept column of --frequencies.")] = (
        "concept"
    ),
    frequency_column: Annotated[
        str, typer.Option(help="Frequency column of --frequencies.")
    ] = "frequency",
    separator: Annotated[str, typer.Option(help="Separator of the concepts cell.")] = ";",
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples for the intervals.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    format_: FormatOption = "table",
    output: OutputOption = None,
) -> None:
    """Fit performance against the log geometric mean (and min, max, mean) of each sample's
    concept frequencies (Wiedemer et al. 2025, arXiv:2502.18326; see docs/evaluation.md)."""
    import pandas as pd

    from identifiable.analysis.frequency import frequency_fit

    def read(path: Path) -> pd.DataFrame:
        try:
            return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        except (OSError, ValueError) as error:
            raise ValueError(f"cannot read {path}: {error}") from error

    with _user_errors():
        _check_format(format_)
        samples, freq = read(table), read(frequencies)
        checks = ((samples, (concepts, performance), table),
                  (freq, (concept_column, frequency_column), frequencies))  # fmt: skip
        for frame, columns, path in checks:
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                have = list(frame.columns)
                raise ValueError(f"{path} has no column {missing[0]!r}; it has {have}")
        lists = [[c.strip() for c in str(cell).split(separator) if c.strip()]
                 for cell in samples[concepts]]  # fmt: skip
        mapping = dict(zip(freq[concept_column].astype(str), freq[frequency_column].astype(float),
                           strict=True))  # fmt: skip
        fits, summary = frequency_fit(lists, mapping, samples[performance].to_numpy(float),
                                      n_bootstrap=bootstrap, seed=seed)  # fmt: skip
    rows = [{"metric": f"r2_{r.aggregate}", "value": r.r2, "slope": r.slope,
             "ci_low": r.r2_ci_low, "ci_high": r.r2_ci_high}
            for r in fits.itertuples(index=False)]  # fmt: skip
    rows += [{"metric": k, "value": v} for k, v in summary.items()]
    _emit_scores(f"{performance} vs concept frequency ({len(lists)} samples)", rows, format_,
                 output)  # fmt: skip


@app.command()
def vggsounder(
    predictions: Annotated[
        Path, typer.Argument(help="A model's predictions: the reference's .pkl, or .json/.parquet.")
    ],
    labels: Annotated[
        Path | None,
        typer.Option(help="A labels CSV (video_id,label,modality,…) instead of a version."),
    ] = None,
    label_version: Annotated[
        str, typer.Option("--label-version", help="0.1.6 (the paper's) or 1.0 (re-reviewed).")
    ] = "0.1.6",
    background_music: Annotated[
        bool, typer.Option("--background-music", help="Include the background-music videos.")
    ] = False,
    confusion_truth: Annotated[
        str,
        typer.Option(
            "--confusion-truth",
            help="Ground truth of μ: all (the current reference code) or av (AV labels only, "
            "the code that made the paper's tables).",
        ),
    ] = "all",
    confused: Annotated[
        bool, typer.Option("--confused", help="List the modality-confused videos instead.")
    ] = False,
    allow_missing: Annotated[
        bool,
        typer.Option(
            "--allow-missing",
            help="Score even when no predicted video is in the label set (all empty).",
        ),
    ] = False,
    format_: FormatOption = "table",
    output: OutputOption = None,
) -> None:
    """VGGSounder metrics of a model's predictions per modality, and modality confusion μ
    (Zverev et al. 2025, arXiv:2508.08237; see docs/evaluation.md)."""
    from identifiable.analysis import vggsounder as vgg

    with _user_errors():
        _check_format(format_)
        label_set = vgg.read_labels(
            labels, version=label_version, background_music=background_music
        )
        predicted = vgg.read_predictions(predictions)
        if confused:
            table = vgg.confused_samples(label_set, predicted, confusion_truth)
            summary = {}
        else:
            table, summary = vgg.evaluate(
                label_set, predicted, confusion_truth=confusion_truth, allow_missing=allow_missing
            )
    _emit_vggsounder(predictions.name, label_set.source, table, summary, format_, output, confused)


def _emit_vggsounder(name, source, table, summary, format_, output, confused) -> None:
    import json

    from rich.table import Table

    if format_ == "json":
        text = json.dumps(
            {"metrics" if not confused else "confused": table.to_dict(orient="records"),
             "summary": summary},
            indent=2, default=str,
        )  # fmt: skip
    elif format_ == "csv":
        text = table.to_csv(index=False)
    else:
        text = None
    _deliver(text, table, output)
    if text is not None:
        return
    if confused:
        flags = {m: int(table[f"confused_{m}"].sum()) for m in ("a", "v", "av")}
        console.print(
            f"{len(table)} confused videos ({flags['a']} audio-, {flags['v']} visual-confused, "
            f"{flags['av']} both) of {name} against {source}"
        )
        if output is None:
            console.print(table.head(20).to_string(index=False), soft_wrap=True)
        return
    grid = Table(title=f"{name} on {source} (%)")
    for column in table.columns:
        grid.add_column(column, justify="left" if column == "modality" else "right")
    for row in table.itertuples(index=False):
        cells = [str(v) if isinstance(v, str | int) else f"{100 * v:.2f}" for v in row]
        grid.add_row(*cells)
    console.print(grid)
    if "mu_a" in summary:
        console.print(
            f"modality confusion (truth: {summary['confusion_truth']}, "
            f"{summary['confusion_videos']} videos): μ_A {100 * summary['mu_a']:.2f} %, "
            f"μ_V {100 * summary['mu_v']:.2f} %, μ_AV {100 * summary['mu_av']:.2f} %"
        )
    console.print(
        f"videos: {summary['videos_labelled']} labelled, {summary['videos_predicted']} predicted, "
        f"{summary['predicted_outside_labels']} predicted outside this label set (ignored), "
        f"{summary['labelled_without_prediction']} labelled without a prediction (scored empty); "
        f"{summary['unknown_predicted_names']} predicted names outside the class list (dropped)",
        highlight=False,
    )


@app.command()
def similarity(
    base: Annotated[
        Path, typer.Option("--base", help="Base embeddings (n_B × d): .npy/.parquet/.csv.")
    ],
    test: Annotated[Path, typer.Option("--test", help="Test embeddings (n_T × d).")],
    prune_from: Annotated[
        Path | None,
        typer.Option(
            "--prune-from",
            help="A large set (n_L × d) to prune: drop every point more similar to a test "
            "point than that point's nearest base neighbour.",
        ),
    ] = None,
    k: Annotated[int, typer.Option("--k", help="Neighbours per test point.")] = 1,
    approximate: Annotated[
        bool, typer.Option("--approximate", help="HNSW index instead of exact (very large bases).")
    ] = False,
    format_: FormatOption = "table",
    output: Annotated[
        Path | None,
        typer.Option(
            help="Write each test point's neighbours here (Parquet), the kept indices beside it "
            "(…_kept.parquet) and a histogram (….png)."
        ),
    ] = None,
) -> None:
    """Train–test similarity: each test point's nearest neighbours in a base set (cosine), and
    similarity-gap pruning of a large set (Mayilvahanan et al. 2024; see docs/evaluation.md)."""
    import json

    import numpy as np
    import pandas as pd

    from identifiable.analysis.similarity import nearest, similarity_gap_prune
    from identifiable.array_files import read_array

    with _user_errors():
        if format_ not in ("table", "json"):
            raise ValueError(f"--format must be table or json, got {format_!r}")
        b, t = read_array(base), read_array(test)
        with errors.status("nearest neighbours"):
            sims, idx = nearest(b, t, k, approximate=approximate)
        frame = pd.DataFrame({"test_index": np.arange(len(t))})
        for j in range(k):
            frame[f"similarity_{j + 1}"] = sims[:, j]
            frame[f"base_index_{j + 1}"] = idx[:, j]
        summary: dict = {
            "base": len(b), "test": len(t), "dim": b.shape[1],
            **{f"similarity_{q}": float(np.quantile(sims[:, 0], v))
               for q, v in (("min", 0), ("median", 0.5), ("p95", 0.95), ("max", 1))},
        }  # fmt: skip
        kept = None
        if prune_from is not None:
            large = read_array(prune_from)
            with errors.status("pruning"):
                keep, _ = similarity_gap_prune(large, t, b, reference_similarity=sims[:, 0])
            kept = np.flatnonzero(keep)
            after = nearest(large[keep], t, 1)[0][:, 0] if keep.any() else np.full(len(t), -1.0)
            frame["pruned_similarity"] = after
            summary |= {"large": len(large), "kept": len(kept),
                        "kept_fraction": len(kept) / len(large),
                        "max_gap_after_pruning": float(np.max(after - sims[:, 0]))}  # fmt: skip
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(output)
        written = [output]
        if kept is not None:
            kept_path = output.with_name(output.stem + "_kept.parquet")
            pd.DataFrame({"large_index": kept}).to_parquet(kept_path)
            written.append(kept_path)
        written.append(_similarity_histogram(frame, output.with_suffix(".png")))
        errors.print("wrote " + ", ".join(str(p) for p in written))
    if format_ == "json":
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return
    rows = [{"metric": name, "value": value} for name, value in summary.items()]
    console.print(_plain_table(f"{test.name} against {base.name}", rows))


def _plain_table(title: str, rows: list[dict]):
    from rich.table import Table

    table = Table(title=title)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for row in rows:
        value = row["value"]
        table.add_row(row["metric"], f"{value:.4f}" if isinstance(value, float) else str(value))
    return table


def _similarity_histogram(frame, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.hist(frame["similarity_1"], 50, alpha=0.6, label="to the base set")
    if "pruned_similarity" in frame:
        ax.hist(frame["pruned_similarity"], 50, alpha=0.6, label="to the pruned large set")
    ax.set_xlabel("nearest-neighbour cosine similarity")
    ax.set_ylabel("test points")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> None:
    app()
