"""The documentation site, checked as a reader would: built from a small store, its reproduction
page and a system page opened in headless Chromium; verdict table and figure rendered, internal
links resolve; the reproduction page lists every registered claim ("not run" when it has none)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import toy_experiment

from identifiable import experiments
from identifiable.claims import Claim, Expectation
from identifiable.report.reproduction import claim_states, paper_of, write_reproduction
from identifiable.store import Store
from identifiable.sweep.reproduce import reproduce_claims

pytest.importorskip("mkdocs", reason="the site needs the docs extra (make install has it)")


def _claim(name, value, mode="ok", **kwargs):
    paper = f"Tóy, Äuthor (2026), arXiv:2601.00001, Table {name}"
    return Claim(name=f"toy/{name}", statement="s", paper=paper, experiment="toy",
                 overrides={"value": value, "mode": mode}, paper_value="1.0",
                 expect=(Expectation("value", ">=", 1.0),), **kwargs)  # fmt: skip


def _toy_figure(curves, out_dir):
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot(curves["step"], curves["value"], marker="o", lw=3)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "toy_values.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return [path]


@pytest.fixture
def toy_claims(monkeypatch):
    claims = [_claim("pass", 2.0), _claim("fail", 0.5, known_fail="0.5 at toy scale"),
              _claim("broken", 1.0, mode="fail"), _claim("later", 3.0)]  # fmt: skip
    monkeypatch.setattr(toy_experiment, "CLAIMS", claims, raising=False)
    monkeypatch.setattr(toy_experiment, "figures", _toy_figure, raising=False)
    experiments.register("toy", "toy_experiment")
    experiments.refresh()
    yield claims
    experiments.unregister("toy")
    experiments.refresh()


def test_reproduction_page_lists_every_claim_with_its_state(tmp_path, toy_claims):
    store = Store(tmp_path / "runs")
    reproduce_claims(toy_claims[:3], store, backend="inline")  # "later" is never run
    states = {s.claim.name: s.label for s in claim_states(store, toy_claims)}
    assert states == {"toy/pass": "PASS", "toy/fail": "FAIL (known)", "toy/broken": "ERROR",
                      "toy/later": "not run"}  # fmt: skip
    page = write_reproduction(store, tmp_path / "docs").read_text()
    for claim in experiments.all_claims():  # every registered claim, the real ones included
        assert f"`{claim.name}`" in page
    assert "0.5 at toy scale" in page and "deliberate failure" in page
    assert "img/reproduction/toy/toy_values.png" in page
    config = tmp_path / "docs" / "reproduction" / "configs" / "toy__pass.json"
    assert '"rerun": "identifiable reproduce toy/pass"' in config.read_text()
    assert paper_of(toy_claims[0]) == "Tóy, Äuthor (2026), arXiv:2601.00001"


def test_regenerating_leaves_no_stale_generated_files(tmp_path, toy_claims):
    docs = tmp_path / "docs"
    stale = [docs / "reproduction" / "configs" / "gone__claim.json",
             docs / "img" / "reproduction" / "gone" / "old.png"]  # fmt: skip
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    (docs / "img" / "kept.png").write_text("hand-made")  # beside the generated folder: kept
    write_reproduction(Store(tmp_path / "runs"), docs)
    assert not any(p.exists() for p in stale)
    assert (docs / "img" / "kept.png").exists()
    assert (docs / "reproduction" / "configs" / "toy__pass.json").exists()


def test_claims_markers_become_the_reproduction_rows(tmp_path, toy_claims):
    from identifiable.report.site import claims_tables

    store = Store(tmp_path / "runs")
    reproduce_claims(toy_claims[:3], store, backend="inline")
    reproduction = write_reproduction(store, tmp_path / "docs").read_text()
    page = "## Toy\n\n### Claims\n\n<!-- claims: toy -->\n\nNotes.\n"
    out = claims_tables(reproduction, page)
    assert "<!-- claims" not in out and out.endswith("Notes.\n")
    rows = [line for line in out.splitlines() if line.startswith("| `toy/")]
    assert [r.split("`")[1] for r in rows] == ["toy/pass", "toy/fail", "toy/broken", "toy/later"]
    assert all(r in reproduction for r in rows)  # the very rows of the reproduction page
    assert "| claim | verdict | expected | measured |" in out and "|---|---|" in out
    assert "0.5 at toy scale" in out and "deliberate failure" in out
    assert "verdict-notrun" in rows[3]
    # a marker naming no registered experiment says so instead of an empty table
    assert "No verdicts yet" in claims_tables(reproduction, "<!-- claims: nothing-here -->")


def _chromium(browser, url, tmp_path, *args):
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", *args, url],
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_site_renders_and_its_links_resolve(tmp_path, toy_claims):
    from identifiable.report.site import build_site

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (.ci/run installs it: apt-get install chromium)")
    store = Store(tmp_path / "runs")
    reproduce_claims(toy_claims[:3], store, backend="inline")
    from identifiable.cli import cli_reference

    index = build_site(store, tmp_path / "site", extra_pages={"cli-reference.md": cli_reference()})
    assert "identifiable reproduce" in (index.parent / "cli-reference" / "index.html").read_text()
    site = index.parent
    page = site / "reproduction" / "index.html"
    # the reproduction page as the browser builds it: verdict badges inside a table
    dom = _chromium(browser, page.as_uri(), tmp_path, "--dump-dom").stdout
    assert re.search(r"<table.*verdict-pass.*</table>", dom, flags=re.S)
    assert "verdict-known" in dom and "verdict-error" in dom and "verdict-notrun" in dom
    # its figure: referenced, present, and not blank
    images = re.findall(r'<img[^>]+src="([^"]+toy_values\.png)"', dom)
    assert images
    pixels = matplotlib.image.imread(page.parent / images[0])
    assert pixels.std() > 0.05
    # the front page carries the summary; a system page renders too
    front = _chromium(browser, index.as_uri(), tmp_path, "--dump-dom").stdout
    assert "claims</strong> from" in front and "verdict-pass" in front
    # the summary's links land on the paper's heading of the claims page
    anchors = re.findall(r'href="reproduction/#([^"]+)"', index.read_text())
    assert anchors and all(f'id="{a}"' in page.read_text() for a in anchors)
    shot = tmp_path / "system.png"
    _chromium(browser, (site / "training_tools" / "index.html").as_uri(), tmp_path,
              "--window-size=1000,1400", f"--screenshot={shot}")  # fmt: skip
    pixels = matplotlib.image.imread(shot)
    assert pixels.std() > 0.05 and (pixels[..., :3].mean(-1) < 0.5).mean() > 0.005
    # the system page's claims table, filled from the reproduction page (no run: not run)
    dom = _chromium(browser, (site / "training_tools" / "index.html").as_uri(), tmp_path,
                    "--dump-dom").stdout  # fmt: skip
    assert re.search(r"<table.*allora/short-budget-gain.*verdict-notrun.*</table>", dom, re.S)
    assert "&lt;!-- claims" not in dom and "<!-- claims" not in dom
    # every internal link of every page points at a file of the site
    broken = []
    for html in site.rglob("*.html"):
        for target in re.findall(r'(?:href|src)="([^"#?]+)', html.read_text()):
            if re.match(r"^[a-z]+:", target) or target.startswith("//"):
                continue
            base = site if target.startswith("/") else html.parent  # 404.html: site-absolute
            path = (base / target.lstrip("/")).resolve()
            if path.is_dir():
                path = path / "index.html"
            if not path.exists():
                broken.append(f"{html.relative_to(site)} -> {target}")
    assert not broken, broken[:10]


def test_front_page_summary_counts(tmp_path, toy_claims):
    store = Store(tmp_path / "runs")
    reproduce_claims(toy_claims[:1], store, backend="inline")
    page = write_reproduction(store, tmp_path / "docs", claims=toy_claims).read_text()
    summary = page.split("<!-- summary:start -->")[1].split("<!-- summary:end -->")[0]
    assert "**4 claims** from 1 papers" in summary
    row = next(line for line in summary.splitlines() if line.startswith("| [Tóy"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1:] == ["4", "1", "", "", "", "3"]
    assert np.isclose(float(re.search(r"(\d+\.\d) h", summary).group(1)), 0.0)
