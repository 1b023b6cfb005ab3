"""What local complexity means: 0 for a network without ReLUs, 1 for one neuron whose boundary
passes through x, the exact hyperplane-distance criterion in the first layer, and the same counts
as a naive loop over points, vertices and neurons on random small networks."""

import numpy as np
import pytest
import torch
from torch import nn

from identifiable.metrics.local_complexity import local_complexity, orthonormal_frame
from identifiable.models.relu import relu_mlp


def test_frame_is_orthonormal_and_seeded():
    frame = orthonormal_frame(10, 4, torch.Generator().manual_seed(0))
    torch.testing.assert_close(frame @ frame.T, torch.eye(4, dtype=torch.float64))
    again = orthonormal_frame(10, 4, torch.Generator().manual_seed(0))
    assert torch.equal(frame, again)


def test_a_linear_network_has_no_regions():
    net = nn.Sequential(nn.Linear(5, 8), nn.Linear(8, 3))
    lc = local_complexity(net, torch.randn(20, 5), radius=10.0, n_directions=5)
    assert lc.per_layer.shape == (20, 0) and lc.mean() == 0.0


def test_one_neuron_through_the_point_counts_once_and_far_away_never():
    net = nn.Sequential(nn.Linear(3, 1), nn.ReLU(), nn.Linear(1, 1))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0.0, 0.0]]))
        net[0].bias.zero_()
    on_boundary = torch.tensor([[0.0, 0.5, -1.0]])
    far = torch.tensor([[5.0, 0.5, -1.0]])
    # all 3 directions of R³: some vertex has a positive and some a negative first coordinate
    assert local_complexity(net, on_boundary, 0.1, 3).total.tolist() == [1]
    assert local_complexity(net, far, 0.1, 3).total.tolist() == [0]


def test_first_layer_equals_the_hyperplane_distance_criterion():
    torch.manual_seed(0)
    net = relu_mlp(6, 2, (40,), generator=torch.Generator().manual_seed(1))
    x = torch.randn(50, 6)
    radius, k = 0.3, 3
    frame = orthonormal_frame(6, k, torch.Generator().manual_seed(7)).float()
    w, b = net[0].weight.detach(), net[0].bias.detach()
    a = (x @ w.T + b).detach()  # pre-activation at x, (50, 40)
    reach = radius * (frame @ w.T).abs().max(0).values  # max_j r |w·v_j|, (40,)
    # vertices x ± r v_j give a ± r c_j: the sign varies iff |a| < r max_j |c_j|
    expected = (a.abs() < reach).sum(1)
    lc = local_complexity(net, x, radius, k, seed=7)
    assert lc.per_layer[:, 0].tolist() == expected.tolist()


@torch.no_grad()
def naive(net: nn.Sequential, x: torch.Tensor, radius: float, k: int, seed: int) -> list[int]:
    frame = orthonormal_frame(x.shape[1], k, torch.Generator().manual_seed(seed)).float()
    totals = []
    for point in x:
        vertices = [point + radius * v for v in frame] + [point - radius * v for v in frame]
        signs = []  # per vertex: list of pre-activation signs of every ReLU neuron
        for vertex in vertices:
            h, row = vertex, []
            for module in net:
                if isinstance(module, nn.ReLU):
                    row += [float(torch.sign(v)) for v in h]
                h = module(h)
            signs.append(row)
        totals.append(sum(len({s[i] for s in signs}) > 1 for i in range(len(signs[0]))))
    return totals


@pytest.mark.parametrize("seed", range(3))
def test_matches_a_naive_loop_on_random_small_networks(seed):
    net = relu_mlp(4, 3, (7, 5), generator=torch.Generator().manual_seed(seed))
    x = torch.randn(6, 4, generator=torch.Generator().manual_seed(seed + 10))
    lc = local_complexity(net, x, radius=0.5, n_directions=3, seed=seed, chunk_size=12)
    assert lc.total.tolist() == naive(net, x, 0.5, 3, seed)
    assert lc.per_layer.shape == (6, 2) and len(lc.layers) == 2


