"""The reference numbers the rule-extrapolation claims quote, recomputed from the reference's own
sweep exports (meszarosanna/rule_extrapolation ``notebooks/*.csv``, in ../shared/data): OOD R1
at min validation loss, mean ± std (ddof 1) per model, as its table notebook aggregates them."""

import pandas as pd
import pytest

from identifiable.experiments.rule_extrapolation import CLAIMS

COLUMN = "ood_rule_1_accuracy4min_val_loss"


@pytest.mark.parametrize(
    ("export", "model", "mean", "std", "runs"),
    [
        ("anbn_transformer_vn4yrcl8.csv", "transformer", 0.657, 0.162, 268),
        ("dyck_eruf1l2q.csv", "transformer", 0.980, 0.090, 46),
        ("dyck_eruf1l2q.csv", "lstm", 0.543, 0.282, 8),
    ],
)
def test_quoted_reference_numbers_come_from_its_exports(
    shared_file, export, model, mean, std, runs
):
    table = pd.read_csv(shared_file(f"rule_extrapolation/{export}"))
    values = table.loc[table["model"] == model, COLUMN]
    assert len(values) == runs
    assert values.mean() == pytest.approx(mean, abs=5e-4)
    assert values.std(ddof=1) == pytest.approx(std, abs=5e-4)
    quoted = CLAIMS[0].paper_value
    assert f"{mean:.3f}" in quoted
