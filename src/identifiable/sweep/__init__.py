"""Sweeps: a grid of configs × seeds, run locally in parallel or on Ray, resumable.

A sweep is an experiment name, base overrides, a grid (cartesian product, in the order given),
optional zipped lists (varied together, as one more axis) and seeds. It expands to a plain ordered
list of :class:`RunSpec` whose keys are the store's run keys, so a sweep and a single
``identifiable run`` of the same config share one record, and re-running a sweep skips what is
finished (failed and interrupted runs are run again; a ``corrupt`` one is first moved aside to
``<store>/_corrupt/`` — :attr:`SweepSummary.quarantined` and the run's ``start`` event say where).

Backends (each in its own module; they never import each other or this one, and reach the store
only through :mod:`identifiable.run`):

* ``local`` (default, :mod:`identifiable.sweep.local`): one forked process per run, at most
  ``workers`` at once, each with ``threads`` torch threads (workers × threads ≤ cores). A worker
  that crashes (segfault, OOM kill) fails its own run only. Workers write their own records
  atomically (see :mod:`identifiable.store`).
* ``ray`` (:mod:`identifiable.sweep.ray`): the same runs as Ray tasks
  (``pip install identifiable[ray]``); ``address`` joins an existing cluster, otherwise a local
  Ray instance starts. Tasks return metrics and curves and the driver writes them, so no shared
  filesystem is needed.
* ``inline`` (:mod:`identifiable.sweep.local`): in this process, one after another (debugging,
  overhead benchmarks).

This module does the bookkeeping all backends share: a backend calls ``started(run)`` when a run
begins and ``finished(run, status, error)`` when its worker is gone, where ``status`` is what the
backend saw (``failed`` or ``interrupted``) and ``error`` the reason — used only when the worker
left no record of its own. Events reach ``on_event(kind, run, info)``.

A sweep's manifest (spec + the keys it expands to) is kept in ``<store>/_sweeps/<name>.json``
(:func:`identifiable.store.write_manifest`) for ``identifiable report --sweep NAME``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from identifiable import experiments
from identifiable import run as run_module
from identifiable.config import ConfigError, build_config, config_to_dict, parse_overrides
from identifiable.store import Store, load_manifest, run_key, write_manifest

__all__ = [
    "BACKENDS",
    "RunSpec",
    "SweepSpec",
    "SweepSummary",
    "execute_runs",
    "load_manifest",
    "parse_axis",
    "run_sweep",
    "seeds_from",
]

BACKENDS = ("local", "ray", "inline")


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: its position, swept values, resolved config and store key."""

    index: int
    params: dict[str, Any]
    config: Any
    key: str
    #: the run's experiment when one call runs several (``identifiable reproduce --all``);
    #: empty: the experiment the backend was given
    experiment: str = ""


