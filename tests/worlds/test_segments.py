"""SegmentWorld: segment-wise modulated sources, the i.i.d. control and the mechanism mode."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from identifiable.worlds.base import seeded_generator
from identifiable.worlds.mixing import LeakyMLPMixing
from identifiable.worlds.segments import SegmentWorld


def draw(world, n=40_000, seed=0):
    return world.sample(n, generator=seeded_generator(seed, 1))


def test_shapes_labels_and_determinism():
    world = SegmentWorld(n_sources=3, n_segments=4)
    batch = draw(world, 500)
    assert batch.z.shape == batch.x.shape == batch.y.shape == (500, 3)
    assert batch.label.dtype == torch.int64 and set(batch.label.tolist()) == {0, 1, 2, 3}
    again = draw(SegmentWorld(n_sources=3, n_segments=4), 500)
    for a, b in zip(batch, again, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_source_scales_vary_by_segment_and_are_the_sources_std():
    world = SegmentWorld(n_sources=2, n_segments=3, seed=4)
    assert world.scales.shape == (3, 2)
    assert float(world.scales.min()) >= 0.0 and float(world.scales.max()) <= 1.0
    assert len({round(v, 6) for v in world.scales.flatten().tolist()}) == 6
    batch = draw(world, 90_000)
    for e in range(3):
        std = batch.z[batch.label == e].std(dim=0)  # unit-variance Laplace × λ_e
        torch.testing.assert_close(std, world.scales[e], rtol=0.04, atol=0.005)
        # Laplace: E|s| = λ / √2 (a Gaussian would give λ √(2/π))
        mean_abs = batch.z[batch.label == e].abs().mean(dim=0)
        torch.testing.assert_close(mean_abs, world.scales[e] / math.sqrt(2), rtol=0.04, atol=0.004)


def test_no_variability_is_one_distribution_for_every_segment():
    world = SegmentWorld(n_sources=2, n_segments=5, variability="none", scale_low=0.2)
    torch.testing.assert_close(world.scales, torch.full((5, 2), 0.6))
    torch.testing.assert_close(world.maps, torch.eye(2).expand(5, 2, 2))
    batch = draw(world)
    torch.testing.assert_close(batch.y, batch.z)


def test_mechanism_mode_maps_fixed_sources_through_a_per_segment_matrix():
    world = SegmentWorld(n_sources=3, n_segments=4, variability="mechanism",
                         mechanism_strength=0.5)  # fmt: skip
    torch.testing.assert_close(world.scales, torch.full((4, 3), 0.5))
    assert not torch.allclose(world.maps[0], world.maps[1])
    # A_e − I has entries of standard deviation σ / √n
    spread = float((world.maps - torch.eye(3)).std())
    assert 0.15 < spread < 0.45
    batch = draw(world, 2000)
    expected = torch.einsum("nij,nj->ni", world.maps[batch.label], batch.z)
    torch.testing.assert_close(batch.y, expected)
    # x = g(y) exactly: the mixing's inverse gives y back
    torch.testing.assert_close(world.mixing.build(3).inverse(batch.x), batch.y, rtol=1e-4,
                               atol=1e-4)  # fmt: skip
    still = SegmentWorld(n_sources=3, n_segments=4, variability="mechanism", mechanism_strength=0)
    torch.testing.assert_close(still.maps, torch.eye(3).expand(4, 3, 3))


def test_the_mixing_is_the_given_one_and_nonlinear():
    world = SegmentWorld(n_sources=3, mixing=LeakyMLPMixing(n_layers=3, seed=7))
    batch = draw(world, 5000)
    # a linear map would be fitted exactly by least squares; a 3-layer leaky-ReLU MLP is not
    z = batch.z.numpy()
    x = batch.x.numpy()
    design = np.column_stack([z, np.ones(len(z))])
    residual = x - design @ np.linalg.lstsq(design, x, rcond=None)[0]
    assert residual.std() > 0.02 * x.std()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"variability": "both"}, "variability must be one of source, none, mechanism"),
        ({"n_segments": 1}, "n_segments must be an int >= 2"),
        ({"n_sources": 1}, "n_sources must be an int >= 2"),
        ({"n_sources": True}, "n_sources must be an int"),
        ({"scale_low": 1.0, "scale_high": 0.5}, "scale_low < scale_high"),
        ({"scale_low": -0.1}, "scale_low < scale_high"),
        ({"mechanism_strength": -1.0}, "mechanism_strength must be >= 0"),
    ],
)
def test_bad_settings_are_one_line_errors(kwargs, message):
    with pytest.raises(ValueError, match=message) as error:
        SegmentWorld(**kwargs)
    assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match="positive int"):
        SegmentWorld().sample(0, generator=torch.Generator())
