"""What the disentanglement_lib metrics *mean*, checked against plain re-implementations.

Each metric is compared with its definition written out with loops and counters on small data;
then: a perfect representation scores the maximum, an independent one scores chance, mixing two
factors into two codes scores lower than keeping them apart, and each metric forgives exactly
what it claims (a permutation of codes for all; per-code *affine* maps for the equal-width
histograms of MIG and modularity — not any monotone map —; any strictly monotone map for DCI's
trees; signs where the score is symmetric).
"""

import itertools
import math
from collections import Counter

import numpy as np
import pytest
import torch
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import Lasso, LogisticRegression
from sklearn.svm import LinearSVC

from identifiable.metrics.disentanglement import (
    beta_vae_score,
    dci,
    factor_vae_score,
    mig,
    modularity_explicitness,
    sap,
)
from identifiable.worlds.factors import GridWorld, sample_factors


def grid(repeats=10, values=4, n_factors=3):
    """Every combination of the factor values, ``repeats`` times: factors exactly independent."""
    rows = list(itertools.product(range(values), repeat=n_factors))
    return np.array(rows * repeats)


def noisy_codes(f, seed=0, noise=0.4):
    """Codes that mostly follow one factor each, with a little leakage and noise."""
    rng = np.random.default_rng(seed)
    leak = np.eye(f.shape[1]) + 0.15 * rng.random((f.shape[1], f.shape[1]))
    return f @ leak + noise * rng.normal(size=f.shape)


def mixed(x):
    """Codes 0 and 1 rotated into each other: the two factors are no longer apart."""
    out = x.astype(float).copy()
    out[:, 0], out[:, 1] = x[:, 0] + x[:, 1], x[:, 0] - x[:, 1]
    return out


def split(n, fraction=2 / 3, seed=0):
    order = np.random.default_rng(seed).permutation(n)
    n_train = math.ceil(n * fraction)
    return order[:n_train], order[n_train:]


# -- references -------------------------------------------------------------------------------
def bins_reference(column, bins):
    """Equal-width bins from min to max, labels 1 … bins (the max in the last bin)."""
    low, high = min(column), max(column)
    width = (high - low) / bins
    return [1 + sum(1 for k in range(1, bins) if v >= low + k * width) for v in column]


def mi_reference(a, b):
    n = len(a)
    pa, pb, pab = Counter(a), Counter(b), Counter(zip(a, b, strict=True))
    return sum(c / n * math.log((c / n) / (pa[x] / n * pb[y] / n)) for (x, y), c in pab.items())


def entropy_reference(a):
    n = len(a)
    return -sum(c / n * math.log(c / n) for c in Counter(a).values())


def mi_matrix_reference(factors, codes, bins):
    binned = [bins_reference(list(codes[:, i]), bins) for i in range(codes.shape[1])]
    return [
        [mi_reference(binned[i], list(factors[:, j])) for j in range(factors.shape[1])]
        for i in range(codes.shape[1])
    ]


def mig_reference(factors, codes, bins=20):
    m = mi_matrix_reference(factors, codes, bins)
    gaps = []
    for j in range(factors.shape[1]):
        column = sorted((m[i][j] for i in range(codes.shape[1])), reverse=True)
        gaps.append((column[0] - column[1]) / entropy_reference(list(factors[:, j])))
    return sum(gaps) / len(gaps)


def sap_reference(factors, codes, continuous, seed=0):
    train, test = split(len(factors), seed=seed)
    gaps = []
    for j in range(factors.shape[1]):
        column = []
        for i in range(codes.shape[1]):
            z, v = codes[train, i], factors[train, j]
            if continuous:
                zc, vc = z - z.mean(), v - v.mean()
                column.append(sum(zc * vc) ** 2 / (sum(zc * zc) * sum(vc * vc)))
            else:
                svm = LinearSVC(C=0.01, class_weight="balanced", dual=False, random_state=seed)
                svm.fit(z[:, None], v)
                hits = svm.predict(codes[test, i][:, None]) == factors[test, j]
                column.append(sum(hits) / len(test))
        column.sort(reverse=True)
        gaps.append(column[0] - column[1])
    return sum(gaps) / len(gaps)