@dataclass(frozen=True)
class SweepSpec:
    """What to run. Values may be strings (parsed against the Config types) or typed values."""

    experiment: str
    base: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    zipped: dict[str, list[Any]] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)
    name: str | None = None

    def __post_init__(self) -> None:
        experiments.get(self.experiment)  # one-line error for an unknown name
        lengths = {len(v) for v in self.zipped.values()}
        if len(lengths) > 1:
            raise ConfigError(
                "zipped lists must have equal lengths, got "
                + ", ".join(f"{k}: {len(v)}" for k, v in self.zipped.items())
            )
        for key, values in {**self.grid, **self.zipped}.items():
            if not values:
                raise ConfigError(f"sweep values for {key!r} are empty")
        clash = set(self.grid) & set(self.zipped) | (
            set(self.base) & (set(self.grid) | set(self.zipped))
        )
        if clash:
            raise ConfigError(f"keys set twice in the sweep: {', '.join(sorted(clash))}")
        if "seed" in self.grid or "seed" in self.zipped or "seed" in self.base:
            raise ConfigError("set seeds with --seeds (or `seeds = ...` in the file), not as a key")
        if not self.seeds:
            raise ConfigError("a sweep needs at least one seed")

    @property
    def sweep_name(self) -> str:
        if self.name:
            return self.name
        blob = json.dumps(
            [self.experiment, self.base, self.grid, self.zipped, self.seeds],
            sort_keys=True,
            default=str,
        )
        return f"{self.experiment}-{hashlib.sha256(blob.encode()).hexdigest()[:8]}"

    def expand(self) -> list[RunSpec]:
        """The ordered run list: grid (first key slowest) × zipped × seeds (fastest)."""
        config_cls = experiments.get(self.experiment).Config
        grid_items = list(self.grid.items())
        zipped_rows = [
            dict(zip(self.zipped, row, strict=True))
            for row in zip(*self.zipped.values(), strict=True)
        ] or [{}]
        specs: list[RunSpec] = []
        for combo in itertools.product(*(values for _, values in grid_items)):
            point = {k: v for (k, _), v in zip(grid_items, combo, strict=True)}
            for row in zipped_rows:
                for seed in self.seeds:
                    params = {**point, **row}
                    config = build_config(config_cls, {**self.base, **params}, seed=seed)
                    key = run_key(self.experiment, config_to_dict(config))
                    specs.append(RunSpec(len(specs), {**params, "seed": seed}, config, key))
        return specs

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "name": self.sweep_name,
            "base": self.base,
            "grid": self.grid,
            "zipped": self.zipped,
            "seeds": list(self.seeds),
        }

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> SweepSpec:
        """Read a TOML sweep file (keys: experiment, name, seeds, [base], [grid], [zip])."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"sweep file {path} does not exist") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"sweep file {path} is not valid TOML: {error}") from None
        unknown = set(data) - {"experiment", "name", "seeds", "base", "grid", "zip"}
        if unknown:
            raise ConfigError(
                f"unknown keys in {path}: {', '.join(sorted(unknown))}; "
                "valid: experiment, name, seeds, base, grid, zip"
            )
        if "experiment" not in data:
            raise ConfigError(f'sweep file {path} needs `experiment = "..."`')
        values = {
            "experiment": data["experiment"],
            "name": data.get("name"),
            "base": dict(data.get("base", {})),
            "grid": {
                k: list(v) if isinstance(v, list) else [v] for k, v in data.get("grid", {}).items()
            },
            "zipped": {k: list(v) for k, v in data.get("zip", {}).items()},
            "seeds": seeds_from(data.get("seeds", 1)),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def spec_from_options(
    experiment: str | None,
    *,
    file: str | Path | None = None,
    grid: Iterable[str] = (),
    zipped: Iterable[str] = (),
    base: Iterable[str] = (),
    seeds: str = "1",
    name: str | None = None,
) -> SweepSpec:
    """A spec from command-line strings (``--grid k=a,b``, ``--zip``, ``--set``, ``--seeds``),
    merged over a TOML ``file`` when given (the command line wins)."""
    seed_list = seeds_from(int(seeds) if seeds.strip().isdigit() else seeds)
    axes = {"grid": parse_axis(grid), "zipped": parse_axis(zipped), "base": parse_overrides(base)}
    if file is not None:
        spec = SweepSpec.from_file(file, name=name)
        return SweepSpec(
            spec.experiment,
            {**spec.base, **axes["base"]},
            {**spec.grid, **axes["grid"]},
            {**spec.zipped, **axes["zipped"]},
            seed_list if seeds != "1" else spec.seeds,
            spec.name,
        )
    if experiment is None:
        raise ConfigError("give an experiment name or --file sweep.toml")
    return SweepSpec(experiment, axes["base"], axes["grid"], axes["zipped"], seed_list, name)


def estimate_seconds(spec: SweepSpec, store: Store, todo: int, workers: int) -> float | None:
    """Wall seconds for ``todo`` runs on ``workers``: the median wall time of the finished runs of
    the same experiment in ``store`` × todo / workers; ``None`` without any finished run."""
    past = store.table(experiment=spec.experiment, status="done")
    if not len(past) or "wall_seconds" not in past:
        return None
    return float(past["wall_seconds"].median()) * todo / max(workers, 1)


def seeds_from(value: int | str | Iterable[int]) -> tuple[int, ...]:
    """``5`` -> (0..4); ``"3,7"`` or ``[3, 7]`` -> (3, 7)."""
    if isinstance(value, int):
        if value < 1:
            raise ConfigError(f"seeds must be >= 1, got {value}")
        return tuple(range(value))
    if isinstance(value, str):
        try:
            items = [int(v) for v in value.split(",") if v.strip()]
        except ValueError:
            raise ConfigError(
                f"seeds must be a count or a comma list of ints, got {value!r}"
            ) from None
        return seeds_from(items[0]) if len(items) == 1 and "," not in value else tuple(items)
    return tuple(int(v) for v in value)


def parse_axis(items: Iterable[str]) -> dict[str, list[str]]:
    """``["a=1,2", "b=x,y"]`` -> ``{"a": ["1", "2"], "b": ["x", "y"]}``."""
    axes: dict[str, list[str]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"sweep axes look like key=v1,v2,..., got {item!r}")
        axes[key.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    return axes


# -- execution ------------------------------------------------------------------------------
@dataclass
class SweepSummary:
    """Counts of one :func:`run_sweep` call; ``errors`` and ``quarantined`` are by run key
    (the first line of each error; where each damaged record was moved)."""

    total: int = 0
    done: int = 0
    skipped: int = 0
    failed: int = 0
    interrupted: int = 0
    seconds: float = 0.0
    errors: dict[str, str] = field(default_factory=dict)
    quarantined: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.interrupted == 0


# on_event(kind, run, info): kind in {"start", "done", "skipped", "failed", "interrupted"};
# info: {} for skipped; {"metrics": ...} for done; {"error": first line} for failed/interrupted;
# for start, {"quarantined": path, "reason": ...} when a damaged record of the run was moved aside.
Event = Callable[[str, RunSpec, dict[str, Any]], None]


def _ignore(kind: str, run: RunSpec, info: dict[str, Any]) -> None:
    pass


class _Bookkeeping:
    """Turns what a backend saw into summary counts, store records and events."""

    def __init__(self, experiment: str, store: Store, summary: SweepSummary, on_event: Event):
        self.experiment = experiment
        self.store = store
        self.summary = summary
        self.on_event = on_event
        self.notes: dict[str, dict[str, Any]] = {}

    def started(self, run: RunSpec) -> None:
        self.on_event("start", run, self.notes.pop(run.key, {}))

    def finished(self, run: RunSpec, status: str, error: str) -> None:
        """The worker of ``run`` is gone; ``status`` (``failed`` or ``interrupted``) and
        ``error`` are what the backend saw, used only if the worker recorded nothing."""
        store, summary = self.store, self.summary
        experiment = run.experiment or self.experiment
        record = store.get(run.key)
        if record is not None and record.status == "done":
            summary.done += 1
            self.on_event("done", run, {"metrics": store.metrics(run.key)})
            return
        if record is None or record.status == "running":  # the worker died before recording
            if record is None:
                record = run_module.record_start(store, experiment, run.config)
            run_module.record_end(store, record, error=error, interrupted=status == "interrupted")
        else:  # failed or interrupted as the worker recorded it (or damaged meanwhile)
            status = "interrupted" if record.status == "interrupted" else "failed"
            error = record.error or error
        if status == "interrupted":
            summary.interrupted += 1
        else:
            summary.failed += 1
        first = error.splitlines()[0] if error else status
        summary.errors[run.key] = first
        self.on_event(status, run, {"error": first})


def _check_backend(backend: str, workers: int, threads: int) -> None:
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if workers < 1 or threads < 1:
        raise ConfigError(f"workers and threads must be >= 1, got {workers} and {threads}")


def run_sweep(
    spec: SweepSpec,
    store: Store,
    *,
    workers: int = 1,
    threads: int = 1,
    backend: str = "local",
    force: bool = False,
    address: str | None = None,
    cpus_per_run: float = 1.0,
    gpus_per_run: float = 0.0,
    on_event: Event = _ignore,
) -> SweepSummary:
    """Run every not-yet-finished run of ``spec``; returns counts (never raises for a run's
    failure — it is recorded in the store and counted). Ctrl-C marks the runs in flight
    ``interrupted``, keeps the finished ones and re-raises."""
    _check_backend(backend, workers, threads)
    runs = spec.expand()
    write_manifest(
        store,
        spec.sweep_name,
        {
            **spec.to_dict(),
            "runs": [{"index": r.index, "key": r.key, "params": r.params} for r in runs],
        },
    )
    return execute_runs(
        runs,
        store,
        experiment=spec.experiment,
        workers=workers,
        threads=threads,
        backend=backend,
        force=force,
        address=address,
        cpus_per_run=cpus_per_run,
        gpus_per_run=gpus_per_run,
        on_event=on_event,
    )


def execute_runs(
    runs: list[RunSpec],
    store: Store,
    *,
    experiment: str = "",
    workers: int = 1,
    threads: int = 1,
    backend: str = "local",
    force: bool = False,
    address: str | None = None,
    cpus_per_run: float = 1.0,
    gpus_per_run: float = 0.0,
    on_event: Event = _ignore,
) -> SweepSummary:
    """Run every not-yet-finished run of ``runs`` on ``backend`` (the part of :func:`run_sweep`
    after its manifest); a run's own ``experiment`` wins over ``experiment``, so one call may mix
    experiments (``identifiable reproduce --all``)."""
    _check_backend(backend, workers, threads)
    summary = SweepSummary(total=len(runs))
    books = _Bookkeeping(experiment, store, summary, on_event)
    start = time.perf_counter()
    todo = []
    for run in runs:
        record = store.get(run.key)
        if record is not None and record.status == "corrupt":
            with_reason = {"reason": record.error or ""}
            try:
                moved = store.quarantine(run.key)
            except (KeyError, ValueError):  # moved or repaired by another process meanwhile
                record = store.get(run.key)
            else:
                summary.quarantined[run.key] = str(moved)
                books.notes[run.key] = {"quarantined": str(moved), **with_reason}
                record = None
        if not force and record is not None and record.status == "done":
            summary.skipped += 1
            on_event("skipped", run, {})
        else:
            todo.append(run)
    try:
        if backend == "inline":
            from identifiable.sweep.local import run_inline

            run_inline(
                experiment,
                store,
                todo,
                force=force,
                started=books.started,
                finished=books.finished,
            )
        elif backend == "local":
            from identifiable.sweep.local import run_local

            run_local(
                experiment,
                store,
                todo,
                workers=workers,
                threads=threads,
                force=force,
                started=books.started,
                finished=books.finished,
            )
        else:
            from identifiable.sweep.ray import run_ray

            run_ray(
                experiment,
                store,
                todo,
                address=address,
                threads=threads,
                cpus_per_run=cpus_per_run,
                gpus_per_run=gpus_per_run,
                started=books.started,
                finished=books.finished,
            )
    finally:
        summary.seconds = time.perf_counter() - start
    return summary
