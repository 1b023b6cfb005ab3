"""The result store: one folder of small files per run, queried with DuckDB. No server.

Layout under the store root (default ``./runs``; ``--store PATH`` or ``IDENTIFIABLE_STORE``)::

    runs/<key>/run.json                    config + metadata (commit, versions, machine) + status
    runs/<key>/metrics-<attempt>.parquet   final metrics (name, value, higher_is_better, forgives)
    runs/<key>/curves-<attempt>.parquet    the run's curves (e.g. step, loss, linear_r2)
    runs/<key>/.lock                       taken for the few milliseconds a record is written
    runs/_sweeps/<name>.json               a sweep's manifest (:func:`write_manifest`)
    runs/_corrupt/<key>/                   damaged runs moved aside (:meth:`Store.quarantine`)

``key`` = sha256(experiment, resolved config incl. seed)[:16], so the same config always lands on
the same key. Every file is written to a temporary name and renamed into place, and a run's
``run.json`` says ``done`` only *after* its Parquet files exist: a crash leaves at worst a
``running`` record (shown as ``interrupted`` once its process is gone), never a finished one
without results. Many processes can write at once: each record change (and the removal of a
superseded attempt's files) happens under that run's ``.lock``, held for milliseconds; no DuckDB
writer lock is ever taken (DuckDB only reads the files). A re-run of a finished key is skipped
unless forced; a forced re-run keeps the old finished record visible until the new one is
complete.

Damage degrades per run. A folder whose ``run.json`` is unreadable, or missing next to result
files, or whose finished attempt's Parquet files are missing, empty or truncated (a full disk, an
interrupted copy, a power cut before the data reached the disk) is listed with status ``corrupt``
and the reason in ``error``; every other run stays readable and queryable. Listings check each
finished run's Parquet footers (cheap); :meth:`Store.check` reads every file in full. Nothing is
ever deleted: :meth:`Store.quarantine` moves a damaged run to ``_corrupt/`` (running the config
again does that first). Files and folders in the root that are not run folders (named by a key)
are ignored.

Query it yourself::

    import duckdb
    con = identifiable.store.Store("runs").connect()   # views: runs, metrics, curves
    con.sql("select experiment, config->>'world' as world, value from metrics "
            "join runs using (key, attempt) where name = 'linear_r2'").df()
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import io
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow.parquet as pq

try:
    import fcntl
except ImportError:  # not POSIX: records are still written atomically, without the run lock
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "STATUSES",
    "Problem",
    "RunRecord",
    "Store",
    "atomic_write_bytes",
    "default_root",
    "load_manifest",
    "run_key",
    "write_manifest",
]

STATUSES = ("running", "done", "failed", "interrupted", "corrupt")
_WRITTEN = ("running", "done", "failed", "interrupted")  # what a run.json may say
_KEY = re.compile(r"[0-9a-f]{16}")
_REQUIRED = ("key", "experiment", "config", "status", "attempt", "started_at")
_COLUMNS = {
    "metrics": ("key", "attempt", "name", "value"),
    "curves": ("key", "attempt"),
}


def default_root() -> Path:
    return Path(os.environ.get("IDENTIFIABLE_STORE", "runs"))


def run_key(experiment: str, config: dict[str, Any]) -> str:
    """Stable hash of (experiment, resolved config); the seed is part of the config."""
    blob = json.dumps({"experiment": experiment, "config": config}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write to a temporary file beside ``path`` and rename it into place, so a reader sees the
    old file or the new one, never a part; ``durable`` also fsyncs (survives a machine crash, not
    only a process crash)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _atomic_write_parquet(path: Path, frame: pd.DataFrame) -> None:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    atomic_write_bytes(path, buffer.getvalue(), durable=False)


# -- sweep manifests ----------------------------------------------------------------------------
def _manifest_path(store: Store, name: str) -> Path:
    return store.root / "_sweeps" / f"{name}.json"


def write_manifest(store: Store, name: str, manifest: dict[str, Any]) -> Path:
    """Keep a sweep's manifest (its spec and the keys it expands to) as ``_sweeps/<name>.json``."""
    path = _manifest_path(store, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json.dumps(manifest, indent=1, default=str).encode())
    return path