def one_minus_entropy(weights, base):
    p = [w + 1e-11 for w in weights]
    total = sum(p)
    return 1 - (-sum(q / total * math.log(q / total) for q in p) / math.log(base))


def dci_from_matrix(r):
    """D and C from an importance matrix r[code][factor], with loops."""
    codes, factors = len(r), len(r[0])
    total = sum(map(sum, r))
    d = sum(sum(r[i]) / total * one_minus_entropy(r[i], factors) for i in range(codes))
    columns = [[r[i][j] for i in range(codes)] for j in range(factors)]
    c = sum(sum(col) / total * one_minus_entropy(col, codes) for col in columns)
    return d, c


def dci_reference(factors, codes, seed=0):
    train, test = split(len(factors), seed=seed)
    r = [[0.0] * factors.shape[1] for _ in range(codes.shape[1])]
    acc_train, acc_test = [], []
    for j in range(factors.shape[1]):
        model = GradientBoostingClassifier(random_state=seed)
        model.fit(codes[train], factors[train, j])
        for i, importance in enumerate(model.feature_importances_):
            r[i][j] = abs(importance)
        acc_train.append(np.mean(model.predict(codes[train]) == factors[train, j]))
        acc_test.append(np.mean(model.predict(codes[test]) == factors[test, j]))
    d, c = dci_from_matrix(r)
    return d, c, np.mean(acc_train), np.mean(acc_test)


def auc_reference(positive, scores):
    """P(score of a positive > score of a negative), ties counting one half."""
    pos = [s for s, p in zip(scores, positive, strict=True) if p]
    neg = [s for s, p in zip(scores, positive, strict=True) if not p]
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in pos for b in neg)
    return wins / (len(pos) * len(neg))


def modularity_reference(factors, codes, bins=20, seed=0):
    train, test = split(len(factors), seed=seed)
    m = mi_matrix_reference(factors[train], codes[train], bins)
    per_code = []
    for row in m:
        squares = [v * v for v in row]
        theta = max(squares)
        delta = (sum(squares) - theta) / (theta * (len(row) - 1)) if theta > 0 else None
        per_code.append(0.0 if delta is None else 1 - delta)
    mean, std = codes[train].mean(0), codes[train].std(0)
    x = (codes - mean) / std
    explicit = {"train": [], "test": []}
    for j in range(factors.shape[1]):
        clf = LogisticRegression(solver="lbfgs", max_iter=1000, C=1.0)
        clf.fit(x[train], factors[train, j])
        for part, rows in (("train", train), ("test", test)):
            proba = clf.predict_proba(x[rows])
            aucs = [
                auc_reference(factors[rows, j] == c, list(proba[:, k]))
                for k, c in enumerate(clf.classes_)
            ]
            explicit[part].append(sum(aucs) / len(aucs))
    return (
        sum(per_code) / len(per_code),
        np.mean(explicit["train"]),
        np.mean(explicit["test"]),
    )


def codes_of(world, encode, factors):
    return encode(world.observe(factors, generator=torch.Generator())).numpy()


def beta_vae_reference(world, encode, batch_size, num_train, num_eval, seed=0):
    """One point at a time, with the draws in the documented order."""
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    n_factors = len(world.factor_sizes)

    def points(n):
        labels = rng.integers(n_factors, size=n)
        f1 = sample_factors(world, n * batch_size, generator=generator)
        f2 = sample_factors(world, n * batch_size, generator=generator)
        features = []
        for p, k in enumerate(labels):
            a = f1[p * batch_size : (p + 1) * batch_size]
            b = f2[p * batch_size : (p + 1) * batch_size].clone()
            b[:, k] = a[:, k]
            diff = np.abs(codes_of(world, encode, a) - codes_of(world, encode, b))
            features.append(diff.mean(axis=0))
        return np.array(features), labels

    x_train, y_train = points(num_train)
    x_eval, y_eval = points(num_eval)
    model = LogisticRegression(solver="lbfgs", max_iter=1000, C=1.0).fit(x_train, y_train)
    return np.mean(model.predict(x_train) == y_train), np.mean(model.predict(x_eval) == y_eval)


