"""The real local model for the tests: llama.cpp's server and SmolLM2-135M (tools/local_llm.py).

``local_model()`` builds/installs them once per machine into the cache directory (the first
run on a new machine takes about 10 minutes; a lock keeps parallel runs from building twice)
and skips the test with the reason when that is impossible here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "tools" / "local_llm.py"
BUILD_TIMEOUT_S = 3600


@lru_cache(maxsize=1)
def _ensure() -> tuple[dict | None, str]:
    if os.environ.get("OMV_COPILOT_SKIP_LOCAL_LLM"):
        return None, "OMV_COPILOT_SKIP_LOCAL_LLM is set"
    try:
        done = subprocess.run([sys.executable, str(SCRIPT), "ensure"], capture_output=True, text=True,
                              timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None, f"building llama.cpp took longer than {BUILD_TIMEOUT_S} s"
    if done.returncode != 0:
        return None, "no local llama.cpp build: " + (done.stderr.strip().splitlines() or ["?"])[-1]
    return json.loads(done.stdout), ""


def local_model() -> dict:
    """{server, model} of the cached build, or skip with the reason."""
    info, reason = _ensure()
    if info is None:
        pytest.skip(reason)
    return info

