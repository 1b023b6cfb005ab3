"""disentanglement_lib metrics: the finer points of their definitions that the contract and
meaning tests leave open (found by mutation testing, issue 10). Each test checks a property of
the definition or a value computed by hand / with the documented classifier, on tiny data."""

import math
import warnings

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.svm import LinearSVC

from identifiable.metrics.disentanglement import (
    ENCODE_CHUNK,
    beta_vae_score,
    completeness_from_importance,
    dci,
    discrete_entropy,
    discrete_mutual_info,
    disentanglement_from_importance,
    factor_vae_score,
    histogram_discretize,
    mig,
    modularity_explicitness,
    modularity_from_mi,
    sap,
)
from identifiable.worlds.factors import GridWorld, sample_factors
from identifiable.worlds.mixing import IdentityMixing


def split(n, fraction, seed=0):
    """The documented split: the first ⌈n · fraction⌉ rows of a seeded permutation train."""
    order = np.random.default_rng(seed).permutation(n)
    n_train = math.ceil(round(n * fraction, 9))
    return order[:n_train], order[n_train:]


def placed(train_rows, test_rows, fraction, seed=0):
    """An array whose documented train part is ``train_rows`` and test part ``test_rows``."""
    rows = np.vstack([train_rows, test_rows]).astype(float)
    train, test = split(len(rows), fraction, seed)
    out = np.empty_like(rows)
    out[np.concatenate([train, test])] = rows
    return out


class LabelWorld:
    """Observations are the factor indices themselves (upstream's identity data), plus
    Gaussian noise of scale ``noise`` drawn from the generator the metric passes in."""

    def __init__(self, factor_sizes, noise=0.0):
        self.factor_sizes = tuple(factor_sizes)
        self.noise = noise

    def observe(self, factors, *, generator):
        x = factors.double()
        if self.noise:
            x = x + self.noise * torch.randn(x.shape, generator=generator, dtype=torch.float64)
        return x


def identity(observations):
    return observations


# -- helpers ------------------------------------------------------------------------------------
def test_histogram_discretize_defaults_to_20_bins_of_integer_labels():
    """disentanglement_lib's discretizer.num_bins = 20; labels are integers 1 … bins."""
    x = np.column_stack([np.arange(20.0), -np.arange(20.0)])
    labels = histogram_discretize(x)
    assert labels.dtype.kind == "i"
    np.testing.assert_array_equal(labels[:, 0], np.arange(1, 21))
    np.testing.assert_array_equal(labels[:, 1], np.arange(20, 0, -1))
    # one sample is a (constant) column: all of it in one bin
    one = histogram_discretize(np.array([[0.3, -7.0]]))
    assert one.shape == (1, 2) and ((1 <= one) & (one <= 20)).all()


def test_entropy_and_mutual_information_of_a_single_sample_are_zero():
    np.testing.assert_array_equal(discrete_entropy(np.array([[3.0, 5.0]])), [0.0, 0.0])
    np.testing.assert_array_equal(discrete_mutual_info(np.array([[1.0]]), np.array([[2.0]])), [[0]])


