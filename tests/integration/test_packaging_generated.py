"""The build-time generators (tools/gen-*) stay in step with the schema and the CLI parser."""

from __future__ import annotations

import argparse
import json
import re
import subprocess

import yaml

from omv_copilot_agent import config as config_mod
from omv_copilot_agent.cli import build_parser
from tests.conftest import PYTHON, ROOT


def _gen(name: str) -> str:
    result = subprocess.run([PYTHON, str(ROOT / "tools" / name)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _subcommands() -> list[str]:
    parser = build_parser()
    return [name for a in parser._actions if isinstance(a, argparse._SubParsersAction) for name in a.choices]


def test_config_example_is_all_comments_and_matches_defaults(tmp_path):
    text = _gen("gen-config-example")
    assert yaml.safe_load(text) is None  # shipped file changes nothing by itself
    uncommented = "\n".join(line[1:] for line in text.splitlines() if re.match(r"#(\S|  [^#])", line))
    assert yaml.safe_load(uncommented) == config_mod.defaults()
    path = tmp_path / "config.yaml"
    path.write_text(text)
    config_mod.load(str(path))  # the conffile as shipped is a valid config


def test_manpage_documents_every_subcommand_and_option():
    roff = _gen("gen-manpage")
    assert roff.startswith(".TH OMV\\-COPILOT 1")
    for name in _subcommands():
        assert f".SS {name}" in roff
    assert "\\-\\-pidfile" in roff and "\\-\\-config" in roff
    man = subprocess.run(["man", "-l", "-"], input=roff, capture_output=True, text=True, timeout=60)
    if man.returncode == 0:
        assert "daemon" in man.stdout


def test_bash_completion_knows_every_subcommand():
    script = _gen("gen-bash-completion")
    assert subprocess.run(["bash", "-n"], input=script, text=True, timeout=30).returncode == 0
    for name in _subcommands():
        assert f"        {name}) COMPREPLY" in script
    completed = subprocess.run(["bash", "-c", script + '\nCOMP_WORDS=(omv-copilot daemon --p); COMP_CWORD=2; _omv_copilot; echo "${COMPREPLY[@]}"'],
                               capture_output=True, text=True, timeout=30)
    assert completed.stdout.split() == ["--pidfile"]


def test_setup_py_ships_every_file_of_the_python_package(tmp_path):
    """setup.py finds subpackages and data files by glob: nothing a later concern adds is dropped."""
    result = subprocess.run([PYTHON, "setup.py", "-q", "build", "--build-base", str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-2000:]
    built = {p.relative_to(tmp_path / "lib") for p in (tmp_path / "lib").rglob("*") if p.is_file()}
    source = {p.relative_to(ROOT) for p in (ROOT / "omv_copilot_agent").rglob("*")
              if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert sorted(map(str, source - built)) == []


def _third_party_imports() -> dict[str, bool]:
    """Top-level modules the package imports that are neither stdlib nor the package itself,
    each with whether it is optional (imported inside ``try: … except ImportError``)."""
    import ast
    import sys

    def modules(node) -> set[str]:
        if isinstance(node, ast.Import):
            return {alias.name.split(".")[0] for alias in node.names}
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            return {node.module.split(".")[0]}
        return set()

    required: set[str] = set()
    optional: set[str] = set()
    for path in (ROOT / "omv_copilot_agent").rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        guarded: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Try) and any(
                    isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError", "Exception")
                    or isinstance(h.type, ast.Tuple) and any(getattr(e, "id", "") in ("ImportError", "ModuleNotFoundError")
                                                             for e in h.type.elts)
                    for h in node.handlers):
                for stmt in node.body:
                    for inner in ast.walk(stmt):
                        if modules(inner):
                            guarded.add(id(inner))
                            optional.update(modules(inner))
        for node in ast.walk(tree):
            if id(node) not in guarded:
                required.update(modules(node))
    skip = set(sys.stdlib_module_names) | {"omv_copilot_agent", "__future__"}
    return {n: n not in required for n in (required | optional) - skip}


def _control_field(binary: str, field: str) -> set[str]:
    match = re.search(rf"\n{field}:(.*?)(?=\n\S)", binary + "\nEnd:", re.S)
    return set(re.findall(r"[a-z0-9][a-z0-9.+-]+", match.group(1))) if match else set()


def test_every_imported_library_is_a_debian_dependency():
    """A library another concern starts importing must be added to debian/control: Depends, or
    Recommends/Suggests when the code works without it (import guarded by except ImportError)."""
    control = (ROOT / "debian" / "control").read_text()
    binary = control[control.index("\nPackage:"):]
    depends = _control_field(binary, "Depends")
    weak = depends | _control_field(binary, "Recommends") | _control_field(binary, "Suggests")
    script = ("import importlib.util, json, sys\nout = {}\nfor n in sys.argv[1:]:\n"
              "    spec = importlib.util.find_spec(n)\n"
              "    out[n] = (spec.origin if spec.origin not in (None, 'namespace') else list(spec.submodule_search_locations)[0]) if spec else None\n"
              "print(json.dumps(out))\n")
    imports = _third_party_imports()
    found = json.loads(subprocess.run([PYTHON, "-c", script, *sorted(imports)], capture_output=True, text=True,
                                      timeout=120, cwd="/").stdout)
    unknown = [n for n, origin in found.items() if origin is None and not imports[n]]
    assert unknown == [], f"imported but not installed from Debian: {unknown}"
    missing = {}
    for name, origin in found.items():
        if origin is None:
            continue
        owner = subprocess.run(["dpkg-query", "-S", origin], capture_output=True, text=True, timeout=60)
        if name == "openmediavault" and owner.returncode != 0 and "openmediavault" in depends:
            continue  # OMV's own Python library: the test bed lays OMV's files out without dpkg owning them
        assert owner.returncode == 0, f"{name} ({origin}) is not from a Debian package"
        packages = {p.strip().split(":")[0] for p in owner.stdout.split(": ")[0].split(",")}
        if not packages & (weak if imports[name] else depends):
            missing[name] = sorted(packages)
    assert missing == {}, f"imported modules whose Debian package is not declared in debian/control: {missing}"