def load_manifest(store: Store, name: str) -> dict[str, Any]:
    """The manifest :func:`write_manifest` kept for sweep ``name``; a one-line error otherwise."""
    path = _manifest_path(store, name)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        known = sorted(p.stem for p in path.parent.glob("*.json")) if path.parent.exists() else []
        raise ValueError(
            f"no sweep named {name!r} in {store.root}; known sweeps: {', '.join(known) or 'none'}"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(
            f"sweep manifest {path} is damaged ({error}); run the sweep again to rewrite it"
        ) from None


# -- provenance ---------------------------------------------------------------------------------
@functools.cache
def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


@functools.cache
def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in ("identifiable", "torch", "numpy", "scipy", "scikit-learn", "duckdb"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


@functools.cache
def _cpu_model() -> str:
    """The CPU's model name (Linux ``/proc/cpuinfo``), else what :mod:`platform` knows."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and ":" in line:
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _machine() -> dict[str, Any]:
    """Where a run ran: CPU model, logical cores, OS and torch's intra-op threads (``None`` when
    torch is not loaded). Recorded because some verdicts depend on them (``Claim.fragile``)."""
    torch = sys.modules.get("torch")
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "system": platform.system(),
        "torch_threads": torch.get_num_threads() if torch is not None else None,
    }


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- damage -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """A damaged file: the run it belongs to (``None`` for a sweep manifest), where, and why."""

    key: str | None
    path: Path
    reason: str


class _Damaged(Exception):
    """A ``run.json`` that cannot be read as a record (internal)."""


def _parquet_problem(path: Path, columns: tuple[str, ...], *, deep: bool) -> str | None:
    """Why ``path`` is not a readable result file, or ``None``. Cheap (the footer only) unless
    ``deep`` (every page is read)."""
    try:
        size = path.stat().st_size
        if size == 0:
            return "empty file (0 bytes)"
        schema = pq.read_metadata(path).schema.names
        if deep:
            pq.read_table(path)
    except FileNotFoundError:
        return "missing"
    except Exception as error:  # ArrowInvalid, OSError, ...: whatever pyarrow says
        return f"unreadable Parquet ({str(error).splitlines()[0]})"
    lacking = [c for c in columns if c not in schema]
    if lacking:
        return f"lacks column(s) {', '.join(lacking)}"
    return None


@dataclass
class RunRecord:
    """The contents of one ``run.json``.

    A damaged run reads as a record with status ``corrupt`` and the reason in ``error`` (its other
    fields are those of its ``run.json`` where that was readable, else empty).
    """

    key: str
    experiment: str
    config: dict[str, Any]
    status: str
    attempt: str
    started_at: str
    finished_at: str | None = None
    wall_seconds: float | None = None
    error: str | None = None
    git_commit: str | None = None
    versions: dict[str, str] | None = None
    host: str | None = None
    pid: int | None = None
    tags: dict[str, Any] | None = None
    #: CPU model, cores, OS and torch threads of the attempt (records before 2026-11 lack it)
    machine: dict[str, Any] | None = None

    def effective_status(self) -> str:
        """``running`` whose process is gone (same host) reads as ``interrupted``."""
        if (
            self.status == "running"
            and self.host == socket.gethostname()
            and self.pid is not None
            and not _pid_alive(self.pid)
        ):
            return "interrupted"
        return self.status


class Store:
    """A folder of runs; see the module docstring."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_root()

    # -- reading -----------------------------------------------------------------------------
    def _dir(self, key: str) -> Path:
        return self.root / key

    def _keys(self) -> list[str]:
        """Names of the run folders (a key's 16 hex digits); everything else is ignored."""
        if not self.root.is_dir():
            return []
        return sorted(
            entry.name
            for entry in os.scandir(self.root)
            if _KEY.fullmatch(entry.name) and entry.is_dir()
        )

    def _read(self, key: str) -> RunRecord | None:
        """``run.json`` as written, ``None`` when there is none; :class:`_Damaged` if unreadable."""
        path = self._dir(key) / "run.json"
        try:
            text = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            raise _Damaged(f"unreadable ({error})") from None
        if not text.strip():
            raise _Damaged("empty file")
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise _Damaged(f"not valid JSON ({error})") from None
        if not isinstance(data, dict):
            raise _Damaged(f"not a JSON object (a {type(data).__name__})")
        lacking = [name for name in _REQUIRED if name not in data]
        if lacking:
            raise _Damaged(f"lacks {', '.join(lacking)}")
        if data["status"] not in _WRITTEN:
            raise _Damaged(f"unknown status {data['status']!r}")
        if data["key"] != key:
            raise _Damaged(f"names key {data['key']!r}, but its folder is {key}")
        if not isinstance(data["config"], dict):
            raise _Damaged("config is not a JSON object")
        known = {f.name for f in dataclasses.fields(RunRecord)}
        return RunRecord(**{k: v for k, v in data.items() if k in known})

    def _inspect(self, key: str, *, deep: bool = False) -> tuple[RunRecord | None, Problem | None]:
        """(record as written, what is damaged). A finished attempt's files that vanish because a
        concurrent re-run superseded them are not damage: the new record is read instead."""
        directory = self._dir(key)
        for _ in range(5):
            try:
                record = self._read(key)
            except _Damaged as damage:
                return None, Problem(key, directory / "run.json", str(damage))
            if record is None:
                found = sorted(p.name for p in directory.glob("*.parquet"))
                if not found:  # nothing here, or a run being created right now
                    return None, None
                reason = f"missing, next to {len(found)} result file(s): {', '.join(found)}"
                return None, Problem(key, directory / "run.json", reason)
            if record.status != "done":
                return record, None
            problem = None
            for kind, columns in _COLUMNS.items():
                path = directory / f"{kind}-{record.attempt}.parquet"
                reason = _parquet_problem(path, columns, deep=deep)
                if reason is not None:
                    problem = Problem(key, path, reason)
                    break
            if problem is None:
                return record, None
            with contextlib.suppress(_Damaged):
                again = self._read(key)
                if again is not None and again.attempt != record.attempt:
                    continue  # superseded meanwhile: look at the new attempt
            return record, problem
        return record, problem

    def get(self, key: str) -> RunRecord | None:
        """The run's record, ``None`` if there is no such run, or a ``corrupt`` record (reason in
        ``error``) when its ``run.json`` or its finished attempt's result files are damaged."""
        record, problem = self._inspect(key)
        if problem is None:
            return record
        reason = f"{problem.path.name}: {problem.reason}"
        if record is None:
            return RunRecord(key, "", {}, "corrupt", "", "", error=reason)
        return dataclasses.replace(record, status="corrupt", error=reason)

    def records(self) -> list[RunRecord]:
        """Every run in the store (``corrupt`` ones included), sorted by key."""
        found = [self.get(key) for key in self._keys()]
        return [r for r in found if r is not None]

    def is_done(self, key: str) -> bool:
        record = self.get(key)
        return record is not None and record.status == "done"

    def _result(self, key: str, kind: str) -> pd.DataFrame:
        for _ in range(5):
            record = self.get(key)
            if record is None or record.status != "done":
                why = f": {record.error}" if record is not None and record.error else ""
                raise KeyError(f"run {key} has no finished results{why}")
            try:
                return pd.read_parquet(self._dir(key) / f"{kind}-{record.attempt}.parquet")
            except FileNotFoundError:  # superseded by a concurrent re-run since get(): again
                continue
        raise KeyError(f"run {key} keeps changing; try again")

    def metrics(self, key: str) -> dict[str, float]:
        frame = self._result(key, "metrics")
        return dict(zip(frame["name"], frame["value"].astype(float), strict=True))

    def curves(self, key: str) -> pd.DataFrame:
        return self._result(key, "curves")

    def check(self) -> list[Problem]:
        """Every damaged file: run records and the finished attempts' Parquet files (read in
        full), and sweep manifests. An empty list means the store is sound."""
        problems = []
        for key in self._keys():
            _, problem = self._inspect(key, deep=True)
            if problem is not None:
                problems.append(problem)
        sweeps = self.root / "_sweeps"
        for path in sorted(sweeps.glob("*.json")) if sweeps.is_dir() else []:
            try:
                json.loads(path.read_bytes())
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                problems.append(Problem(None, path, f"sweep manifest is not valid JSON ({error})"))
        return problems

    # -- writing -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[Path]:
        """Hold ``<key>/.lock`` (creating the folder); yields the run's folder."""
        directory = self._dir(key)
        while True:
            directory.mkdir(parents=True, exist_ok=True)
            if fcntl is None:
                yield directory
                return
            path = directory / ".lock"
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:  # the folder may have been moved aside while we waited: lock the new one
                    same = os.stat(path).st_ino == os.fstat(fd).st_ino
                except FileNotFoundError:
                    same = False
                if same:
                    yield directory
                    return
            finally:
                os.close(fd)

    def _write_record(self, record: RunRecord) -> None:
        directory = self._dir(record.key)
        directory.mkdir(parents=True, exist_ok=True)
        fields = {k: v for k, v in record.__dict__.items() if not k.startswith("_")}
        data = json.dumps(fields, indent=1, sort_keys=True, default=str).encode()
        # the transient "running" record needs no fsync; the final one does
        atomic_write_bytes(directory / "run.json", data, durable=record.status != "running")

    def start(
        self, experiment: str, config: dict[str, Any], *, tags: dict[str, Any] | None = None
    ) -> RunRecord:
        """Begin an attempt. The ``running`` record is written only when no finished one exists;
        a ``corrupt`` run is first moved aside (:meth:`quarantine`), so nothing is lost."""
        key = run_key(experiment, config)
        record = RunRecord(
            key=key,
            experiment=experiment,
            config=config,
            status="running",
            attempt=uuid.uuid4().hex[:12],
            started_at=_now(),
            git_commit=_git_commit(),
            versions=dict(_versions()),
            host=socket.gethostname(),
            pid=os.getpid(),
            tags=tags,
            machine=_machine(),
        )
        record._t0 = time.perf_counter()  # type: ignore[attr-defined]
        while True:
            with self._locked(key):
                current = self.get(key)
                if current is None or current.status != "corrupt":
                    if current is None or current.status != "done":
                        self._write_record(record)
                    return record
            with contextlib.suppress(KeyError, ValueError):  # another process moved it first
                self.quarantine(key)

    def finish(
        self,
        record: RunRecord,
        metrics: dict[str, float],
        curves: pd.DataFrame,
        metric_info: Callable[[str], Any] | None = None,
    ) -> None:
        """Write results, then flip the record to ``done`` (the commit point)."""
        rows = []
        for name, value in metrics.items():
            meta = metric_info(name) if metric_info else None
            rows.append(
                {
                    "key": record.key,
                    "attempt": record.attempt,
                    "name": name,
                    "value": float(value),
                    "higher_is_better": None
                    if meta is None or meta.higher_is_better is None
                    else bool(meta.higher_is_better),
                    "forgives": None if meta is None else meta.forgives,
                }
            )
        frame = pd.DataFrame(
            rows, columns=["key", "attempt", "name", "value", "higher_is_better", "forgives"]
        )
        curves = curves.copy()
        curves.insert(0, "attempt", record.attempt)
        curves.insert(0, "key", record.key)
        # under the lock no other attempt is between its Parquet files and its commit, so every
        # other attempt's files are superseded (or left by a crash) and can go
        with self._locked(record.key) as directory:
            _atomic_write_parquet(directory / f"metrics-{record.attempt}.parquet", frame)
            _atomic_write_parquet(directory / f"curves-{record.attempt}.parquet", curves)
            record.status = "done"
            record.finished_at = _now()
            record.wall_seconds = time.perf_counter() - getattr(record, "_t0", time.perf_counter())
            record.error = None
            self._write_record(record)
            for old in directory.glob("*-*.parquet"):
                if not old.name.endswith(f"-{record.attempt}.parquet"):
                    with contextlib.suppress(FileNotFoundError):
                        old.unlink()

    def fail(self, record: RunRecord, error: str, *, interrupted: bool = False) -> None:
        """Record a failed/interrupted attempt, unless a finished record is already there."""
        with self._locked(record.key):
            if self.is_done(record.key):
                return
            record.status = "interrupted" if interrupted else "failed"
            record.finished_at = _now()
            record.wall_seconds = time.perf_counter() - getattr(record, "_t0", time.perf_counter())
            record.error = error
            self._write_record(record)

    def quarantine(self, key: str) -> Path:
        """Move the ``corrupt`` run ``key`` to ``_corrupt/<key>/`` (``<key>-1``, ... if taken) and
        return where it went. Nothing is deleted; a run that is not corrupt is not moved."""
        record = self.get(key)
        if record is None:
            raise KeyError(f"no run {key} in {self.root}")
        if record.status != "corrupt":
            raise ValueError(f"run {key} is {record.status}, not corrupt; nothing moved")
        with self._locked(key) as directory:
            current = self.get(key)
            if current is None or current.status != "corrupt":
                raise ValueError(f"run {key} changed while waiting to move it; nothing moved")
            aside = self.root / "_corrupt"
            aside.mkdir(parents=True, exist_ok=True)
            for n in range(10_000):
                target = aside / (key if n == 0 else f"{key}-{n}")
                if target.exists():
                    continue
                try:
                    os.rename(directory, target)
                except OSError:  # taken meanwhile (EEXIST/ENOTEMPTY): next name
                    continue
                return target
        raise OSError(f"could not move {directory} aside into {aside}")

    # -- querying ----------------------------------------------------------------------------
    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with views ``runs``, ``metrics``, ``curves``.

        ``runs`` has one row per run, damaged ones as ``corrupt`` (``config`` is JSON:
        ``config->>'kappa'``); ``metrics`` and ``curves`` read the files of the finished attempt
        of each ``done`` run, listed when connecting (a file a concurrent forced re-run replaces
        afterwards makes a query raise ``duckdb.IOException``: connect again).
        """
        con = duckdb.connect()
        records = self.records()
        frame = pd.DataFrame(
            [
                {
                    **{
                        f.name: getattr(r, f.name)
                        for f in dataclasses.fields(RunRecord)
                        if f.name not in ("config", "versions", "tags", "machine")
                    },
                    "status": r.effective_status(),
                    "config": json.dumps(r.config, sort_keys=True),
                    "versions": json.dumps(r.versions),
                    "tags": json.dumps(r.tags),
                    "machine": json.dumps(r.machine) if r.machine is not None else None,
                }
                for r in records
            ],
            columns=[
                "key",
                "experiment",
                "status",
                "attempt",
                "started_at",
                "finished_at",
                "wall_seconds",
                "error",
                "git_commit",
                "host",
                "pid",
                "config",
                "versions",
                "tags",
                "machine",
            ],
        )
        con.register("_runs_frame", frame)
        con.execute(
            "create view runs as select * replace (config::json as config, "
            "versions::json as versions, tags::json as tags, machine::json as machine) "
            "from _runs_frame"
        )
        done = [r for r in records if r.status == "done"]
        for view in ("metrics", "curves"):
            files = [(self._dir(r.key) / f"{view}-{r.attempt}.parquet").as_posix() for r in done]
            if files:
                listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
                con.execute(
                    f"create view {view} as select * from "
                    f"read_parquet([{listed}], union_by_name = true)"
                )
            elif view == "metrics":
                con.execute(
                    "create view metrics as select ''::varchar as key, ''::varchar as "
                    "attempt, ''::varchar as name, 0.0::double as value, "
                    "null::boolean as higher_is_better, ''::varchar as forgives limit 0"
                )
            else:
                con.execute(
                    "create view curves as select ''::varchar as key, "
                    "''::varchar as attempt limit 0"
                )
        return con

    def table(self, experiment: str | None = None, status: str | None = None) -> pd.DataFrame:
        """One row per run: key, experiment, status, seed, wall time, and its final metrics."""
        for tries_left in range(4, -1, -1):
            con = self.connect()
            try:
                runs = con.sql(
                    "select key, attempt, experiment, status, wall_seconds, finished_at, "
                    "config, error from runs"
                ).df()
                metrics = con.sql("select key, name, value from metrics").df()
                break
            except duckdb.IOException:  # a file replaced by a concurrent re-run: list again
                if not tries_left:
                    raise
        if experiment:
            runs = runs[runs["experiment"] == experiment]
        if status:
            runs = runs[runs["status"] == status]
        if not metrics.empty:
            wide = metrics.pivot_table(
                index="key", columns="name", values="value", aggfunc="first"
            ).reset_index()
            runs = runs.merge(wide, on="key", how="left", suffixes=("", "_metric"))
        return runs.reset_index(drop=True)
