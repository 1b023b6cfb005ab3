"""The causal-plr experiment: config validation, determinism, curves, figures and its claims."""

import numpy as np
import pytest

from identifiable import claims, experiments
from identifiable.experiments import causal_plr
from identifiable.experiments.causal_plr import CLAIMS, Config, run

SMALL = {
    "n_samples": (300, 600),
    "n_treatments": (1, 2),
    "n_seeds": 2,
    "n_covariates": 3,
    "estimators": ("ica", "ols", "homl"),
    "ica_n_bootstrap": 10,
}


def test_registered_under_causal_plr():
    module = experiments.get("causal-plr")
    assert module is causal_plr and module.SUMMARY
    assert {c.name for c in experiments.all_claims()} >= {c.name for c in CLAIMS}


def test_run_returns_one_row_per_fit_and_summary_metrics():
    calls = []
    result = run(Config(**SMALL), progress=lambda done, total, **f: calls.append((done, total)))
    assert len(result.curves) == 2 * 2 * 2 * 3
    assert calls[-1] == (24, 24)
    assert set(result.curves.columns) >= {
        "n_samples",
        "n_treatments",
        "seed",
        "estimator",
        "rel_error",
        "coverage",
        "ms_per_fit",
        "converged",
    }
    for name in ("ica", "ols", "homl"):
        for metric in ("rel_error", "rel_error_median", "coverage", "ms_per_fit", "slope"):
            assert np.isfinite(result.metrics[f"{name}_{metric}"]), (name, metric)


def test_same_config_gives_identical_numbers():
    a = run(Config(**SMALL)).curves.drop(columns="ms_per_fit")
    b = run(Config(**SMALL)).curves.drop(columns="ms_per_fit")
    assert a.equals(b)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"n_treatments": (0,)}, "n_treatments must be >= 1"),
        ({"n_samples": (10,)}, "must exceed d \\+ k \\+ 1"),
        ({"estimators": ("ica", "lasso")}, "estimators must be among"),
        ({"n_seeds": 0}, "n_seeds must be >= 1"),
        ({"treatment_noise": "cauchy"}, "distribution must be one of"),
        ({"ica_n_bootstrap": 1}, "ica_n_bootstrap must be 0 or >= 2"),
    ],
)
def test_config_rejects_bad_values_with_one_line_errors(overrides, message):
    with pytest.raises(ValueError, match=message):
        Config(**overrides)


def test_figures_are_written(tmp_path):
    result = run(Config(**SMALL))
    paths = causal_plr.figures(result.curves, tmp_path)
    assert [p.name for p in paths] == ["causal_plr_error_vs_n.png", "causal_plr_ica_heatmap.png"]
    assert all(p.stat().st_size > 1000 for p in paths)


@pytest.mark.parametrize("claim", [c for c in CLAIMS if c.fast], ids=lambda c: c.name)
def test_fast_claims_hold(claim):
    result = experiments.get("causal-plr").run(Config(**claim.overrides))
    verdict = claims.judge(claim, result.metrics)
    assert verdict.passed, verdict.failures


class _RandomGuess:
    """A broken estimator: θ̂ ~ N(0, 1), no inference."""

    def __init__(self, seed):
        self.seed = seed

    def fit(self, X, T, Y):
        self.coef_ = np.random.default_rng(self.seed).normal(size=T.shape[1])
        self.stderr_, self.converged_ = None, True
        return self


@pytest.mark.parametrize(
    "name", ["causal-plr/ica-root-n", "causal-plr/five-treatments-gaussian-confounders"]
)
def test_claims_reject_a_broken_estimator(monkeypatch, name):
    claim = next(c for c in CLAIMS if c.name == name)
    monkeypatch.setattr(causal_plr, "make_estimator", lambda n, cfg, seed: _RandomGuess(seed))
    verdict = claims.judge(claim, run(Config(**claim.overrides)).metrics)
    assert not verdict.passed
