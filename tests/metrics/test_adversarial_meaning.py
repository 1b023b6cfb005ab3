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
