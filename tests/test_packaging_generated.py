"""The build-time generators (tools/gen-*) stay in step with the schema and the CLI parser."""

from __future__ import annotations

import argparse
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
