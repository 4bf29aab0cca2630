"""Where shipped data lives: the source tree's copy when running from a checkout, else /usr/share/omv-copilot.

The checkout wins so that a development run (or the test suite) never picks up, or
loses halfway, a copy that an installed — or just purged — package put in /usr/share.
"""

from __future__ import annotations

from pathlib import Path

INSTALLED = Path("/usr/share/omv-copilot")
REPO = Path(__file__).resolve().parent.parent


def data_path(name: str) -> Path:
    """``patterns``, ``prompts``, ``webui``…: the source tree's copy if present, else the installed one."""
    source = REPO / name
    return source if source.exists() else INSTALLED / name
