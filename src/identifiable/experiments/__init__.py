"""The experiment registry: a name (``contrastive``) -> the module that runs it.

Each experiment module defines ``Config`` (a dataclass whose docstring documents every field),
``run(cfg, *, progress) -> Result`` and a one-line ``SUMMARY``. It may define
``figures(curves, out_dir) -> list[Path]`` for experiment-specific plots in the report.
Modules are imported lazily so that ``identifiable list`` stays fast.

To add an experiment: write ``experiments/my_claim.py`` with those three names and add one line
to ``_MODULES`` below.
"""

from __future__ import annotations

import importlib
from types import ModuleType

_MODULES: dict[str, str] = {
    "contrastive": "identifiable.experiments.contrastive",
    "causal-plr": "identifiable.experiments.causal_plr",
    "linear-ica": "identifiable.experiments.linear_ica",
    "aninfonce": "identifiable.experiments.aninfonce",
    "cross-entropy": "identifiable.experiments.cross_entropy",
    "sprites-classification": "identifiable.experiments.sprites_classification",
}


class UnknownExperimentError(ValueError):
    """Raised for an experiment name that is not registered."""


def names() -> list[str]:
    """Registered experiment names, in registration order."""
    return list(_MODULES)


def get(name: str) -> ModuleType:
    """The module of experiment ``name``; a one-line error lists the valid names."""
    if name not in _MODULES:
        raise UnknownExperimentError(
            f"unknown experiment {name!r}; choose one of: {', '.join(_MODULES)}"
        )
    return importlib.import_module(_MODULES[name])
