"""The hierarchical cluster world: structure, determinism, the class graph, views, bad input."""

from __future__ import annotations

import pytest
import torch

from identifiable.worlds.hierarchical_clusters import HierarchicalClusterWorld


def _g(seed=0):
    return torch.Generator().manual_seed(seed)


def test_classes_sit_in_their_superclasses():
    world = HierarchicalClusterWorld(n_latents=6, kappa_class=200.0)
    v, u = world.class_vectors, world.superclass_vectors
    assert v.shape == (20, 6) and u.shape == (4, 6)
    torch.testing.assert_close(v.norm(dim=1), torch.ones(20))
    nearest = (v @ u.T).argmax(dim=1)
    assert torch.equal(nearest, torch.arange(20) // 5)  # tight classes: nearest parent is own
    torch.testing.assert_close(world.superclass_of(torch.tensor([0, 4, 5, 19])),
                               torch.tensor([0, 0, 1, 3]))  # fmt: skip


def test_sample_is_deterministic_and_labelled():
    world = HierarchicalClusterWorld()
    a, b = world.sample(500, generator=_g(3)), world.sample(500, generator=_g(3))
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x, y)
    assert torch.equal(a.superclass, a.label // 5)
    torch.testing.assert_close(a.x, world.observe(a.z))
    # samples lie near their class vector (κ = 30 in 8 dimensions: mean cosine ≈ 0.88)
    cosine = (a.z * world.class_vectors[a.label]).sum(1)
    assert 0.8 < float(cosine.mean()) < 0.95


def test_class_graph():
    world = HierarchicalClusterWorld(n_superclasses=2, classes_per_superclass=2)
    expected = torch.tensor([[1.0, 0.3, 0, 0], [0.3, 1.0, 0, 0], [0, 0, 1.0, 0.3],
                             [0, 0, 0.3, 1.0]])  # fmt: skip
    torch.testing.assert_close(world.class_graph(0.3), expected)
    with pytest.raises(ValueError, match="super_weight must be in"):
        world.class_graph(1.5)


def test_dataset_pairs_are_two_fresh_views_of_distinct_samples():
    world = HierarchicalClusterWorld(kappa_view=1000.0)
    train = world.dataset(50, generator=_g(0))
    assert len(train) == 50 and train.n_classes == 20
    pairs = train.pairs(50, generator=_g(1))
    assert pairs.x.shape == (50, 8) and not torch.equal(pairs.x, pairs.x_pos)
    # every sample appears exactly once: the labels are a permutation of the dataset's labels
    assert sorted(pairs.label.tolist()) == sorted(train.data.label.tolist())
    again = train.pairs(50, generator=_g(1))
    assert torch.equal(again.x, pairs.x)
    with pytest.raises(ValueError, match="can draw 1 to 50"):
        train.pairs(51, generator=_g(1))
    rows = train.sample(7, generator=_g(2))
    assert rows.x.shape == (7, 8) and torch.equal(rows.superclass, rows.label // 5)


def test_views_are_close_to_their_sample():
    """A view of z is far closer to g(z) than a view of another sample is."""
    world = HierarchicalClusterWorld(kappa_view=1000.0)
    batch = world.sample(200, generator=_g(0))
    own = (world.view(batch.z, generator=_g(1)) - batch.x).norm(dim=1)
    other = (world.view(batch.z.roll(1, 0), generator=_g(1)) - batch.x).norm(dim=1)
    assert float(own.mean()) < 0.3 * float(other.mean())


@pytest.mark.parametrize(
    "override, message",
    [
        ({"n_latents": 1}, "n_latents must be an int >= 2"),
        ({"n_superclasses": 1}, "n_superclasses must be an int >= 2"),
        ({"classes_per_superclass": 1.5}, "classes_per_superclass must be an int >= 2"),
        ({"kappa": 0.0}, "kappa must be a finite number > 0"),
        ({"kappa_view": float("inf")}, "kappa_view must be a finite number > 0"),
    ],
)
def test_bad_parameters(override, message):
    with pytest.raises(ValueError, match=message):
        HierarchicalClusterWorld(**override)


def test_bad_sample_size():
    with pytest.raises(ValueError, match="positive int"):
        HierarchicalClusterWorld().sample(0, generator=_g())