def factor_vae_reference(world, encode, batch_size, num_train, num_eval, num_var, threshold):
    """Upstream's loop, including its vote column = index among the *active* codes."""
    rng = np.random.default_rng(0)
    generator = torch.Generator().manual_seed(0)
    n_factors = len(world.factor_sizes)
    everything = sample_factors(world, num_var, generator=generator)
    variances = np.var(codes_of(world, encode, everything), axis=0, ddof=1)
    active = np.sqrt(variances) >= threshold

    def votes(n):
        labels = rng.integers(n_factors, size=n)
        f = sample_factors(world, n * batch_size, generator=generator)
        table = np.zeros((n_factors, len(variances)), dtype=np.int64)
        for p, k in enumerate(labels):
            batch = f[p * batch_size : (p + 1) * batch_size].clone()
            batch[:, k] = batch[0, k]
            local = np.var(codes_of(world, encode, batch), axis=0, ddof=1)
            table[k, np.argmin(local[active] / variances[active])] += 1
        return table

    train, evaluation = votes(num_train), votes(num_eval)
    classifier = np.argmax(train, axis=0)
    columns = np.arange(train.shape[1])
    return (
        train[classifier, columns].sum() / train.sum(),
        evaluation[classifier, columns].sum() / evaluation.sum(),
        int(active.sum()),
    )


# -- the metrics are their definitions ---------------------------------------------------------
def test_mig_matches_its_definition():
    f = np.random.default_rng(1).integers(0, 4, (400, 3))
    x = noisy_codes(f)
    assert mig(f, x) == pytest.approx(mig_reference(f, x), abs=1e-12)
    assert mig(f, x, bins=7) == pytest.approx(mig_reference(f, x, bins=7), abs=1e-12)


@pytest.mark.parametrize("continuous", [True, False])
def test_sap_matches_its_definition(continuous):
    f = np.random.default_rng(2).integers(0, 3, (300, 3))
    x = noisy_codes(f, seed=2)
    got = sap(f, x, continuous_factors=continuous)
    assert got == pytest.approx(sap_reference(f, x, continuous), abs=1e-12)


def test_dci_matches_its_definition():
    f = np.random.default_rng(3).integers(0, 3, (240, 2))
    x = noisy_codes(f, seed=3)
    got = dci(f, x)
    d, c, acc_train, acc_test = dci_reference(f, x)
    assert got["dci_disentanglement"] == pytest.approx(d, abs=1e-9)
    assert got["dci_completeness"] == pytest.approx(c, abs=1e-9)
    assert got["dci_informativeness_train"] == pytest.approx(acc_train, abs=1e-12)
    assert got["dci_informativeness_test"] == pytest.approx(acc_test, abs=1e-12)


def test_dci_lasso_matches_its_definition():
    f = np.random.default_rng(4).integers(0, 4, (300, 3))
    x = noisy_codes(f, seed=4)
    train, test = split(300)
    mx, sx = x[train].mean(0), x[train].std(0)
    mf, sf = f[train].mean(0), f[train].std(0)
    xs, fs = (x - mx) / sx, (f - mf) / sf
    r = [[0.0] * 3 for _ in range(3)]
    r2_train, r2_test = [], []
    for j in range(3):
        model = Lasso(alpha=0.05).fit(xs[train], fs[train, j])
        for i in range(3):
            r[i][j] = abs(model.coef_[i])
        for rows, out in ((train, r2_train), (test, r2_test)):
            residual = fs[rows, j] - model.predict(xs[rows])
            out.append(1 - sum(residual**2) / sum((fs[rows, j] - fs[rows, j].mean()) ** 2))
    d, c = dci_from_matrix(r)
    got = dci(f, x, importance="lasso", lasso_alpha=0.05)
    assert got["dci_disentanglement"] == pytest.approx(d, abs=1e-9)
    assert got["dci_completeness"] == pytest.approx(c, abs=1e-9)
    assert got["dci_informativeness_train"] == pytest.approx(np.mean(r2_train), abs=1e-9)
    assert got["dci_informativeness_test"] == pytest.approx(np.mean(r2_test), abs=1e-9)


