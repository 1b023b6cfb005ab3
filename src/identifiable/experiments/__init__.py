"""Experiments, discovered: a module's file name is its experiment's name.

Each experiment is a module with ``SUMMARY`` (one line), a ``Config`` dataclass whose docstring
documents every field, ``run(cfg, *, progress) -> Result`` and ``CLAIMS``; optionally
``HEADLINE`` (the metric names ``identifiable runs`` shows; default: those its claims check) and
``figures(curves, out_dir) -> list[Path]`` for experiment-specific report plots.

Where experiments come from, in this order:

* every module of this package whose name does not start with ``_`` (``causal_plr.py`` is the
  experiment ``causal-plr``; ``_common.py`` is a helper);
* the entry-point group ``identifiable.experiments`` of installed packages, e.g. in a plug-in's
  ``pyproject.toml``: ``[project.entry-points."identifiable.experiments"]`` /
  ``my-claim = "my_package.my_claim"``;
* :func:`register` (in-process, e.g. in tests or a notebook).

So adding an experiment edits no existing file. Modules are imported only when asked for.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import pkgutil
from importlib import metadata
from types import ModuleType

from identifiable.experiments._result import Result

__all__ = [
    "Result",
    "UnknownExperimentError",
    "all_claims",
    "claims",
    "get",
    "headline",
    "names",
    "register",
    "select_claims",
]

ENTRY_POINT_GROUP = "identifiable.experiments"
_REGISTERED: dict[str, str] = {}


class UnknownExperimentError(ValueError):
    """Raised for an experiment name that is not known."""


def experiment_name(module_name: str) -> str:
    """``identifiable.experiments.causal_plr`` -> ``causal-plr``."""
    return module_name.rsplit(".", 1)[-1].replace("_", "-")


@functools.cache
def _discovered() -> dict[str, str]:
    found = {
        experiment_name(info.name): f"{__name__}.{info.name}"
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)
        if not info.name.startswith("_")
    }
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry.name, entry.value)
    return found


def _modules() -> dict[str, str]:
    return {**_discovered(), **_REGISTERED}


def register(name: str, module: str) -> None:
    """Make module ``module`` (a dotted import path) available as experiment ``name``."""
    _REGISTERED[name] = module


def unregister(name: str) -> None:
    """Undo :func:`register` (a no-op for names it did not add)."""
    _REGISTERED.pop(name, None)


def refresh() -> None:
    """Forget the discovery cache (after installing a plug-in in a running process)."""
    _discovered.cache_clear()


def names() -> list[str]:
    """Known experiment names: the package's own in file-name order, then plug-ins."""
    return list(_modules())


def get(name: str) -> ModuleType:
    """The module of experiment ``name``; a one-line error lists the valid names."""
    modules = _modules()
    if name not in modules:
        raise UnknownExperimentError(
            f"unknown experiment {name!r}; choose one of: {', '.join(modules)}"
        )
    module = importlib.import_module(modules[name])
    missing = [n for n in ("Config", "run") if not hasattr(module, n)]
    if missing:
        raise UnknownExperimentError(
            f"experiment {name!r} ({module.__name__}) lacks {' and '.join(missing)}; "
            "an experiment module defines Config, run(cfg, *, progress) and SUMMARY"
        )
    return module


def claims(name: str) -> list:
    """The claims of experiment ``name``, each with its ``experiment`` field filled in."""
    return [
        claim if claim.experiment == name else dataclasses.replace(claim, experiment=name)
        for claim in getattr(get(name), "CLAIMS", ())
    ]


def all_claims() -> list:
    """Every claim of every experiment, in :func:`names` order."""
    return [claim for name in names() for claim in claims(name)]


def headline(name: str) -> list[str]:
    """The metric names worth showing for ``name``: ``HEADLINE`` or those its claims check."""
    module = get(name)
    declared = getattr(module, "HEADLINE", None)
    if declared:
        return list(declared)
    seen: dict[str, None] = {}
    for claim in claims(name):
        for expectation in claim.expect:
            seen.setdefault(expectation.metric, None)
    return list(seen)


def select_claims(pattern: str | None = None) -> list:
    """Claims whose name equals ``pattern`` or starts with ``pattern/``; all when ``None``."""
    found = all_claims()
    if not pattern:
        return found
    chosen = [c for c in found if c.name == pattern or c.name.startswith(pattern.rstrip("/") + "/")]
    if not chosen:
        raise ValueError(
            f"no claim matches {pattern!r}; choose one of: {', '.join(c.name for c in found)}"
        )
    return chosen
