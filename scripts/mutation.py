"""Mutation testing of the science modules, one module at a time, against that module's own tests.

    make mutation                                        # every science module (slow: hours)
    MODULE=src/identifiable/losses/contrastive.py make mutation   # one module (minutes)
    .venv/bin/python scripts/mutation.py src/identifiable/metrics/identifiability.py --show

A *mutant* is a copy of the module with one small slip in it (``<`` for ``<=``, ``x + 1`` for
``x``, a dropped keyword argument, ...). The module's tests *kill* it when one of them fails;
a mutant that every test still passes *survives* and shows a slip the tests cannot see. The score
is killed / (killed + survived + timeout); mutants in ``mutation-equivalents.toml`` (each with the
reason it cannot change any output) are left out of it. Goals (issue 10): ≥ 90 % for ``metrics/``,
``losses/`` and ``optim/``, ≥ 85 % for ``worlds/`` and ``causal/``.

How it runs (mutmut ≥ 3, configured under ``[tool.mutmut]`` in pyproject.toml):

* Each module gets its own scratch copy of the repository under ``mutants/<module>/`` (src, tests,
  pyproject with the module's own ``[tool.mutmut]``: only that file is mutated, only its oracle
  tests are collected). One mutmut invocation per module keeps the test selection per module
  (mutmut reads one selection per working directory) and its cache separate.
* mutmut maps every function to the oracle tests that call it and runs, per mutant, only those
  tests, in a worker forked from a warm pytest (``process_isolation = "forkserver"``, as torch
  needs), under a per-mutant wall-clock timeout of (tests' clean duration + ``timeout_constant``)
  × ``timeout_multiplier``.
* mutmut 3 never mutates a decorated function (``@metric``, ``@property``, ...). The scratch copy
  of the mutated module is rewritten first so that decorators are applied by assignment after the
  ``def`` (``mcc = metric(...)(mcc)``), which is the same code, now mutated like any other.
* Error and warning text is not mutated (``do_not_mutate_patterns``: ``raise ...Error(``,
  ``warnings.warn(``): wording is not science. The *conditions* that raise or warn are mutated.

The oracle of a module is its entry in ``ORACLES`` below, else ``tests/<package>/`` for a module
of a package (``worlds/plr.py`` -> ``tests/worlds/``) and ``tests/test_<name>*.py`` for a top-level
module. A new science module is picked up without editing this file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "mutants"
EQUIVALENTS = ROOT / "mutation-equivalents.toml"
MUTMUT = Path(sys.executable).parent / "mutmut"

#: What "the science" is: every module below these paths (``__init__.py`` excepted).
SCIENCE = ("worlds", "losses", "metrics", "causal", "optim", "analysis")

#: Goals per area (issue 10), as fractions.
GOALS = {"metrics": 0.90, "losses": 0.90, "optim": 0.90, "worlds": 0.85, "causal": 0.85,
         "analysis": 0.85}  # fmt: skip

#: Oracle tests per module where the default (the package's test folder) is too broad or
#: misses a file; paths relative to the repository root, globs allowed.
ORACLES: dict[str, list[str]] = {
    "src/identifiable/losses/contrastive.py": [
        "tests/test_losses*.py",
        "tests/test_aninfonce_loss.py",
    ],
    "src/identifiable/worlds/latents.py": [
        "tests/worlds/test_latents*.py",
        "tests/test_aninfonce_loss.py",
    ],
    "src/identifiable/worlds/mixing.py": ["tests/worlds/test_mixing*.py"],
    "src/identifiable/worlds/world.py": [
        "tests/worlds/test_latents*.py",
        "tests/worlds/test_mixing*.py",
    ],
    "src/identifiable/worlds/clusters.py": ["tests/worlds/test_clusters*.py"],
    "src/identifiable/worlds/finite.py": ["tests/worlds/test_finite*.py"],
    "src/identifiable/worlds/plr.py": ["tests/worlds/test_plr*.py"],
    "src/identifiable/worlds/sprites.py": ["tests/worlds/test_sprites*.py"],
    "src/identifiable/worlds/modular.py": ["tests/worlds/test_modular*.py"],
    "src/identifiable/worlds/digits.py": ["tests/worlds/test_digits*.py"],
    "src/identifiable/metrics/anisotropy.py": ["tests/metrics/test_anisotropy*.py"],
    "src/identifiable/metrics/identifiability.py": ["tests/metrics/test_identifiability*.py"],
    "src/identifiable/metrics/_registry.py": [
        "tests/metrics/test_registry*.py",
        "tests/metrics/test_identifiability.py",
    ],
    "src/identifiable/metrics/training.py": ["tests/metrics/test_registry*.py"],
    "src/identifiable/metrics/grokking.py": ["tests/metrics/test_grokking*.py"],
    "src/identifiable/metrics/local_complexity.py": ["tests/metrics/test_local_complexity*.py"],
    "src/identifiable/metrics/adversarial.py": ["tests/metrics/test_adversarial*.py"],
    "src/identifiable/worlds/parity.py": ["tests/worlds/test_modular*.py"],
    "src/identifiable/worlds/base.py": ["tests/worlds/test_base*.py"],
    "src/identifiable/worlds/linear_ica.py": ["tests/worlds/test_linear_ica*.py"],
    "src/identifiable/worlds/supports.py": ["tests/worlds/test_supports*.py"],
    "src/identifiable/worlds/composition.py": ["tests/worlds/test_composition.py"],
    "src/identifiable/worlds/compositional.py": ["tests/worlds/test_compositional*.py"],
    "src/identifiable/metrics/reconstruction.py": ["tests/metrics/test_reconstruction*.py"],
    "src/identifiable/metrics/slots.py": ["tests/metrics/test_slots*.py"],
    "src/identifiable/metrics/token_frequency.py": ["tests/metrics/test_token_frequency*.py"],
    "src/identifiable/metrics/alignment.py": ["tests/metrics/test_alignment*.py"],
    "src/identifiable/metrics/disentanglement.py": ["tests/metrics/test_disentanglement*.py"],
    "src/identifiable/metrics/scoring.py": ["tests/metrics/test_scoring.py"],
    "src/identifiable/worlds/factors.py": [
        "tests/metrics/test_disentanglement*.py",
        "tests/worlds/test_sprite_factors.py",
    ],
    "src/identifiable/worlds/markov_text.py": ["tests/worlds/test_markov_text*.py"],
    "src/identifiable/analysis/scaling.py": ["tests/analysis/test_scaling*.py"],
    "src/identifiable/losses/slots.py": ["tests/losses/test_slot_losses*.py"],
    "src/identifiable/metrics/slot_masks.py": ["tests/metrics/test_slot_masks*.py"],
    "src/identifiable/worlds/grammar_rules.py": ["tests/worlds/test_formal_languages*.py"],
    "src/identifiable/worlds/formal_languages.py": ["tests/worlds/test_formal_languages*.py"],
    "src/identifiable/metrics/language.py": ["tests/metrics/test_language*.py"],
    "src/identifiable/losses/interaction.py": ["tests/losses/test_interaction*.py"],
    "src/identifiable/worlds/object_scenes.py": ["tests/worlds/test_object_scenes*.py"],
    **{
        f"src/identifiable/causal/{name}.py": [
            "tests/causal/test_baseline_estimators.py",
            "tests/causal/test_estimators_meaning.py",
        ]
        for name in ("ols", "orthogonal", "double_ml", "_learners", "_base")
    },
    **{
        f"src/identifiable/causal/{name}.py": [
            "tests/causal/test_ica*.py",
            "tests/causal/test_fastica*.py",
        ]
        for name in ("ica", "_fastica", "_ica_sandwich")
    },
    "src/identifiable/worlds/segments.py": [
        "tests/worlds/test_segments*.py",
        "tests/learners/test_tcl.py",
    ],
    "src/identifiable/worlds/exchangeable.py": ["tests/worlds/test_exchangeable*.py"],
    "src/identifiable/metrics/multilabel.py": ["tests/metrics/test_multilabel*.py"],
    "src/identifiable/analysis/vggsounder.py": ["tests/analysis/test_vggsounder*.py"],
    "src/identifiable/analysis/similarity.py": ["tests/analysis/test_similarity*.py"],
    "src/identifiable/analysis/frequency.py": ["tests/analysis/test_frequency*.py"],
    "src/identifiable/analysis/domains.py": ["tests/analysis/test_domains*.py"],
    "src/identifiable/worlds/renditions.py": ["tests/worlds/test_renditions*.py"],
    "src/identifiable/worlds/concept_scenes.py": ["tests/worlds/test_concept_scenes*.py"],
    "src/identifiable/losses/x_sample.py": ["tests/losses/test_x_sample*.py"],
    "src/identifiable/metrics/knn.py": ["tests/metrics/test_knn*.py"],
    "src/identifiable/worlds/hierarchical_clusters.py": [
        "tests/worlds/test_hierarchical_clusters*.py"
    ],
    "src/identifiable/optim/allora.py": [
        "tests/optim/test_allora*.py",
        "tests/models/test_lora*.py",
    ],
    "src/identifiable/metrics/latent_exploration.py": ["tests/metrics/test_latent_exploration*.py"],
    **{
        f"src/identifiable/causal/{name}.py": [
            "tests/causal/test_causal_de_finetti*.py",
            "tests/causal/test_exchangeable_bad_input.py",
        ]
        for name in ("causal_de_finetti", "structure_baselines")
    },
}

#: mutmut exit codes -> the four columns of the table ("no tests" = no oracle test calls the
#: mutated function: it survives, counted as survived; "suspicious"/"segfault" count as timeout).
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests",
          36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout",
          34: "skipped", 37: "killed", None: "not checked"}  # fmt: skip


# -- which modules, which tests -------------------------------------------------------------------
def science_modules() -> list[str]:
    found = []
    for entry in SCIENCE:
        path = ROOT / "src" / "identifiable" / entry
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        found += [str(f.relative_to(ROOT)) for f in files if f.name != "__init__.py"]
    return found


def oracle(module: str, exclude: tuple[str, ...] = ()) -> list[str]:
    """Test files that judge ``module``: its ORACLES entry or the default rule, minus the files
    whose name matches a pattern of ``exclude`` (e.g. ``*_meaning.py`` for a "before" score)."""
    parts = Path(module).relative_to("src/identifiable").parts
    if module in ORACLES:
        patterns = ORACLES[module]
    elif len(parts) > 1:
        patterns = [f"tests/{'/'.join(parts[:-1])}/"]
    else:
        patterns = [f"tests/test_{Path(parts[0]).stem}*.py"]
    files: list[Path] = []
    for pattern in patterns:
        if pattern.endswith("/"):
            files += sorted((ROOT / pattern).rglob("test_*.py"))
        else:
            files += sorted(ROOT.glob(pattern))
    tests = sorted(
        {str(f.relative_to(ROOT)) for f in files if not any(f.match(x) for x in exclude)}
    )
    if not tests:
        raise SystemExit(f"no oracle tests found for {module} (looked for {patterns})")
    return tests


def area(module: str) -> str:
    return Path(module).relative_to("src/identifiable").parts[0]


# -- the scratch copy ------------------------------------------------------------------------------
def lift_decorators(source: str) -> str:
    """Rewrite ``@d1 @d2 def f`` as ``def f`` followed by ``f = d1(d2(f))`` (same code).

    mutmut 3 skips decorated functions entirely; after this rewrite their bodies are mutated.
    Only module-level functions and methods are rewritten; ``@staticmethod``/``@classmethod``
    alone are kept (mutmut handles them).
    """
    import libcst as cst

    module = cst.parse_module(source)

    def keep(function: cst.FunctionDef) -> bool:
        names = [d.decorator for d in function.decorators]
        return not names or (
            len(names) == 1
            and isinstance(names[0], cst.Name)
            and names[0].value in ("staticmethod", "classmethod")
        )

    def rewrite(body: list) -> list:
        out = []
        for statement in body:
            if isinstance(statement, cst.ClassDef) and isinstance(
                statement.body, cst.IndentedBlock
            ):
                statement = statement.with_changes(
                    body=statement.body.with_changes(body=rewrite(list(statement.body.body)))
                )
            if isinstance(statement, cst.FunctionDef) and not keep(statement):
                name = statement.name.value
                call = name
                for decorator in reversed(statement.decorators):
                    call = f"({module.code_for_node(decorator.decorator)})({call})"
                out.append(statement.with_changes(decorators=[]))
                out.append(cst.parse_statement(f"{name} = {call}\n"))
                continue
            out.append(statement)
        return out

    return module.with_changes(body=rewrite(list(module.body))).code


def slug(module: str) -> str:
    return str(Path(module).relative_to("src/identifiable").with_suffix("")).replace("/", ".")


def mutmut_config(module: str, tests: list[str]) -> str:
    """The ``[tool.mutmut]`` table of the scratch copy: shared settings + this module."""
    base = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"].get("mutmut", {})
    config = {k: v for k, v in base.items() if k not in ("source_paths", "only_mutate")}
    config["source_paths"] = ["src/"]
    config["only_mutate"] = [module]
    config["pytest_add_cli_args_test_selection"] = tests
    lines = ["[tool.mutmut]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in config.items()]
    return "\n".join(lines) + "\n"


def without_mutmut_table(pyproject: str) -> str:
    """pyproject.toml text with its ``[tool.mutmut]`` table removed."""
    return re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[|\Z)", "", pyproject)


def prepare(module: str, tests: list[str]) -> Path:
    work = WORK / slug(module)
    if work.exists():
        shutil.rmtree(work)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
    shutil.copytree(ROOT / "src", work / "src", ignore=ignore)
    shutil.copytree(ROOT / "tests", work / "tests", ignore=ignore)
    pyproject = without_mutmut_table((ROOT / "pyproject.toml").read_text())
    (work / "pyproject.toml").write_text(pyproject.rstrip() + "\n\n" + mutmut_config(module, tests))
    target = work / module
    target.write_text(lift_decorators(target.read_text()))
    return work


# -- running and reading the results -------------------------------------------------------------
@dataclass
class Result:
    module: str
    counts: dict[str, int] = field(default_factory=dict)
    survivors: list[tuple[str, str]] = field(default_factory=list)  # (mutant, diff)
    equivalent: list[tuple[str, str]] = field(default_factory=list)  # (mutant, reason)
    minutes: float = 0.0
    finished: bool = True
    error: str = ""

    @property
    def score(self) -> float | None:
        k, s, t = (self.counts.get(x, 0) for x in ("killed", "survived", "timeout"))
        s += self.counts.get("no tests", 0)  # survivors no oracle test even reaches
        return k / (k + s + t) if k + s + t else None


def run_mutmut(work: Path, budget_s: float, children: int, log) -> bool:
    """``mutmut run`` in ``work``; False when the wall-clock budget ran out (it is stopped)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
    env.pop("MUTANT_UNDER_TEST", None)
    # the scratch copy sits deeper than the checkout: point the tests at the released data
    env.setdefault("IDENTIFIABLE_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    process = subprocess.Popen(
        [str(MUTMUT), "run", "--max-children", str(children)],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        process.wait(timeout=budget_s)
        return True
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)  # the group of the mutmut we started
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        return False


