"""Metrics carry their meaning: declarations, derived names, and the training numbers."""

import numpy as np
import pytest

from identifiable._validation import check
from identifiable.metrics import METRICS, accuracy, declare, metric, metric_info


@pytest.mark.parametrize(
    "name, base, higher, kind",
    [
        ("mcc", "mcc", True, "continuous"),
        ("mcc_spearman", "mcc_spearman", True, "continuous"),  # itself, not mcc
        ("identity_mcc", "mcc", True, "continuous"),
        ("untrained_linear_r2_hue", "linear_r2", True, "continuous"),
        ("linear_r2_x", "linear_r2", True, "continuous"),
        ("final_loss", "loss", False, "diagnostic"),
        ("shape_accuracy", "accuracy", True, "proportion"),
    ],
)
def test_derived_names_resolve_to_their_base(name, base, higher, kind):
    info = metric_info(name)
    assert info is not None and info.name == name
    assert info.higher_is_better is higher and info.kind == kind
    assert info.forgives == METRICS[base].forgives and info.bounds == METRICS[base].bounds


def test_a_gain_is_a_difference_without_bounds():
    info = metric_info("linear_r2_gain_x")
    assert info.higher_is_better is True and info.bounds == (None, None)
    assert info.kind == "continuous" and "difference" in info.description


def test_unknown_names_have_no_meaning():
    assert metric_info("something_else_entirely") is None


def test_declarations_are_checked():
    with pytest.raises(ValueError, match="already declared"):
        declare("mcc", higher_is_better=False)
    with pytest.raises(ValueError, match="kind must be one of"):
        declare("a_new_thing", higher_is_better=True, kind="ratio")
    with pytest.raises(ValueError, match="low < high"):
        declare("a_new_thing", higher_is_better=True, bounds=(1.0, 0.0))


def test_the_decorator_declares_next_to_the_definition():
    @metric(name="test_only_half", higher_is_better=True, bounds=(0.0, 1.0))
    def half(z_true, z_hat) -> float:
        """Always one half."""
        return 0.5

    assert half(None, None) == 0.5
    assert metric_info("test_only_half").description == "Always one half."
    METRICS.pop("test_only_half")


def test_accuracy_perfect_and_useless():
    labels = np.random.default_rng(0).integers(0, 4, 4000)
    assert accuracy(labels, labels) == 1.0
    guess = np.random.default_rng(1).integers(0, 4, 4000)
    assert accuracy(labels, guess) == pytest.approx(0.25, abs=0.03)
    with pytest.raises(ValueError, match="same length"):
        accuracy(labels, labels[:-1])


def test_check_gives_one_line_errors_that_say_what_to_change():
    class Config:
        steps, lr, world, batch_size, eval_size, n_latents = 0, -1.0, "cube", 1, 8, 10

    cases = [
        (dict(integers=("steps",), at_least={"steps": 1}), "steps must be a positive int, got 0"),
        (dict(positive=("lr",)), "lr must be > 0, got -1.0"),
        (dict(one_of={"world": ("sphere", "box")}), "world must be sphere or box, got 'cube'"),
        (dict(one_of={"world": ("a", "b", "c")}), "world must be one of a, b, c, got 'cube'"),
        (
            dict(at_least={"batch_size": (2, "negatives come from the batch")}),
            "batch_size must be >= 2 (negatives come from the batch), got 1",
        ),
        (
            dict(at_least={"eval_size": (40, "4 * n_latents")}),
            "eval_size must be >= 4 * n_latents = 40, got 8",
        ),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError) as error:
            check(Config(), **kwargs)
        assert str(error.value) == message