def test_larger_neighbourhoods_cross_more_boundaries():
    net = relu_mlp(8, 3, (64, 64), generator=torch.Generator().manual_seed(0))
    x = torch.randn(40, 8, generator=torch.Generator().manual_seed(1))
    small, large = (local_complexity(net, x, r, 4).mean() for r in (0.01, 1.0))
    assert small < large


def test_convolutional_networks_and_train_mode_are_handled():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    net.train()
    lc = local_complexity(net, torch.rand(5, 1, 8, 8), 0.2, 4)
    assert lc.per_layer.shape == (5, 1) and net.training


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"radius": 0.0}, "radius must be a finite number > 0"),
        ({"radius": -1.0}, "radius must be a finite number > 0"),
        ({"radius": float("nan")}, "radius must be a finite number > 0"),
        ({"n_directions": 0}, "n_directions"),
        ({"n_directions": 9}, "n_directions"),
    ],
)
def test_refuses_bad_settings(kwargs, message):
    net = relu_mlp(8, 2, (4,))
    with pytest.raises(ValueError, match=message):
        local_complexity(net, torch.zeros(3, 8), **({"radius": 0.1} | kwargs))


def test_defaults_layer_names_and_integer_counts():
    net = relu_mlp(30, 2, (16, 16), generator=torch.Generator().manual_seed(0))
    x = np.random.default_rng(0).random((10, 30))  # float64 numpy points are accepted
    lc = local_complexity(net, x, 0.2)
    same = local_complexity(net, torch.as_tensor(x), 0.2, 25, seed=0)
    assert np.array_equal(lc.per_layer, same.per_layer)
    assert not np.array_equal(lc.per_layer, local_complexity(net, x, 0.2, 24).per_layer)
    assert not np.array_equal(lc.per_layer, local_complexity(net, x, 0.2, seed=1).per_layer)
    assert np.issubdtype(lc.per_layer.dtype, np.integer)
    assert lc.layers == ("1", "3")  # the ReLU modules' names in the Sequential
    means = lc.layer_means()
    assert list(means) == ["1", "3"]
    assert means["1"] == pytest.approx(lc.per_layer[:, 0].mean())
    assert sum(means.values()) == pytest.approx(lc.mean())
    assert local_complexity(nn.ReLU(), torch.zeros(2, 3), 0.1, 1).layers == ("ReLU",)


def test_chunking_does_not_change_the_counts():
    net = relu_mlp(5, 2, (12,), generator=torch.Generator().manual_seed(2))
    x = torch.randn(9, 5, generator=torch.Generator().manual_seed(3))
    counts = {c: local_complexity(net, x, 0.3, 2, chunk_size=c).per_layer.tolist()
              for c in (1, 4, 8, 1000)}  # fmt: skip
    assert len({str(v) for v in counts.values()}) == 1


def test_one_direction_is_enough_and_a_reused_module_is_refused():
    local_complexity(relu_mlp(3, 1, (4,)), torch.zeros(2, 3), 0.1, 1)
    relu = nn.ReLU()
    shared = nn.Sequential(nn.Linear(3, 3), relu, nn.Linear(3, 3), relu)
    with pytest.raises(ValueError, match="its own nn.ReLU"):
        local_complexity(shared, torch.zeros(2, 3), 0.1, 1)


@pytest.mark.parametrize(
    "points", [torch.zeros(5), torch.zeros(0, 8), torch.full((2, 8), float("nan"))]
)
def test_refuses_bad_points(points):
    with pytest.raises(ValueError, match="points"):
        local_complexity(relu_mlp(8, 2, (4,)), points, 0.1, 2)


@pytest.mark.parametrize("k", [2.0, True])
def test_refuses_non_integer_directions(k):
    with pytest.raises(ValueError, match="n_directions must be an int"):
        local_complexity(relu_mlp(8, 2, (4,)), torch.zeros(2, 8), 0.1, k)


def test_refuses_networks_without_linear_regions():
    net = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 2))
    with pytest.raises(ValueError, match="piecewise-linear network.*GELU"):
        local_complexity(net, torch.zeros(2, 4), 0.1, 2)