def test_modularity_and_explicitness_match_their_definitions():
    f = np.random.default_rng(5).integers(0, 3, (240, 3))
    x = noisy_codes(f, seed=5)
    got = modularity_explicitness(f, x)
    modularity, explicit_train, explicit_test = modularity_reference(f, x)
    assert got["modularity"] == pytest.approx(modularity, abs=1e-12)
    assert got["explicitness_train"] == pytest.approx(explicit_train, abs=1e-9)
    assert got["explicitness_test"] == pytest.approx(explicit_test, abs=1e-9)


# the sampler metrics: a world with a real mixing, an encoder with a dead code
WORLD = GridWorld((3, 4, 5), seed=0)
WEIGHTS = torch.tensor(np.random.default_rng(6).normal(size=(3, 4)))


def generic_encoder(observations):
    codes = torch.tanh(observations.double() @ WEIGHTS)
    return torch.cat([codes, torch.zeros(len(codes), 1, dtype=torch.float64)], dim=1)


def test_beta_vae_matches_its_definition():
    budgets = dict(batch_size=6, num_train=150, num_eval=80)
    got = beta_vae_score(WORLD, generic_encoder, **budgets)
    train, evaluation = beta_vae_reference(WORLD, generic_encoder, **budgets)
    assert got["beta_vae_train_accuracy"] == pytest.approx(train, abs=1 / 150)
    assert got["beta_vae_eval_accuracy"] == pytest.approx(evaluation, abs=1 / 80)


def test_factor_vae_matches_its_definition_and_upstreams_relabelled_votes():
    budgets = dict(batch_size=6, num_train=150, num_eval=80)
    got = factor_vae_score(
        WORLD, generic_encoder, num_variance_estimate=300, prune_threshold=0.05, **budgets
    )
    train, evaluation, active = factor_vae_reference(
        WORLD, generic_encoder, num_var=300, threshold=0.05, **budgets
    )
    assert got["factor_vae_train_accuracy"] == pytest.approx(train, abs=1e-12)
    assert got["factor_vae_eval_accuracy"] == pytest.approx(evaluation, abs=1e-12)
    assert got["factor_vae_num_active_dims"] == active == 4  # the dead code is pruned


# -- perfect, useless, mixed -------------------------------------------------------------------
def test_perfect_codes_score_the_maximum():
    f = grid()  # every combination equally often: the other codes carry exactly 0 nats
    x = f.astype(float)
    assert mig(f, x) == pytest.approx(1.0, abs=1e-12)
    assert sap(f, x, continuous_factors=True) > 0.95
    scores = modularity_explicitness(f, x)
    assert scores["modularity"] > 0.999  # the train part of the grid is nearly balanced
    assert scores["explicitness_test"] > 0.99
    scores = dci(f, x)
    assert scores["dci_disentanglement"] > 0.99 and scores["dci_completeness"] > 0.99
    assert scores["dci_informativeness_test"] == 1.0


def test_independent_codes_score_chance():
    f = np.random.default_rng(7).integers(0, 4, (1500, 3))
    x = np.random.default_rng(8).normal(size=(1500, 3))
    assert mig(f, x) < 0.03
    assert sap(f, x) < 0.05 and sap(f, x, continuous_factors=True) < 0.01
    assert modularity_explicitness(f, x)["explicitness_test"] == pytest.approx(0.5, abs=0.05)
    assert dci(f[:600], x[:600])["dci_informativeness_test"] == pytest.approx(0.25, abs=0.06)


