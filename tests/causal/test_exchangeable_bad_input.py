"""Bad input to the exchangeable-causal experiment and its Causal-de-Finetti test: a one-line
error that says what to change; on the CLI exit code 2 and nothing stored."""

import sys

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from identifiable.causal.causal_de_finetti import CausalDeFinetti
from identifiable.cli import app
from identifiable.experiments.exchangeable_causal import Config, run
from identifiable.worlds.exchangeable import BivariateExchangeableWorld

RNG = np.random.default_rng(0)
GOOD = RNG.laplace(size=(20, 2))
NAN, INF, CONSTANT = GOOD.copy(), GOOD.copy(), GOOD.copy()
NAN[3, 1], INF[0, 0], CONSTANT[:, 1] = np.nan, -np.inf, 1.5


@pytest.mark.parametrize("x, y, message", [
    (GOOD[:, :1], GOOD[:, :1], "need at least 2 samples per environment"),   # (E, 1)
    (GOOD[:, 0], GOOD[:, 1], "need at least 2 samples per environment"),     # 1-D
    (GOOD, GOOD[:, 0], "need at least 2 samples per environment.*got 2 and 1"),
    (GOOD[:3], GOOD[:3], "need at least 4 environments"),
    (GOOD.T, GOOD.T, r"need at least 4 environments \(rows\), got 2; one row per environment"),
    (NAN, GOOD, "x contains 1 NaN/inf values"),
    (GOOD, INF, "y contains 1 NaN/inf values"),
    (torch.tensor(NAN), GOOD, "x contains 1 NaN/inf values"),
    (GOOD, CONSTANT, r"y\[:, 1\] is constant over the environments"),
    (np.ones((20, 2)), np.ones((20, 2)), r"x\[:, 0\] is constant")])  # fmt: skip
def test_the_cdf_test_refuses_bad_data_in_one_line(x, y, message):
    with pytest.raises(ValueError, match=message) as error:
        CausalDeFinetti().fit(x, y)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_environments": 2}, "n_environments must be an int >= 4, got 2"),
    ({"samples": 1}, "samples must be an int >= 2, got 1"),
    ({"variability": "foo"}, "variability must be one of both, cause, mechanism, none, got"),
])  # fmt: skip
def test_the_world_refuses_bad_settings_in_one_line(kwargs, message):
    with pytest.raises(ValueError, match=message) as error:
        BivariateExchangeableWorld(**kwargs)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("setting, message", [
    ("environments=2", "environments must be one or more ints >= 4, got (2,)"),
    ("environments=100,2", "environments must be one or more ints >= 4, got (100, 2)"),
    ("environments=many", "environments must be an integer, got 'many'"),
    ("variability=foo", "variability must be some of both, cause, mechanism, none, got ['foo']"),
    ("variability=both,foo", "variability must be some of both, cause, mechanism, none"),
    ("methods=cdf,notears", "methods must be some of cdf, cdf_strict, direct_lingam"),
    ("alpha=2", "alpha must be in (0, 1), got 2.0"),
    ("repetitions=0", "repetitions must be >= 1, got 0")])  # fmt: skip
def test_the_cli_refuses_bad_settings(refuses, setting, message):
    result = refuses("exchangeable-causal", [setting])
    assert message in result.output and result.output.strip().count("\n") == 0


TINY = ["environments=8", "variability=both", "seeds=1", "repetitions=1"]


@pytest.fixture
def no_lingam(monkeypatch):
    pytest.importorskip("causallearn", reason="needs the causal-discovery extra (causal-learn)")
    monkeypatch.setitem(sys.modules, "lingam", None)  # import lingam now raises ImportError


def test_a_missing_lingam_fails_before_any_work_naming_its_extra(no_lingam):
    with pytest.raises(ValueError, match=r"pip install 'identifiable\[lingam\]'") as error:
        run(Config(environments=(8,), variability=("both",), seeds=1, repetitions=1))
    assert "\n" not in str(error.value) and "drop it from methods" in str(error.value)
    methods = ("cdf", "fci", "ges", "random")  # without direct_lingam it runs
    assert len(run(Config(environments=(8,), variability=("both",), seeds=1, repetitions=1,
                          methods=methods)).curves) == len(methods)  # fmt: skip


def test_the_cli_refuses_a_missing_lingam_and_stores_nothing(no_lingam, tmp_path):
    store = tmp_path / "runs"
    args = ["run", "exchangeable-causal", "--store", str(store)]
    for setting in TINY:
        args += ["--set", setting]
    result = CliRunner().invoke(app, args)
    assert "pip install 'identifiable[lingam]'" in result.output, result.output
    assert result.exit_code == 2 and result.output.strip().count("\n") == 0, result.output
    assert not store.exists() or not any(store.glob("*/run.json"))
