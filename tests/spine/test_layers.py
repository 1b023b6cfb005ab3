"""The one-way chain of ../shared/DESIGN.md's layout section, checked on the real import graph.

cli → sweep/report → run → experiments → learners/causal → analysis →
worlds/losses/models/metrics/optim → progress/_validation/array_files/device/config/
claims/store (``array_files`` reads users' arrays for the CLI, next to ``_validation``;
``analysis`` — fits of result tables, evaluations of users' prediction files — sits just above
the metrics it computes with and imports nothing above). An import may only point to a lower
layer; learners never import metrics or experiments (the experiment passes a ``monitor``).
"""

import subprocess
import sys

from _imports import component_graph

LAYERS = [
    {"progress", "_validation", "array_files", "device", "config", "claims", "store"},
    {"worlds", "losses", "models", "metrics", "optim"},
    {"analysis"},
    {"learners", "causal"},
    {"experiments"},
    {"run"},
    {"sweep", "report", "_console"},
    {"cli"},
    {"__main__"},
]
RANK = {name: rank for rank, layer in enumerate(LAYERS) for name in layer}
FORBIDDEN = {"learners": {"metrics", "experiments"}}


def test_every_component_has_a_layer():
    missing = set(component_graph()) - set(RANK) - {"identifiable"}
    assert not missing, f"put these in a layer of LAYERS (and DESIGN.md): {sorted(missing)}"


def test_imports_point_down_only():
    wrong = [
        f"{a} -> {b}"
        for a, targets in component_graph().items()
        if a in RANK
        for b in targets
        if RANK[b] >= RANK[a] or b in FORBIDDEN.get(a, set())
    ]
    assert not wrong, "imports against the layer order: " + ", ".join(sorted(wrong))


def test_importing_the_learners_loads_no_experiment_and_no_metric():
    code = (
        "import importlib, pkgutil, sys, identifiable.learners as L\n"
        "for m in pkgutil.iter_modules(L.__path__):\n"
        "    importlib.import_module('identifiable.learners.' + m.name)\n"
        "bad = [m for m in sys.modules if m.startswith(('identifiable.experiments',"
        " 'identifiable.metrics'))]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
