import math

import pytest

from identifiable.claims import Claim, Expectation, judge, verdict_row
from identifiable.experiments import select_claims as select


def test_expectations():
    assert Expectation("a", ">=", 0.5).holds(0.5)
    assert not Expectation("a", ">=", 0.5).holds(0.49)
    assert Expectation("a", "<=", 0.5).holds(0.1)
    assert Expectation("a", "between", 0.1, 0.2).holds(0.15)
    assert not Expectation("a", "between", 0.1, 0.2).holds(0.25)
    assert not Expectation("a", ">=", 0.5).holds(math.nan)


def test_bad_expectations():
    with pytest.raises(ValueError):
        Expectation("a", "==", 1.0)
    with pytest.raises(ValueError):
        Expectation("a", "between", 1.0)


def test_judge_reports_each_failure():
    claim = Claim(
        "x/y",
        "s",
        "p",
        experiment="x",
        expect=(Expectation("a", ">=", 1), Expectation("b", "<=", 0)),
    )
    verdict = judge(claim, {"a": 2, "b": 3})
    assert not verdict.passed and len(verdict.failures) == 1 and "b ≤ 0" in verdict.failures[0]
    assert not judge(claim, {}).passed


def test_select_by_prefix_and_errors():
    assert all(c.name.startswith("contrastive/") for c in select("contrastive"))
    assert [c.name for c in select("contrastive/sphere-orthogonal")] == [
        "contrastive/sphere-orthogonal"
    ]
    with pytest.raises(ValueError, match="no claim matches"):
        select("nothing")


def test_a_known_fail_is_labelled_but_still_fails():
    """``known_fail`` documents an honest FAIL; it never turns the verdict into a pass."""
    expect = (Expectation("acc", ">=", 0.95),)
    known = Claim("x/known", "s", "p", overrides={}, expect=expect, known_fail="0.02 at 30k")
    plain = Claim("x/plain", "s", "p", overrides={}, expect=expect)
    assert verdict_row(judge(known, {"acc": 0.02}))["verdict"] == "FAIL (known)"
    assert not judge(known, {"acc": 0.02}).passed
    assert verdict_row(judge(plain, {"acc": 0.02}))["verdict"] == "FAIL"
    assert verdict_row(judge(known, {"acc": 0.99}))["verdict"] == "PASS"


def test_strict_comparisons_exclude_the_bound():
    assert Expectation("gain_ci_low", ">", 0.0).holds(1e-9)
    assert not Expectation("gain_ci_low", ">", 0.0).holds(0.0)
    assert Expectation("x", "<", 1.0).holds(0.5) and not Expectation("x", "<", 1.0).holds(1.0)
    assert Expectation("gain_ci_low", ">", 0.0).describe() == "gain_ci_low > 0"
    with pytest.raises(ValueError, match="op must be one of"):
        Expectation("x", "!=", 0.0)


def test_a_fragile_note_never_changes_the_verdict():
    """``fragile`` records that a verdict changed between machines; PASS and FAIL stay as judged."""
    expect = (Expectation("acc", ">=", 0.95),)
    fragile = Claim("x/f", "s", "p", overrides={}, expect=expect, fragile="0.99 here, 0.90 there")
    assert verdict_row(judge(fragile, {"acc": 0.99}))["verdict"] == "PASS"
    assert verdict_row(judge(fragile, {"acc": 0.90}))["verdict"] == "FAIL"
