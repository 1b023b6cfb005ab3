"""The Causal-de-Finetti rule and test, and the structure baselines: the finer points
tests/causal/test_causal_de_finetti.py leaves open (found by mutation testing): the rule's
defaults and its inclusive boundaries, the three p-values being causal-learn's KCI with the gamma
approximation, the undecided outcome, the input checks at their edges; for the baselines (in this
file because it is their mutation oracle too) the reference's and our graph mappings, FCI's level
α, quiet runs, seeding and the pooled-data checks."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
import torch

from identifiable.causal.causal_de_finetti import CausalDeFinetti, decide
from identifiable.causal.structure_baselines import (
    _from_graph,
    direct_lingam,
    fci,
    ges,
    random_guess,
)
from identifiable.worlds.exchangeable import BivariateExchangeableWorld

pytest.importorskip("causallearn", reason="needs the causal-discovery extra (causal-learn)")

ALPHA = 0.05


def iid_data(seed=0):
    """i.i.d. X → Y data (60 environments): seed 0 gives no clean pattern (p ≈ 0.18, 0.11,
    0.03: both directions pass, independence fails)."""
    world = BivariateExchangeableWorld(n_environments=60, variability="none", structure="x->y")
    data = world.sample(generator=torch.Generator().manual_seed(seed))
    return data.x, data.y


def test_the_rule_defaults_to_level_005_with_the_fallback():
    """decide(p) without alpha/fallback: all three p ≥ 0.05 is 'independent' (even where the
    argmax would say X → Y), and no clean pattern falls back to the largest p."""
    assert decide(0.9, 0.5, 0.1) == 2
    assert decide(0.01, 0.02, 0.03) == 2


@pytest.mark.parametrize(
    "p, expected",
    [
        ((ALPHA, 0.5, 0.01), 1),  # Y → X: p_xy = α counts as ≤ α
        ((0.01, ALPHA, 0.01), 1),  # ... p_yx = α as ≥ α
        ((0.01, 0.5, ALPHA), 1),  # ... p_ind = α as ≤ α
        ((ALPHA, 0.5, 0.5), 2),  # independent: each p = α counts as ≥ α
        ((0.5, ALPHA, 0.5), 2),
        ((0.5, 0.5, ALPHA), 2),
    ],
)
def test_the_rule_is_inclusive_at_alpha(p, expected):
    """A p-value exactly at α satisfies both '≤ α' and '≥ α' (the reference's comparisons);
    without the fallback a non-inclusive rule would leave these undecided."""
    assert decide(*p, alpha=ALPHA, fallback=False) == expected


def test_p_values_are_causal_learns_kci_with_the_gamma_approximation():
    """p of X₁⫫Y₂|X₂, Y₁⫫X₂|Y₂ and X₁⫫Y₁, computed with causal-learn directly."""
    from causallearn.utils.KCI.KCI import KCI_CInd, KCI_UInd  # noqa: PLC0415

    x, y = iid_data(1)
    x1, x2, y1, y2 = (v[:, None] for v in (x[:, 0], x[:, 1], y[:, 0], y[:, 1]))
    expected = [
        KCI_CInd(approx=True).compute_pvalue(x1, y2, x2)[0],
        KCI_CInd(approx=True).compute_pvalue(y1, x2, y2)[0],
        KCI_UInd(approx=True).compute_pvalue(x1, y1)[0],
    ]
    fit = CausalDeFinetti().fit(x, y)
    np.testing.assert_allclose(fit.p_values_, expected, rtol=1e-12)
    assert fit.structure_ == decide(*expected)


def test_without_the_fallback_an_unclear_pattern_is_undecided():
    """No clean pattern: structure_ and structure_name_ are None with fallback=False, the
    largest p's structure with the fallback."""
    x, y = iid_data(0)
    undecided = CausalDeFinetti(fallback=False).fit(x, y)
    assert decide(*undecided.p_values_, fallback=False) is None
    assert undecided.structure_ is None and undecided.structure_name_ is None
    fallback = CausalDeFinetti().fit(x, y)
    assert fallback.structure_ == int(np.argmax(fallback.p_values_))
    assert fallback.structure_name_ == ("x->y", "y->x", "independent")[fallback.structure_]


def test_input_checks_at_their_edges():
    """alpha must lie strictly inside (0, 1); 4 environments are enough, 1 is refused as too few
    environments (rows), not as too few samples; mismatched rows name x and y."""
    x, y = iid_data(0)
    for alpha in (0.0, 1.0):
        with pytest.raises(ValueError, match=r"alpha must be in \(0, 1\)"):
            CausalDeFinetti(alpha=alpha).fit(x, y)
    assert CausalDeFinetti().fit(x[:4], y[:4]).p_values_.shape == (3,)
    with pytest.raises(ValueError, match=r"need at least 4 environments \(rows\), got 1"):
        CausalDeFinetti().fit(x[:1], y[:1])
    with pytest.raises(ValueError, match="x and y must have the same number of samples, got 6"):
        CausalDeFinetti().fit(x[:6], y[:5])


def test_without_causal_learn_the_error_names_it_and_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "causallearn.utils.KCI.KCI", None)  # import now fails
    x, y = iid_data(0)
    with pytest.raises(ValueError, match=r"causal-learn is needed.*identifiable\[causal-discovery"):
        CausalDeFinetti().fit(x, y)


