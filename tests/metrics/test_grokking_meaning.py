"""What an onset means: the first evaluated epoch at or above the threshold, censored at the
budget (with ``reached`` False) when no epoch qualifies."""

import numpy as np
import pytest

from identifiable.metrics import metric_info
from identifiable.metrics.grokking import first_epoch


def test_first_epoch_at_or_above_the_threshold():
    epochs = [1, 10, 20, 30]
    assert first_epoch(epochs, [0.0, 0.4, 0.5, 0.9], 0.5, 100) == (20, True)
    assert first_epoch(epochs, [0.6, 0.4, 0.5, 0.9], 0.5, 100) == (1, True)
    assert first_epoch(epochs, [0.0, 0.1, 0.2, 0.3], 0.5, 100) == (100, False)
    assert first_epoch(epochs, [np.nan, 0.1, np.nan, 1.0], 0.95, 100) == (30, True)


def test_refuses_mismatched_or_unordered_epochs():
    with pytest.raises(ValueError, match="same length"):
        first_epoch([1, 2], [0.1], 0.5, 10)
    with pytest.raises(ValueError, match="strictly increasing"):
        first_epoch([1, 3, 2], [0.1, 0.2, 0.3], 0.5, 10)


def test_grokking_numbers_are_declared():
    assert metric_info("collapse_fraction").kind == "proportion"
    assert metric_info("compared_collapse_onset_epoch").bounds == (0.0, None)
    assert metric_info("nlm_cosine_output_init").bounds == (-1.0, 1.0)
    assert metric_info("test_accuracy").higher_is_better is True


def test_columns_and_missing_evaluations():
    # a column of values next to a flat list of epochs (a DataFrame column, a (n, 1) array)
    assert first_epoch([1, 2, 3], np.array([[0.1], [0.7], [0.9]]), 0.5, 9) == (2, True)
    assert first_epoch(np.array([[1], [2], [3]]), [0.1, 0.7, 0.9], 0.5, 9) == (2, True)
    # an evaluation that is missing (None) never counts
    assert first_epoch([1, 2, 3], [None, 0.2, 0.8], 0.5, 9) == (3, True)


@pytest.mark.parametrize("epochs", [[2, 1], [1, 1, 2], [5, 5]])
def test_epochs_must_strictly_increase(epochs):
    with pytest.raises(ValueError, match="strictly increasing"):
        first_epoch(epochs, [0.0] * len(epochs), 0.5, 10)


def test_consecutive_and_single_epochs_are_fine():
    assert first_epoch([1, 2, 3], [0.0, 0.0, 1.0], 0.5, 10) == (3, True)
    assert first_epoch([7], [1.0], 0.5, 10) == (7, True)