def test_helper_errors_name_the_offending_argument():
    bad = np.array([[np.nan, 1.0], [0.0, 1.0]])
    good = np.array([[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="^x contains"):
        histogram_discretize(bad)
    with pytest.raises(ValueError, match="^factors contains"):
        discrete_entropy(bad)
    with pytest.raises(ValueError, match="^codes_discrete contains"):
        discrete_mutual_info(bad, good)
    with pytest.raises(ValueError, match="^factors contains"):
        discrete_mutual_info(good, bad)
    with pytest.raises(ValueError, match="^codes_discrete and factors must have the same"):
        discrete_mutual_info(good, good[:1])


def test_dci_scores_do_not_depend_on_the_scale_of_the_importances():
    """R = [[1, 0], [0, 1], [1, 1]]: rows 0, 1 are pure (1 − H = 1), row 2 is split evenly
    (1 − H₂ = 0); ρ = (1, 1, 2) / 4, so D = 1/2. Columns (1, 0, 1) and (0, 1, 1) have entropy
    ln 2 / ln 3 in base 3: C = 1 − ln 2 / ln 3. Any overall scale of R gives the same."""
    r = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    for scale in (1.0, 1e-3, 0.5, 40.0):
        assert disentanglement_from_importance(scale * r) == pytest.approx(0.5, abs=1e-6)
        c = completeness_from_importance(scale * r)
        assert c == pytest.approx(1 - math.log(2) / math.log(3), abs=1e-6)


def test_integer_parameters_refuse_bools_and_floats_but_take_numpy_ints():
    x = np.random.default_rng(0).random((30, 2))
    for bad in (True, 2.0):
        with pytest.raises(ValueError, match="^bins must be an int >= 1"):
            histogram_discretize(x, bad)
    np.testing.assert_array_equal(histogram_discretize(x, np.int64(3)), histogram_discretize(x, 3))


def test_importance_helpers_take_one_code_and_name_their_input():
    assert disentanglement_from_importance(np.array([[0.0, 2.0]])) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="^importance contains"):
        disentanglement_from_importance(np.array([[np.nan, 1.0], [0.0, 1.0]]))


# -- the array metrics' inputs -------------------------------------------------------------------
def test_mig_and_sap_are_means_of_per_factor_scores():
    """Each factor's gap depends on that factor alone: a single factor is a valid input and the
    score of two factors is the mean of theirs."""
    rng = np.random.default_rng(10)
    f = rng.integers(0, 3, (150, 2))
    x = f @ np.array([[1.0, 0.3], [0.2, 1.0]]) + 0.5 * rng.normal(size=f.shape)
    for score, kw in ((mig, {}), (sap, {}), (sap, {"continuous_factors": True})):
        alone = [score(f[:, j : j + 1], x, **kw) for j in range(2)]
        assert score(f, x, **kw) == pytest.approx(np.mean(alone), abs=1e-12)


def test_modularity_explicitness_takes_a_single_code():
    f = np.random.default_rng(11).integers(0, 3, (60, 2))
    got = modularity_explicitness(f, f[:, :1] + 0.1)
    assert got["modularity"] > 0.9  # one code, all its information about factor 0


def test_array_metric_errors_name_the_offending_input():
    f = np.random.default_rng(12).integers(0, 3, (60, 2)).astype(float)
    x = f + 0.1
    with pytest.raises(ValueError, match="^factors and codes must have the same number"):
        mig(f, x[:-1])
    bad_x, bad_f, half = x.copy(), f.copy(), f.copy()
    bad_x[3, 0] = np.nan
    bad_f[3, 1] = np.inf
    half[5, 1] = 0.5
    with pytest.raises(ValueError, match="^codes contains 1 NaN"):
        mig(f, bad_x)
    with pytest.raises(ValueError, match="^factors contains 1 NaN"):
        mig(bad_f, x)
    with pytest.raises(ValueError, match="column 1 has non-integer values"):
        mig(half, x)
    with pytest.raises(ValueError, match=r"train_fraction must be in \(0, 1\)"):
        sap(f, x, train_fraction=0.0)
    with pytest.raises(ValueError, match=r"train_fraction must be in \(0, 1\)"):
        sap(f, x, train_fraction=1.0)
    with pytest.raises(ValueError, match="leaves an empty train or test part"):
        sap(f, x, train_fraction=0.999)


def test_the_train_part_has_the_ceiling_of_n_times_the_fraction_rows():
    """32 · 0.6 = 19.2: the first 20 rows of the permutation train (rounding would take 19)."""
    rng = np.random.default_rng(15)
    f = rng.integers(0, 2, (32, 2))
    x = f + 0.5 * rng.normal(size=f.shape)
    train = np.random.default_rng(0).permutation(32)[:20]
    binned = histogram_discretize(x[train], 20)
    expected = modularity_from_mi(discrete_mutual_info(binned, f[train]))
    assert modularity_explicitness(f, x, train_fraction=0.6)["modularity"] == expected


def test_a_train_part_of_one_row_is_a_split_not_an_empty_part():
    """⌈4 · 0.25⌉ = 1 train row: a valid split, so what fails is the factor with a single value
    in it."""
    f = np.array([[0, 1], [1, 0], [0, 0], [1, 1]])
    with pytest.raises(ValueError, match="factor column 0 has one value in the train part"):
        modularity_explicitness(f, f + 0.1, train_fraction=0.25)


def test_dci_trees_are_seeded():
    """Duplicated codes make every split a tie that the trees break at random: the seed fixes
    how the importance is shared between the copies."""
    f = np.random.default_rng(13).integers(0, 2, (60, 2))
    x = f + 0.3 * np.random.default_rng(14).normal(size=f.shape)
    twice = np.hstack([x, x])
    first = dci(f, twice, seed=3)
    assert dci(f, twice, seed=3) == first


# -- SAP ----------------------------------------------------------------------------------------
def test_continuous_sap_counts_a_code_of_train_variance_at_most_1e_12_as_dead():
    """Upstream: S_ij = R² if C00 > 1e-12 else 0. Train part (3 rows): v0 = (0, 1, 2),
    v1 = (0, 0, 1); code 0 = 1e-6 · (v0 − 1) has variance exactly 1e-12 (dead), code 1 = v0.
    S = [[0, 0], [1, 3/4]] (corr(v0, v1)² = 1 / (2 · 2/3)), so SAP = (1 + 3/4) / 2 = 7/8."""
    v_train = np.array([[0, 0], [1, 0], [2, 1]])
    v = placed(v_train, [[1, 1]], 0.75)
    z_train = np.column_stack([1e-6 * (v_train[:, 0] - 1.0), v_train[:, 0]])
    z = placed(z_train, [[5.0, 5.0]], 0.75)
    kw = dict(continuous_factors=True, train_fraction=0.75)
    assert sap(v, z, **kw) == pytest.approx(7 / 8, abs=1e-12)
    constant = z.copy()
    constant[:, 0] = 3.0
    assert sap(v, constant, **kw) == pytest.approx(7 / 8, abs=1e-12)


def test_discrete_sap_uses_the_primal_linear_svm_also_on_large_codes():
    """S_ij = test accuracy of LinearSVC(C=0.01, class_weight="balanced") solved in the primal
    (deterministic); on codes of scale 100 the dual solver stops elsewhere."""
    rng = np.random.default_rng(3)
    f = rng.integers(0, 3, (90, 2))
    z = 100.0 * (f + rng.normal(size=f.shape)) + 300.0
    train, test = split(90, 2 / 3)
    gaps = []
    for j in range(2):
        scores = []
        for i in range(2):
            svm = LinearSVC(C=0.01, class_weight="balanced", dual=False)
            svm.fit(z[train, i : i + 1], f[train, j])
            scores.append(np.mean(svm.predict(z[test, i : i + 1]) == f[test, j]))
        gaps.append(abs(scores[0] - scores[1]))
    assert sap(f, z) == pytest.approx(np.mean(gaps), abs=1e-12)


# -- DCI ----------------------------------------------------------------------------------------
def test_dci_bins_continuous_factors_like_prebinned_ones():
    rng = np.random.default_rng(0)
    v = rng.random((120, 2))
    codes = v + 0.05 * rng.normal(size=v.shape)
    binned = histogram_discretize(v, 4)
    kw = dict(importance="lasso")
    assert dci(v, codes, factor_bins=4, **kw) == dci(binned, codes, **kw)


def test_dci_defaults_to_lasso_alpha_001():
    rng = np.random.default_rng(1)
    f = rng.integers(0, 3, (90, 2))
    x = f + 0.5 * rng.normal(size=f.shape)
    default = dci(f, x, importance="lasso")
    assert default == dci(f, x, importance="lasso", lasso_alpha=0.01)
    assert default != dci(f, x, importance="lasso", lasso_alpha=0.5)


def test_too_few_codes_or_factors_are_refused_before_fitting():
    f = np.random.default_rng(2).integers(0, 3, (60, 2))
    x = f + 0.1
    with pytest.raises(ValueError, match="at least 2 codes, got 1"):
        dci(f, x[:, :1])
    with pytest.raises(ValueError, match="at least 2 factors, got 1"):
        dci(f[:, :1], x)
    with pytest.raises(ValueError, match="at least 2 factors, got 1"):
        modularity_explicitness(f[:, :1], x)


# -- modularity and explicitness ----------------------------------------------------------------
def test_modularity_bins_codes_in_the_given_number_of_bins():
    """One bin holds everything: no code carries information, every code scores 0."""
    f = np.random.default_rng(4).integers(0, 3, (90, 2))
    x = f + 0.1 * np.random.default_rng(5).normal(size=f.shape)
    assert modularity_explicitness(f, x)["modularity"] > 0.9
    assert modularity_explicitness(f, x, bins=1)["modularity"] == 0.0


def test_modularity_explicitness_bins_continuous_factors_like_prebinned_ones():
    rng = np.random.default_rng(6)
    v = rng.random((120, 2))
    codes = v + 0.05 * rng.normal(size=v.shape)
    assert modularity_explicitness(v, codes, factor_bins=4) == modularity_explicitness(
        histogram_discretize(v, 4), codes
    )


def test_a_constant_code_counts_zero_in_modularity_and_nothing_in_explicitness():
    """A dead code has no information (modularity 0, kept in the mean over codes) and, scaled
    with std 1 instead of 0, gets a zero weight: explicitness as without it."""
    rng = np.random.default_rng(7)
    f = rng.integers(0, 3, (90, 2))
    x = f + 0.6 * rng.normal(size=f.shape)
    dead = np.column_stack([x, np.full(90, 2.5)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = modularity_explicitness(f, dead)
    alive = modularity_explicitness(f, x)
    assert got["modularity"] == pytest.approx(alive["modularity"] * 2 / 3, abs=1e-12)
    for key in ("explicitness_train", "explicitness_test"):
        assert got[key] == pytest.approx(alive[key], abs=1e-9), key


def test_explicitness_averages_the_auc_over_classes_with_both_outcomes_in_a_part():
    """Test part: factor 0 has class 0 nine times, class 2 once and no class 1, so its AUC is
    the mean over classes 0 and 2; factor 1 is all class 0 there (no AUC: left out). Quietly."""
    f_train = np.column_stack([np.arange(20) % 3, np.arange(20) % 2])
    f_test = np.column_stack([[2] + [0] * 9, [0] * 10])
    f = placed(f_train, f_test, 2 / 3)
    x = f + 1.2 * np.random.default_rng(10).normal(size=f.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = modularity_explicitness(f, x)
    train, test = split(30, 2 / 3)
    mean, std = x[train].mean(0), x[train].std(0)
    xs = (x - mean) / std
    aucs = {"train": [], "test": []}
    for j in range(2):
        clf = LogisticRegression(solver="lbfgs", max_iter=1000, C=1.0).fit(xs[train], f[train, j])
        for part, rows in (("train", train), ("test", test)):
            proba, y = clf.predict_proba(xs[rows]), f[rows, j]
            per_class = [
                roc_auc_score(y == c, proba[:, k])
                for k, c in enumerate(clf.classes_)
                if 0 < np.sum(y == c) < len(y)
            ]
            if per_class:
                aucs[part].append(np.mean(per_class))
    assert len(aucs["test"]) == 1  # factor 0 only, over its classes 0 and 2
    assert got["explicitness_train"] == pytest.approx(np.mean(aucs["train"]), abs=1e-12)
    assert got["explicitness_test"] == pytest.approx(aucs["test"][0], abs=1e-12)


def test_explicitness_is_nan_when_no_factor_has_an_auc_in_the_test_part():
    rng = np.random.default_rng(9)
    f = np.column_stack([np.arange(7) % 2, np.arange(7) % 3])
    x = f + 0.3 * rng.normal(size=f.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = modularity_explicitness(f, x, train_fraction=6 / 7)  # one test row
    assert math.isnan(got["explicitness_test"])
    assert 0.5 <= got["explicitness_train"] <= 1.0


# -- sampler metrics ----------------------------------------------------------------------------
def test_sampler_defaults_are_upstreams_budgets():
    """unsupervised_study_v1: batch 64; BetaVAE 10 000 + 5 000 points of two batches each;
    FactorVAE 10 000 variance draws, then 10 000 + 5 000 points of one batch each. The encoder
    sees them in calls of at most ENCODE_CHUNK rows."""
    world = LabelWorld((2, 2))
    for score, expected in (
        (beta_vae_score, 2 * (10_000 + 5_000) * 64),
        (factor_vae_score, 10_000 + (10_000 + 5_000) * 64),
    ):
        seen = []

        def counting(observations, seen=seen):
            seen.append(len(observations))
            return observations

        score(world, counting)
        assert sum(seen) == expected, score.__name__
        assert max(seen) <= ENCODE_CHUNK


def test_sampler_metrics_draw_observation_noise_from_their_seeded_generator():
    """The world's observe gets the metric's generator: the seed alone fixes the score, whatever
    the global torch state."""
    world = LabelWorld((3, 3, 3), noise=1.5)
    budgets = dict(batch_size=4, num_train=60, num_eval=40)
    for score, kw in ((beta_vae_score, {}), (factor_vae_score, {"num_variance_estimate": 40})):
        results = []
        for global_seed in (1, 2):
            torch.manual_seed(global_seed)
            results.append(score(world, identity, **budgets, **kw))
        assert results[0] == results[1], score.__name__


def test_sampler_metrics_check_that_the_world_can_observe():
    class SizesOnly:
        factor_sizes = (3, 3)

    for score in (beta_vae_score, factor_vae_score):
        with pytest.raises(ValueError, match="FactorWorld"):
            score(SizesOnly(), identity, batch_size=4, num_train=10, num_eval=10)


def test_sampler_budget_errors_name_the_budget():
    world = LabelWorld((3, 3))
    for score in (beta_vae_score, factor_vae_score):
        with pytest.raises(ValueError, match="^num_train must be an int >= 1"):
            score(world, identity, batch_size=4, num_train=0, num_eval=10)
        with pytest.raises(ValueError, match="^seed must be an int >= 0"):
            score(world, identity, batch_size=4, num_train=10, num_eval=10, seed=-1)
    with pytest.raises(ValueError, match="^num_variance_estimate must be an int >= 2"):
        factor_vae_score(world, identity, batch_size=4, num_train=10, num_eval=10,
                         num_variance_estimate=1)  # fmt: skip
    two = factor_vae_score(world, identity, batch_size=4, num_train=10, num_eval=10,
                           num_variance_estimate=2)  # fmt: skip
    assert 0.0 <= two["factor_vae_eval_accuracy"] <= 1.0


def test_beta_vae_takes_boolean_codes_as_zeros_and_ones():
    world = GridWorld((3, 3), mixing=IdentityMixing())
    budgets = dict(batch_size=4, num_train=60, num_eval=30)
    as_bool = beta_vae_score(world, lambda o: o > 0, **budgets)
    assert as_bool == beta_vae_score(world, lambda o: (o > 0).double(), **budgets)


def beta_vae_features(world, encode, batch_size, n, rng, generator):
    """The documented points: labels k, then batches f₁, f₂ sharing factor k; mean |Δz|."""
    n_factors = len(world.factor_sizes)
    k = rng.integers(n_factors, size=n)
    f1 = sample_factors(world, n * batch_size, generator=generator).view(n, batch_size, -1)
    f2 = sample_factors(world, n * batch_size, generator=generator).view(n, batch_size, -1)
    for p in range(n):
        f2[p, :, k[p]] = f1[p, :, k[p]]
    z1 = encode(world.observe(f1.reshape(-1, n_factors), generator=generator)).numpy()
    z2 = encode(world.observe(f2.reshape(-1, n_factors), generator=generator)).numpy()
    diff = np.abs(z1 - z2).reshape(n, batch_size, -1)
    return diff.mean(axis=1), k


@pytest.mark.parametrize("scales", [(0.1, 0.1, 0.1), (10_000.0, 4.0, 0.01)])
def test_beta_vae_classifier_is_a_converged_logistic_regression_with_c_1(scales):
    """Small codes: the L2 penalty (C = 1) decides the fit; badly scaled codes: lbfgs needs
    more than sklearn's default 100 iterations (the score sets 1000)."""
    world = GridWorld((4, 4, 4), mixing=IdentityMixing())
    scale = torch.tensor(scales, dtype=torch.float64)

    def encode(observations):
        return observations.double() * scale

    budgets = dict(batch_size=4, num_train=60, num_eval=30)
    got = beta_vae_score(world, encode, **budgets)
    rng, generator = np.random.default_rng(0), torch.Generator().manual_seed(0)
    x_train, y_train = beta_vae_features(world, encode, 4, 60, rng, generator)
    x_eval, y_eval = beta_vae_features(world, encode, 4, 30, rng, generator)
    model = LogisticRegression(solver="lbfgs", max_iter=1000, C=1.0).fit(x_train, y_train)
    assert got["beta_vae_train_accuracy"] == np.mean(model.predict(x_train) == y_train)
    assert got["beta_vae_eval_accuracy"] == np.mean(model.predict(x_eval) == y_eval)


def test_factor_vae_prunes_codes_by_their_sample_std_with_ddof_1():
    """Active: sqrt(var_ddof1) >= prune_threshold over the variance draws (the first draws of
    the seeded generator); a threshold exactly at a code's std keeps it, one ulp above drops it."""
    world = GridWorld((3, 4, 5), mixing=IdentityMixing())
    n_var = 50
    factors = sample_factors(world, n_var, generator=torch.Generator().manual_seed(0))
    codes = world.observe(factors, generator=torch.Generator()).double().numpy()
    std = np.sqrt(codes.var(axis=0, ddof=1))
    assert len(set(std)) == 3
    budgets = dict(batch_size=4, num_train=20, num_eval=10, num_variance_estimate=n_var)
    for i in range(3):
        at = factor_vae_score(world, identity, prune_threshold=float(std[i]), **budgets)
        assert at["factor_vae_num_active_dims"] == int(np.sum(std >= std[i]))
        above = factor_vae_score(
            world, identity, prune_threshold=float(np.nextafter(std[i], np.inf)), **budgets
        )
        assert above["factor_vae_num_active_dims"] == int(np.sum(std > std[i]))


def test_factor_vae_works_cleanly_with_batches_of_two():
    """Two draws per batch already single out the fixed factor of perfect codes (its code has
    batch variance 0; ties with another constant code go to the lower index)."""
    world = LabelWorld((20, 20, 20))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = factor_vae_score(
            world, identity, batch_size=2, num_train=200, num_eval=100, num_variance_estimate=200
        )
    assert got["factor_vae_train_accuracy"] >= 0.9
    assert got["factor_vae_eval_accuracy"] >= 0.9


def test_factor_vae_threshold_zero_takes_zero_variances_quietly():
    """prune_threshold=0 (upstream's function default) keeps dead codes: their 0/0 ratios, and
    x/0 for a code constant on the variance draws but not later, are silent as upstream."""

    def sparse(observations):
        # code 0 fires only on one of 900 factor combinations
        hit = ((observations[:, 0] == 0) & (observations[:, 1] == 0)).double()
        return torch.column_stack([hit, observations, torch.zeros(len(observations))])

    world = LabelWorld((30, 30))
    kw = dict(batch_size=10, num_train=300, num_eval=100, num_variance_estimate=5)
    everything = sample_factors(world, 5, generator=torch.Generator().manual_seed(0))
    assert sparse(everything.double())[:, 0].sum() == 0  # code 0 is dead on the variance draws
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = factor_vae_score(world, sparse, prune_threshold=0.0, **kw)
    assert got["factor_vae_num_active_dims"] == 4
    assert 0.0 <= got["factor_vae_eval_accuracy"] <= 1.0
