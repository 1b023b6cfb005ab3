"""domain-mixing: the mixed training set, a tiny run, the summary's arithmetic, bad configs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from identifiable.experiments import domain_mixing as exp
from identifiable.experiments.domain_mixing import Config, mixed_training_set, run, summarise
from identifiable.worlds.renditions import render


def test_mixed_training_set_renders_exactly_the_chosen_share():
    x = torch.rand(200, 64)
    y = torch.zeros(200, dtype=torch.int64)
    mixed, rendered = mixed_training_set(x, y, 0.05, "inverted", seed=3)
    assert rendered.sum() == 10
    torch.testing.assert_close(
        mixed[torch.from_numpy(rendered)], render(x[torch.from_numpy(rendered)], "inverted")
    )
    torch.testing.assert_close(mixed[torch.from_numpy(~rendered)], x[torch.from_numpy(~rendered)])
    assert mixed_training_set(x, y, 0.0, "edges", 3)[1].sum() == 0
    assert mixed_training_set(x, y, 1.0, "edges", 3)[1].all()


def test_tiny_run_shows_the_gap_and_is_deterministic(tmp_path):
    cfg = Config(ratios=(0.0, 0.1, 1.0), epochs=60, seeds=2, hidden=(32,))
    result = run(cfg)
    m = result.metrics
    assert m["r0_natural"] > m["r0_rendition"] + 0.3  # natural-only: renditions far worse
    assert m["r1_rendition"] > m["r1_natural"]
    assert 0 < m["r0.1_gap_closed"] <= 1.2 and m["best_mixture_ratio"] == 0.1
    assert run(cfg).metrics == m
    assert [p.name for p in exp.figures(result.curves, tmp_path)] == ["domain_mixing.png"]


def test_summary_by_hand():
    rows = []
    for seed, shift in ((0, 0.0), (1, 0.02)):
        for ratio, natural, rendition in ((0.0, 0.9, 0.3), (0.5, 0.85, 0.8), (1.0, 0.4, 0.9)):
            average = (natural + shift + rendition) / 2
            rows.append({"seed": seed, "ratio": ratio, "natural": natural + shift,
                         "rendition": rendition, "average": average})  # fmt: skip
    m = summarise(pd.DataFrame(rows))
    assert m["natural_only_domain_gap"] == pytest.approx(0.61)
    assert m["r0.5_gap_closed"] == pytest.approx((0.8 - 0.3) / (0.9 - 0.3))
    assert m["best_ratio"] == 0.5 and m["best_mixture_ratio"] == 0.5
    # per seed: mixture average minus the better end (0.6 / 0.65 at the ends)
    expected = np.mean([0.825 - 0.65, 0.835 - 0.66])
    assert m["mixture_advantage"] == pytest.approx(expected)


@pytest.mark.parametrize(
    "override, message",
    [
        ({"ratios": (0.0, 1.5)}, "ratios must be fractions in"),
        ({"ratios": ()}, "ratios must be fractions in"),
        ({"rendition": "cartoon"}, "rendition"),
        ({"n_train": 1797}, "n_train must be below 1797"),
        ({"weight_decay": -1.0}, "weight_decay must be >= 0"),
    ],
)
def test_bad_configs(override, message):
    with pytest.raises(ValueError, match=message):
        Config(**override)
