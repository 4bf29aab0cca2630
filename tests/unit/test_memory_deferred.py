"""memory.deferred: a library a dependency imports for a path never taken is imported when that path runs."""

import ast
import importlib.util
import subprocess
import sys

import pytest

from tests.conftest import ROOT

SCRIPT = r"""
import sys, types
from omv_copilot_agent import memory

assert "colorsys" not in sys.modules
with memory.deferred("colorsys"):
    holder = types.ModuleType("holder")
    exec("import colorsys", holder.__dict__)  # a dependency's top-level import
assert "colorsys" not in sys.modules, "imported at once, not deferred"
assert type(holder.colorsys).__name__ == "_Deferred"
assert holder.colorsys.rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)  # first use imports it
real = sys.modules["colorsys"]
assert real is not holder.colorsys and real.rgb_to_hsv is holder.colorsys.rgb_to_hsv
import colorsys  # other importers get the real module
assert colorsys is real

import json
with memory.deferred("json"):  # already imported: nothing to defer
    import json as again
assert again is json
print("OK")
"""

OMV_SCRIPT = r"""
import sys
from omv_copilot_agent.collect.omv_rpc import OmvRpcClient

client = OmvRpcClient("omv-rpc")
assert client.mode == "python", client.mode
loaded = sorted(name for name in sys.modules if name.startswith("natsort."))
assert not loaded, f"natsort imported with OMV's client: {loaded}"
import openmediavault.settings as settings  # what uses it (saving /etc/default/openmediavault) still works
assert settings.natsort.humansorted(["OMV_A10", "OMV_A9"]) == ["OMV_A9", "OMV_A10"]
assert "natsort.natsort" in sys.modules
print("OK")
"""


def _run(script: str) -> None:
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "OK", out.stderr[-3000:]


def test_a_deferred_module_is_imported_at_its_first_use():
    _run(SCRIPT)


@pytest.mark.skipif(importlib.util.find_spec("openmediavault") is None,
                    reason="OMV's Python library (openmediavault) is not installed here")
def test_omv_client_does_not_import_natsort():
    """OMV's settings module imports natsort (~1 MiB) only to save /etc/default/openmediavault."""
    _run(OMV_SCRIPT)


def test_every_function_of_memory_declares_its_return_type():
    """The brief asks for type hints; memory.py's helpers (the stand-in's __getattr__, _malloc_trim)
    are called from the daemon's start-up path, where a wrong type shows only at run time."""
    tree = ast.parse((ROOT / "omv_copilot_agent" / "memory.py").read_text())
    bare = [f"{node.name} (line {node.lineno})" for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is None]
    assert not bare, bare
