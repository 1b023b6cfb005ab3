"""Loss-to-loss scaling, tested for what its numbers mean (module docstring of
identifiable.analysis.scaling): the two laws by hand, the bounds and fallbacks of E, the
bootstrap's intervals and its skip rule, and the signed gap between two groups' curves."""

import numpy as np
import pytest

from identifiable.analysis.scaling import (
    compute_to_loss,
    curve_difference,
    fit_irreducible,
    fit_loss_to_loss,
    fit_shifted_power_law,
    shifted_power_law,
)


def grid():
    n, d = np.meshgrid([1, 2, 4, 8, 16, 32], [1, 3, 10, 30, 100])
    return n.ravel().astype(float), d.ravel().astype(float)


def family(k=0.9, kappa=1.3, e_y=2.0):
    """Exact losses of one model family: L_x from the compute law (E_x = 1.5), L_y on the curve."""
    n, d = grid()
    x = compute_to_loss(n, d, 1.5, 2.0, 3.0, 0.5, 0.6)
    return x, k * (x - 1.5) ** kappa + e_y, n, d


# -- the laws ------------------------------------------------------------------------------------
def test_compute_to_loss_by_hand():
    # A/N = 4, α/β = 1, B/D = 5, β = 0.5: E + (4 + 5)^0.5 = 0.25 + 3
    assert compute_to_loss(4.0, 2.0, 0.25, 16.0, 10.0, 0.5, 0.5) == pytest.approx(3.25)
    # α/β = 2: (A/N)² — A/N = 3, B/D = 0.5, β = 1: 9 + 0.5
    assert compute_to_loss(1.0, 4.0, 0.0, 3.0, 2.0, 2.0, 1.0) == pytest.approx(9.5)
    # undefined (a negative base to a fractional power) is NaN, not an error (arrays, as curve_fit
    # passes them)
    assert np.isnan(compute_to_loss(np.ones(2), np.ones(2), 0.0, -1.0, 0.0, 0.25, 0.5)).all()


def test_shifted_power_law_by_hand():
    # 0.5 · (5 − 1)^1.5 + 2 = 0.5 · 8 + 2
    assert shifted_power_law(5.0, 0.5, 1.5, 1.0, 2.0) == pytest.approx(6.0)
    assert shifted_power_law([1.0, 2.0], 3.0, 0.0, 1.5, 1.0).tolist() == [4.0, 4.0]


# -- E: the compute-to-loss fit, its bounds and its fallbacks -------------------------------------
def test_irreducible_loss_of_exact_data_is_recovered_from_any_start_in_its_bounds():
    x, _, n, d = family()
    for start in (0.0, 0.1, 1.0, 100.0):  # 100 lies above min L: moved to the bound
        e = fit_irreducible(x, n, d, start=start)
        assert (e.source, e.reason) == ("fit", "")
        assert e.value == pytest.approx(1.5, abs=1e-6)
        np.testing.assert_allclose(e.law, (1.5, 2.0, 3.0, 0.5, 0.6), rtol=1e-5)
    warm = fit_irreducible(x, n, d, warm=(1.4, 2.1, 2.9, 0.5, 0.6))
    assert warm.value == pytest.approx(1.5, abs=1e-6)


def test_six_models_are_enough_for_the_compute_law():
    x, _, n, d = family()
    pick = [0, 7, 14, 21, 28, 29]
    e = fit_irreducible(x[pick], n[pick], d[pick])
    assert e.source == "fit" and e.law is not None and len(e.law) == 5


def test_irreducible_loss_stays_in_its_bounds():
    x, _, n, d = family()
    # true E = 1.5 lies below the lower bound 1.6 (< min L ≈ 1.79): E sits on the bound
    e = fit_irreducible(x, n, d, lower=1.6)
    assert e.source == "fit" and e.value == pytest.approx(1.6, abs=1e-9)
    # a model far below the law pulls E up, but never above the smallest loss
    low = x.copy()
    low[np.argmax(x)] = x.min() - 0.05
    e = fit_irreducible(low, n, d)
    assert e.source == "fit" and 0 <= e.value <= low.min()


def test_irreducible_loss_falls_back_to_the_smallest_loss():
    x, _, n, d = family()
    for e in (fit_irreducible(x, n, None), fit_irreducible(x, None, d)):
        assert (e.value, e.source, e.law) == (x.min(), "min", None)
    e = fit_irreducible(x, n, d, lower=x.min())  # no room between the bounds
    assert (e.value, e.source) == (x.min(), "min") and "lower bound" in e.reason


@pytest.mark.parametrize("bad", ["size", "tokens"])
def test_counts_must_be_positive(bad):
    x, _, n, d = family()
    counts = {"size": n, "tokens": d}
    counts[bad] = np.where(np.arange(len(x)) == 3, 0.0, counts[bad])
    with pytest.raises(ValueError, match="> 0"):
        fit_irreducible(x, counts["size"], counts["tokens"])


