"""Data flows one way: no module of omv_copilot_agent imports a layer above its own.

collect → store → findings → knowledge / alerts / history / changes → assist → services →
api / cli / daemon. The foundation (config, paths, probes, runner, memory, events, the
package's ``__init__``) is below them all. Imports inside functions count too: a
lazy import up is still an import up. Read with ast, nothing is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = "omv_copilot_agent"
#: Lowest first; a module may import its own layer and any below.
LAYERS: list[set[str]] = [
    {"", "config", "paths", "probes", "runner", "memory", "events", "credentials"},
    {"collect"},
    {"store"},
    {"findings"},
    {"knowledge", "alerts", "history", "changes"},
    {"assist"},
    {"services"},
    {"api", "cli", "daemon", "__main__"},
]


def layer_of(module: str) -> int:
    """The layer of ``omv_copilot_agent.<top>...`` by its top-level name."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    for index, names in enumerate(LAYERS):
        if top in names:
            return index
    raise AssertionError(f"{module}: top-level name {top!r} is in no layer; add it to LAYERS in {__file__}")


def module_name(path: Path, base: Path) -> str:
    rel = path.relative_to(base).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, module: str, package_dir: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import of this package in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            if target == PACKAGE:  # from omv_copilot_agent import config (a module, not __version__)
                found += [(node.lineno, f"{PACKAGE}.{alias.name}") for alias in node.names
                          if (package_dir / alias.name).is_dir() or (package_dir / f"{alias.name}.py").is_file()]
    return [(line, name) for line, name in found if name == PACKAGE or name.startswith(PACKAGE + ".")]


def violations(package_dir: Path = ROOT / PACKAGE) -> list[str]:
    out = []
    base = package_dir.parent
    for path in sorted(package_dir.rglob("*.py")):
        module = module_name(path, base)
        own = layer_of(module)
        for line, target in imports(path, module, package_dir):
            if target != PACKAGE and layer_of(target) > own:
                out.append(f"{path.relative_to(base)}:{line}: {module} (layer {own}) imports {target} (layer {layer_of(target)})")
    return out


def test_no_module_imports_a_layer_above_its_own():
    found = violations()
    assert not found, "imports against the data flow:\n" + "\n".join(found)


def test_the_check_sees_an_upward_import(tmp_path):
    """A store module that imports the API, even lazily, is reported (the check is not vacuous)."""
    package = tmp_path / PACKAGE / "store"
    package.mkdir(parents=True)
    (package / "bad.py").write_text("def f():\n    from omv_copilot_agent.api import agent\n")
    assert [v.split(": ", 1)[1] for v in violations(tmp_path / PACKAGE)] == [
        "omv_copilot_agent.store.bad (layer 2) imports omv_copilot_agent.api (layer 7)"]
