"""The result store: one folder of small files per run, queried with DuckDB. No server.

Layout under the store root (default ``./runs``; ``--store PATH`` or ``IDENTIFIABLE_STORE``)::

    runs/<key>/run.json                    config + metadata + status (replaced atomically)
    runs/<key>/metrics-<attempt>.parquet   final metrics (name, value, higher_is_better, forgives)
    runs/<key>/curves-<attempt>.parquet    the run's curves (e.g. step, loss, linear_r2)

``key`` = sha256(experiment, resolved config incl. seed)[:16], so the same config always lands on
the same key. Every file is written to a temporary name and renamed into place, and a run's
``run.json`` says ``done`` only *after* its Parquet files exist: a crash leaves at worst a
``running`` record (shown as ``interrupted`` once its process is gone), never a finished one
without results. Many processes can write at once (no DuckDB writer lock is ever taken: DuckDB only
reads the files). A re-run of a finished key is skipped unless forced; a forced re-run keeps the
old finished record visible until the new one is complete.

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
import json
import os
import platform
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

__all__ = ["RunRecord", "Store", "default_root", "run_key"]

STATUSES = ("running", "done", "failed", "interrupted")


def default_root() -> Path:
    return Path(os.environ.get("IDENTIFIABLE_STORE", "runs"))


def run_key(experiment: str, config: dict[str, Any]) -> str:
    """Stable hash of (experiment, resolved config); the seed is part of the config."""
    blob = json.dumps({"experiment": experiment, "config": config}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write to a temporary file and rename it into place; ``durable`` also fsyncs (survives a
    machine crash, not only a process crash)."""
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
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class RunRecord:
    """The contents of one ``run.json``."""

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

    def get(self, key: str) -> RunRecord | None:
        path = self._dir(key) / "run.json"
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except json.JSONDecodeError as error:  # never produced by our atomic writes
            raise ValueError(f"corrupt run record {path}: {error}") from None
        known = {f.name for f in dataclasses.fields(RunRecord)}
        return RunRecord(**{k: v for k, v in data.items() if k in known})

    def records(self) -> list[RunRecord]:
        if not self.root.is_dir():
            return []
        found = [self.get(p.parent.name) for p in sorted(self.root.glob("*/run.json"))]
        return [r for r in found if r is not None]

    def is_done(self, key: str) -> bool:
        record = self.get(key)
        return record is not None and record.status == "done"

    def metrics(self, key: str) -> dict[str, float]:
        record = self.get(key)
        if record is None or record.status != "done":
            raise KeyError(f"run {key} has no finished results")
        frame = pd.read_parquet(self._dir(key) / f"metrics-{record.attempt}.parquet")
        return dict(zip(frame["name"], frame["value"].astype(float), strict=True))

    def curves(self, key: str) -> pd.DataFrame:
        record = self.get(key)
        if record is None or record.status != "done":
            raise KeyError(f"run {key} has no finished results")
        return pd.read_parquet(self._dir(key) / f"curves-{record.attempt}.parquet")

    # -- writing -----------------------------------------------------------------------------
    def _write_record(self, record: RunRecord) -> None:
        directory = self._dir(record.key)
        directory.mkdir(parents=True, exist_ok=True)
        fields = {k: v for k, v in record.__dict__.items() if not k.startswith("_")}
        data = json.dumps(fields, indent=1, sort_keys=True, default=str).encode()
        # the transient "running" record needs no fsync; the final one does
        _atomic_write_bytes(directory / "run.json", data, durable=record.status != "running")

    def start(
        self, experiment: str, config: dict[str, Any], *, tags: dict[str, Any] | None = None
    ) -> RunRecord:
        """Begin an attempt. The ``running`` record is written only when no finished one exists."""
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
        )
        record._t0 = time.perf_counter()  # type: ignore[attr-defined]
        if not self.is_done(key):
            self._write_record(record)
        return record

    def finish(
        self,
        record: RunRecord,
        metrics: dict[str, float],
        curves: pd.DataFrame,
        metric_info: Callable[[str], Any] | None = None,
    ) -> None:
        """Write results, then flip the record to ``done`` (the commit point)."""
        directory = self._dir(record.key)
        directory.mkdir(parents=True, exist_ok=True)
        rows = []
        for name, value in metrics.items():
            meta = metric_info(name) if metric_info else None
            rows.append(
                {
                    "key": record.key,
                    "attempt": record.attempt,
                    "name": name,
                    "value": float(value),
                    "higher_is_better": None if meta is None else bool(meta.higher_is_better),
                    "forgives": None if meta is None else meta.forgives,
                }
            )
        frame = pd.DataFrame(
            rows, columns=["key", "attempt", "name", "value", "higher_is_better", "forgives"]
        )
        _atomic_write_parquet(directory / f"metrics-{record.attempt}.parquet", frame)
        curves = curves.copy()
        curves.insert(0, "attempt", record.attempt)
        curves.insert(0, "key", record.key)
        _atomic_write_parquet(directory / f"curves-{record.attempt}.parquet", curves)
        record.status = "done"
        record.finished_at = _now()
        record.wall_seconds = time.perf_counter() - getattr(record, "_t0", time.perf_counter())
        record.error = None
        self._write_record(record)
        for old in directory.glob("*-*.parquet"):  # results of superseded attempts
            if record.attempt not in old.name:
                with contextlib.suppress(FileNotFoundError):
                    old.unlink()

    def fail(self, record: RunRecord, error: str, *, interrupted: bool = False) -> None:
        """Record a failed/interrupted attempt, unless a finished record is already there."""
        if self.is_done(record.key):
            return
        record.status = "interrupted" if interrupted else "failed"
        record.finished_at = _now()
        record.wall_seconds = time.perf_counter() - getattr(record, "_t0", time.perf_counter())
        record.error = error
        self._write_record(record)

    # -- querying ----------------------------------------------------------------------------
    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with views ``runs``, ``metrics``, ``curves``.

        ``runs`` has one row per run (``config`` is JSON: ``config->>'kappa'``); ``metrics`` and
        ``curves`` hold the rows of the finished attempt of each done run only.
        """
        con = duckdb.connect()
        root = self.root.as_posix().replace("'", "''")
        records = [dataclasses.asdict(r) | {"status": r.effective_status()} for r in self.records()]
        frame = pd.DataFrame(
            [
                {
                    **{k: v for k, v in r.items() if k not in ("config", "versions", "tags")},
                    "config": json.dumps(r["config"], sort_keys=True),
                    "versions": json.dumps(r["versions"]),
                    "tags": json.dumps(r["tags"]),
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
            ],
        )
        con.register("_runs_frame", frame)
        con.execute(
            "create view runs as select * replace (config::json as config, "
            "versions::json as versions, tags::json as tags) from _runs_frame"
        )
        done = "(select key, attempt from runs where status = 'done')"
        for view in ("metrics", "curves"):
            files = list(self.root.glob(f"*/{view}-*.parquet")) if self.root.is_dir() else []
            if files:
                con.execute(
                    f"create view {view} as select t.* from "
                    f"read_parquet('{root}/*/{view}-*.parquet', union_by_name = true) t "
                    f"semi join {done} d "
                    f"on t.key = d.key and t.attempt = d.attempt"
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
        con = self.connect()
        runs = con.sql(
            "select key, attempt, experiment, status, wall_seconds, finished_at, "
            "config, error from runs"
        ).df()
        if experiment:
            runs = runs[runs["experiment"] == experiment]
        if status:
            runs = runs[runs["status"] == status]
        metrics = con.sql("select key, name, value from metrics").df()
        if not metrics.empty:
            wide = metrics.pivot_table(
                index="key", columns="name", values="value", aggfunc="first"
            ).reset_index()
            runs = runs.merge(wide, on="key", how="left", suffixes=("", "_metric"))
        return runs.reset_index(drop=True)
