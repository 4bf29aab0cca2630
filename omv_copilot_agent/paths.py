"""Where shipped data lives: /usr/share/omv-copilot/<name> when installed, the repo otherwise."""

from __future__ import annotations

from pathlib import Path

INSTALLED = Path("/usr/share/omv-copilot")
REPO = Path(__file__).resolve().parent.parent


def data_path(name: str) -> Path:
    """``patterns``, ``prompts``, ``webui``…: the installed copy if present, else the source tree's."""
    installed = INSTALLED / name
    return installed if installed.exists() else REPO / name
