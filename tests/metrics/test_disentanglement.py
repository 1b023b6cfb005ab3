"""disentanglement_lib metrics, the contract: keys and types, one-line errors, the upstream
oracles (utils, DCI and modularity tables, ported verbatim in our (n, d) layout) and upstream's
end-to-end checks on its identity data set, plus the factor-world interface they sample from."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import MultiLabelBinarizer

from identifiable.metrics import METRICS, metric_info
from identifiable.metrics.disentanglement import (
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
from identifiable.worlds.base import Batch, World
from identifiable.worlds.factors import FactorWorld, GridWorld, sample_factors
from identifiable.worlds.mixing import IdentityMixing


class IdentityWorld:
    """Upstream's ``IdentityObservationsData``: F factors of V values, observations = factors
    (upstream labels 1..10, ours 0..9: a shift no metric sees)."""

    def __init__(self, n_factors=10, n_values=10):
        self.factor_sizes = (n_values,) * n_factors

    def observe(self, factors, *, generator):
        return factors.double()


def identity_data(n, n_factors=10, n_values=10, seed=0):
    world = IdentityWorld(n_factors, n_values)
    f = sample_factors(world, n, generator=torch.Generator().manual_seed(seed)).numpy()
    return f, f.astype(float)


def per_sample_permuted(x, seed=0):
    """Upstream's "bad" code: every sample's code vector shuffled on its own."""
    rng = np.random.RandomState(seed)
    return np.array([rng.permutation(row) for row in x])


def small(n=200, seed=0):
    rng = np.random.default_rng(seed)
    f = rng.integers(0, 3, (n, 2))
    return f, f + 0.3 * rng.normal(size=(n, 2))


# -- upstream oracles: utils ------------------------------------------------------------------
def test_histogram_discretize_upstream():
    target = np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0.6, 0.5, 0.4, 0.3, 0.2, 0.1]])
    expected = np.array([[1, 1, 2, 2, 3, 3], [3, 3, 2, 2, 1, 1]])
    np.testing.assert_array_equal(histogram_discretize(target.T, 3), expected.T)


def test_discrete_entropy_upstream():
    target = np.array([[1, 1, 2, 2, 3, 3], [3, 3, 2, 2, 1, 1]])
    np.testing.assert_allclose(discrete_entropy(target.T), [np.log(3), np.log(3)])


def test_discrete_mutual_info_upstream():
    xs = np.array([[1, 2, 1, 2], [1, 1, 2, 2]])
    ys = np.array([[1, 2, 1, 2], [2, 2, 1, 1]])
    expected = np.array([[np.log(2), 0.0], [0.0, np.log(2)]])
    np.testing.assert_allclose(discrete_mutual_info(xs.T, ys.T), expected)


# -- upstream oracles: DCI and modularity tables ----------------------------------------------
DIAG = np.diag(5.0 * np.ones(5))
EMPTY = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
ONE_MINUS = 1.0 - np.log(2) / np.log(10)
TABLE = [  # matrix, disentanglement, completeness, modularity
    ("diagonal", DIAG, 1.0, 1.0, 1.0),
    ("diagonal_empty_codes", EMPTY, 1.0, 1.0, 2.0 / 3.0),
    ("zero", np.zeros((10, 10)), 0.0, 0.0, 0.0),
    ("redundant_codes", np.vstack([DIAG, DIAG]), 1.0, ONE_MINUS, 1.0),
    ("missed_factors", DIAG[:2, :], 1.0, 1.0, 1.0),
    ("one_code_two_factors", np.hstack([DIAG, DIAG]), ONE_MINUS, 1.0, 1.0 - 1.0 / 9),
]


@pytest.mark.parametrize("name, matrix, d, c, mod", TABLE, ids=[row[0] for row in TABLE])
def test_dci_and_modularity_tables_upstream(name, matrix, d, c, mod):
    np.testing.assert_allclose(disentanglement_from_importance(matrix), d)
    np.testing.assert_allclose(completeness_from_importance(matrix), c, atol=1e-7)
    np.testing.assert_allclose(modularity_from_mi(matrix), mod)


def test_helpers_refuse_what_they_cannot_score():
    with pytest.raises(ValueError, match="at least 2 factors"):
        disentanglement_from_importance(np.ones((3, 1)))
    with pytest.raises(ValueError, match="at least 2 codes"):
        completeness_from_importance(np.ones((1, 3)))
    with pytest.raises(ValueError, match="at least 2 factors"):
        modularity_from_mi(np.ones((3, 1)))
    with pytest.raises(ValueError, match="non-negative"):
        disentanglement_from_importance(-np.eye(2))
    with pytest.raises(ValueError, match="bins must be an int >= 1"):
        histogram_discretize(np.ones((3, 1)), 0)


# -- upstream end-to-end checks (IdentityObservationsData, 10 factors × 10 values) -------------
def test_mig_end_to_end_upstream():
    f, x = identity_data(3000)
    assert 0.9 <= mig(f, x) <= 1.0
    assert 0.0 <= mig(f, np.zeros_like(x)) <= 0.2
    assert 0.0 <= mig(f, np.hstack([x, x])) <= 0.1


def test_sap_end_to_end_upstream():
    f, x = identity_data(6000)  # 3000 train / 3000 test
    kw = dict(continuous_factors=True, train_fraction=0.5)
    assert 0.9 <= sap(f, x, **kw) <= 1.0
    assert 0.0 <= sap(f, np.zeros_like(x), **kw) <= 0.2
    assert 0.0 <= sap(f, np.hstack([x, x]), **kw) <= 0.2


def test_dci_end_to_end_upstream():
    """Upstream: 10 factors, 1000/1000. Here 5 factors × 5 values (the trees cost ~1 s per
    10-class factor); with 10 duplicated codes the completeness target 1 − ln2/ln10 is then
    exact (upstream's 20 codes give 1 − ln2/ln20 ≈ 0.77, inside its ±0.1)."""
    f, x = identity_data(2000, n_factors=5, n_values=5)
    good = dci(f, x, train_fraction=0.5)
    assert 0.9 <= good["dci_disentanglement"] <= 1.0
    assert 0.9 <= good["dci_completeness"] <= 1.0
    bad = dci(f, per_sample_permuted(x), train_fraction=0.5)
    assert 0.0 <= bad["dci_disentanglement"] <= 0.2
    assert 0.0 <= bad["dci_completeness"] <= 0.2
    duplicated = dci(f, np.hstack([x, x]), train_fraction=0.5)
    assert 0.9 <= duplicated["dci_disentanglement"] <= 1.0
    assert abs(duplicated["dci_completeness"] - ONE_MINUS) <= 0.1


def test_modularity_end_to_end_upstream():
    f, x = identity_data(6000)  # 3000 / 3000
    assert 0.9 <= modularity_explicitness(f, x, train_fraction=0.5)["modularity"] <= 1.0
    duplicated = modularity_explicitness(f, np.hstack([x, x]), train_fraction=0.5)
    assert 0.9 <= duplicated["modularity"] <= 1.0
    f, x = identity_data(22_000, seed=1)  # upstream: 20 000 train points
    bad = modularity_explicitness(f, per_sample_permuted(x), train_fraction=10 / 11)
    assert 0.0 <= bad["modularity"] <= 0.2


def test_factor_vae_end_to_end_upstream():
    kw = dict(batch_size=5, num_train=3000, num_eval=2000, num_variance_estimate=2500)
    good = factor_vae_score(IdentityWorld(), lambda x: x, **kw)
    assert 0.9 <= good["factor_vae_train_accuracy"] <= 1.0
    assert 0.9 <= good["factor_vae_eval_accuracy"] <= 1.0
    assert good["factor_vae_num_active_dims"] == 10
    bad = factor_vae_score(IdentityWorld(), torch.zeros_like, **kw)
    assert 0.0 <= bad["factor_vae_train_accuracy"] <= 0.2
    assert 0.0 <= bad["factor_vae_eval_accuracy"] <= 0.2
    assert bad["factor_vae_num_active_dims"] == 0
    # upstream's test runs with the function default threshold 0: every code "active", the
    # 0/0 ratios vote for code 0, one factor wins it: accuracy ≈ 1/10
    zero = factor_vae_score(IdentityWorld(), torch.zeros_like, prune_threshold=0.0, **kw)
    assert 0.0 <= zero["factor_vae_eval_accuracy"] <= 0.2
    assert zero["factor_vae_num_active_dims"] == 10


def test_beta_vae_end_to_end_upstream():
    scores = beta_vae_score(
        IdentityWorld(), lambda x: x, batch_size=5, num_train=2000, num_eval=2000
    )
    assert 0.9 <= scores["beta_vae_train_accuracy"] <= 1.0
    assert 0.9 <= scores["beta_vae_eval_accuracy"] <= 1.0


def test_explicitness_is_upstreams_auc_when_both_parts_have_every_class():
    """Upstream: ``roc_auc_score(MultiLabelBinarizer().fit_transform(y[:, None]), proba)``."""
    f, x = small(600)
    x = x @ np.array([[1.0, 0.4], [0.2, 1.0]])
    got = modularity_explicitness(f, x, train_fraction=0.5)
    order = np.random.default_rng(0).permutation(600)
    train, test = order[:300], order[300:]
    mean, std = x[train].mean(0), x[train].std(0)
    xs = (x - mean) / std
    expected = {"train": [], "test": []}
    for j in range(2):
        clf = LogisticRegression(solver="lbfgs", max_iter=1000, C=1.0).fit(xs[train], f[train, j])
        for part, rows in (("train", train), ("test", test)):
            labels = MultiLabelBinarizer().fit_transform(f[rows, j][:, None])
            expected[part].append(roc_auc_score(labels, clf.predict_proba(xs[rows])))
    assert got["explicitness_train"] == pytest.approx(np.mean(expected["train"]), abs=1e-12)
    assert got["explicitness_test"] == pytest.approx(np.mean(expected["test"]), abs=1e-12)


# -- keys, types, registry --------------------------------------------------------------------
def test_every_returned_number_is_declared_under_its_key():
    f, x = small()
    world = GridWorld((3, 3), mixing=IdentityMixing())
    budgets = dict(batch_size=4, num_train=100, num_eval=50)
    results = [
        dci(f, x),
        dci(f, x, importance="lasso"),
        modularity_explicitness(f, x),
        beta_vae_score(world, lambda o: o, **budgets),
        factor_vae_score(world, lambda o: o, num_variance_estimate=100, **budgets),
    ]
    expected = [
        {"dci_disentanglement", "dci_completeness"}
        | {"dci_informativeness_train", "dci_informativeness_test"},
        {"dci_disentanglement", "dci_completeness"}
        | {"dci_informativeness_train", "dci_informativeness_test"},
        {"modularity", "explicitness_train", "explicitness_test"},
        {"beta_vae_train_accuracy", "beta_vae_eval_accuracy"},
        {"factor_vae_train_accuracy", "factor_vae_eval_accuracy", "factor_vae_num_active_dims"},
    ]
    for result, keys in zip(results, expected, strict=True):
        assert set(result) == keys
        for key, value in result.items():
            info = METRICS[key]
            assert isinstance(value, int if key.endswith("dims") else float)
            low, high = info.bounds
            assert (low is None or value >= low - 1e-12) and (high is None or value <= high + 1e-12)
    for name, value in (("mig", mig(f, x)), ("sap", sap(f, x))):
        assert isinstance(value, float) and 0.0 <= value <= 1.0
        assert METRICS[name].kind == "proportion" and METRICS[name].higher_is_better


def test_names_resolve_to_themselves_and_leave_existing_names_alone():
    names = [
        "mig",
        "sap",
        "modularity",
        "explicitness_train",
        "explicitness_test",
        "dci_disentanglement",
        "dci_completeness",
        "dci_informativeness_train",
        "dci_informativeness_test",
        "beta_vae_train_accuracy",
        "beta_vae_eval_accuracy",
        "factor_vae_train_accuracy",
        "factor_vae_eval_accuracy",
        "factor_vae_num_active_dims",
    ]
    for name in names:
        assert metric_info(name) == METRICS[name]
    assert METRICS["factor_vae_num_active_dims"].kind == "diagnostic"
    assert metric_info("train_accuracy") == METRICS["train_accuracy"]
    assert metric_info("shape_accuracy").forgives == METRICS["accuracy"].forgives
    assert "affine" in METRICS["mig"].forgives


# -- errors -----------------------------------------------------------------------------------
def test_array_metrics_refuse_bad_factors_in_one_line():
    f, x = small()
    for score in (mig, sap, dci, modularity_explicitness):
        with pytest.raises(ValueError, match="factor_bins=20") as error:
            score(f + 0.5 * np.random.default_rng(0).random(f.shape), x)
        assert "\n" not in str(error.value)
        constant = f.copy()
        constant[:, 1] = 7
        with pytest.raises(ValueError, match="factor column 1 has a single value"):
            score(constant, x)
        with pytest.raises(ValueError, match="same number of samples"):
            score(f, x[:-1])
        with pytest.raises(ValueError, match="NaN"):
            score(f, np.where(x > 1, np.nan, x))


def test_factor_bins_bins_continuous_factors_like_the_codes():
    rng = np.random.default_rng(0)
    v = rng.random((400, 2))
    codes = v + 0.01 * rng.normal(size=v.shape)
    binned = histogram_discretize(v, 5)
    assert mig(v, codes, factor_bins=5) == mig(binned, codes)
    assert sap(v, codes, factor_bins=5) == sap(binned, codes)
    # continuous SAP takes real factors as they are
    assert sap(v, codes, continuous_factors=True) > 0.9


def test_parameters_are_checked():
    f, x = small()
    with pytest.raises(ValueError, match="at least 2 codes"):
        mig(f, x[:, :1])
    with pytest.raises(ValueError, match="at least 2 codes"):
        sap(f, x[:, :1])
    with pytest.raises(ValueError, match="at least 2 factors"):
        dci(f[:, :1], x)
    with pytest.raises(ValueError, match="at least 2 factors"):
        modularity_explicitness(f[:, :1], x)
    with pytest.raises(ValueError, match="importance must be 'gbt' or 'lasso'"):
        dci(f, x, importance="forest")
    with pytest.raises(ValueError, match="lasso_alpha"):
        dci(f, x, importance="lasso", lasso_alpha=0.0)
    for fraction in (0.0, 1.0, 0.999):
        with pytest.raises(ValueError, match="train_fraction"):
            sap(f, x, train_fraction=fraction)
    with pytest.raises(ValueError, match="bins must be an int"):
        mig(f, x, bins=0)
    with pytest.raises(ValueError, match="factor_bins must be an int >= 2"):
        mig(f, x, factor_bins=1)
    with pytest.raises(ValueError, match="seed must be an int"):
        dci(f, x, seed=-1)


def test_the_split_is_a_seeded_shuffle_with_ceil_train_rows():
    """The first ⌈n · train_fraction⌉ rows of ``default_rng(seed).permutation(n)`` train: a file
    sorted by factor still trains on every value (an unshuffled split would not)."""
    f = np.repeat([[0], [1], [2]], 100, axis=0)
    f = np.hstack([np.vstack([f, [[0]]]), np.tile([[0], [1]], (151, 1))[:301]])
    x = f + 0.1 * np.random.default_rng(0).normal(size=f.shape)
    assert dci(f, x)["dci_informativeness_test"] == 1.0
    for seed in (0, 5):
        train = np.random.default_rng(seed).permutation(301)[:201]  # ⌈301 · 2/3⌉ = 201
        expected = modularity_from_mi(
            discrete_mutual_info(histogram_discretize(x[train], 20), f[train])
        )
        assert modularity_explicitness(f, x, seed=seed)["modularity"] == expected


def test_sampler_metrics_check_world_encoder_and_budgets():
    world = GridWorld((3, 3), mixing=IdentityMixing())
    budgets = dict(batch_size=4, num_train=20, num_eval=20)
    for score in (beta_vae_score, factor_vae_score):
        with pytest.raises(ValueError, match="FactorWorld"):
            score(object(), lambda o: o, **budgets)
        with pytest.raises(ValueError, match="encode must be a function"):
            score(world, None, **budgets)
        with pytest.raises(ValueError, match="at least 2 factors"):
            score(GridWorld((3,), mixing=IdentityMixing()), lambda o: o, **budgets)
        with pytest.raises(ValueError, match="batch_size must be an int >= 2"):
            score(world, lambda o: o, batch_size=1, num_train=20, num_eval=20)
        with pytest.raises(ValueError, match="num_eval must be an int >= 1"):
            score(world, lambda o: o, batch_size=4, num_train=20, num_eval=0)
        with pytest.raises(ValueError, match=r"shape \(\d+, n_codes\)"):
            score(world, lambda o: o[:1], **budgets)
        with pytest.raises(ValueError, match="NaN/inf"):
            score(world, lambda o: o * torch.nan, **budgets)


def test_encoders_may_return_numpy_or_one_code():
    world = GridWorld((3, 3), mixing=IdentityMixing())
    budgets = dict(batch_size=4, num_train=60, num_eval=30, num_variance_estimate=60)
    as_numpy = factor_vae_score(world, lambda o: o.numpy(), **budgets)
    as_torch = factor_vae_score(world, lambda o: o, **budgets)
    assert as_numpy == as_torch
    one = factor_vae_score(world, lambda o: o[:, 0], **budgets)
    assert one["factor_vae_num_active_dims"] == 1


def test_sampler_metrics_are_reproducible_from_the_seed():
    world = GridWorld((3, 4, 5))
    budgets = dict(batch_size=8, num_train=200, num_eval=100)
    assert beta_vae_score(world, lambda o: o, **budgets) == beta_vae_score(
        world, lambda o: o, **budgets
    )
    first = factor_vae_score(world, lambda o: o, num_variance_estimate=300, **budgets)
    assert first == factor_vae_score(world, lambda o: o, num_variance_estimate=300, **budgets)


# -- the factor world -------------------------------------------------------------------------
def test_sample_factors_is_uniform_per_factor_and_seeded():
    world = GridWorld((2, 5), mixing=IdentityMixing())
    f = sample_factors(world, 20_000, generator=torch.Generator().manual_seed(0))
    assert f.dtype == torch.long and f.shape == (20_000, 2)
    for j, size in enumerate((2, 5)):
        counts = torch.bincount(f[:, j], minlength=size).double() / 20_000
        assert torch.allclose(counts, torch.full((size,), 1 / size, dtype=torch.float64), atol=0.02)
    again = sample_factors(world, 20_000, generator=torch.Generator().manual_seed(0))
    assert torch.equal(f, again)
    with pytest.raises(ValueError, match="positive int"):
        sample_factors(world, 0, generator=torch.Generator())


def test_grid_world_latents_are_bin_centres_and_observations_invert():
    world = GridWorld((2, 4, 5), seed=3)
    assert isinstance(world, FactorWorld) and isinstance(world, World)
    f = torch.tensor([[0, 0, 0], [1, 3, 4], [0, 1, 2]])
    expected = torch.tensor([[-0.5, -0.75, -0.8], [0.5, 0.75, 0.8], [-0.5, -0.25, 0.0]])
    assert torch.allclose(world.latents(f), expected)
    x = world.observe(f, generator=torch.Generator())
    assert x.shape == (3, 3)
    assert torch.allclose(world.mixing_function.inverse(x), expected, atol=1e-5)
    assert not torch.allclose(x, expected)  # a real mixing
    identity = GridWorld((2, 4, 5), mixing=IdentityMixing())
    assert torch.allclose(identity.observe(f, generator=torch.Generator()), expected)
    batch = world.sample(7, generator=torch.Generator().manual_seed(1))
    assert isinstance(batch, Batch) and batch.z.shape == batch.x.shape == (7, 3)
    again = world.sample(7, generator=torch.Generator().manual_seed(1))
    assert torch.equal(batch.x, again.x) and torch.equal(batch.z, again.z)
    assert torch.allclose(world.mixing_function(batch.z), batch.x)


def test_grid_world_checks_its_inputs():
    with pytest.raises(ValueError, match="factor_sizes"):
        GridWorld(())
    with pytest.raises(ValueError, match="factor_sizes"):
        GridWorld((3, 0))
    with pytest.raises(ValueError, match="mixing must be a Mixing"):
        GridWorld((3,), mixing="leaky")
    world = GridWorld([3, 2], mixing=IdentityMixing())
    assert world.factor_sizes == (3, 2)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        world.latents(torch.zeros((4, 3), dtype=torch.long))
    with pytest.raises(ValueError, match="0 … size − 1"):
        world.latents(torch.tensor([[3, 0]]))
    with pytest.raises(ValueError, match="integer indices"):
        world.latents(torch.zeros((1, 2)))
