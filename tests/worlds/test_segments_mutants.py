"""SegmentWorld: the finer points of its definition that tests/worlds/test_segments.py leaves open
(found by mutation testing): the range of the scales λ, the seed fixing A_e, and validation."""

from __future__ import annotations

import pytest
import torch

from identifiable.worlds.base import seeded_generator
from identifiable.worlds.segments import SegmentWorld


def test_source_scales_are_uniform_on_the_configured_range():
    # λ_{e,i} ~ U[scale_low, scale_high]: 64 × 5 = 320 draws inside the range, their mean within
    # 5 standard errors ((high − low) / √12 / √320 ≈ 0.024) of the midpoint, reaching both ends
    world = SegmentWorld(n_sources=5, n_segments=64, scale_low=0.5, scale_high=2.0)
    scales = world.scales
    assert float(scales.min()) >= 0.5 and float(scales.max()) <= 2.0
    assert float(scales.min()) < 0.55 and float(scales.max()) > 1.95
    assert abs(float(scales.mean()) - 1.25) < 5 * 1.5 / 12**0.5 / 320**0.5


def test_the_mechanisms_are_fixed_by_the_world_seed():
    # A_e is part of the world: the same seed gives the same maps whatever the global RNG did
    # in between, another seed other maps
    kwargs = {"n_sources": 3, "n_segments": 4, "variability": "mechanism"}
    with torch.random.fork_rng():
        torch.manual_seed(1)
        first = SegmentWorld(**kwargs, seed=5).maps
        torch.manual_seed(2)
        again = SegmentWorld(**kwargs, seed=5).maps
    torch.testing.assert_close(again, first, rtol=0, atol=0)
    assert not torch.allclose(SegmentWorld(**kwargs, seed=6).maps, first)


def test_one_sample_is_a_batch_and_counts_must_be_ints():
    world = SegmentWorld(n_sources=2, n_segments=3)
    batch = world.sample(1, generator=seeded_generator(0, 1))
    assert batch.z.shape == batch.x.shape == (1, 2) and batch.label.shape == (1,)
    for n in (True, 2.0):
        with pytest.raises(ValueError, match="positive int"):
            world.sample(n, generator=torch.Generator())
    for name in ("n_sources", "n_segments"):
        with pytest.raises(ValueError, match=f"{name} must be an int"):
            SegmentWorld(**{name: 4.0})


def test_equal_scale_bounds_are_refused():
    # scale_low == scale_high would make "source" variability constant across segments
    with pytest.raises(ValueError, match="scale_low < scale_high"):
        SegmentWorld(scale_low=0.5, scale_high=0.5)