def test_mixing_two_factors_scores_lower_than_keeping_them_apart():
    f = np.random.default_rng(9).integers(0, 4, (600, 3))
    x = noisy_codes(f, seed=9, noise=0.2)
    m = mixed(x)
    assert mig(f, m) < mig(f, x) - 0.3
    assert sap(f, m, continuous_factors=True) < sap(f, x, continuous_factors=True) - 0.3
    assert sap(f, m) < sap(f, x)
    apart, together = modularity_explicitness(f, x), modularity_explicitness(f, m)
    assert together["modularity"] < apart["modularity"] - 0.1
    # explicitness asks only that a linear read-out exists, which a rotation keeps
    assert together["explicitness_test"] == pytest.approx(apart["explicitness_test"], abs=0.01)
    apart, together = dci(f[:300], x[:300]), dci(f[:300], m[:300])
    assert together["dci_disentanglement"] < apart["dci_disentanglement"] - 0.2


def inverse(observations):
    return WORLD_4.mixing_function.inverse(observations).double()


WORLD_4 = GridWorld((4, 4, 4), seed=1)
SAMPLER_BUDGETS = dict(batch_size=16, num_train=300, num_eval=200)


def test_sampler_metrics_perfect_mixed_and_useless():
    noise = torch.Generator().manual_seed(11)

    def useless(observations):
        return torch.randn(len(observations), 3, generator=noise, dtype=torch.float64)

    def rotated(observations):
        return torch.from_numpy(mixed(inverse(observations).numpy()))

    perfect = beta_vae_score(WORLD_4, inverse, **SAMPLER_BUDGETS)
    assert perfect["beta_vae_eval_accuracy"] == 1.0
    together = beta_vae_score(WORLD_4, rotated, **SAMPLER_BUDGETS)
    # fixing factor 0 or factor 1 looks the same through z0 ± z1: only factor 2 is told apart
    assert together["beta_vae_eval_accuracy"] == pytest.approx(2 / 3, abs=0.1)
    chance = beta_vae_score(WORLD_4, useless, **SAMPLER_BUDGETS)
    assert chance["beta_vae_eval_accuracy"] == pytest.approx(1 / 3, abs=0.1)

    kw = dict(num_variance_estimate=1000, **SAMPLER_BUDGETS)
    perfect = factor_vae_score(WORLD_4, inverse, **kw)
    assert perfect["factor_vae_eval_accuracy"] == 1.0
    together = factor_vae_score(WORLD_4, rotated, **kw)
    assert together["factor_vae_eval_accuracy"] == pytest.approx(2 / 3, abs=0.1)
    chance = factor_vae_score(WORLD_4, useless, **kw)
    assert chance["factor_vae_eval_accuracy"] == pytest.approx(1 / 3, abs=0.1)


# -- what each metric forgives -----------------------------------------------------------------
def test_every_metric_forgives_a_permutation_of_codes():
    f = np.random.default_rng(12).integers(0, 3, (300, 3))
    x = noisy_codes(f, seed=12)
    p = x[:, [2, 0, 1]]
    assert mig(f, p) == mig(f, x)
    assert sap(f, p) == sap(f, x)
    assert sap(f, p, continuous_factors=True) == pytest.approx(
        sap(f, x, continuous_factors=True), abs=1e-12
    )
    for key, value in modularity_explicitness(f, p).items():
        assert value == pytest.approx(modularity_explicitness(f, x)[key], abs=1e-6), key
    # trees break ties between features that cut a node's samples identically by a seeded
    # feature order, so DCI moves a little (not systematically) under a permutation
    for key, value in dci(f, p).items():
        assert value == pytest.approx(dci(f, x)[key], abs=0.02), key

    def permuted(observations):
        return generic_encoder(observations)[:, [3, 4, 2, 0, 1]]

    kw = dict(num_variance_estimate=300, batch_size=6, num_train=150, num_eval=80)
    assert factor_vae_score(WORLD, permuted, **kw) == factor_vae_score(WORLD, generic_encoder, **kw)
    kw.pop("num_variance_estimate")
    for key, value in beta_vae_score(WORLD, permuted, **kw).items():
        assert value == pytest.approx(beta_vae_score(WORLD, generic_encoder, **kw)[key], abs=0.02)


