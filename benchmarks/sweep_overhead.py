"""Overhead of the sweep machinery and parallel speed-up (prints figures; no asserts).

1. Per-run overhead on N trivial runs (linear-ica, 50 samples, 2 sources: ~2 ms of work):
   sweep wall time / N minus the time of calling the experiment directly, for the inline backend
   (expand + hash + skip-check + atomic store writes only), the local backend (+ one forked worker
   process per run) and Ray (+ task scheduling; the driver writes the store). Also the time to
   re-run the finished sweep (every run skipped).
2. Speed-up of 2 workers over 1 on a CPU-bound sweep (contrastive, 1 torch thread per run).

    python benchmarks/sweep_overhead.py            # N = 1000 (≈ 3 min on 2 cores)
    python benchmarks/sweep_overhead.py --quick    # N = 50, smaller CPU-bound sweep
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from identifiable import experiments
from identifiable.config import build_config
from identifiable.run import run_experiment
from identifiable.store import Store
from identifiable.sweep import SweepSpec, run_sweep

TRIVIAL = {"n_samples": "50", "n_sources": "2", "max_iter": "50"}


def direct_seconds(n: int) -> float:
    config_cls = experiments.get("linear-ica").Config
    start = time.perf_counter()
    for seed in range(n):
        run_experiment("linear-ica", build_config(config_cls, TRIVIAL, seed=seed))
    return (time.perf_counter() - start) / n


def sweep_seconds(n: int, backend: str, workers: int) -> tuple[float, float]:
    root = Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    try:
        spec = SweepSpec("linear-ica", base=TRIVIAL, seeds=tuple(range(n)), name="bench")
        summary = run_sweep(spec, Store(root), backend=backend, workers=workers)
        assert summary.done == n, summary
        start = time.perf_counter()
        again = run_sweep(spec, Store(root), backend=backend, workers=workers)
        assert again.skipped == n
        return summary.seconds / n, (time.perf_counter() - start) / n
    finally:
        shutil.rmtree(root, ignore_errors=True)


def speedup(n_runs: int, steps: int) -> tuple[float, float]:
    base = {"steps": str(steps), "eval_every": str(steps), "eval_size": "2000"}
    times = []
    for workers in (1, 2):
        root = Path(tempfile.mkdtemp(prefix="sweep-speed-"))
        try:
            spec = SweepSpec("contrastive", base=base, seeds=tuple(range(n_runs)), name="speed")
            summary = run_sweep(spec, Store(root), workers=workers, threads=1)
            assert summary.done == n_runs, summary
            times.append(summary.seconds)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    n = 50 if args.quick else 1000

    work = direct_seconds(min(n, 200))
    print(f"1) {n} trivial runs; the experiment itself takes {work * 1e3:.1f} ms per run")
    print(f"   {'backend':<16} {'s/run':>8} {'overhead ms/run':>16} {'skip ms/run':>12}")
    backends = [("inline", 1), ("local", 1), ("local", 2)]
    if not args.no_ray:
        try:
            import ray  # noqa: F401

            backends.append(("ray", 2))
        except ImportError:
            print("   (ray not installed: pip install 'identifiable[ray]')")
    for backend, workers in backends:
        per_run, skip = sweep_seconds(n, backend, workers)
        label = f"{backend} x{workers}"
        print(f"   {label:<16} {per_run:>8.4f} {(per_run - work) * 1e3:>16.1f} {skip * 1e3:>12.2f}")
    if any(b == "ray" for b, _ in backends):
        import ray

        ray.shutdown()

    n_runs, steps = (4, 300) if args.quick else (8, 1500)
    one, two = speedup(n_runs, steps)
    print(
        f"\n2) {n_runs} contrastive runs x {steps} steps, 1 torch thread each: "
        f"1 worker {one:.1f} s, 2 workers {two:.1f} s -> speed-up {one / two:.2f}x"
    )


if __name__ == "__main__":
    main()
