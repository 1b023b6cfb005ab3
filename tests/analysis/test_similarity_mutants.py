"""Similarity search, SemDeDup and similarity-gap pruning: the finer points the main tests leave
open (found by mutation testing): the boundaries of the rules (≤ 1 − ε keeps, > s_R(q) removes),
the edges of the argument checks, chunking, and the torch backend without faiss."""

from __future__ import annotations

import numpy as np
import pytest

import identifiable.analysis.similarity as similarity
from identifiable.analysis.similarity import nearest, normalise, semdedup, similarity_gap_prune

E = np.eye(4)


def unit(rng, n, d=8):
    x = rng.normal(size=(n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_normalise_gives_unit_float32_rows():
    x = normalise([[3.0, 4.0], [0.0, -2.0]])
    assert x.dtype == np.float32 and x.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(x, [[0.6, 0.8], [0.0, -1.0]], rtol=1e-6)


def test_semdedup_boundaries_keep_at_exactly_one_minus_eps():
    # exact copies of a basis vector have similarity exactly 1 = 1 − ε at ε = 0: kept
    x = np.stack([E[0], E[0], E[1], E[1]])
    assert semdedup(x, n_clusters=1, clusters=np.zeros(4, int), eps=0.0).all()
    # a cluster of exactly two copies is deduplicated (only a lone point is skipped)
    assert semdedup(x[:2], n_clusters=1, clusters=np.zeros(2, int)).tolist() == [True, False]
    # every point its own cluster (n_clusters = n): nothing is compared, all kept
    assert semdedup(x, n_clusters=4, clusters=np.arange(4)).all()


def test_semdedup_with_kmeans_accepts_one_cluster_per_point():
    rng = np.random.default_rng(0)
    x = unit(rng, 6)
    assert semdedup(x, n_clusters=6).all()  # n_clusters = n is allowed; no pair shares a cluster
    with pytest.raises(ValueError, match="clusters must be one label per row"):
        semdedup(x, n_clusters=1, clusters=np.zeros(5, int))


def test_pruning_keeps_a_point_exactly_as_close_as_the_reference():
    # s_R(q) = 1 (q itself is in R); a copy of q in L is not *more* similar: kept
    large = np.stack([E[0], E[1], E[2]])
    keep, s_ref = similarity_gap_prune(large, E[[0]], E[[0, 3]], backend="torch")
    assert s_ref.tolist() == [1.0] and keep.all()
    # R only at 45°: the copy (similarity 1 > cos 45°) goes, the orthogonal points stay
    ref = np.array([[1.0, 0.0, 1.0, 0.0]])
    keep, s_ref = similarity_gap_prune(large, E[[0]], ref, backend="torch")
    assert s_ref == pytest.approx([np.sqrt(0.5)]) and keep.tolist() == [False, True, True]


@pytest.mark.parametrize("backend", ["faiss", "torch"])
def test_pruning_in_chunks_is_pruning_at_once(backend):
    rng = np.random.default_rng(1)
    reference, test = unit(rng, 40), unit(rng, 12)
    large = np.vstack([unit(rng, 90), test[:5] + 0.05 * rng.normal(size=(5, 8))])
    keep, s_ref = similarity_gap_prune(large, test, reference, backend=backend)
    chunked, s_chunked = similarity_gap_prune(large, test, reference, backend=backend, chunk=7)
    np.testing.assert_array_equal(keep, chunked)
    np.testing.assert_array_equal(s_ref, s_chunked)
    expected = ~((normalise(large) @ normalise(test).T) > s_ref[None, :]).any(axis=1)
    np.testing.assert_array_equal(keep, expected)
    assert not keep[-5:].any() and keep.sum() < len(large)


def test_torch_backend_needs_no_faiss(monkeypatch):
    rng = np.random.default_rng(2)
    base, queries = unit(rng, 30), unit(rng, 5)
    expected = nearest(base, queries, 2)

    def no_faiss():
        raise ValueError("no faiss here")

    monkeypatch.setattr(similarity, "_faiss", no_faiss)
    sims, idx = nearest(base, queries, 2, backend="torch")
    np.testing.assert_array_equal(idx, expected[1])
    assert idx.dtype == np.int64
    np.testing.assert_allclose(sims, expected[0], atol=1e-6)
    keep, _ = similarity_gap_prune(base, queries, base[:3], backend="torch")
    assert keep.dtype == bool and keep.shape == (30,)


@pytest.mark.parametrize("approximate", [False, True])
def test_nearest_returns_cosines_for_every_k_up_to_the_base_size(approximate):
    rng = np.random.default_rng(3)
    base, queries = unit(rng, 20) * 4, unit(rng, 6)
    sims, idx = nearest(base, queries, 20, approximate=approximate)  # k = len(base) is allowed
    full = normalise(queries) @ normalise(base).T
    np.testing.assert_allclose(sims, np.take_along_axis(full, idx, 1), atol=1e-5)
    assert idx.dtype == np.int64 and sorted(idx[0].tolist()) == list(range(20))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: nearest(np.zeros((2, 3)), np.ones((2, 3))), "^base has 2 all-zero"),
        (lambda: nearest(np.ones((2, 3)), np.zeros((2, 3))), "^queries has 2 all-zero"),
        (lambda: nearest(np.ones((2, 3)), np.ones((2, 4))), "^base and queries have"),
        (lambda: semdedup(np.zeros((2, 3)), n_clusters=1), "^embeddings has 2 all-zero"),
        (lambda: similarity_gap_prune(np.zeros((1, 2)), E[:1, :2], E[:1, :2]), "^large set has"),
        (lambda: similarity_gap_prune(E[:1, :2], np.zeros((1, 2)), E[:1, :2]), "^test set has"),
        (
            lambda: similarity_gap_prune(E[:1], E[:1, :3], E[:1, :3]),
            "^large set and test set have different dimensions: 4 and 3",
        ),
        (lambda: normalise(np.zeros((0, 3))), "non-empty"),
        (lambda: normalise(np.zeros((3, 0))), "non-empty"),
        (lambda: semdedup(np.eye(3), n_clusters=1, eps=2.0), "eps must be in"),
    ],
)
def test_errors_name_the_input_at_fault(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_one_row_and_one_column_are_enough():
    np.testing.assert_array_equal(normalise([[-2.0]]), [[-1.0]])
    sims, idx = nearest([[1.0, 0.0], [0.0, 1.0]], [[2.0, 1.0]])  # default k = 1
    assert sims.shape == idx.shape == (1, 1) and idx[0, 0] == 0


def test_default_search_is_exact_not_approximate():
    rng = np.random.default_rng(4)
    # random 64-dim points: HNSW misses about 1 in 10 nearest neighbours here, exact search none
    base, queries = unit(rng, 2000, d=64), unit(rng, 100, d=64)
    expected = np.argmax(queries @ base.T, axis=1)
    np.testing.assert_array_equal(nearest(base, queries)[1][:, 0], expected)


def test_semdedup_goes_on_after_a_lone_point_and_returns_a_boolean_mask(monkeypatch):
    x = np.stack([E[2], E[0], E[0], E[1], E[1], E[0]])
    keep = semdedup(x, n_clusters=2, clusters=np.array([0, 1, 1, 1, 1, 1]))
    assert keep.dtype == bool
    assert keep.tolist() == [True, True, False, True, False, False]
    # in chunks of 2 rows: the same rule
    monkeypatch.setattr(similarity, "_CHUNK", 2)
    assert semdedup(x, n_clusters=2, clusters=np.array([0, 1, 1, 1, 1, 1])).tolist() == (
        keep.tolist()
    )
    # the lone point (label 0) comes first; one k-means cluster is allowed: later copies go
    assert semdedup(x, n_clusters=1).tolist() == [True, True, False, True, False, False]


def test_kmeans_is_faiss_spherical_kmeans_or_scikit_learns(monkeypatch):
    import faiss
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(5)
    x = normalise(rng.normal(size=(200, 8)))  # no cluster structure: labels depend on settings
    reference = faiss.Kmeans(8, 6, niter=20, seed=7, spherical=True, min_points_per_centroid=1)
    reference.train(x)
    np.testing.assert_array_equal(
        similarity._kmeans(x, 6, seed=7), reference.index.search(x, 1)[1][:, 0]
    )
    real_import = similarity.importlib.import_module

    def without_faiss(name, *args):
        if name == "faiss":
            raise ImportError(name)
        return real_import(name, *args)

    monkeypatch.setattr(similarity.importlib, "import_module", without_faiss)
    expected = KMeans(6, n_init=1, random_state=7).fit_predict(x)  # one init, not the best of 2
    np.testing.assert_array_equal(similarity._kmeans(x, 6, seed=7), expected)
