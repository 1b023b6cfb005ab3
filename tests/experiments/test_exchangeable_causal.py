"""Fast checks of the exchangeable-causal experiment: a tiny run (every method, seeding), the
read-outs on tables whose answer is known, the figure, bad configs. Claims run with -m slow."""

import numpy as np
import pandas as pd
import pytest

from identifiable.experiments.exchangeable_causal import CLAIMS, Config, figures, run, summarise

pytest.importorskip("causallearn", reason="needs the causal-discovery extra (causal-learn)")
METHODS = ("cdf", "cdf_strict", "fci", "ges", "random")  # DirectLiNGAM needs the lingam extra
TINY = dict(environments=(40, 80), variability=("both", "none"), seeds=2, repetitions=3,
            methods=METHODS)  # fmt: skip


@pytest.fixture(scope="module")
def tiny():
    return run(Config(**TINY))


def test_every_method_mode_environment_and_seed_is_scored(tiny):
    table = tiny.curves
    assert len(table) == 2 * 2 * 2 * 5
    assert set(table["method"]) == set(METHODS)
    assert table["accuracy"].between(0, 1).all()
    assert (table[table.method == "cdf"]["accuracy"].to_numpy()
            >= table[table.method == "cdf_strict"]["accuracy"].to_numpy()).all()  # fmt: skip
    assert "both_e80_accuracy_gap_over_fci_ci_low" in tiny.metrics
    assert run(Config(**TINY)).metrics == pytest.approx(tiny.metrics, nan_ok=True)  # seeded


def test_summary_of_a_known_table():
    rows = []
    for seed, (cdf_100, cdf_500, lingam) in enumerate([(0.6, 0.9, 0.5), (0.7, 0.9, 0.4)]):
        for n_env, cdf in ((100, cdf_100), (500, cdf_500)):
            rows += [{"variability": "both", "environments": n_env, "seed": seed,
                      "method": "cdf", "accuracy": cdf},
                     {"variability": "both", "environments": n_env, "seed": seed,
                      "method": "direct_lingam", "accuracy": lingam}]  # fmt: skip
    metrics = summarise(pd.DataFrame(rows))
    assert metrics["both_cdf_e500_accuracy"] == pytest.approx(0.9)
    assert metrics["both_cdf_e100_accuracy"] == pytest.approx(0.65)
    assert metrics["both_e500_accuracy_gap_over_direct_lingam"] == pytest.approx(0.45)
    assert metrics["both_cdf_accuracy_rise"] == pytest.approx(0.25)
    assert (
        metrics["both_cdf_accuracy_rise_ci_low"] < 0.25 < metrics["both_cdf_accuracy_rise_ci_high"]
    )


def test_figure(tiny, tmp_path):
    paths = figures(tiny.curves, tmp_path)
    assert [p.name for p in paths] == ["exchangeable_causal.png"] and paths[0].stat().st_size > 0
    assert figures(pd.DataFrame({"x": [1]}), tmp_path) == []


def test_claims_and_bad_configs():
    assert len(CLAIMS) == 3 and sum(c.control for c in CLAIMS) == 1
    assert not any(c.fast for c in CLAIMS)
    for overrides, message in (({"variability": ("both", "cuase")}, "variability must be some of"),
                               ({"methods": ("cdf", "notears")}, "methods must be some of"),
                               ({"environments": (2,)}, "environments must be one or more ints"),
                               ({"alpha": 1.5}, "alpha must be in"),
                               ({"repetitions": 0}, "repetitions")):  # fmt: skip
        with pytest.raises(ValueError, match=message) as error:
            Config(**overrides)
        assert "\n" not in str(error.value)
    assert np.isfinite(Config().alpha)


def test_a_missing_lingam_is_one_line_naming_its_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "lingam", None)
    with pytest.raises(ValueError, match=r"pip install 'identifiable\[lingam\]'"):
        run(Config(environments=(8,), seeds=1, repetitions=1))
