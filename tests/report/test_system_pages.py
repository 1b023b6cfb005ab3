"""Every system page follows one outline, and every experiment with claims has a page.

A *system section* is a ``##`` section of a page in ``docs/`` that holds a claims marker
``<!-- claims: EXPERIMENT [EXPERIMENT …] -->``; the site replaces the marker by the verdict table
of those experiments' claims (generated from the store or the committed snapshot, never by hand).
Each system section has the ``###`` headings of :data:`OUTLINE`, in that order (other ``###``
sections may sit between or after them).
"""

from __future__ import annotations

import re
from pathlib import Path

from identifiable import experiments
from identifiable.report.site import CLAIMS_MARKER, OUTLINE

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _sections(text: str) -> list[tuple[str, str]]:
    """(heading, body) of each ``##`` section of a page."""
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return list(zip(parts[1::2], parts[2::2], strict=True))


def _marked() -> dict[str, list[tuple[str, str]]]:
    """experiment -> the (page, section heading) whose claims marker names it."""
    out: dict[str, list[tuple[str, str]]] = {}
    for page in sorted(DOCS.glob("*.md")):
        for heading, body in _sections(page.read_text()):
            for match in CLAIMS_MARKER.finditer(body):
                for experiment in match.group(1).split():
                    out.setdefault(experiment, []).append((page.name, heading))
    return out


def test_every_experiment_with_claims_has_exactly_one_system_section():
    marked = _marked()
    with_claims = sorted({c.experiment for c in experiments.all_claims()})
    missing = [e for e in with_claims if e not in marked]
    assert not missing, f"no docs page has a `<!-- claims: … -->` marker for {missing}"
    twice = {e: places for e, places in marked.items() if len(places) > 1}
    assert not twice, f"experiments marked in more than one section: {twice}"
    unknown = sorted(set(marked) - set(with_claims))
    assert not unknown, f"markers name experiments without claims: {unknown}"


def test_system_sections_follow_the_outline():
    wrong = []
    for page in sorted(DOCS.glob("*.md")):
        for heading, body in _sections(page.read_text()):
            if not CLAIMS_MARKER.search(body):
                continue
            subheadings = [h.strip().lower() for h in re.findall(r"^### (.+)$", body, flags=re.M)]
            positions = []
            for part in OUTLINE:
                hits = [i for i, h in enumerate(subheadings) if h.startswith(part.lower())]
                positions.append(hits[0] if hits else None)
            if None in positions or positions != sorted(positions):
                have = [OUTLINE[i] for i, p in enumerate(positions) if p is not None]
                wrong.append(f"{page.name} § {heading}: has {have} of {list(OUTLINE)}")
    assert not wrong, "system sections off the outline:\n" + "\n".join(wrong)


def test_claims_marker_sits_under_the_claims_heading():
    for page in sorted(DOCS.glob("*.md")):
        for heading, body in _sections(page.read_text()):
            for match in CLAIMS_MARKER.finditer(body):
                before = re.findall(r"^### (.+)$", body[: match.start()], flags=re.M)
                assert before and before[-1].lower().startswith("claims"), (
                    f"{page.name} § {heading}: the claims marker is not under '### Claims'"
                )


def test_pages_with_systems_are_in_the_nav():
    text = (ROOT / "mkdocs.yml").read_text().split("\nnav:", 1)[1]
    pages = {p.name for p in DOCS.glob("*.md") if CLAIMS_MARKER.search(p.read_text())}
    missing = sorted(p for p in pages if p not in text)
    assert not missing, f"system pages missing from mkdocs.yml's nav: {missing}"
