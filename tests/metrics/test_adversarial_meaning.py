"""What PGD accuracy means: the clean accuracy at ε = 0, and for a linear classifier the exact
worst case — an ℓ∞ budget ε lowers the margin of class c over class c' by ε‖w_c − w_c'‖₁, which
sign-gradient steps reach when T·α ≥ ε (two classes, no input bounds)."""

import pytest
import torch
from torch import nn

from identifiable.metrics.adversarial import pgd_accuracy, pgd_attack


def linear_model(w: torch.Tensor, b: torch.Tensor) -> nn.Linear:
    model = nn.Linear(w.shape[1], w.shape[0])
    with torch.no_grad():
        model.weight.copy_(w)
        model.bias.copy_(b)
    return model


@pytest.fixture
def problem():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2000, 5, generator=generator)
    w = torch.tensor([[1.0, -2.0, 0.5, 0.0, 1.5], [-1.0, 2.0, -0.5, 0.0, -1.5]])
    model = linear_model(w, torch.zeros(2))
    y = (model(x).argmax(1) + (torch.rand(2000, generator=generator) < 0.1)) % 2  # 10 % wrong
    return model, x, y, w


def test_zero_budget_is_clean_accuracy(problem):
    model, x, y, _ = problem
    clean = int((model(x).argmax(1) == y).sum()) / len(y)
    assert pgd_accuracy(model, x, y, eps=0.0, step=0.1, iterations=5, bounds=None) == clean
    assert pgd_accuracy(model, x, y, eps=0.3, step=0.1, iterations=0, bounds=None) == clean


@pytest.mark.parametrize("eps", [0.05, 0.2, 0.5])
def test_linear_classifier_matches_the_closed_form_worst_case(problem, eps):
    model, x, y, w = problem
    margin = (model(x)[:, 0] - model(x)[:, 1]) * (
        1 - 2 * y
    )  # score of the true class over the other
    shrink = eps * float((w[0] - w[1]).abs().sum())
    expected = float((margin > shrink).float().mean())
    measured = pgd_accuracy(model, x, y, eps=eps, step=eps / 4, iterations=8, bounds=None)
    assert measured == pytest.approx(expected, abs=1e-3)


def test_the_attack_stays_in_the_ball_and_the_bounds():
    model = linear_model(torch.randn(3, 4), torch.zeros(3))
    x = torch.rand(50, 4)
    y = torch.randint(0, 3, (50,))
    adversarial = pgd_attack(model, x, y, eps=0.1, step=0.05, iterations=10)
    assert float((adversarial - x).abs().max()) <= 0.1 + 1e-6
    assert float(adversarial.min()) >= 0 and float(adversarial.max()) <= 1
    # and it does hurt: no better than clean
    clean = float((model(x).argmax(1) == y).float().mean())
    assert pgd_accuracy(model, x, y, eps=0.1, step=0.05, iterations=10) <= clean


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"eps": -0.1}, "eps must be"),
        ({"step": float("nan")}, "step must be"),
        ({"iterations": -1}, "iterations must be"),
        ({"iterations": 2.0}, "iterations must be"),
    ],
)
def test_refuses_bad_settings(kwargs, message):
    model = linear_model(torch.randn(2, 3), torch.zeros(2))
    with pytest.raises(ValueError, match=message):
        pgd_accuracy(
            model,
            torch.zeros(4, 3),
            torch.zeros(4),
            **({"eps": 0.1, "step": 0.1, "iterations": 1} | kwargs),
        )
    with pytest.raises(ValueError, match="as many labels"):
        pgd_accuracy(model, torch.zeros(4, 3), torch.zeros(3), eps=0.1, step=0.1, iterations=1)


def test_chunks_add_up_and_inputs_of_any_float_dtype_work(problem):
    model, x, y, _ = problem
    whole = pgd_accuracy(model, x, y, eps=0.2, step=0.05, iterations=4, bounds=None)
    chunked = pgd_accuracy(
        model, x.double().numpy(), y, eps=0.2, step=0.05, iterations=4, bounds=None, chunk_size=7
    )
    assert chunked == whole
    assert pgd_accuracy(model, x[:1], y[:1], eps=0.0, step=0.1, iterations=1) in (0.0, 1.0)
    with pytest.raises(ValueError, match="n >= 1"):
        pgd_accuracy(model, x[:0], y[:0], eps=0.1, step=0.1, iterations=1)


def test_the_input_bounds_are_applied_in_the_score():
    # inputs at the upper bound, a classifier that wants to push them further up: clamping to
    # [0, 1] keeps them where they are, so only the unbounded attack changes the prediction
    model = linear_model(torch.tensor([[1.0, 0.0], [0.0, 0.0]]), torch.tensor([-1.05, 0.0]))
    x = torch.ones(10, 2)
    y = torch.ones(10, dtype=torch.long)  # class 1 (score 0 > 1 − 1.05): correct at x
    assert pgd_accuracy(model, x, y, eps=0.2, step=0.1, iterations=3) == 1.0
    assert pgd_accuracy(model, x, y, eps=0.2, step=0.1, iterations=3, bounds=None) == 0.0


def test_coordinates_the_model_ignores_are_left_alone():
    model = linear_model(torch.tensor([[1.0, 0.0], [-1.0, 0.0]]), torch.zeros(2))
    x = torch.full((5, 2), 0.5)
    adversarial = pgd_attack(model, x, torch.zeros(5, dtype=torch.long), eps=0.1, step=0.05,
                             iterations=3)  # fmt: skip
    torch.testing.assert_close(adversarial[:, 1], x[:, 1])  # zero gradient: no step
    assert float((adversarial[:, 0] - x[:, 0]).abs().max()) == pytest.approx(0.1)