def test_histogram_metrics_forgive_affine_maps_but_not_every_monotone_map():
    f = np.random.default_rng(13).integers(0, 4, (500, 3))
    x = noisy_codes(f, seed=13)
    affine = x * np.array([3.0, 0.5, 10.0]) + np.array([7.0, -2.0, 0.1])
    flipped = -x
    warped = np.exp(2.0 * x)  # monotone, not affine: equal-width bins are no longer equal
    base_mig, base_mod = mig(f, x), modularity_explicitness(f, x)["modularity"]
    for codes in (affine, flipped):
        assert mig(f, codes) == pytest.approx(base_mig, abs=1e-12)
        assert modularity_explicitness(f, codes)["modularity"] == pytest.approx(base_mod, abs=1e-12)
    assert abs(mig(f, warped) - base_mig) > 0.01
    assert abs(modularity_explicitness(f, warped)["modularity"] - base_mod) > 0.01
    # explicitness standardises the codes: per-code increasing affine maps change nothing
    for key in ("explicitness_train", "explicitness_test"):
        assert modularity_explicitness(f, affine)[key] == pytest.approx(
            modularity_explicitness(f, x)[key], abs=1e-6
        )


def test_sap_forgives_signs_and_its_r2_form_affine_maps():
    f = np.random.default_rng(14).integers(0, 3, (300, 3))
    x = noisy_codes(f, seed=14)
    signs = x * np.array([-1.0, 1.0, -1.0])
    assert sap(f, signs) == pytest.approx(sap(f, x), abs=1e-12)
    affine = x * np.array([-4.0, 0.2, 9.0]) + 3.0
    assert sap(f, affine, continuous_factors=True) == pytest.approx(
        sap(f, x, continuous_factors=True), abs=1e-12
    )


def test_dci_trees_forgive_any_strictly_monotone_map():
    """The same partitions of the train part, so the same trees and importances; held-out points
    may fall on the other side of a moved threshold."""
    f = np.random.default_rng(15).integers(0, 3, (240, 2))
    x = noisy_codes(f, seed=15)
    warped = np.column_stack([np.exp(x[:, 0]), x[:, 1] ** 3])
    base, moved = dci(f, x), dci(f, warped)
    for key in ("dci_disentanglement", "dci_completeness", "dci_informativeness_train"):
        assert moved[key] == pytest.approx(base[key], abs=1e-9), key
    assert moved["dci_informativeness_test"] == pytest.approx(
        base["dci_informativeness_test"], abs=0.05
    )


def test_sampler_metrics_forgive_signs_and_factor_vae_any_rescaling():
    scale = torch.tensor([-1.0, 3.0, -0.5, 1.0, 2.0], dtype=torch.float64)

    def flipped(observations):
        codes = generic_encoder(observations)
        return codes * torch.tensor([-1.0, 1.0, -1.0, 1.0, -1.0], dtype=torch.float64)

    def rescaled(observations):
        return generic_encoder(observations) * scale

    kw = dict(batch_size=6, num_train=150, num_eval=80)
    assert beta_vae_score(WORLD, flipped, **kw) == beta_vae_score(WORLD, generic_encoder, **kw)
    kw["num_variance_estimate"] = 300
    kw["prune_threshold"] = 0.0  # rescaling moves codes across a fixed threshold
    base = factor_vae_score(WORLD, generic_encoder, **kw)
    for key, value in factor_vae_score(WORLD, rescaled, **kw).items():
        assert value == pytest.approx(base[key], abs=1e-12), key
