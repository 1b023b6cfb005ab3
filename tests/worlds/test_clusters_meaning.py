"""What the cluster world means: indices uniform on {0, …, N−1} (0 included), label = index mod C,
cluster vectors a fixed, cached function of ``seed`` (not of the global random state), and the
validation limits exactly as documented."""

import math

import pytest
import torch

from identifiable.worlds.clusters import ClusterWorld
from identifiable.worlds.mixing import IdentityMixing


def small(**kwargs):
    return ClusterWorld(
        **{"n_latents": 3, "n_clusters": 4, "n_indices": 10, "mixing": IdentityMixing()} | kwargs
    )


def test_indices_cover_zero_to_n_minus_one_uniformly_and_labels_are_index_mod_c():
    batch = small().sample(20_000, generator=torch.Generator().manual_seed(0))
    counts = torch.bincount(batch.index, minlength=10)
    assert len(counts) == 10 and int(batch.index.min()) == 0 and int(batch.index.max()) == 9
    # each index has probability 1/10: within 5 standard errors of 2 000
    assert float((counts - 2000).abs().max()) < 5 * math.sqrt(20_000 * 0.1 * 0.9)
    assert torch.equal(batch.label, batch.index % 4)


def test_cluster_vectors_are_fixed_by_the_seed_not_the_global_state():
    torch.manual_seed(1)
    a = small(seed=3).cluster_vectors
    torch.manual_seed(2)
    b = small(seed=3).cluster_vectors
    assert torch.equal(a, b) and not torch.equal(a, small(seed=4).cluster_vectors)
    torch.testing.assert_close(a.norm(dim=1), torch.ones(4))
    world = small()
    assert world.cluster_vectors is world.cluster_vectors  # drawn once per world


def test_each_draw_is_around_its_own_cluster_vector():
    world = small(kappa=50.0)
    batch = world.sample(4000, generator=torch.Generator().manual_seed(0))
    cos = (batch.z * world.cluster_vectors[batch.label]).sum(1)
    assert float(cos.mean()) > 0.9  # A_3(50) = coth(50) − 1/50 ≈ 0.98
    torch.testing.assert_close(batch.x, batch.z)  # identity mixing


def test_limits_accepted():
    ClusterWorld(n_latents=2, n_clusters=2, n_indices=2, kappa=0.5)
    small().sample(1, generator=torch.Generator())


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_latents": 1},
        {"n_latents": 2.0},
        {"n_clusters": 1},
        {"n_clusters": 4.0},
        {"n_indices": 3},
        {"n_indices": 10.0},
        {"kappa": 0.0},
        {"kappa": -1.0},
        {"kappa": float("inf")},
        {"kappa": float("nan")},
        {"kappa": "1"},
    ],
)
def test_refuses_bad_settings(kwargs):
    with pytest.raises(ValueError):
        small(**kwargs)


@pytest.mark.parametrize("n", [0, -1, 1.5])
def test_refuses_bad_sample_sizes(n):
    with pytest.raises(ValueError, match="positive int"):
        small().sample(n, generator=torch.Generator())
