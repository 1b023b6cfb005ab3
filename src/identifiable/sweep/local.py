"""The local backends of :func:`identifiable.sweep.run_sweep`: a forked process per run; inline.

``run_local`` forks one worker per run, at most ``workers`` at once; each worker sets its torch
threads and calls :func:`identifiable.run.execute`, which writes the run's record itself. The
driver only watches: a worker that exits without a record (a segfault, an OOM kill, Ctrl-C before
it started) is reported through ``finished(run, status, error)`` with the reason the driver saw,
and :mod:`identifiable.sweep` records it. Workers die with the driver (``PR_SET_PDEATHSIG`` on
Linux), so a killed sweep leaves no orphans. Ctrl-C reaches the workers, which record
``interrupted``; the driver waits up to 5 s for them, then kills what is left. The driver answers
SIGINT even when it was started with SIGINT ignored (a background job of a script, whose shell
sets SIG_IGN): the workers always do, and a driver that ignored it would go on starting runs
after its workers had stopped.

``run_inline`` runs the same runs one after another in this process (debugging, benchmarks).
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import os
import signal
import time
from collections.abc import Callable
from typing import Any

from identifiable.run import INTERRUPTED, execute
from identifiable.store import Store

__all__ = ["run_inline", "run_local"]

# started(run) and finished(run, status, error), from identifiable.sweep; a run is a RunSpec
Started = Callable[[Any], None]
Finished = Callable[[Any, str, str], None]

GRACE_SECONDS = 5.0  # how long interrupted workers get to record themselves before a kill


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

        torch.set_num_threads(threads)
        execute(experiment, config, Store(root), force=force)
    except KeyboardInterrupt:
        os._exit(130)
    except BaseException:
        os._exit(1)
    os._exit(0)


def _exit_reason(code: int | None) -> tuple[str, str]:
    """(status, error) of a worker that ended with exit ``code`` without recording anything."""
    if code == 130 or code == -signal.SIGINT:
        return "interrupted", INTERRUPTED
    if code is not None and code < 0:
        return "failed", f"worker died with signal {signal.Signals(-code).name}"
    return "failed", f"worker exited with code {code}"


def run_inline(
    experiment: str,
    store: Store,
    todo: list,
    *,
    force: bool,
    started: Started,
    finished: Finished,
) -> None:
    """Run ``todo`` (RunSpecs) one after another in this process."""
    for run in todo:
        started(run)
        try:
            execute(run.experiment or experiment, run.config, store, force=force)
        except KeyboardInterrupt:
            finished(run, "interrupted", INTERRUPTED)
            raise
        except Exception as error:  # recorded by execute
            finished(run, "failed", f"{type(error).__name__}: {error}")
            continue
        finished(run, "failed", "the run returned without a record")


def run_local(
    experiment: str,
    store: Store,
    todo: list,
    *,
    workers: int,
    threads: int,
    force: bool,
    started: Started,
    finished: Finished,
) -> None:
    """Run ``todo`` (RunSpecs) in forked workers, at most ``workers`` at once."""
    import torch  # noqa: F401  (imported once here, so forked workers start in milliseconds)

    with _answering_sigint():
        _drive(experiment, store, list(todo), workers, threads, force, started, finished)


@contextlib.contextmanager
def _answering_sigint():
    """SIGINT raises KeyboardInterrupt inside the block, also where it was ignored on entry
    (restored after); nothing changes outside the main thread, where handlers cannot be set."""
    import threading

    previous = signal.getsignal(signal.SIGINT)
    change = previous == signal.SIG_IGN and threading.current_thread() is threading.main_thread()
    if change:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if change:
            signal.signal(signal.SIGINT, previous)


def _drive(experiment, store, queue, workers, threads, force, started, finished) -> None:
    """The driver loop of :func:`run_local`."""
    import multiprocessing
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("fork")
    active: dict[int, tuple[Any, Any]] = {}
    sigint = {signal.SIGINT}
    try:
        while queue or active:
            # Ctrl-C is only let in while waiting, so no worker is ever started untracked
            signal.pthread_sigmask(signal.SIG_BLOCK, sigint)
            while queue and len(active) < workers:
                run = queue.pop(0)
                process = context.Process(
                    target=_child,
                    args=(
                        run.experiment or experiment,
                        run.config,
                        str(store.root),
                        force,
                        threads,
                    ),
                    daemon=False,
                )
                process.start()
                active[process.sentinel] = (process, run)
                started(run)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, sigint)
            ready = wait(list(active), timeout=1.0)
            signal.pthread_sigmask(signal.SIG_BLOCK, sigint)
            for sentinel in ready:
                process, run = active.pop(sentinel)
                process.join()
                finished(run, *_exit_reason(process.exitcode))
    except KeyboardInterrupt:
        signal.pthread_sigmask(signal.SIG_BLOCK, sigint)
        for process, _ in active.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGINT)
        deadline = time.time() + GRACE_SECONDS
        for process, run in active.values():
            process.join(max(0.1, deadline - time.time()))
            if process.is_alive():
                process.kill()
                process.join()
            finished(run, "interrupted", INTERRUPTED)
        raise
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, sigint)
