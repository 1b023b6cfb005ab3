"""What the mixings mean: the documented recipe (PCL draws, best condition number of k), the
leaky-ReLU nonlinearity with its slope, the memory cap on k, and the validation limits.

Reference: the module docstring's recipe written out plainly — k float64 matrices with entries
U(−1, 1) from ``Generator().manual_seed(seed)``, columns scaled to unit L2 norm, the one with the
smallest 2-norm condition number (numpy) per layer, layers drawn one after the other.
"""

import numpy as np
import pytest
import torch

from identifiable.worlds import mixing as mixing_module
from identifiable.worlds.mixing import LeakyMLPMixing, LinearMixing, MixingFunction


def reference_layers(seed: int, n: int, k: int, n_layers: int) -> list[np.ndarray]:
    generator = torch.Generator().manual_seed(seed)
    layers = []
    for _ in range(n_layers):
        a = (torch.rand((k, n, n), generator=generator, dtype=torch.float64) * 2 - 1).numpy()
        a = a / np.linalg.norm(a, axis=1, keepdims=True)
        layers.append(a[int(np.argmin(np.linalg.cond(a)))])
    return layers


@pytest.mark.parametrize("seed, n, k, n_layers", [(0, 4, 50, 3), (5, 3, 1, 2), (2, 6, 200, 1)])
def test_leaky_layers_follow_the_documented_recipe(seed, n, k, n_layers):
    built = LeakyMLPMixing(n_layers=n_layers, n_candidates=k, seed=seed).build(n)
    expected = reference_layers(seed, n, k, n_layers)
    for w, ref in zip(built.weights, expected, strict=True):
        np.testing.assert_allclose(w.numpy(), ref, rtol=1e-6, atol=1e-7)


def test_linear_mixing_follows_the_same_recipe_with_one_layer():
    built = LinearMixing(n_candidates=30, seed=7).build(5)
    assert len(built.weights) == 1 and built.negative_slope is None
    np.testing.assert_allclose(
        built.weights[0].numpy(), reference_layers(7, 5, 30, 1)[0], rtol=1e-6
    )


def test_entries_are_symmetric_around_zero():
    # U(−1, 1) entries, then unit columns: the mean entry is 0 (5 standard errors at 40 000 entries)
    a = mixing_module._pcl_candidates(1600, 5, torch.Generator().manual_seed(0))
    assert abs(float(a.mean())) < 5 * float(a.std()) / np.sqrt(a.numel())
    assert float(a.abs().max()) <= 1.0


def test_forward_is_the_leaky_relu_network_with_the_configured_slope():
    for slope in (0.2, 0.5):
        g = LeakyMLPMixing(n_layers=3, negative_slope=slope, n_candidates=20, seed=1).build(4)
        z = torch.randn(100, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        h = z
        for i, w in enumerate(g.weights):
            h = h @ w.double().T
            if i < 2:
                h = torch.where(h >= 0, h, slope * h)
        torch.testing.assert_close(g(z), h)
        assert g(z).dtype == torch.float64  # follows the input's dtype
        # not linear: g(−z) ≠ −g(z) (leaky ReLU is only positively homogeneous)
        assert float((g(-z) + g(z)).abs().max()) > 1e-3
        torch.testing.assert_close(g.inverse(g(z)), z, atol=1e-4, rtol=1e-4)


def test_linear_mixing_is_linear():
    g = LinearMixing(n_candidates=20, seed=1).build(4)
    z = torch.randn(50, 4, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(g(-z), -g(z))


def test_candidate_batch_is_capped_for_large_dimensions(monkeypatch):
    seen = []

    def record(k, n, generator):
        seen.append(k)
        return torch.eye(n, dtype=torch.float64)

    monkeypatch.setattr(mixing_module, "_best_conditioned", record)
    LeakyMLPMixing(n_layers=1).build(1000)  # 50 000 000 // 1000² = 50 candidates
    LeakyMLPMixing(n_layers=1, n_candidates=1).build(3)
    LeakyMLPMixing(n_layers=1, n_candidates=7).build(3)
    assert seen == [50, 1, 7] and all(isinstance(k, int) for k in seen)


@pytest.mark.parametrize("n_layers", [0, -1, 1.5, "3"])
def test_refuses_bad_depth(n_layers):
    with pytest.raises(ValueError, match="n_layers"):
        LeakyMLPMixing(n_layers=n_layers)


@pytest.mark.parametrize("slope", [0.0, -0.1, 1.01, 2.0])
def test_refuses_slopes_that_break_invertibility(slope):
    with pytest.raises(ValueError, match="negative_slope"):
        LeakyMLPMixing(negative_slope=slope)


def test_limits_accepted():
    LeakyMLPMixing(n_layers=1, negative_slope=1.0, n_candidates=1)
    with pytest.raises(ValueError, match="n_candidates"):
        LeakyMLPMixing(n_candidates=0)


def test_mixing_function_keeps_its_slope():
    f = MixingFunction([torch.eye(2), torch.eye(2)], 0.3)
    assert f.negative_slope == 0.3
    torch.testing.assert_close(f(torch.tensor([[-1.0, 2.0]])), torch.tensor([[-0.3, 2.0]]))
