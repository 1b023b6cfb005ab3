"""The documentation site: MkDocs (Material theme, mkdocstrings for the API) built from ``docs/``.

``build_site(store, out_dir)`` copies ``docs/`` to a scratch folder and adds what is generated:

* ``reproduction.md`` — the state of reproduction from the store
  (:func:`~identifiable.report.reproduction.write_reproduction`); a store without any claim run
  keeps the committed snapshot ``docs/reproduction.md``;
* the front page's summary (``index.md``'s ``<!-- reproduction summary -->`` line is replaced by
  the summary block of ``reproduction.md``);
* pages cut from README.md's sections (getting started, concepts, command line, the store,
  extending, speed, sweeps), with README's ``docs/…`` links made relative to the site, and
  ``extra_pages`` (``identifiable report --site`` adds the full command-line reference
  generated from the live typer app, ``cli-reference.md``),

then runs ``mkdocs build`` with the repository's ``mkdocs.yml`` into ``out_dir``. Generated pages
are rebuilt every time, never edited by hand. Needs the ``docs`` extra
(``pip install 'identifiable[docs]'``: mkdocs, mkdocs-material, mkdocstrings).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from identifiable import experiments
from identifiable.report.reproduction import SUMMARY_END, SUMMARY_START, write_reproduction
from identifiable.store import Store

__all__ = [
    "CLAIMS_MARKER",
    "OUTLINE",
    "README_PAGES",
    "build_site",
    "claims_tables",
    "readme_section",
]

ROOT = Path(__file__).resolve().parents[3]

#: site page -> (README heading it starts at, the heading it stops before)
README_PAGES = {
    "getting-started.md": ("## Quick start", "## Concepts"),
    "concepts.md": ("## Concepts", "## Command line"),
    "cli.md": ("## Command line", "### The store"),
    "store.md": ("### The store", "## Claims"),
    "extending.md": ("## Extending it", "## Speed"),
    "speed.md": ("## Speed", "## Causal effects with ICA"),
    "sweeps.md": ("## Sweeps and clusters", "## Development"),
}
SUMMARY_PLACEHOLDER = "<!-- reproduction summary -->"
#: a system page's claims table: ``<!-- claims: EXPERIMENT [EXPERIMENT …] -->`` on its own line
CLAIMS_MARKER = re.compile(r"^<!-- claims: ([a-z0-9 -]+?) -->$", re.M)
#: the ``###`` headings of every system section (a ``##`` section with a claims marker), in order
OUTLINE = (
    "What the paper claims",
    "The world",
    "The learner",
    "The metrics",
    "CPU scaling",
    "Claims",
    "Figures",
)


def readme_section(readme: str, start: str, stop: str) -> str:
    """The lines of ``readme`` from the heading ``start`` up to the heading ``stop`` (a prefix),
    promoted to a page (its heading becomes the title) with ``docs/`` links made site-relative."""
    lines = readme.splitlines()
    try:
        first = next(i for i, line in enumerate(lines) if line.strip() == start)
    except StopIteration:
        raise ValueError(f"README.md has no heading {start!r}") from None
    last = next((i for i in range(first + 1, len(lines)) if lines[i].startswith(stop)), len(lines))
    body = "\n".join(lines[first:last])
    level = len(start) - len(start.lstrip("#"))
    body = re.sub(rf"^{'#' * (level - 1)}", "", body, flags=re.M) if level > 1 else body
    body = body.replace("](docs/", "](")
    return body.strip() + "\n"


def build_site(
    store: Store | None,
    out_dir: str | Path,
    *,
    docs_dir: str | Path | None = None,
    config_file: str | Path | None = None,
    readme: str | Path | None = None,
    extra_pages: dict[str, str] | None = None,
) -> Path:
    """Build the site into ``out_dir`` (module docstring); returns the path of its index.html.
    ``extra_pages`` (file name -> Markdown) are added as they are — the CLI passes its own
    reference, ``cli-reference.md``, which this layer cannot import."""
    try:
        from mkdocs.commands.build import build
        from mkdocs.config import load_config
    except ImportError:
        raise ValueError(
            "building the site needs MkDocs: pip install 'identifiable[docs]'"
        ) from None
    docs = Path(docs_dir) if docs_dir is not None else ROOT / "docs"
    config_path = Path(config_file) if config_file is not None else ROOT / "mkdocs.yml"
    readme_path = Path(readme) if readme is not None else ROOT / "README.md"
    for path, what in ((docs, "docs folder"), (config_path, "mkdocs.yml"), (readme_path, "README")):
        if not path.exists():
            raise ValueError(f"the {what} {path} does not exist; run from a clone of the repo")
    out = Path(out_dir).resolve()
    with tempfile.TemporaryDirectory(prefix="identifiable-site-") as scratch:
        work = Path(scratch) / "docs"
        shutil.copytree(docs, work)
        has_runs = store is not None and bool(store.records())
        if has_runs or not (work / "reproduction.md").exists():
            write_reproduction(store if store is not None else Store(Path(scratch) / "empty"), work)
        _front_page(work)
        _system_pages(work)
        text = readme_path.read_text()
        for page, (start, stop) in README_PAGES.items():
            (work / page).write_text(readme_section(text, start, stop))
        for page, content in (extra_pages or {}).items():
            (work / page).write_text(content)
        config = load_config(config_file=str(config_path), docs_dir=str(work), site_dir=str(out))
        build(config)
    return out / "index.html"


def claims_tables(reproduction: str, page: str) -> str:
    """``page`` with each claims marker replaced by its experiments' rows of the reproduction
    page ``reproduction`` (same columns, same badges, the same notes on known failures and
    failed runs), so a system page can never disagree with the state of reproduction."""
    rows: dict[str, str] = {}
    notes: dict[str, list[str]] = {}
    for line in reproduction.splitlines():
        row = re.match(r"^\| `([^`]+)`", line)
        if row:
            rows[row.group(1)] = line
        note = re.match(r"^- \*\*([^*]+)\*\* ", line)
        if note:
            notes.setdefault(note.group(1), []).append(line)
    lines = reproduction.splitlines()
    at = next((i for i, line in enumerate(lines) if line.startswith("| claim |")), None)
    header = "\n".join(lines[at : at + 2]) if at is not None else ""  # heading + its |---| row

    def table(match: re.Match) -> str:
        names = [c.name for e in match.group(1).split() for c in _claims_of(e)]
        found = [rows[n] for n in names if n in rows]
        if not found or not header:
            return "No verdicts yet: see the [state of reproduction](reproduction.md)."
        out = [header, *found, ""]
        out += [note for n in names for note in notes.get(n, [])]
        out += ["", "Every claim of every system: [state of reproduction](reproduction.md)."]
        return "\n".join(out)

    return CLAIMS_MARKER.sub(table, page)


def _claims_of(experiment: str) -> list:
    try:
        return experiments.claims(experiment)
    except experiments.UnknownExperimentError:
        return []


def _system_pages(docs: Path) -> None:
    """Fill every page's claims markers from the (generated or committed) reproduction.md."""
    reproduction = (docs / "reproduction.md").read_text()
    for page in docs.glob("*.md"):
        text = page.read_text()
        if CLAIMS_MARKER.search(text):
            page.write_text(claims_tables(reproduction, text))


def _front_page(docs: Path) -> None:
    """Put the summary block of reproduction.md where index.md asks for it."""
    index = docs / "index.md"
    page = (docs / "reproduction.md").read_text()
    if not index.exists() or SUMMARY_START not in page:
        return
    summary = page.split(SUMMARY_START, 1)[1].split(SUMMARY_END, 1)[0].strip()
    index.write_text(index.read_text().replace(SUMMARY_PLACEHOLDER, summary))