# -- structure baselines ---------------------------------------------------------------------------
def correlated(r=0.164, n=200):
    """n rows [x, y] with sample correlation exactly r: Fisher's z = atanh(r)·√(n − 3) ≈ 2.32,
    a two-sided p ≈ 0.020 — dependent at α = 0.05, independent at α = 0.01."""
    rng = np.random.default_rng(0)
    x, e = rng.normal(size=n), rng.normal(size=n)
    x = (x - x.mean()) / x.std()
    e = e - e.mean()
    e = e - (e @ x) / (x @ x) * x
    e = e / e.std()
    return np.c_[x, r * x + np.sqrt(1 - r * r) * e]


def test_circle_arrow_and_bidirected_edges_by_mapping():
    """The reference reads o→ (G[0,1] = 2, G[1,0] = 1) as X → Y and a bidirected edge as
    independent; the symmetric mapping calls both undecided."""
    circle_arrow = np.array([[0, 2], [1, 0]])
    bidirected = np.array([[0, 1], [1, 0]])
    assert _from_graph(circle_arrow, "reference") == 0
    assert _from_graph(bidirected, "reference") == 2
    assert _from_graph(circle_arrow, "symmetric") is None
    assert _from_graph(bidirected, "symmetric") is None


def test_fci_tests_at_the_given_level_and_maps_as_asked():
    """p ≈ 0.02: at α = 0.05 FCI keeps the (unoriented) edge — undecided when read
    symmetrically, 'independent' as the reference reads it; at α = 0.01 the edge is gone."""
    data = correlated()
    assert fci(data, mapping="symmetric") is None and fci(data) == 2
    assert fci(data, mapping="symmetric", alpha=0.01) == 2


def test_ges_maps_as_asked():
    """GES's two-variable CPDAG is an undirected edge for dependent data: undecided read
    symmetrically, 'independent' as the reference reads it."""
    data = correlated(r=0.5)
    assert ges(data, mapping="symmetric") is None and ges(data) == 2


def test_baselines_run_quietly(capsys):
    """No progress bar or log on stdout/stderr from FCI or GES."""
    data = correlated()
    fci(data)
    ges(data)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_direct_lingam_maps_its_adjacency_as_the_reference(monkeypatch):
    """B_ij ≠ 0 ⇔ j → i: only B₂₁ → X → Y, only B₁₂ → Y → X, B = 0 → independent, both →
    undecided (a stand-in lingam module whose DirectLiNGAM returns each B; no lingam needed)."""
    answers = {}
    for name, b in {"x->y": [[0, 0], [0.7, 0]], "y->x": [[0, -2], [0, 0]],
                    "none": [[0, 0], [0, 0]], "both": [[0, 1], [1, 0]]}.items():  # fmt: skip

        class Stand:
            def __init__(self, random_state=None, b=b):
                self.adjacency_matrix_ = np.array(b, dtype=float)

            def fit(self, data):
                return self

        stand_in = types.ModuleType("lingam")
        stand_in.DirectLiNGAM = Stand
        monkeypatch.setitem(sys.modules, "lingam", stand_in)
        answers[name] = direct_lingam(correlated())
    assert answers == {"x->y": 0, "y->x": 1, "none": 2, "both": None}


def test_random_guess_comes_from_the_generator():
    """The same generator seed gives the same guesses whatever the global RNG did."""
    data = correlated()
    with torch.random.fork_rng():
        guesses = []
        for global_seed in (1, 2):
            torch.manual_seed(global_seed)
            guesses.append([random_guess(data, generator=torch.Generator().manual_seed(s))
                            for s in range(20)])  # fmt: skip
    assert guesses[0] == guesses[1] and set(guesses[0]) == {0, 1, 2}


def test_pooled_data_need_four_rows_and_missing_packages_are_named(monkeypatch):
    """4 pooled rows are enough, 3 are refused naming the pooled data; without causal-learn or
    lingam the error names the missing package."""
    rows = correlated()
    assert random_guess(rows[:4], generator=torch.Generator()) in (0, 1, 2)
    with pytest.raises(ValueError, match="pooled data needs at least 4 samples, got 3"):
        random_guess(rows[:3], generator=torch.Generator())
    for module in ("causallearn.search.ConstraintBased.FCI", "causallearn.search.ScoreBased.GES"):
        monkeypatch.setitem(sys.modules, module, None)
    for baseline in (fci, ges):
        with pytest.raises(ValueError, match="causal-learn is needed"):
            baseline(rows)
    monkeypatch.setitem(sys.modules, "lingam", None)
    with pytest.raises(ValueError, match="lingam is needed"):
        direct_lingam(rows)
