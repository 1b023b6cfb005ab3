"""Baselines for bivariate causal structure, run as the Causal-de-Finetti reference runs them.

Each gets the *pooled* draws (rows [x, y], environments forgotten) and returns an index into
:data:`~identifiable.worlds.exchangeable.STRUCTURES` (X → Y, Y → X, independent) or ``None``
(no structure; counted wrong). The reference (syguo96/Causal-de-Finetti ``src/models``, read for
it) maps each method's graph as follows, and so do we with ``mapping="reference"``:

* ``direct_lingam`` — Shimizu et al. (2011), JMLR; ``lingam.DirectLiNGAM()`` with its defaults,
  B = ``adjacency_matrix_`` (B_ij ≠ 0 ⇔ j → i): only B₂₁ ≠ 0 → X → Y, only B₁₂ ≠ 0 → Y → X,
  B = 0 → independent, both → ``None``.
* ``fci`` — Spirtes et al. (2000); causal-learn's ``fci`` with Fisher-z, α = 0.05: the reference
  reads only the edge i < j (tail → arrow or circle → arrow), so it can never say Y → X; with two
  variables the PAG is o–o or empty, so as run it always answers *independent*.
* ``ges`` — Chickering (2002); causal-learn's ``ges`` with the BIC score: only i < j with a
  directed edge; a two-variable CPDAG is never oriented, so as run it always answers
  *independent*.

``mapping="symmetric"`` (ours) reads both directions and calls an undirected, bidirected or
circle edge undecided (``None``); the reference's degenerate answers are kept as the default for
parity, and said so in the experiment. NOTEARS (Zheng et al. 2018) is left out: the reference's
implementation (causalnex) needs Python < 3.11 and no maintained package provides it.
``random_guess`` draws uniformly from the three structures (chance 1/3).

Needs the optional extras ``causal-discovery`` (causal-learn: FCI, GES) and ``lingam``
(DirectLiNGAM; kept apart because lingam caps scipy at 1.13.1, and installing it downgrades
scipy and numpy for everything else).
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import torch

from identifiable._validation import as_2d_array
from identifiable.causal.causal_de_finetti import require

__all__ = ["BASELINES", "direct_lingam", "fci", "ges", "random_guess"]

MAPPINGS = ("reference", "symmetric")


def _pooled(data) -> np.ndarray:
    pooled = as_2d_array("pooled data", data, min_rows=4)
    if pooled.shape[1] != 2:
        raise ValueError(f"pooled data must have 2 columns [x, y], got shape {pooled.shape}")
    return pooled


def _check_mapping(mapping: str) -> None:
    if mapping not in MAPPINGS:
        raise ValueError(f"mapping must be one of {', '.join(MAPPINGS)}, got {mapping!r}")


def direct_lingam(data, *, mapping: str = "reference", seed: int = 0) -> int | None:
    """DirectLiNGAM's structure (module docs); ``mapping`` does not change it (B is directed)."""
    _check_mapping(mapping)
    lingam = require("lingam", "lingam", extra="lingam")
    model = lingam.DirectLiNGAM(random_state=seed).fit(_pooled(data))
    edges = model.adjacency_matrix_ != 0
    if edges[1, 0] and not edges[0, 1]:
        return 0
    if edges[0, 1] and not edges[1, 0]:
        return 1
    return 2 if not edges.any() else None


def _from_graph(graph: np.ndarray, mapping: str) -> int | None:
    """causal-learn's endpoint matrix (G[j, i] = 1 and G[i, j] = −1 ⇔ i → j; −1/−1 undirected;
    2 a circle) → structure."""
    if mapping == "reference":  # only i < j: tail→arrow or circle→arrow; never Y → X
        if (graph[0, 1] == -1 and graph[1, 0] == 1) or (graph[0, 1] == 2 and graph[1, 0] == 1):
            return 0
        return 2
    if graph[0, 1] == 0 and graph[1, 0] == 0:
        return 2
    if graph[0, 1] == -1 and graph[1, 0] == 1:
        return 0
    if graph[1, 0] == -1 and graph[0, 1] == 1:
        return 1
    return None  # undirected, bidirected or circle marks: undecided


def fci(data, *, mapping: str = "reference", alpha: float = 0.05) -> int | None:
    """FCI's structure (Fisher-z test at ``alpha``; module docs)."""
    _check_mapping(mapping)
    module = require("causallearn.search.ConstraintBased.FCI", "causal-learn")
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        graph, _ = module.fci(_pooled(data), independence_test_method="fisherz", alpha=alpha,
                              show_progress=False, verbose=False)  # fmt: skip
    return _from_graph(np.asarray(graph.graph), mapping)


def ges(data, *, mapping: str = "reference") -> int | None:
    """GES's structure (BIC score; module docs)."""
    _check_mapping(mapping)
    module = require("causallearn.search.ScoreBased.GES", "causal-learn")
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        record = module.ges(_pooled(data), score_func="local_score_BIC")
    return _from_graph(np.asarray(record["G"].graph), mapping)


def random_guess(data, *, generator: torch.Generator) -> int:
    """A uniform draw from the three structures (chance: 1/3)."""
    _pooled(data)
    return int(torch.randint(3, (1,), generator=generator))


BASELINES = {"direct_lingam": direct_lingam, "fci": fci, "ges": ges}
