"""The notes under each paper's table on the reproduction page: a known failure's reason only
when it fails, a fragile claim's measurements whatever its verdict."""

from __future__ import annotations

from identifiable.claims import Claim, Expectation, judge
from identifiable.report.reproduction import ClaimState, reproduction_markdown

STAMP = {"date": "d", "machine": "m", "commit": "c"}


def _page(claim: Claim, acc: float) -> str:
    state = ClaimState(claim, "k", None, judge(claim, {"acc": acc}))
    return reproduction_markdown([state], {}, stamp=STAMP)


def _claim(**notes) -> Claim:
    expect = (Expectation("acc", ">=", 0.95),)
    return Claim("x/c", "s", "paper", experiment="x", expect=expect, **notes)


def test_a_fragile_claim_shows_its_note_on_pass_and_on_fail():
    claim = _claim(fragile="0.99 with 1 thread, 0.90 with 2")
    for acc, badge in ((0.99, "verdict-pass"), (0.90, "verdict-fail")):
        page = _page(claim, acc)
        assert badge in page
        assert "- **x/c** is fragile" in page and "0.99 with 1 thread, 0.90 with 2" in page


def test_a_known_failure_explains_itself_only_when_it_fails():
    claim = _claim(known_fail="0.5 at toy scale")
    assert "- **x/c** fails at CPU scale: 0.5 at toy scale" in _page(claim, 0.5)
    assert "fails at CPU scale" not in _page(claim, 0.99)
    assert "is fragile" not in _page(_claim(), 0.5)
