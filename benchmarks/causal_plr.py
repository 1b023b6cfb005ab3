"""Accuracy and speed of treatment-effect estimators in partially linear regression worlds.

Prints one table from one run: setting × estimator → relative error ‖θ̂ − θ‖/‖θ‖ (mean, median),
confidence-interval coverage and milliseconds per fit; then ICA fit time over n × d.

    OMP_NUM_THREADS=1 python benchmarks/causal_plr.py           # full run (~3 min on 2 cores)
    OMP_NUM_THREADS=1 python benchmarks/causal_plr.py --quick   # smoke test (seconds)

Settings (issue #4, §4): Laplace sources with linear nuisance (n = 5000, d = 10, k = 1); Gaussian
confounders with leaky-ReLU(0.2) nuisance (n = 2000, d = 5, k = 2); strong ReLU confounding; the
Mackey et al. (2018) demand design with a growing sparse support s (d = 50, discrete η).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from identifiable.causal import (
    DoubleMLTreatmentEffect,
    ICATreatmentEffect,
    OLSTreatmentEffect,
    SecondOrderOrthogonal,
)
from identifiable.worlds.base import seeded_generator
from identifiable.worlds.plr import PLRWorld

ESTIMATORS = {
    "ica": lambda seed: ICATreatmentEffect(inference=None, random_state=seed),
    "ica+sandwich": lambda seed: ICATreatmentEffect(random_state=seed),
    "ica+bootstrap": lambda seed: ICATreatmentEffect(
        inference="bootstrap", n_bootstrap=100, random_state=seed
    ),
    # FastICA on all of [X, T, Y] (the paper's formulation), ε-row and η-column readouts
    "ica_joint": lambda seed: ICATreatmentEffect(
        covariates="joint", inference=None, random_state=seed
    ),
    "ica_joint_eta": lambda seed: ICATreatmentEffect(
        covariates="joint", readout="treatment_noise", inference=None, random_state=seed
    ),
    "ols": lambda seed: OLSTreatmentEffect(),
    "dml_lasso": lambda seed: DoubleMLTreatmentEffect(learner="lasso", random_state=seed),
    "dml_forest": lambda seed: DoubleMLTreatmentEffect(learner="random_forest", random_state=seed),
    "dml_boosting": lambda seed: DoubleMLTreatmentEffect(
        learner="gradient_boosting", random_state=seed
    ),
    "homl": lambda seed: SecondOrderOrthogonal(random_state=seed),
}


def settings(quick: bool) -> list[tuple[str, PLRWorld, int, int, tuple[str, ...]]]:
    """(name, world, n, seeds, estimators) per setting."""
    seeds = 2 if quick else None
    linear = (
        "ica",
        "ica+sandwich",
        "ica+bootstrap",
        "ica_joint",
        "ica_joint_eta",
        "ols",
        "dml_lasso",
        "homl",
    )
    flexible = ("dml_boosting",) if quick else ("dml_boosting", "dml_forest")
    rows = [
        ("laplace, linear (n=5000, d=10, k=1)", PLRWorld(n_covariates=10), 5000, 20, linear),
        (
            "gauss. confounders, leaky-ReLU 0.2 (n=2000, d=5, k=2)",
            PLRWorld(
                n_covariates=5,
                n_treatments=2,
                covariate_beta=2.0,
                nonlinearity="leaky_relu",
                slope=0.2,
            ),
            2000,
            10,
            ("ica", "ica+sandwich", "ica+bootstrap", "ica_joint", "ols", "dml_lasso", *flexible),
        ),
        (
            "ReLU confounding (n=2000, d=5, k=1)",
            PLRWorld(n_covariates=5, nonlinearity="relu"),
            2000,
            10,
            ("ica", "ica_joint", "ols", "dml_lasso", "dml_boosting"),
        ),
        (
            "strong ReLU confounding, U(-5, 5) coefficients (n=2000, d=5, k=1)",
            PLRWorld(n_covariates=5, nonlinearity="relu", coefficient_distribution="uniform"),
            2000,
            10,
            ("ica", "ica_joint", "ols", "dml_lasso", "dml_boosting"),
        ),
    ]
    for support in (5, 20, 50):
        rows.append(
            (
                f"Mackey demand, s={support} (n=2000, d=50)",
                PLRWorld.mackey2018(support_size=support),
                2000,
                10,
                ("ica", "ica_joint", "ols", "dml_lasso", "homl"),
            )
        )
    if quick:
        rows = [
            (f"{name} [quick: n≤1000]", world, min(n, 1000), seeds, est)
            for name, world, n, _, est in rows
        ]
    return rows


def evaluate(world: PLRWorld, n: int, n_seeds: int, names: tuple[str, ...]) -> pd.DataFrame:
    records = []
    for seed in range(n_seeds):
        sample = world.with_seed(seed).sample(n, generator=seeded_generator(seed, n))
        for name in names:
            estimator = ESTIMATORS[name](seed)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                estimator.fit(sample.X, sample.T, sample.Y)
            elapsed = 1000 * (time.perf_counter() - start)
            theta = sample.theta
            covered = np.nan
            if estimator.stderr_ is not None:
                lower, upper = estimator.confint().T
                covered = np.mean((lower <= theta) & (theta <= upper))
            records.append(
                {
                    "estimator": name,
                    "rel_error": np.linalg.norm(estimator.coef_ - theta) / np.linalg.norm(theta),
                    "coverage": covered,
                    "ms_per_fit": elapsed,
                }
            )
    return pd.DataFrame(records)


def ica_scaling(quick: bool) -> pd.DataFrame:
    """Median ICA point-estimate fit time (ms) over n × d, k = 1, Laplace sources."""
    sizes = (1000, 5000) if quick else (1000, 5000, 20000)
    dims = (5, 20) if quick else (5, 20, 50)
    table = {}
    for d in dims:
        for n in sizes:
            times = []
            for seed in range(3):
                sample = (
                    PLRWorld(n_covariates=d)
                    .with_seed(seed)
                    .sample(n, generator=seeded_generator(seed))
                )
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ICATreatmentEffect(n_bootstrap=0, random_state=seed).fit(
                        sample.X, sample.T, sample.Y
                    )
                times.append(1000 * (time.perf_counter() - start))
            table.setdefault(f"d={d}", {})[f"n={n}"] = float(np.median(times))
    return pd.DataFrame(table)


def unseen_setting() -> PLRWorld:
    """The setting of issue 16 §3: k = 3, uniform treatment noise, Gaussian confounders,
    leaky-ReLU(0.2) nuisance, d = 8 (used at n = 4000)."""
    return PLRWorld(
        n_covariates=8,
        n_treatments=3,
        covariate_beta=2.0,
        treatment_noise="uniform",
        nonlinearity="leaky_relu",
        slope=0.2,
    )


def interval_timing(quick: bool, repeats: int = 7) -> pd.DataFrame:
    """ms per fit with intervals on, interleaved, median of ``repeats``; ratio to DoubleML-Lasso."""
    n = 1000 if quick else 4000
    sample = unseen_setting().with_seed(0).sample(n, generator=seeded_generator(0, n))
    names = ("ica", "ica+sandwich", "ica+bootstrap", "dml_lasso")
    times: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(3 if quick else repeats):
        for name in names:
            estimator = ESTIMATORS[name](repeat)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                estimator.fit(sample.X, sample.T, sample.Y)
            times[name].append(1000 * (time.perf_counter() - start))
    ms = {name: float(np.median(values)) for name, values in times.items()}
    return pd.DataFrame(
        {
            "ms_per_fit": ms,
            "time / dml_lasso": {name: value / ms["dml_lasso"] for name, value in ms.items()},
        }
    )


def interval_coverage(quick: bool, n_seeds: int) -> pd.DataFrame:
    """Coverage of 95 % intervals (sandwich vs bootstrap vs DoubleML-Lasso) over seeds, n = 4000,
    on the causal-plr claims' settings (each seed: a new world structure and sample)."""
    from identifiable.experiments.causal_plr import Config

    n = 1000 if quick else 4000
    seeds = 5 if quick else n_seeds
    laplace = Config(n_samples=(n,))
    gaussian = Config(n_samples=(n,), n_treatments=(5,), covariate_beta=2.0)
    cases = [
        ("Laplace, linear (d=10, k=1)", lambda seed: laplace.world(1, seed), 1),
        ("Gaussian confounders (d=10, k=5)", lambda seed: gaussian.world(5, seed), 5),
        (
            "issue-16 setting, leaky-ReLU nuisance (d=8, k=3; misspecified)",
            lambda seed: unseen_setting().with_seed(seed),
            3,
        ),
    ]
    rows = []
    for label, world_of, k in cases:
        covered: dict[str, list[float]] = {"ica+sandwich": [], "ica+bootstrap": [], "dml_lasso": []}
        for seed in range(seeds):
            sample = world_of(seed).sample(n, generator=seeded_generator(seed, n, k))
            for name, hits in covered.items():
                estimator = ESTIMATORS[name](seed)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    estimator.fit(sample.X, sample.T, sample.Y)
                lower, upper = estimator.confint().T
                hits.extend((lower <= sample.theta) & (sample.theta <= upper))
        rows.append(
            {
                "setting": label,
                "seeds": seeds,
                **{name: float(np.mean(hits)) for name, hits in covered.items()},
            }
        )
        print(f"… coverage: {label}", flush=True)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, n ≤ 1000: a smoke test")
    parser.add_argument(
        "--intervals",
        action="store_true",
        help="only the interval section: time ratio to DoubleML-Lasso and coverage",
    )
    parser.add_argument(
        "--coverage-seeds",
        type=int,
        default=200,
        help="seeds per setting of the coverage check (default 200)",
    )
    args = parser.parse_args()
    start = time.perf_counter()
    if args.intervals:
        print_intervals(args.quick, args.coverage_seeds)
        print(f"\ntotal {time.perf_counter() - start:.0f} s")
        return
    blocks = []
    for name, world, n, n_seeds, estimators in settings(args.quick):
        fits = evaluate(world, n, n_seeds, estimators)
        summary = fits.groupby("estimator", sort=False).agg(
            rel_error_mean=("rel_error", "mean"),
            rel_error_median=("rel_error", "median"),
            coverage=("coverage", "mean"),
            ms_per_fit=("ms_per_fit", "mean"),
        )
        summary.insert(0, "setting", name)
        blocks.append(summary.reset_index())
        print(f"… {name}: {time.perf_counter() - start:.0f} s", flush=True)
    table = pd.concat(blocks, ignore_index=True)[
        ["setting", "estimator", "rel_error_mean", "rel_error_median", "coverage", "ms_per_fit"]
    ]
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print("\nICA point-estimate fit time, ms (median of 3), k = 1:")
        print(ica_scaling(args.quick).to_string(float_format=lambda v: f"{v:.1f}"))
        print_intervals(args.quick, args.coverage_seeds)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


def print_intervals(quick: bool, coverage_seeds: int) -> None:
    fmt = {"float_format": lambda v: f"{v:.3f}"}
    with pd.option_context("display.width", 200, "display.max_colwidth", 70):
        print("\nIntervals on, issue-16 setting (n = 4000, d = 8, k = 3), median of 7 interleaved:")
        print(interval_timing(quick).to_string(**fmt))
        print("\nCoverage of 95 % intervals, n = 4000:")
        print(interval_coverage(quick, coverage_seeds).to_string(index=False, **fmt))


if __name__ == "__main__":
    main()
