"""Sweeps: a grid of configs × seeds, run locally in parallel or on Ray, resumable.

A sweep is an experiment name, base overrides, a grid (cartesian product, in the order given),
optional zipped lists (varied together, as one more axis) and seeds. It expands to a plain ordered
list of :class:`RunSpec` whose keys are the store's run keys, so a sweep and a single
``identifiable run`` of the same config share one record, and re-running a sweep skips what is
finished (failed and interrupted runs are run again).

Backends:

* ``local`` (default): one forked process per run, at most ``workers`` at once, each with
  ``threads`` torch threads (workers × threads ≤ cores). A worker that crashes (segfault, OOM
  kill) fails its own run only. Workers write their own records atomically (see
  :mod:`identifiable.store`).
* ``ray``: the same runs as Ray tasks (``pip install identifiable[ray]``); ``address`` joins an
  existing cluster, otherwise a local Ray instance starts. Tasks return metrics and curves and the
  driver writes them, so no shared filesystem is needed.
* ``inline``: in this process, one after another (debugging, overhead benchmarks).

A sweep's manifest (spec + the keys it expands to) is kept in ``<store>/_sweeps/<name>.json`` for
``identifiable report --sweep NAME``.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import hashlib
import itertools
import json
import os
import signal
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from identifiable import experiments
from identifiable.config import ConfigError, build_config, config_to_dict
from identifiable.store import Store, _atomic_write_bytes, run_key

__all__ = ["RunSpec", "SweepSpec", "SweepSummary", "load_manifest", "run_sweep"]

BACKENDS = ("local", "ray", "inline")


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: its position, swept values, resolved config and store key."""

    index: int
    params: dict[str, Any]
    config: Any
    key: str


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


# -- manifest -------------------------------------------------------------------------------
def _manifest_path(store: Store, name: str) -> Path:
    return store.root / "_sweeps" / f"{name}.json"


def write_manifest(store: Store, spec: SweepSpec, runs: list[RunSpec]) -> Path:
    path = _manifest_path(store, spec.sweep_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        **spec.to_dict(),
        "runs": [{"index": r.index, "key": r.key, "params": r.params} for r in runs],
    }
    _atomic_write_bytes(path, json.dumps(data, indent=1, default=str).encode())
    return path


def load_manifest(store: Store, name: str) -> dict[str, Any]:
    path = _manifest_path(store, name)
    if not path.exists():
        known = sorted(p.stem for p in path.parent.glob("*.json")) if path.parent.exists() else []
        raise ValueError(
            f"no sweep named {name!r} in {store.root}; known sweeps: {', '.join(known) or 'none'}"
        )
    return json.loads(path.read_text())


# -- execution ------------------------------------------------------------------------------
@dataclass
class SweepSummary:
    total: int = 0
    done: int = 0
    skipped: int = 0
    failed: int = 0
    interrupted: int = 0
    seconds: float = 0.0
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.interrupted == 0


# on_event(kind, run, info): kind in {"start", "done", "skipped", "failed", "interrupted"}
Event = Callable[[str, RunSpec, dict[str, Any]], None]


def _ignore(kind: str, run: RunSpec, info: dict[str, Any]) -> None:
    pass


