"""Train–test similarity of embedding sets: nearest neighbours, SemDeDup-style deduplication and
similarity-gap pruning.

Mayilvahanan*, Wiedemer*, Rusak, Bethge, Brendel (2024), "Does CLIP's Generalization Performance
Mainly Stem from High Train-Test Similarity?", ICLR, arXiv:2310.09562 (official code
brendel-group/clip-ood, read for the rules). Similarity is the cosine, the inner product of
L2-normalised embeddings.

* **Nearest-neighbour similarity** of each query q to a base set B: s_B(q) = max_{b∈B} ⟨q, b⟩
  (top-k with indices). Exact search with faiss's inner-product index (``faiss-cpu``, the
  ``similarity`` extra), queries in chunks so memory stays at the base set plus one chunk's
  results; ``approximate=True`` uses an HNSW graph for very large bases; ``backend="torch"`` is
  a chunked matrix product (no faiss needed).
* **Deduplication** (SemDeDup, Abbas et al. 2023, as the reference runs it): k-means clusters of
  the embeddings; inside a cluster, in index order, a point is kept iff its largest similarity to
  the points *before it* in the cluster is ≤ 1 − ε (the reference's lower-triangular similarity
  matrix, ε = 0.124), so one copy of each group of near-duplicates survives. A removed point still
  counts for the points after it, as in the reference.
* **Similarity-gap pruning**: with s_R(q) each test point's nearest-neighbour similarity to a
  small reference set R (ImageNet-train in the paper), every point x of the large set L with
  ⟨q, x⟩ > s_R(q) for some test point q is removed (union over queries). Afterwards every test
  point is at most as close to the pruned L as to R: s_{L'}(q) ≤ s_R(q).
"""

from __future__ import annotations

import importlib
from typing import Literal

import numpy as np
import torch

__all__ = ["nearest", "normalise", "semdedup", "similarity_gap_prune"]

_CHUNK = 8192


def _faiss():
    try:
        return importlib.import_module("faiss")
    except ImportError as error:
        raise ValueError(
            "nearest-neighbour search with faiss needs faiss-cpu: pip install "
            "'identifiable[similarity]' (or pass backend='torch')"
        ) from error


def normalise(x, name: str = "embeddings") -> np.ndarray:
    """Rows scaled to unit L2 norm (float32, C-contiguous); one-line errors for bad input."""
    array = np.asarray(x, dtype=np.float32)
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty (n, d) array, got shape {array.shape}")
    if not np.isfinite(array).all():
        rows = np.flatnonzero(~np.isfinite(array).all(axis=1))
        raise ValueError(f"{name} has NaN/inf in {len(rows)} row(s), the first row {rows[0]}")
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    if (norms == 0).any():
        raise ValueError(f"{name} has {int((norms == 0).sum())} all-zero row(s): no direction")
    return np.ascontiguousarray(array / norms)


def _same_width(a: np.ndarray, b: np.ndarray, names: tuple[str, str]) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{names[0]} and {names[1]} have different dimensions: {a.shape[1]} and {b.shape[1]}"
        )


