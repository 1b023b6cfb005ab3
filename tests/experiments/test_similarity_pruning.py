"""similarity-pruning: the world, the guarantee, the accuracy breakdown, the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from identifiable.cli import app
from identifiable.experiments import similarity_pruning as exp
from identifiable.experiments.similarity_pruning import Config, draw, run

SMALL = {"n_classes": 4, "dim": 8, "n_reference": 60, "n_test": 20, "n_large": 60, "seeds": 2}


def test_world_plants_one_near_duplicate_per_chosen_test_point():
    world = draw(Config(**SMALL), seed=0)
    planted = world["planted"]
    assert len(world["large"]) == 4 * 60 + planted.sum()
    copies = world["large"][4 * 60 :]
    np.testing.assert_array_equal(world["y_large"][4 * 60 :], world["y_test"][planted])
    cosines = np.sum(copies * world["test"][planted], axis=1)
    assert (cosines > 0.99).all()  # δ = 0.02 in 8 dimensions
    assert np.allclose(np.linalg.norm(world["large"], axis=1), 1, atol=1e-5)


def test_run_closes_the_gap_and_reports_every_breakdown(tmp_path):
    result = run(Config(**SMALL))
    m = result.metrics
    assert m["pruned_max_similarity_gap"] <= 1e-5 < m["random_max_similarity_gap"]
    assert 0 < m["kept_fraction"] < 1
    for learner in ("1nn", "linear"):
        for key in ("accuracy_drop", "accuracy_drop_planted", "accuracy_drop_other",
                    "planted_minus_other_drop", "retained_accuracy"):  # fmt: skip
            assert np.isfinite(m[f"{learner}_{key}"])
    # the planted points are what 1-NN loses most on
    assert m["1nn_accuracy_drop_planted"] > m["1nn_accuracy_drop_other"]
    assert run(Config(**SMALL)).metrics == m  # deterministic
    assert [p.name for p in exp.figures(result.curves, tmp_path)] == ["similarity_pruning.png"]


def test_without_duplicates_there_is_no_planted_breakdown():
    m = run(Config(**(SMALL | {"duplicate_fraction": 0.0}))).metrics
    assert "1nn_accuracy_drop_planted" not in m and np.isfinite(m["1nn_accuracy_drop"])


@pytest.mark.parametrize(
    "override, message",
    [
        ({"duplicate_fraction": 1.5}, "duplicate_fraction must be in"),
        ({"n_classes": 1}, "n_classes"),
        ({"sigma": 0.0}, "sigma"),
        ({"duplicate_noise": -1.0}, "duplicate_noise must be >= 0"),
    ],
)
def test_bad_configs(override, message):
    with pytest.raises(ValueError, match=message):
        Config(**override)


def test_cli_writes_neighbours_kept_indices_and_a_histogram(tmp_path):
    rng = np.random.default_rng(0)
    base, test, large = (
        rng.normal(size=(200, 8)),
        rng.normal(size=(30, 8)),
        rng.normal(size=(400, 8)),
    )
    for name, array in (("b", base), ("t", test), ("l", large)):
        np.save(tmp_path / f"{name}.npy", array)
    pd.DataFrame(test).to_parquet(tmp_path / "t.parquet")
    out = tmp_path / "out" / "nn.parquet"
    result = CliRunner().invoke(app, [
        "similarity", "--base", str(tmp_path / "b.npy"), "--test", str(tmp_path / "t.parquet"),
        "--prune-from", str(tmp_path / "l.npy"), "--k", "2", "--output", str(out),
        "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out)
    assert list(table.columns[:5]) == ["test_index", "similarity_1", "base_index_1",
                                       "similarity_2", "base_index_2"]  # fmt: skip
    assert (table["pruned_similarity"] <= table["similarity_1"] + 1e-5).all()
    kept = pd.read_parquet(tmp_path / "out" / "nn_kept.parquet")["large_index"]
    assert 0 < len(kept) < 400 and (tmp_path / "out" / "nn.png").is_file()


def test_cli_bad_input_is_one_line_exit_2(tmp_path):
    np.save(tmp_path / "b.npy", np.ones((5, 4)))
    np.save(tmp_path / "t.npy", np.ones((3, 5)))
    bad = np.ones((3, 4))
    bad[1, 2] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    runner = CliRunner()
    for test, message in (("t.npy", "different dimensions: 4 and 5"), ("nan.npy", "NaN"),
                          ("missing.npy", "")):  # fmt: skip
        result = runner.invoke(app, ["similarity", "--base", str(tmp_path / "b.npy"),
                                     "--test", str(tmp_path / test)])  # fmt: skip
        assert result.exit_code == 2 and message in result.output, result.output
        assert result.output.strip().count("\n") == 0
