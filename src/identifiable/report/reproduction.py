"""The state of reproduction: every registered claim with its verdict, generated from the store.

``write_reproduction(store, docs_dir)`` writes ``<docs_dir>/reproduction.md`` (the documentation
site's front page content, also committed as a snapshot) and beside it
``img/reproduction/<experiment>/*.png`` (each experiment's figures from its claims' runs) and
``reproduction/configs/<claim>.json`` (the exact config, seed, store key, package versions and
commit of each claim's run, so a verdict can be traced and re-run alone with ``identifiable
reproduce CLAIM``). Claims are grouped by paper; a registered claim without a finished or failed
run shows as ``not run``. Failing claims are shown as failing, with the measured number and the
claim's own note on why; nothing is filtered. Never edit the generated files by hand.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from identifiable import experiments
from identifiable.claims import Claim, Verdict, verdict_row
from identifiable.run import claim_key, stored_verdict
from identifiable.store import RunRecord, Store

__all__ = ["ClaimState", "claim_states", "reproduction_markdown", "write_reproduction"]

BADGES = {"PASS": "pass", "FAIL": "fail", "FAIL (known)": "known", "ERROR": "error",
          "not run": "notrun"}  # fmt: skip
#: the summary block the site's front page shows (between these markers)
SUMMARY_START, SUMMARY_END = "<!-- summary:start -->", "<!-- summary:end -->"


@dataclass(frozen=True)
class ClaimState:
    """One claim's row: its verdict (None when not run), the run's record and key."""

    claim: Claim
    key: str
    record: RunRecord | None
    verdict: Verdict | None

    @property
    def label(self) -> str:
        return verdict_row(self.verdict)["verdict"] if self.verdict is not None else "not run"


def claim_states(store: Store, claims: Iterable[Claim] | None = None) -> list[ClaimState]:
    """The state of every claim (all registered claims when ``claims`` is None)."""
    states = []
    for claim in experiments.all_claims() if claims is None else claims:
        key = claim_key(claim)
        states.append(ClaimState(claim, key, store.get(key), stored_verdict(claim, store, key)))
    return states


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10, cwd=Path(__file__).parent)  # fmt: skip
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _minutes(seconds: float | None) -> str:
    if not seconds:
        return ""
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _badge(label: str) -> str:
    return f'<span class="verdict verdict-{BADGES[label]}">{label}</span>'


_ARXIV = re.compile(r"arXiv:\s*(\d{4}\.\d{4,5})")


def paper_of(claim: Claim) -> str:
    """The paper a claim belongs to: its reference up to and including the arXiv id (claims cite
    tables and sections after it), or the whole reference when it has no arXiv id."""
    match = _ARXIV.search(claim.paper)
    return claim.paper[: match.end()] if match else claim.paper


def reproduction_markdown(
    states: list[ClaimState], figures: dict[str, list[str]], *, stamp: dict[str, str]
) -> str:
    """The page: stamp, summary (the front page includes it), then one table per paper."""
    labels = [s.label for s in states]
    runs = {s.key: s.record for s in states if s.record is not None and s.verdict is not None}
    seconds = sum(r.wall_seconds or 0.0 for r in runs.values())
    count = {label: labels.count(label) for label in BADGES}
    controls = sum(s.claim.control for s in states)
    lines = [
        "# State of reproduction",
        "",
        f"Generated from the result store by `identifiable report` on {stamp['date']} · "
        f"machine: {stamp['machine']} · commit `{stamp['commit']}` · do not edit by hand.",
        "",
        SUMMARY_START,
        "",
        f"**{len(states)} claims** from {len({paper_of(s.claim) for s in states})} papers: "
        + " · ".join(f"{_badge(label)} {count[label]}" for label in BADGES if count[label])
        + f" · {controls} of them negative controls · total run time of their "
        f"{len(runs)} runs: {seconds / 3600:.1f} h.",
        "",
    ]
    if runs:
        lines += [f"Where the runs ran: {machines_line(list(runs.values()))}.", ""]
    by_paper: dict[str, list[ClaimState]] = {}
    for state in states:
        by_paper.setdefault(paper_of(state.claim), []).append(state)
    lines += ["| paper | claims | " + " | ".join(_badge(label) for label in BADGES) + " |",
              "|---|---|" + "---|" * len(BADGES)]  # fmt: skip
    for paper, group in by_paper.items():
        tally = [sum(s.label == label for s in group) for label in BADGES]
        anchor = "#" + _slug(paper)
        lines.append(f"| [{_cell(paper)}](reproduction.md{anchor}) | {len(group)} | "
                     + " | ".join(str(n) if n else "" for n in tally) + " |")  # fmt: skip
    lines += ["", SUMMARY_END, ""]
    for paper, group in by_paper.items():
        lines += [f"## {paper}", ""]
        lines += ["| claim | verdict | expected | measured | paper's value | time | config |",
                  "|---|---|---|---|---|---|---|"]  # fmt: skip
        for state in group:
            lines.append(_row(state))
        lines.append("")
        for state in group:
            note = state.claim.known_fail
            if note and state.label.startswith("FAIL"):
                lines.append(f"- **{state.claim.name}** fails at CPU scale: {_cell(note)}")
            if state.claim.fragile:
                lines.append(
                    f"- **{state.claim.name}** is fragile (its verdict has changed between "
                    f"machines or thread counts): {_cell(state.claim.fragile)}"
                )
            if state.verdict is not None and state.verdict.error:
                lines.append(f"- **{state.claim.name}** run failed: {_cell(state.verdict.error)}")
        shown = dict.fromkeys(s.claim.experiment for s in group)
        for experiment in shown:
            for path in figures.get(experiment, []):
                lines += ["", f"![{experiment}: {Path(path).stem}]({path})"]
        lines.append("")
    return "\n".join(lines) + "\n"


def machines_line(records: list) -> str:
    """The machines that ran ``records``, most runs first: "AMD EPYC 7B13, 2 cores, 1 torch
    thread: 4 runs · machine not recorded (older records): 49 runs". Verdicts can depend on CPU
    and thread count."""
    counts: dict[str, int] = {}
    for record in records:
        machine = record.machine or {}
        if machine.get("cpu"):
            threads = machine.get("torch_threads")
            label = f"{machine['cpu']}, {machine.get('cores')} cores" + (
                f", {threads} torch thread{'s' if threads != 1 else ''}" if threads else ""
            )
        else:
            label = "machine not recorded (older records)"
        counts[label] = counts.get(label, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    return " · ".join(f"{label}: {n} run{'s' if n != 1 else ''}" for label, n in ranked)


def _slug(text: str) -> str:
    """The anchor MkDocs' toc extension gives a heading (Python-Markdown's ``slugify``: accents
    dropped to ASCII, punctuation removed, lower case, words joined by -)."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _row(state: ClaimState) -> str:
    claim, verdict = state.claim, state.verdict
    name = f"`{claim.name}`" + (" (control)" if claim.control else "")
    time = _minutes(state.record.wall_seconds if state.record is not None else None)
    if verdict is None:
        measured = "—"
    else:
        row = verdict_row(verdict)
        measured = row["measured"] if verdict.measured else f"run failed: {verdict.error}"
    expected = "; ".join(e.describe() for e in claim.expect)
    config = f"[config](reproduction/configs/{claim.name.replace('/', '__')}.json)"
    return (f"| {name} | {_badge(state.label)} | {_cell(expected)} | {_cell(measured)} | "
            f"{_cell(claim.paper_value)} | {time} | {config} |")  # fmt: skip