def exit_codes(work: Path, module: str) -> dict[str, int | None]:
    meta = work / "mutants" / (module + ".meta")
    if not meta.exists():
        return {}
    return json.loads(meta.read_text())["exit_code_by_key"]


def diff_of(work: Path, mutant: str) -> str:
    shown = subprocess.run(
        [str(MUTMUT), "show", mutant], cwd=work, capture_output=True, text=True, timeout=120
    ).stdout
    return "\n".join(
        line for line in shown.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    )  # fmt: skip


def load_equivalents() -> list[dict]:
    if not EQUIVALENTS.exists():
        return []
    entries = tomllib.loads(EQUIVALENTS.read_text()).get("equivalent", [])
    for entry in entries:
        missing = {"module", "function", "mutated", "reason"} - set(entry)
        if missing or not entry["reason"].strip():
            raise SystemExit(f"{EQUIVALENTS.name}: entry {entry} needs {sorted(missing)}")
    return entries


def function_of(mutant: str) -> str:
    """``identifiable.losses.x_info_nce__mutmut_3`` -> ``info_nce`` (methods: ``Class.method``)."""
    name = mutant.rpartition(".")[2].removeprefix("x_").removeprefix("xǁ")
    name = re.sub(r"__mutmut_\d+$", "", name)
    return name.replace("ǁ", ".")


