"""The notes under each paper's table on the reproduction page: a known failure's reason only
when it fails, a fragile claim's measurements whatever its verdict."""

from __future__ import annotations

from identifiable.claims import Claim, Expectation, judge
from identifiable.report.reproduction import ClaimState, reproduction_markdown
from identifiable.store import RunRecord

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


def test_the_summary_says_where_the_runs_ran():
    """Verdicts can depend on CPU and torch threads: the page counts the runs per machine, and
    says so for records written before the store kept the machine."""
    amd = {"cpu": "AMD EPYC 7B13", "cores": 2, "system": "Linux", "torch_threads": 1}
    records = [
        RunRecord("k1", "x", {}, "done", "a", "t", wall_seconds=1.0, machine=amd),
        RunRecord("k2", "x", {}, "done", "a", "t", wall_seconds=1.0, machine=amd),
        RunRecord("k3", "x", {}, "done", "a", "t", wall_seconds=1.0),
    ]
    claim = _claim()
    states = [ClaimState(claim, r.key, r, judge(claim, {"acc": 1.0})) for r in records]
    page = reproduction_markdown(states, {}, stamp=STAMP)
    assert (
        "Where the runs ran: AMD EPYC 7B13, 2 cores, 1 torch thread: 2 runs · machine not "
        "recorded (older records): 1 run."
    ) in page
    assert "Where the runs ran" not in _page(claim, 1.0)  # no run, no line