def nearest(
    base,
    queries,
    k: int = 1,
    *,
    backend: Literal["faiss", "torch"] = "faiss",
    approximate: bool = False,
    chunk: int = _CHUNK,
) -> tuple[np.ndarray, np.ndarray]:
    """(similarities, indices), each (n_queries, k): the k most similar base points of every
    query, most similar first (cosine on L2-normalised rows)."""
    base = normalise(base, "base")
    queries = normalise(queries, "queries")
    _same_width(base, queries, ("base", "queries"))
    if not 1 <= k <= len(base):
        raise ValueError(f"k must be in 1..{len(base)} (the base set's size), got {k}")
    if backend == "faiss":
        faiss = _faiss()
        if approximate:
            index = faiss.IndexHNSWFlat(base.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexFlatIP(base.shape[1])
        index.add(base)
        parts = [index.search(queries[i : i + chunk], k) for i in range(0, len(queries), chunk)]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    if backend != "torch":
        raise ValueError(f"backend must be 'faiss' or 'torch', got {backend!r}")
    base_t = torch.from_numpy(base)
    sims, idx = [], []
    for i in range(0, len(queries), chunk):
        top = torch.topk(torch.from_numpy(queries[i : i + chunk]) @ base_t.T, k, dim=1)
        sims.append(top.values.numpy())
        idx.append(top.indices.numpy())
    return np.concatenate(sims), np.concatenate(idx).astype(np.int64)


def _kmeans(x: np.ndarray, n_clusters: int, seed: int) -> np.ndarray:
    """Cluster assignments of the (normalised) rows: spherical k-means (faiss when installed,
    else scikit-learn's k-means on the normalised rows)."""
    try:
        faiss = importlib.import_module("faiss")
    except ImportError:
        from sklearn.cluster import KMeans

        return KMeans(n_clusters, n_init=1, random_state=seed).fit_predict(x)
    kmeans = faiss.Kmeans(x.shape[1], n_clusters, niter=20, seed=seed, spherical=True,
                          verbose=False, min_points_per_centroid=1)  # fmt: skip
    kmeans.train(x)
    return kmeans.index.search(x, 1)[1][:, 0]


def semdedup(
    embeddings,
    *,
    n_clusters: int,
    eps: float = 0.124,
    seed: int = 0,
    clusters: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean keep-mask (n,) of SemDeDup deduplication (module docstring); ``clusters`` (n,)
    gives the cluster of each point instead of k-means."""
    x = normalise(embeddings)
    if not 0 <= eps <= 1:  # 1 − ε ≥ 0: a point with no earlier neighbour (similarity 0) stays
        raise ValueError(f"eps must be in [0, 1], got {eps}")
    if clusters is None:
        if not 1 <= n_clusters <= len(x):
            raise ValueError(f"n_clusters must be in 1..{len(x)}, got {n_clusters}")
        clusters = _kmeans(x, n_clusters, seed)
    clusters = np.asarray(clusters)
    if clusters.shape != (len(x),):
        raise ValueError(f"clusters must be one label per row, shape ({len(x)},)")
    keep = np.ones(len(x), dtype=bool)
    for label in np.unique(clusters):
        members = np.flatnonzero(clusters == label)  # index order, as the reference's files
        if len(members) < 2:
            continue
        inside = torch.from_numpy(x[members])
        for start in range(0, len(members), _CHUNK):
            rows = inside[start : start + _CHUNK] @ inside.T  # (chunk, m)
            # strictly lower triangle: point i against the points before it
            earlier = (
                torch.arange(len(members))[None, :] < (start + torch.arange(len(rows)))[:, None]
            )
            best = torch.where(earlier, rows, torch.zeros(())).amax(dim=1)  # 0 where none earlier
            keep[members[start : start + len(rows)]] = (best <= 1 - eps).numpy()
    return keep


def similarity_gap_prune(
    large,
    test,
    reference,
    *,
    backend: Literal["faiss", "torch"] = "faiss",
    chunk: int = _CHUNK,
    reference_similarity: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(keep-mask over ``large``, s_R of every test point): remove every large point more similar
    to some test point q than q's nearest neighbour in ``reference`` is (module docstring).
    ``reference_similarity``: s_R already computed (e.g. by :func:`nearest`), not searched again."""
    large = normalise(large, "large set")
    test = normalise(test, "test set")
    _same_width(large, test, ("large set", "test set"))
    if reference_similarity is None:
        threshold = nearest(reference, test, 1, backend=backend)[0][:, 0]
    else:
        threshold = np.asarray(reference_similarity, dtype=np.float32)
        if threshold.shape != (len(test),):
            raise ValueError(
                f"reference_similarity must have one value per test point ({len(test)},), "
                f"got shape {threshold.shape}"
            )
    test_t = torch.from_numpy(test)
    limit = torch.from_numpy(threshold)
    keep = np.ones(len(large), dtype=bool)
    for start in range(0, len(large), chunk):
        sims = torch.from_numpy(large[start : start + chunk]) @ test_t.T  # (chunk, n_test)
        keep[start : start + chunk] = ~(sims > limit[None, :]).any(dim=1).numpy()
    return keep, threshold
