"""The cluster-centric vMF world of the cross-entropy claim."""

import pytest
import torch

from identifiable.worlds.clusters import ClusterWorld
from identifiable.worlds.mixing import LeakyMLPMixing


def test_sample_shapes_labels_and_determinism(generator):
    world = ClusterWorld(n_latents=5, n_clusters=10, n_indices=100, kappa=10.0)
    batch = world.sample(2000, generator=generator)
    assert batch.z.shape == batch.x.shape == (2000, 5)
    assert batch.index.dtype == batch.label.dtype == torch.int64
    assert int(batch.index.min()) >= 0 and int(batch.index.max()) < 100
    assert torch.equal(batch.label, batch.index % 10)
    assert torch.allclose(batch.z.norm(dim=1), torch.ones(2000), atol=1e-5)
    assert torch.allclose(batch.x, world.mixing.build(5)(batch.z))
    again = world.sample(2000, generator=torch.Generator().manual_seed(0))
    assert torch.equal(batch.x, again.x) and torch.equal(batch.index, again.index)


def test_latents_concentrate_around_their_cluster_vector_as_kappa_grows(generator):
    cosines = []
    for kappa in (2.0, 50.0):
        world = ClusterWorld(n_latents=5, n_clusters=20, kappa=kappa)
        batch = world.sample(5000, generator=generator)
        v = world.cluster_vectors[batch.label]
        cosines.append(float((v * batch.z).sum(1).mean()))
    assert cosines[0] < 0.6 < 0.9 < cosines[1]
    vectors = ClusterWorld(n_clusters=20).cluster_vectors
    assert vectors.shape == (20, 5)
    assert torch.allclose(vectors.norm(dim=1), torch.ones(20))
    assert not torch.equal(vectors, ClusterWorld(n_clusters=20, seed=1).cluster_vectors)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_clusters=1), "n_clusters must be an int >= 2"),
        (dict(kappa=0.0), "kappa must be > 0"),
        (dict(kappa=-1.0), "kappa must be > 0"),
        (dict(n_clusters=50, n_indices=10), "n_indices must be an int >= n_clusters"),
        (dict(n_latents=1), "n_latents must be an int >= 2"),
    ],
)
def test_bad_parameters_raise_one_line_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ClusterWorld(mixing=LeakyMLPMixing(n_layers=1), **kwargs)


def test_pairs_add_vmf_positives_around_each_draw():
    """Positives are fresh vMF(z, κ_pair) draws on the sphere, observed through the same g;
    mean cosine ≈ A_n(κ) (≈ 1 − (n − 1)/(2κ) for large κ), tighter for larger κ_pair."""
    import torch

    from identifiable.worlds.clusters import ClusterWorld

    cos = {}
    for kappa in (10.0, 100.0):
        world = ClusterWorld(n_latents=5, n_clusters=10, n_indices=10, pair_kappa=kappa)
        batch = world.pairs(4000, generator=torch.Generator().manual_seed(0))
        assert torch.allclose(batch.x_pos, world.observe(batch.z_pos))
        assert torch.allclose(batch.z_pos.norm(dim=1), torch.ones(4000), atol=1e-5)
        cos[kappa] = float((batch.z * batch.z_pos).sum(dim=1).mean())
    assert cos[100.0] > 0.97 and 0.7 < cos[10.0] < 0.85
    with pytest.raises(ValueError, match="pair_kappa must be > 0"):
        ClusterWorld(pair_kappa=0.0)
