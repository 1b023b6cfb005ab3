"""Adding an experiment edits no existing file: a plug-in module, registered only through the
``identifiable.experiments`` entry-point group of an installed distribution, shows up in
``list``, ``show``, ``run``, ``reproduce`` and ``runs``."""

import textwrap

import pytest
from typer.testing import CliRunner

from identifiable import experiments
from identifiable.cli import app

PLUGIN = '''
"""A plug-in experiment: the mean of n draws of N(mu, 1)."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from identifiable.claims import Claim, Expectation
from identifiable.experiments import Result
from identifiable.metrics import declare
from identifiable.progress import no_progress

SUMMARY = "plug-in: the sample mean estimates mu"
declare("abs_error", higher_is_better=False, bounds=(0.0, None), description="|mean - mu|")


@dataclass(frozen=True)
class Config:
    """Config of the plug-in.

    mu:       the true mean.
    n:        number of draws.
    seed:     seeds the draws.
    """

    mu: float = 2.0
    n: int = 1000
    seed: int = 0


def run(cfg: Config, *, progress=no_progress) -> Result:
    draws = np.random.default_rng(cfg.seed).normal(cfg.mu, 1.0, cfg.n)
    progress(1, 1, mean=float(draws.mean()))
    return Result(
        metrics={"abs_error": abs(float(draws.mean()) - cfg.mu)},
        curves=pd.DataFrame({"step": [1], "mean": [float(draws.mean())]}),
    )


CLAIMS = [
    Claim(
        name="plugin-mean/consistent",
        statement="the sample mean of 1000 draws is within 0.2 of mu",
        paper="a textbook",
        expect=(Expectation("abs_error", "<=", 0.2),),
    )
]
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    (tmp_path / "plugin_mean.py").write_text(PLUGIN)
    info = tmp_path / "identifiable_plugin_mean-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: identifiable-plugin-mean\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text(
        textwrap.dedent(
            """\
            [identifiable.experiments]
            plugin-mean = plugin_mean
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    experiments.refresh()
    yield tmp_path / "runs"
    experiments.refresh()


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_a_plugin_experiment_needs_no_edit_to_any_existing_file(plugin):
    assert "plugin-mean" in experiments.names()
    listed = invoke("list")
    assert listed.exit_code == 0 and "plugin-mean" in listed.output

    shown = invoke("show", "plugin-mean")
    assert shown.exit_code == 0
    assert "mu" in shown.output and "the true mean" in shown.output and "float" in shown.output

    ran = invoke("run", "plugin-mean", "--set", "n=400", "--store", plugin)
    assert ran.exit_code == 0, ran.output
    assert "abs_error" in ran.output

    verdicts = invoke("reproduce", "plugin-mean", "--store", plugin)
    assert verdicts.exit_code == 0, verdicts.output
    assert "plugin-mean/consistent" in verdicts.output and "PASS" in verdicts.output
    claim = experiments.claims("plugin-mean")[0]
    assert claim.experiment == "plugin-mean"  # filled in from the module

    listing = invoke("runs", "--store", plugin)
    assert listing.exit_code == 0 and listing.output.count("plugin-mean") == 2
    assert "abs_error=" in listing.output  # its headline: the metric its claim checks


def test_without_the_plugin_it_is_unknown():
    experiments.refresh()
    assert "plugin-mean" not in experiments.names()
    result = invoke("show", "plugin-mean")
    assert result.exit_code == 2 and "unknown experiment" in result.output
