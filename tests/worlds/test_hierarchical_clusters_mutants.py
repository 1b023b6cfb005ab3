"""The hierarchical cluster world: the finer points the main tests leave open (found by mutation
testing): the super-class vectors are unit and fixed by ``seed`` alone, labels and dataset rows
are uniform over *all* classes and rows, the edges of the class graph's weight and of the sample
sizes, and which values the checks refuse."""

from __future__ import annotations

import pytest
import torch

from identifiable.worlds.hierarchical_clusters import HierarchicalClusterWorld


def _g(seed=0):
    return torch.Generator().manual_seed(seed)


def test_superclass_vectors_are_unit_and_set_by_the_seed_alone():
    """u_s ~ U(S^{n−1}): unit norm even where the Gaussian draw is shorter than 1 (frequent in
    n = 2: P(‖g‖ < 1) = 1 − e^{−½} ≈ 0.39), and drawn from ``seed`` only, whatever the global
    torch RNG state; another seed gives other vectors."""
    torch.manual_seed(1)
    a = HierarchicalClusterWorld(n_latents=2, n_superclasses=50).superclass_vectors
    torch.manual_seed(2)
    b = HierarchicalClusterWorld(n_latents=2, n_superclasses=50).superclass_vectors
    torch.testing.assert_close(a.norm(dim=1), torch.ones(50))
    assert torch.equal(a, b)
    other = HierarchicalClusterWorld(n_latents=2, n_superclasses=50, seed=1).superclass_vectors
    assert not torch.allclose(a, other)


def test_labels_are_uniform_over_all_classes():
    """c ~ U{0, …, S·K − 1}: every class, 0 included, at rate 1/20 ± 5 standard errors
    (n = 8000: SE = √(0.05 · 0.95 / 8000) ≈ 0.0024)."""
    world = HierarchicalClusterWorld(n_latents=3)
    label = world.sample(8000, generator=_g(0)).label
    share = torch.bincount(label, minlength=20).double() / 8000
    assert share.shape == (20,) and float((share - 0.05).abs().max()) < 5 * 0.0024


def test_dataset_sample_draws_every_row_uniformly_and_reproducibly():
    """ViewedDataset.sample: rows uniform with replacement over all n rows, the first included
    (5 rows, 5000 draws: each at 1/5 ± 5 SE, SE = √(0.2 · 0.8 / 5000) ≈ 0.0057), and the same
    generator seed gives the same rows."""
    world = HierarchicalClusterWorld(n_latents=3)
    train = world.dataset(5, generator=_g(0))
    rows = train.sample(5000, generator=_g(1))
    which = (rows.z[:, None, :] == train.data.z[None]).all(-1).double().argmax(1)
    share = torch.bincount(which, minlength=5).double() / 5000
    assert float((share - 0.2).abs().max()) < 5 * 0.0057
    again = train.sample(5000, generator=_g(1))
    assert torch.equal(again.z, rows.z) and torch.equal(again.label, rows.label)


def test_class_graph_default_and_the_ends_of_its_weight():
    """super_weight defaults to ½; 0 (SupCon's same-class graph, the identity) and 1 (the
    super-class graph, blocks of ones) are both allowed."""
    world = HierarchicalClusterWorld(n_superclasses=2, classes_per_superclass=2)
    block = torch.tensor([[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0],
                          [0.0, 0.0, 1.0, 1.0]])  # fmt: skip
    torch.testing.assert_close(world.class_graph(), world.class_graph(0.5))
    assert float(world.class_graph()[0, 1]) == 0.5
    torch.testing.assert_close(world.class_graph(0.0), torch.eye(4))
    torch.testing.assert_close(world.class_graph(1.0), block)


def test_one_sample_and_one_pair_are_allowed():
    """n = 1 is a valid sample size for the world, the dataset and its pairs."""
    world = HierarchicalClusterWorld(n_latents=3)
    assert world.sample(1, generator=_g()).z.shape == (1, 3)
    train = world.dataset(4, generator=_g())
    assert train.sample(1, generator=_g()).z.shape == (1, 3)
    assert train.pairs(1, generator=_g()).x.shape == (1, 3)


@pytest.mark.parametrize("n", [0, 2.0, True])
def test_sample_sizes_must_be_positive_ints(n):
    """0, a float (even a whole one) and a bool are refused by the world and its dataset."""
    world = HierarchicalClusterWorld(n_latents=3)
    train = world.dataset(4, generator=_g())
    with pytest.raises(ValueError, match="positive int"):
        world.sample(n, generator=_g())
    with pytest.raises(ValueError, match="positive int"):
        train.sample(n, generator=_g())


def test_a_whole_float_count_is_refused():
    """Counts must be ints: 3.0 super-classes is refused though it is ≥ 2."""
    with pytest.raises(ValueError, match="n_superclasses must be an int >= 2"):
        HierarchicalClusterWorld(n_superclasses=3.0)