def _die_with_parent() -> None:
    """Linux: the child gets SIGKILL when the driver dies, so a killed sweep stops its workers."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _child(experiment: str, config: Any, root: str, force: bool, threads: int) -> None:
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    faulthandler.disable()  # a crash is reported by the driver, in one line
    try:
        # the driver forks with SIGINT blocked; a Ctrl-C that came meanwhile is delivered now
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        import torch
    except KeyboardInterrupt:
        os._exit(130)

    from identifiable.runner import execute

    torch.set_num_threads(threads)
    try:
        execute(experiment, config, Store(root), force=force)
    except KeyboardInterrupt:
        os._exit(130)
    except BaseException:
        os._exit(1)
    os._exit(0)


def _record_status(store: Store, key: str) -> str | None:
    """The status as written (a dead worker's record still says ``running``)."""
    record = store.get(key)
    return None if record is None else record.status


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
    failure — it is recorded in the store and counted)."""
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if workers < 1 or threads < 1:
        raise ConfigError(f"workers and threads must be >= 1, got {workers} and {threads}")
    runs = spec.expand()
    write_manifest(store, spec, runs)
    summary = SweepSummary(total=len(runs))
    start = time.perf_counter()
    todo = []
    for run in runs:
        if not force and store.is_done(run.key):
            summary.skipped += 1
            on_event("skipped", run, {})
        else:
            todo.append(run)
    try:
        if backend == "inline":
            _run_inline(spec, store, todo, force, summary, on_event)
        elif backend == "local":
            _run_local(spec, store, todo, workers, threads, force, summary, on_event)
        else:
            from identifiable.sweep_ray import run_ray

            run_ray(
                spec,
                store,
                todo,
                address=address,
                threads=threads,
                cpus_per_run=cpus_per_run,
                gpus_per_run=gpus_per_run,
                summary=summary,
                on_event=on_event,
            )
    finally:
        summary.seconds = time.perf_counter() - start
    return summary


def _finish_event(
    store: Store,
    experiment: str,
    run: RunSpec,
    summary: SweepSummary,
    on_event: Event,
    fallback_error: str,
) -> None:
    status = _record_status(store, run.key)
    if status == "done":
        summary.done += 1
        on_event("done", run, {"metrics": store.metrics(run.key)})
        return
    record = store.get(run.key)
    if status in (None, "running"):  # the worker died before it could record anything
        error = fallback_error
        if record is None:
            record = store.start(experiment, config_to_dict(run.config))
        store.fail(record, error, interrupted="interrupt" in error)
        status = "interrupted" if "interrupt" in error else "failed"
    else:
        error = (record.error or fallback_error) if record else fallback_error
    if status == "interrupted":
        summary.interrupted += 1
    else:
        summary.failed += 1
    summary.errors[run.key] = error.splitlines()[0]
    on_event(status, run, {"error": error.splitlines()[0]})


def _run_inline(spec, store, todo, force, summary, on_event) -> None:
    from identifiable.runner import execute

    for run in todo:
        on_event("start", run, {})
        try:
            execute(spec.experiment, run.config, store, force=force)
        except KeyboardInterrupt:
            _finish_event(
                store, spec.experiment, run, summary, on_event, "interrupted by the user (Ctrl-C)"
            )
            raise
        except Exception as error:  # recorded by execute
            _finish_event(
                store, spec.experiment, run, summary, on_event, f"{type(error).__name__}: {error}"
            )
            continue
        _finish_event(store, spec.experiment, run, summary, on_event, "unknown")


def _run_local(spec, store, todo, workers, threads, force, summary, on_event) -> None:
    import multiprocessing
    from multiprocessing.connection import wait

    import torch  # noqa: F401  (imported once here, so forked workers start in milliseconds)

    context = multiprocessing.get_context("fork")
    queue = list(todo)
    active: dict[int, tuple[Any, RunSpec]] = {}
    sigint = {signal.SIGINT}
    try:
        while queue or active:
            # Ctrl-C is only let in while waiting, so no worker is ever started untracked
            signal.pthread_sigmask(signal.SIG_BLOCK, sigint)
            while queue and len(active) < workers:
                run = queue.pop(0)
                process = context.Process(
                    target=_child,
                    args=(spec.experiment, run.config, str(store.root), force, threads),
                    daemon=False,
                )
                process.start()
                active[process.sentinel] = (process, run)
                on_event("start", run, {})
            signal.pthread_sigmask(signal.SIG_UNBLOCK, sigint)
            ready = wait(list(active), timeout=1.0)
            signal.pthread_sigmask(signal.SIG_BLOCK, sigint)
            for sentinel in ready:
                process, run = active.pop(sentinel)
                process.join()
                code = process.exitcode
                if code is not None and code < 0:
                    reason = f"worker died with signal {signal.Signals(-code).name}"
                elif code == 130:
                    reason = "interrupted by the user (Ctrl-C)"
                else:
                    reason = f"worker exited with code {code}"
                _finish_event(store, spec.experiment, run, summary, on_event, reason)
    except KeyboardInterrupt:
        signal.pthread_sigmask(signal.SIG_BLOCK, sigint)
        for process, _ in active.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGINT)
        deadline = time.time() + 5
        for process, run in active.values():
            process.join(max(0.1, deadline - time.time()))
            if process.is_alive():
                process.kill()
                process.join()
            _finish_event(
                store, spec.experiment, run, summary, on_event, "interrupted by the user (Ctrl-C)"
            )
        raise
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, sigint)