def test_nan_values_are_counted_in_the_error():
    with pytest.raises(ValueError, match="loss contains 2 NaN/inf values"):
        fit_irreducible([1.0, np.nan, np.inf, 2.0])


# -- (K, κ) --------------------------------------------------------------------------------------
def test_exponent_below_one_is_recovered_and_never_negative():
    x, y, _, _ = family(k=1.7, kappa=0.4)
    assert fit_shifted_power_law(x, y, 1.5, 2.0) == pytest.approx((1.7, 0.4), abs=1e-6)
    # a falling convex relation would need κ < 0: the fit stays at κ ≥ 0
    _, kappa = fit_shifted_power_law(x, 2.0 + 1 / (x - 1.4), 1.5, 2.0)
    assert kappa >= 0


def test_lower_bound_of_e_applies_to_e_x_only():
    # E_y = 0.5 lies below e_min = 1.0: only E_x is bounded below by e_min, E_y by 0
    x, y, n, d = family(e_y=0.5)
    fit = fit_loss_to_loss(x, y, n, d, e_min=1.0, bootstrap=0)
    assert fit.e_x.value == pytest.approx(1.5, abs=1e-6)
    assert fit.e_y.source == "fit" and fit.e_y.value == pytest.approx(0.5, abs=1e-6)
    assert (fit.k, fit.kappa) == pytest.approx((0.9, 1.3), abs=1e-6)


def test_given_and_fitted_irreducible_losses_mix():
    x, y, n, d = family()
    fit = fit_loss_to_loss(x, y, n, d, e_y=2.0, bootstrap=0)
    assert (fit.e_x.source, fit.e_y.source) == ("fit", "given")
    assert fit.e_x.value == pytest.approx(1.5, abs=1e-6) and fit.e_y.value == 2.0


# -- residuals, R², bootstrap intervals ------------------------------------------------------------
def noisy(seed=0, sd=0.02):
    x, y, n, d = family()
    return x, y + np.random.default_rng(seed).normal(0, sd, len(y)), n, d


def test_residuals_and_r2_are_the_textbook_ones():
    x, y, n, d = noisy()
    fit = fit_loss_to_loss(x, y, n, d, bootstrap=0)
    np.testing.assert_allclose(fit.residuals, y - fit.predict(x), rtol=1e-12)
    r2 = 1 - (fit.residuals**2).sum() / ((y - y.mean()) ** 2).sum()
    assert fit.r2 == pytest.approx(r2) and 0.9 < fit.r2 < 1
    assert fit.n == 30
    flat = fit_loss_to_loss(x, np.full_like(x, 3.0), bootstrap=0)  # nothing to explain
    assert np.isnan(flat.r2)


def test_bootstrap_intervals_shrink_with_the_confidence_and_follow_the_seed():
    x, y, n, d = noisy()
    wide = fit_loss_to_loss(x, y, e_x=1.5, e_y=2.0, bootstrap=200, confidence=0.95)
    narrow = fit_loss_to_loss(x, y, e_x=1.5, e_y=2.0, bootstrap=200, confidence=0.01)
    assert wide.bootstrap_fits == narrow.bootstrap_fits == 200
    for name in ("K", "kappa"):
        (lo, hi), (nlo, nhi) = wide.ci[name], narrow.ci[name]
        # the 0.5 … 99.5 % band of 200 draws is a few draws wide around the median; the 2.5 …
        # 97.5 % band spans most of them (a normal spread: widths 0.025 σ vs 3.9 σ)
        assert lo < nlo <= nhi < hi
        assert nhi - nlo < 0.1 * (hi - lo)
        assert lo < (fit_loss_to_loss(x, y, e_x=1.5, e_y=2.0, bootstrap=0).parameters()[name]) < hi
    assert wide.ci["E_x"] == (1.5, 1.5)  # given: every resample uses it
    other = fit_loss_to_loss(x, y, e_x=1.5, e_y=2.0, bootstrap=200, seed=1)
    assert other.ci["K"] != wide.ci["K"]


@pytest.mark.parametrize("confidence", [0.0, 1.0])
def test_confidence_must_lie_strictly_between_0_and_1(confidence):
    x, y, _, _ = family()
    with pytest.raises(ValueError, match="confidence"):
        fit_loss_to_loss(x, y, confidence=confidence, bootstrap=2)


