"""The committed snapshot docs/reproduction.md (what the site shows without a store of claim runs):
stamped, listing every registered claim — a claim added later must be there, as `not run`
until the snapshot is regenerated with its run (`make snapshot`) — and generated from the
committed store reproduction/store (`make reproduce` fills it, resumably): every verdict on the
page is the one that store's runs give today, so the page cannot be edited by hand or go stale
when a claim's expectation changes."""

from __future__ import annotations

import re
from pathlib import Path

from identifiable import experiments
from identifiable.report.reproduction import claim_states
from identifiable.store import Store

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "docs" / "reproduction.md"
STORE = ROOT / "reproduction" / "store"


def test_snapshot_lists_every_registered_claim():
    text = SNAPSHOT.read_text()
    missing = [c.name for c in experiments.all_claims() if f"`{c.name}`" not in text]
    assert not missing, (
        f"docs/reproduction.md lacks {missing}; regenerate it: identifiable report "
        "--reproduction docs --store <store with the claim runs>"
    )


def test_snapshot_is_stamped():
    head = SNAPSHOT.read_text().split("<!-- summary:start -->")[0]
    for what in ("Generated from the result store", "machine:", "commit `"):
        assert what in head
    assert "total run time of their" in SNAPSHOT.read_text()


def test_snapshot_verdicts_are_those_of_the_committed_store():
    shown = dict(re.findall(r'^\| `([^`]+)`[^|]*\| <span class="verdict [^"]+">([^<]+)</span>',
                            SNAPSHOT.read_text(), flags=re.M))  # fmt: skip
    assert shown, "no verdict rows found in docs/reproduction.md"
    stored = {s.claim.name: s.label for s in claim_states(Store(STORE))}
    differ = {name: (shown.get(name), label) for name, label in stored.items()
              if shown.get(name) != label}  # fmt: skip
    assert not differ, (
        f"docs/reproduction.md disagrees with reproduction/store (page, store): {differ}; "
        "regenerate it with `make snapshot`"
    )
