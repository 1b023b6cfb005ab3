"""The committed snapshot docs/reproduction.md (what the site shows without a store of claim runs):
stamped, and listing every registered claim — a claim added later must be there, as `not run`
until the snapshot is regenerated with its run (`identifiable report --reproduction docs`)."""

from __future__ import annotations

from pathlib import Path

from identifiable import experiments

SNAPSHOT = Path(__file__).resolve().parents[2] / "docs" / "reproduction.md"


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