def _figures(store: Store, states: list[ClaimState], img_dir: Path) -> dict[str, list[str]]:
    """Per experiment, its figures from the curves of its claims' finished runs."""
    out: dict[str, list[str]] = {}
    done: dict[str, list[str]] = {}
    for state in states:
        if state.record is not None and state.record.status == "done":
            done.setdefault(state.claim.experiment, [])
            if state.key not in done[state.claim.experiment]:
                done[state.claim.experiment].append(state.key)
    for experiment, keys in done.items():
        draw = getattr(experiments.get(experiment), "figures", None)
        if draw is None:
            continue
        folder = img_dir / experiment
        try:
            curves = pd.concat([store.curves(key) for key in keys], ignore_index=True)
            paths = draw(curves, folder)
        except Exception:  # a figure is an illustration: never let it stop the page
            continue
        out[experiment] = [
            Path(p).relative_to(img_dir.parent.parent).as_posix() for p in paths or []
        ]
    return out


def write_reproduction(
    store: Store, docs_dir: str | Path, claims: Iterable[Claim] | None = None
) -> Path:
    """Write ``<docs_dir>/reproduction.md`` with its figures and configs; returns its path."""
    docs = Path(docs_dir)
    states = claim_states(store, claims)
    configs, img_dir = docs / "reproduction" / "configs", docs / "img" / "reproduction"
    for generated in (configs, img_dir):  # only ever written here: start afresh, no stale files
        shutil.rmtree(generated, ignore_errors=True)
    configs.mkdir(parents=True, exist_ok=True)
    for state in states:
        record = state.record
        provenance = {
            "claim": state.claim.name,
            "experiment": state.claim.experiment,
            "key": state.key,
            "overrides": state.claim.overrides,
            "status": record.status if record is not None else "not run",
            "config": record.config if record is not None else None,
            "versions": record.versions if record is not None else None,
            "git_commit": record.git_commit if record is not None else None,
            "machine": record.machine if record is not None else None,
            "finished_at": record.finished_at if record is not None else None,
            "wall_seconds": record.wall_seconds if record is not None else None,
            "rerun": f"identifiable reproduce {state.claim.name}",
        }
        name = state.claim.name.replace("/", "__") + ".json"
        (configs / name).write_text(json.dumps(provenance, indent=1, default=str) + "\n")
    figures = _figures(store, states, img_dir)
    stamp = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        "commit": _commit(),
    }
    path = docs / "reproduction.md"
    path.write_text(reproduction_markdown(states, figures, stamp=stamp))
    return path
