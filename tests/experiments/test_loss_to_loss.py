"""Fast checks of the loss-to-loss experiment: the model table, the read-outs on tables whose
answer is known (two data curves, one architecture curve — and the reverse), seeding, the figure,
the sweep report's pooled curves, bad input through the CLI. The claims run with ``-m slow``."""

import numpy as np
import pandas as pd
import pytest

from identifiable import claims
from identifiable.config import build_config
from identifiable.experiments.loss_to_loss import CLAIMS, Config, figures, run, summarise

TINY = dict(widths=(2, 4), steps=(2, 6, 12), vocab=8, length=8, n_train=64, batch_size=8,
            bootstrap=20, device="cpu")  # fmt: skip


@pytest.fixture(scope="module")
def tiny():
    return run(Config(**TINY))


def test_one_row_per_model_with_its_size_and_tokens(tiny):
    table = tiny.curves
    assert len(table) == 2 * 2 * 2 * 3 and tiny.metrics["models"] == 24
    assert (table["tokens"] == table["steps"] * 8 * 8).all()
    small = table[(table.architecture == "lstm") & (table.width == 2)]["parameters"].iloc[0]
    big = table[(table.architecture == "lstm") & (table.width == 4)]["parameters"].iloc[0]
    assert 0 < small < big
    assert (table[["loss_x", "loss_y"]] > 0).all().all()
    assert {"floor_a", "floor_b", "floor_x", "floor_y"} <= set(tiny.metrics)
    assert run(Config(**TINY)).metrics == pytest.approx(tiny.metrics, nan_ok=True)  # seeded


def models(gap_data: float, gap_architecture: float, noise: float = 0.005) -> pd.DataFrame:
    """Synthetic models on L_y = 0.9 (L_x − 2)^1.2 + 2 + shift, shift = data gap for source b
    and architecture gap for the LSTM."""
    rng = np.random.default_rng(0)
    rows = []
    for source in ("a", "b"):
        for architecture in ("transformer", "lstm"):
            for width in (4, 8, 16):
                for steps in (10, 40, 120, 360):
                    x = 2.2 + 4 / np.sqrt(width * steps) + rng.normal(0, noise)
                    shift = (source == "b") * gap_data + (architecture == "lstm") * gap_architecture
                    y = 0.9 * (x - 2) ** 1.2 + 2 + shift + rng.normal(0, noise)
                    rows.append({"source": source, "architecture": architecture,
                                 "parameters": 100 * width, "tokens": 256 * steps,
                                 "loss_x": x, "loss_y": y})  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def data_curves():
    return summarise(models(gap_data=0.3, gap_architecture=0.0), bootstrap=60)


@pytest.fixture(scope="module")
def architecture_curves():
    return summarise(models(gap_data=0.0, gap_architecture=0.3), bootstrap=60)


def test_read_outs_when_data_sets_the_curve(data_curves):
    m = data_curves
    # ≈ −0.3: the compute-to-loss law does not describe these x's exactly, so E and the curves'
    # shapes differ a little between the groups
    assert m["data_gap"] == pytest.approx(-0.3, abs=0.1) and m["data_gap_ci_high"] < 0
    assert m["data_gap_separation"] == -m["data_gap_ci_high"]
    assert m["architecture_gap_a_ci_low"] < 0 < m["architecture_gap_a_ci_high"]
    assert m["architecture_to_data"] < 0.1


def test_read_outs_when_architecture_sets_the_curve(architecture_curves):
    m = architecture_curves
    assert m["data_gap_ci_low"] < 0 < m["data_gap_ci_high"] and m["data_gap_separation"] == 0
    assert m["architecture_gap_a"] == pytest.approx(-0.3, abs=0.1)
    assert m["architecture_gap_b_ci_high"] < 0 and m["architecture_to_data"] > 1


def test_claims_judge_the_synthetic_tables_right(data_curves, architecture_curves):
    by_name = {c.name: c for c in CLAIMS}
    data = data_curves
    arch = architecture_curves
    assert claims.judge(by_name["loss-to-loss/data-sets-the-curve"], data).passed
    assert claims.judge(by_name["loss-to-loss/architecture-matters-little"], data).passed
    assert not claims.judge(by_name["loss-to-loss/data-sets-the-curve"], arch).passed
    assert not claims.judge(by_name["loss-to-loss/architecture-matters-little"], arch).passed


def test_figure(tiny, tmp_path):
    paths = figures(tiny.curves, tmp_path)
    assert [p.name for p in paths] == ["loss_to_loss.png"] and paths[0].stat().st_size > 0


def test_sweep_report_pools_the_models_of_every_run(tmp_path):
    from identifiable.report.sweep import write_sweep_report
    from identifiable.store import Store
    from identifiable.sweep import SweepSpec, run_sweep

    store = Store(tmp_path / "runs")
    base = {k: v for k, v in TINY.items() if k != "widths"}
    base |= {"pretraining": ("a",), "architectures": ("lstm",)}
    spec = SweepSpec("loss-to-loss", base=base, grid={"widths": [(2,), (4,)]}, name="l2l")
    assert run_sweep(spec, store, backend="inline").ok
    write_sweep_report(store, "l2l", tmp_path / "reports")
    assert (tmp_path / "reports" / "l2l-loss_to_loss.png").stat().st_size > 0
    assert "l2l-loss_to_loss.png" in (tmp_path / "reports" / "l2l.md").read_text()


@pytest.mark.parametrize(
    "settings",
    [["pretraining=a,c"], ["architectures=gru"], ["widths=3"], ["widths=0"], ["steps=0"],
     ["mix=2"], ["lr=0"], ["bootstrap=-1"], ["colour=red"]],
)  # fmt: skip
def test_cli_refuses_bad_input_with_exit_2_and_stores_nothing(refuses, settings):
    refuses("loss-to-loss", settings)


@pytest.mark.slow
@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.name)
def test_registered_claims_hold(claim):
    verdict = claims.judge(claim, run(build_config(Config, claim.overrides)).metrics)
    assert verdict.passed, verdict.failures


def test_the_claims_fail_for_untrained_models():
    """The claims' grid with one step per model: every model is near uniform, no claim holds."""
    metrics = run(build_config(Config, {"steps": (1,), "bootstrap": 20, "device": "cpu"})).metrics
    for claim in CLAIMS:
        assert not claims.judge(claim, metrics).passed, claim.name