def _line(text: str) -> str:
    """A source line compared by its code: comment dropped, whitespace collapsed."""
    return " ".join(re.sub(r"\s+#.*$", "", text).split())


def matches(entry: dict, module: str, mutant: str, diff: str) -> bool:
    """An allow-list entry names the module, the function and the whole mutated line, so it
    survives mutmut's renumbering and goes stale when the code changes."""
    added = {_line(line[1:]) for line in diff.splitlines() if line.startswith("+")}
    return (
        entry["module"] == module
        and entry["function"] == function_of(mutant)
        and _line(entry["mutated"]) in added
    )


def measure(module: str, budget_min: float, children: int, exclude=()) -> Result:
    tests = oracle(module, tuple(exclude))
    print(f"\n== {module}  (oracle: {' '.join(tests)})", flush=True)
    work = prepare(module, tests)
    start = time.time()
    with open(work / "mutmut.log", "w") as log:
        finished = run_mutmut(work, budget_min * 60, children, log)
    result = Result(module, minutes=(time.time() - start) / 60, finished=finished)
    codes = exit_codes(work, module)
    if not codes:
        result.error = f"mutmut produced no results; see {work / 'mutmut.log'}"
        return result
    log_text = (work / "mutmut.log").read_text(errors="replace")
    if finished and (
        "could not find any test case for any mutant" in log_text
        or "Unable to force test failures" in log_text
    ):
        # no oracle test reaches the module at all: every mutant survives untested
        result.error = "no oracle test calls this module: every mutant is untested"
        codes = dict.fromkeys(codes, 33)
    equivalents = load_equivalents()
    used: set[int] = set()
    for mutant, code in sorted(codes.items()):
        status = STATUS.get(code, "timeout")  # suspicious, segfault: treated as timeout
        if status in ("survived", "no tests"):
            diff = diff_of(work, mutant)
            entry = next((e for e in equivalents if matches(e, module, mutant, diff)), None)
            if entry is not None:
                used.add(id(entry))
                result.equivalent.append((mutant, entry["reason"]))
                status = "equivalent"
            else:
                result.survivors.append((mutant, diff))
        result.counts[status] = result.counts.get(status, 0) + 1
    for entry in equivalents:
        if finished and entry["module"] == module and id(entry) not in used:
            print(f"  stale allow-list entry (matches no survivor): {entry['mutated']!r}")
    (work / "survivors.txt").write_text(
        "".join(f"# {m}\n{d}\n\n" for m, d in result.survivors) or "none\n"
    )
    return result


