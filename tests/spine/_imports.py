"""The import graph of src/identifiable, read with ast (module-level and function-level imports)."""

from __future__ import annotations

import ast
from pathlib import Path

import identifiable

ROOT = Path(identifiable.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def component(module: str) -> str:
    """``identifiable.learners.contrastive`` -> ``learners``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def imports(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports, anywhere in the file."""
    tree = ast.parse(path.read_text())
    package = module_name(path).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("identifiable")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.startswith("identifiable"):
                found.add(target)
                for alias in node.names:
                    candidate = ROOT.parent / Path(*f"{target}.{alias.name}".split("."))
                    if (
                        candidate.with_suffix(".py").exists()
                        or (candidate / "__init__.py").exists()
                    ):
                        found.add(f"{target}.{alias.name}")
    return found


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports(p) for p in ROOT.rglob("*.py")}


def component_graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for source, targets in graph().items():
        a = component(source)
        edges.setdefault(a, set())
        edges[a] |= {component(t) for t in targets if component(t) not in (a, "identifiable")}
    return edges
