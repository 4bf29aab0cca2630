"""flake8 (Debian's python3-flake8) is clean on the tree with the rules in setup.cfg."""

from __future__ import annotations

import importlib.util
import subprocess

import pytest

from tests.conftest import IN_CI, PYTHON, ROOT

#: Python files without a .py name (tools run as programs) are checked too.
SCRIPTS = sorted(p for p in (ROOT / "tools").iterdir() if p.is_file() and p.read_text(errors="replace").startswith("#!/usr/bin/python3"))


def _flake8(*paths) -> subprocess.CompletedProcess:
    if importlib.util.find_spec("flake8") is None:
        (pytest.fail if IN_CI else pytest.skip)("flake8 is not installed (apt-get install python3-flake8)")
    return subprocess.run([PYTHON, "-m", "flake8", *map(str, paths)], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_the_tree_is_clean():
    result = _flake8("omv_copilot_agent", "tests", "bench", "tools", *SCRIPTS)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_the_rules_catch_an_unused_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n\nif None == 1:\n    pass\n")
    result = _flake8(bad)
    assert "F401" in result.stdout and "E711" in result.stdout, result.stdout