def print_table(results: list[Result]) -> None:
    """killed / survived / timeout per module; "survived" includes the "untested" mutants (in a
    function no oracle test calls), "equiv." are allow-listed and left out of the score."""
    header = (f"{'module':<32} {'killed':>6} {'surv.':>6} {'(untested)':>10} {'t/out':>6} "
              f"{'equiv.':>6} {'unrun':>6} {'score':>7} {'goal':>5} {'min':>5}")  # fmt: skip
    print("\n" + header + "\n" + "-" * len(header))
    for r in results:
        c = r.counts
        score = "—" if r.score is None else f"{100 * r.score:.1f}%"
        goal = GOALS.get(area(r.module), 0.0)
        flag = "" if r.score is None or r.score >= goal else " ✗"
        survived = c.get("survived", 0) + c.get("no tests", 0)
        print(
            f"{r.module.removeprefix('src/identifiable/'):<32} {c.get('killed', 0):>6} "
            f"{survived:>6} {c.get('no tests', 0):>10} {c.get('timeout', 0):>6} "
            f"{c.get('equivalent', 0):>6} {c.get('not checked', 0) + c.get('skipped', 0):>6} "
            f"{score:>7} {100 * goal:>4.0f}% {r.minutes:>5.1f}{flag}"
        )
        if r.error:
            print(f"    ! {r.error}")
        elif not r.finished:
            done = sum(v for k, v in c.items() if k != "not checked")
            total = sum(c.values())
            estimate = r.minutes * total / max(done, 1)
            print(f"    ! budget ran out after {done}/{total} mutants; "
                  f"the whole module would take ≈ {estimate:.0f} min")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="module paths (default: every science module)")
    parser.add_argument("--budget", type=float, default=30.0, help="minutes per module")
    parser.add_argument("--children", type=int, default=os.cpu_count() or 2,
                        help="mutants tested in parallel")  # fmt: skip
    parser.add_argument("--show", action="store_true", help="print the surviving mutants' diffs")
    parser.add_argument("--json", type=Path, help="also write the table as JSON here")
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="leave oracle test files matching GLOB out (e.g. '*_meaning.py': the score before)",
    )
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    modules = [str(Path(m)) for m in args.modules] or science_modules()
    for module in modules:
        if not (ROOT / module).is_file():
            raise SystemExit(
                f"{module}: no such module (a path like src/identifiable/losses/contrastive.py)"
            )
    results = []
    for module in modules:
        result = measure(module, args.budget, args.children, args.exclude)
        results.append(result)
        if args.show:
            for mutant, diff in result.survivors:
                print(f"  survived {mutant}\n" + "\n".join("    " + x for x in diff.splitlines()))
        print_table([result])
    if len(results) > 1:
        print_table(results)
    if args.json:
        args.json.write_text(json.dumps([
            {"module": r.module, **r.counts, "score": r.score, "minutes": round(r.minutes, 1),
             "finished": r.finished, "survivors": [m for m, _ in r.survivors],
             "equivalent_mutants": [{"mutant": m, "reason": why} for m, why in r.equivalent]}
            for r in results
        ], indent=2))  # fmt: skip
    print(f"\nsurviving mutants per module: {WORK}/<module>/survivors.txt")
    return 0 if all(not r.error for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