def test_resamples_with_fewer_than_three_distinct_models_are_skipped():
    # 4 models: of the 4⁴ = 256 resamples, 4! = 24 hold all 4 and C(4,3)·36 = 144 exactly 3
    # (36 maps of 4 draws onto 3 models): p = 168/256 = 0.656; 300 resamples: 197 ± 8 (1 sd)
    x, y, _, _ = family()
    pick = [0, 10, 20, 29]
    fit = fit_loss_to_loss(x[pick], y[pick], e_x=1.5, e_y=2.0, bootstrap=300, seed=0)
    assert abs(fit.bootstrap_fits - 300 * 168 / 256) < 5 * np.sqrt(300 * 0.656 * 0.344)
    assert np.isfinite(fit.ci["K"]).all()  # more than half fitted: intervals reported
    # 3 models: all distinct with probability 6/27, fewer than half the resamples: NaN
    few = fit_loss_to_loss(x[pick[:3]], y[pick[:3]], e_x=1.5, e_y=2.0, bootstrap=100)
    assert 0 < few.bootstrap_fits < 50 and np.isnan(few.ci["K"]).all()


def test_a_resample_refits_e_as_its_own_smallest_loss_where_the_full_data_fell_back():
    # e_min = min L_x leaves no room: E_x = min L_x for the data, and each resample takes its
    # own smallest L_x (above min L_x whenever the smallest model is not drawn, p = 0.36)
    x, y, n, d = family()
    fit = fit_loss_to_loss(x, y, n, d, e_min=float(x.min()), bootstrap=60)
    assert fit.e_x.source == "min" and fit.e_x.value == x.min()
    low, high = fit.ci["E_x"]
    assert low == x.min() and high > x.min()
    assert high <= np.sort(x)[3]  # the 4th smallest is the smallest of a resample w.p. < 0.4 %


# -- the gap between two curves --------------------------------------------------------------------
def test_curve_difference_is_the_mean_gap_over_the_shared_range():
    x, ya, n, d = family(k=0.9)
    _, yb, _, _ = family(k=1.4)
    a = {"x": x, "y": ya, "size": n, "tokens": d}
    b = {"x": x, "y": yb, "size": n, "tokens": d}
    diff = curve_difference(a, b, bootstrap=0, grid=3)
    xs = np.linspace(x.min(), x.max(), 3)
    expected = np.mean((0.9 - 1.4) * (xs - 1.5) ** 1.3)  # E_x = 1.5, E_y = 2 in both groups
    assert diff.gap == pytest.approx(expected, abs=1e-6)
    assert (diff.low_x, diff.high_x) == (x.min(), x.max())
    assert np.isnan(diff.ci).all() and diff.bootstrap_fits == 0
    assert curve_difference(b, a, bootstrap=0, grid=3).gap == pytest.approx(-expected, abs=1e-6)


def test_curve_difference_of_a_shifted_copy_is_the_shift_with_an_interval_around_it():
    x, y, _, _ = noisy()
    a, b = {"x": x, "y": y + 0.3}, {"x": x, "y": y}
    diff = curve_difference(a, b, bootstrap=40, seed=2)
    assert diff.gap == pytest.approx(0.3, abs=1e-9)  # E = min L shifts with the curve
    assert diff.bootstrap_fits == 40
    assert diff.ci[0] <= 0.3 <= diff.ci[1] and diff.ci[0] < diff.ci[1]
    assert curve_difference(a, b, bootstrap=40, seed=2).ci == diff.ci


def test_curve_difference_compares_only_where_both_groups_have_models():
    x, y, _, _ = family()
    order = np.argsort(x)
    lo, hi = order[:20], order[10:]
    diff = curve_difference({"x": x[lo], "y": y[lo]}, {"x": x[hi], "y": y[hi]}, bootstrap=0)
    assert (diff.low_x, diff.high_x) == (x[hi].min(), x[lo].max())
    # ranges that only touch do not overlap
    with pytest.raises(ValueError, match="do not overlap"):
        curve_difference(
            {"x": x[order[:10]], "y": y[order[:10]]},
            {"x": x[order[9:]], "y": y[order[9:]]},
            bootstrap=0,
        )


def test_curve_difference_skips_resamples_of_too_few_distinct_models():
    # group b has 4 models: 0.656 of its resamples have ≥ 3 distinct ones (see above)
    x, y, _, _ = family()
    pick = [0, 10, 20, 29]
    a, b = {"x": x, "y": y}, {"x": x[pick], "y": y[pick]}
    diff = curve_difference(a, b, bootstrap=200, seed=0)
    assert abs(diff.bootstrap_fits - 200 * 168 / 256) < 5 * np.sqrt(200 * 0.656 * 0.344)
    assert np.isfinite(diff.ci).all()
    # both groups with 3 models: 6/27 each, (6/27)² of the resamples: too few for an interval
    three = {"x": x[pick[:3]], "y": y[pick[:3]]}
    small = curve_difference(three, three, bootstrap=60, seed=0)
    assert small.bootstrap_fits < 30 and np.isnan(small.ci).all()
