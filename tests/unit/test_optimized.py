"""The daemon runs optimized (-OO, the unit's PYTHONOPTIMIZE=2): nothing the agent does may live in
an ``assert`` or a docstring, and the optimized bytecode has a writable, purged cache.

tests/integration/test_daemon_optimized.py starts the real daemon exactly with the unit's environment.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

from bench._common import UNIT, unit_environment

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "omv_copilot_agent"
POSTRM = ROOT / "debian" / "openmediavault-copilot.postrm"


def _package_trees():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(ROOT), ast.parse(path.read_text(), str(path))


def test_no_assert_or_debug_branch_in_the_agent():
    """-O drops asserts and ``if __debug__:`` blocks: a check there would vanish in the daemon."""
    found = [f"{path}:{node.lineno}" for path, tree in _package_trees() for node in ast.walk(tree)
             if isinstance(node, ast.Assert) or (isinstance(node, ast.Name) and node.id == "__debug__")]
    assert found == [], "raise an explicit exception instead: " + ", ".join(found)


def test_the_agent_reads_no_docstring():
    """-OO sets every ``__doc__`` to None: text the daemon serves must not come from one.

    Assigning ``__doc__`` (the API's view functions get their operation's summary) is fine.
    """
    found = []
    for path, tree in _package_trees():
        for node in ast.walk(tree):
            reads_doc = isinstance(node, ast.Attribute) and node.attr == "__doc__" and isinstance(node.ctx, ast.Load)
            bare_doc = isinstance(node, ast.Name) and node.id == "__doc__" and isinstance(node.ctx, ast.Load)
            getdoc = isinstance(node, ast.Attribute) and node.attr in ("getdoc", "cleandoc")
            if reads_doc or bare_doc or getdoc:
                found.append(f"{path}:{node.lineno}")
    assert found == [], ", ".join(found)


def test_invariants_hold_when_optimized():
    """The checks that were asserts still refuse under -OO (they were silently skipped before)."""
    script = """
import dataclasses
from omv_copilot_agent.history import timeline
from omv_copilot_agent.services import errors, operations
refused = []
for call in (lambda: timeline.event("bogus", 0.0, "t"), lambda: errors.ServiceError("bogus", "c", "m"),
             lambda: dataclasses.replace(operations.OPERATIONS[0], action="bogus")):
    try:
        call()
    except ValueError as exc:
        refused.append(str(exc))
print(len(refused))
"""
    done = subprocess.run(["/usr/bin/python3", "-OO", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "3"


def test_unit_runs_optimized_with_a_cache_directory_the_package_purges():
    text = UNIT.read_text()
    env = unit_environment(cache_root="%C")
    assert env["PYTHONOPTIMIZE"] == "2"
    cache = re.search(r"^CacheDirectory=(\S+)$", text, re.M)
    assert cache, "PYTHONPYCACHEPREFIX needs a directory writable under ProtectSystem=strict"
    assert env["PYTHONPYCACHEPREFIX"] == f"%C/{cache.group(1)}"
    assert unit_environment()["PYTHONPYCACHEPREFIX"] == f"/var/cache/{cache.group(1)}"
    purge = POSTRM.read_text().split("purge)", 1)[1].split(";;", 1)[0]
    assert f"/var/cache/{cache.group(1)}" in purge.split()
