"""What an OMV salt state does, read from the state files themselves.

``omv-salt deploy run NAME`` applies ``/srv/salt/omv/deploy/NAME/*.sls``. Those files say
which files the deploy writes (the names of its ``file.*`` states) and which services it
starts, restarts or stops (``service.*`` states). Reading them on the box — instead of a list
kept here — stays true for every OMV release and every installed plugin. Names built by Jinja
at deploy time (``{{ config_file }}``) cannot be known without rendering and are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

#: Where OMV keeps its deploy states on a box.
DEPLOY_ROOT = Path("/srv/salt/omv/deploy")

_SERVICE_BLOCK = re.compile(r"service\.(?:running|dead|enabled|disabled|restart|reload|mod_watch):\s*\n((?:[ \t]+-.*\n?)+)")
_SERVICE_NAME = re.compile(r"-\s*name:\s*['\"]?([A-Za-z0-9@_.-]+?)(?:\.service)?['\"]?\s*$", re.M)
_SYSTEMCTL = re.compile(r"systemctl\s+\S+\s+(?:--\S+\s+)*([A-Za-z0-9@_-]+)(?:\.service)?")
_FILE = re.compile(r"(?:name:\s*|^)['\"]?(/etc/[A-Za-z0-9_./@-]*[A-Za-z0-9_])['\"]?:?\s*$", re.M)


@dataclass
class State:
    """One deploy state: its .sls files, the files it writes and the services it touches."""

    name: str
    sls: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"name": self.name, "sls": self.sls, "files": self.files, "services": self.services}


def parse_sls(text: str) -> tuple[list[str], list[str]]:
    """(files written, services touched) named literally in one .sls file."""
    services = [n for block in _SERVICE_BLOCK.findall(text) for n in _SERVICE_NAME.findall(block)]
    services += _SYSTEMCTL.findall(text)
    return list(dict.fromkeys(_FILE.findall(text))), list(dict.fromkeys(services))


def read_state(name: str, root: Path = DEPLOY_ROOT) -> State | None:
    """The state NAME under ``root``, or None when the box has no such state."""
    folder = root / name
    if not re.fullmatch(r"[a-z0-9_-]{1,64}", name) or not folder.is_dir():
        return None
    state = State(name)
    for sls in sorted(folder.glob("*.sls")):
        try:
            files, services = parse_sls(sls.read_text(errors="replace"))
        except OSError:
            continue
        state.sls.append(sls.name)
        state.files += [f for f in files if f not in state.files]
        state.services += [s for s in services if s not in state.services]
    return state


def all_states(root: Path = DEPLOY_ROOT) -> list[State]:
    """Every deploy state on the box, by name."""
    if not root.is_dir():
        return []
    return [s for s in (read_state(p.name, root) for p in sorted(root.iterdir())) if s is not None]
