"""Nearest-neighbour similarity, SemDeDup deduplication and similarity-gap pruning: hand cases,
the guarantees the rules promise, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from identifiable.analysis.similarity import nearest, normalise, semdedup, similarity_gap_prune


def unit(rng, n, d=16):
    x = rng.normal(size=(n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("backend", ["faiss", "torch"])
def test_nearest_is_the_brute_force_cosine_top_k(backend):
    rng = np.random.default_rng(0)
    base, queries = rng.normal(size=(500, 16)) * 3, rng.normal(size=(40, 16))
    sims, idx = nearest(base, queries, 3, backend=backend, chunk=7)
    full = normalise(queries) @ normalise(base).T
    expected = np.argsort(-full, axis=1)[:, :3]
    np.testing.assert_array_equal(idx, expected)
    np.testing.assert_allclose(sims, np.take_along_axis(full, expected, 1), atol=1e-5)
    assert (np.diff(sims, axis=1) <= 1e-7).all()  # most similar first


def test_approximate_index_finds_nearly_all_exact_neighbours():
    rng = np.random.default_rng(1)
    base, queries = unit(rng, 3000), unit(rng, 200)
    exact = nearest(base, queries)[1][:, 0]
    approx = nearest(base, queries, approximate=True)[1][:, 0]
    assert np.mean(exact == approx) >= 0.95


def test_a_planted_copy_is_its_queries_nearest_neighbour():
    rng = np.random.default_rng(2)
    base = unit(rng, 1000)
    queries = base[[5, 17, 900]] * 2.5  # scale does not matter for the cosine
    sims, idx = nearest(base, queries)
    assert idx[:, 0].tolist() == [5, 17, 900]
    np.testing.assert_allclose(sims[:, 0], 1.0, atol=1e-6)


def test_semdedup_keeps_one_copy_of_each_duplicate_group_by_hand():
    e = np.eye(4)
    near = e[0] + 0.01 * e[1]  # cosine 0.99995 with e0
    x = np.stack([e[0], e[1], near, e[2], e[0] * 3, e[3]])
    keep = semdedup(x, n_clusters=1, clusters=np.zeros(6, int), eps=0.124)
    # row 2 and row 4 are copies of row 0 (earlier): removed; the first of each group stays
    assert keep.tolist() == [True, True, False, True, False, True]
    # each cluster on its own: a copy in another cluster is not compared
    keep = semdedup(x, n_clusters=2, clusters=np.array([0, 0, 1, 0, 1, 0]))
    assert keep.tolist() == [True, True, True, True, False, True]
    # a removed point still counts for later ones (the reference's rule): a chain a ~ b ~ c
    a = np.array([1.0, 0.0])
    b = np.array([np.cos(0.4), np.sin(0.4)])  # 0.921 to a: a duplicate at ε = 0.124
    c = np.array([np.cos(0.8), np.sin(0.8)])  # 0.921 to b, 0.697 to a
    assert semdedup(np.stack([a, b, c]), n_clusters=1, clusters=np.zeros(3, int)).tolist() == [
        True, False, False]  # fmt: skip


def test_semdedup_with_kmeans_removes_planted_duplicates_only():
    rng = np.random.default_rng(3)
    distinct = unit(rng, 400, d=32)
    copies = distinct[:50] + 0.01 * rng.normal(size=(50, 32))
    keep = semdedup(np.vstack([distinct, copies]), n_clusters=8, seed=0)
    assert keep[:400].all() and not keep[400:].any()


def test_pruning_closes_the_similarity_gap_point_by_point():
    rng = np.random.default_rng(4)
    reference, test = unit(rng, 300), unit(rng, 60)
    large = np.vstack([unit(rng, 2000), test[:20] + 0.05 * rng.normal(size=(20, 16))])
    keep, s_ref = similarity_gap_prune(large, test, reference)
    s_ref_direct = nearest(reference, test)[0][:, 0]
    np.testing.assert_allclose(s_ref, s_ref_direct, rtol=1e-6)
    s_pruned = nearest(large[keep], test)[0][:, 0]
    assert (s_pruned <= s_ref + 1e-6).all()  # the guarantee, for every test point
    assert not keep[-20:].any()  # the planted near-duplicates are gone
    # and only what had to go went: every removed point beats some query's reference NN
    removed = normalise(large[~keep]) @ normalise(test).T
    assert (removed > s_ref[None, :]).any(axis=1).all()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: nearest(np.zeros((3, 4)), np.ones((2, 4))), "3 all-zero row"),
        (lambda: nearest(np.ones((3, 4)), np.ones((2, 5))), "different dimensions: 4 and 5"),
        (lambda: nearest(np.ones((3, 4)), np.full((2, 4), np.nan)), "NaN/inf in 2 row"),
        (lambda: nearest(np.ones((3, 4)), np.ones((2, 4)), 4), "k must be in 1..3"),
        (lambda: nearest(np.ones((3, 4)), np.ones((2, 4)), backend="gpu"), "backend must be"),
        (lambda: semdedup(np.eye(3), n_clusters=5), "n_clusters must be in 1..3"),
        (lambda: semdedup(np.eye(3), n_clusters=1, eps=3.0), "eps must be in"),
        # 1 − ε < 0 would drop every cluster's first point (its "earlier" similarity is 0)
        (lambda: semdedup(np.eye(3), n_clusters=1, eps=1.5), "eps must be in \\[0, 1\\]"),
        (lambda: nearest(np.ones(3), np.ones((2, 3))), "non-empty \\(n, d\\) array"),
    ],
)
def test_bad_input_is_one_line(call, message):
    with pytest.raises(ValueError, match=message) as error:
        call()
    assert "\n" not in str(error.value)
