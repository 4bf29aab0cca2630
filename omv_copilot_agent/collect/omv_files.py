"""Source 'omv_files': files OMV generates that were changed by hand since its last deploy.

OMV's salt states rewrite their files on every Apply (``omv-salt deploy run``), so a hand edit
to ``/etc/samba/smb.conf`` or ``sshd_config`` is silently lost at the next one. This source keeps
sha256 fingerprints of every file the box's states write (read from ``/srv/salt/omv/deploy``)
as the last deploy left them, in one small JSON file of the data dir — written after a deploy,
not every cycle, because many boxes boot from flash — and reports the files that differ.

A deploy is recognised by OMV's own files: nothing dirty (``dirtymodules.json``), no revision
files (``config.xml.NNNN``), and those files newer than the baseline. ``omv-salt`` run by hand
leaves no such trace, so its rewrite is reported like a hand edit; the text says both.
Reads only files on the system disk (never a data disk, so nothing here wakes one).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from omv_copilot_agent.collect import omv_salt as salt
from omv_copilot_agent.collect.base import mtime

NAME = "omv_files"
BASELINE_FILE = "generated-files.json"

#: The durable ways to change what OMV generates, by the file a hand edit went into.
DURABLE_WAY = {
    "/etc/samba/smb.conf": "Services > SMB/CIFS > Settings > Extra options (or a share's Extra options)",
    "/etc/ssh/sshd_config": "Services > SSH > Extra options",
    "/etc/exports": "the NFS share's Extra options in Services > NFS > Shares",
    "/etc/fstab": "Storage > File Systems (mount options), or an OMV_FSTAB_* variable in /etc/default/openmediavault",
    "/etc/proftpd/proftpd.conf": "Services > FTP > Settings > Extra options (openmediavault-ftp)",
}
DEFAULT_WAY = "the setting's page in OMV (Extra options where it has them) or an OMV_* variable in /etc/default/openmediavault"


def durable_way(file: str) -> str:
    return DURABLE_WAY.get(file, DEFAULT_WAY)


@dataclass
class Paths:
    """Where OMV keeps what is read here (the defaults are OMV 7's)."""

    config_file: Path = Path("/etc/openmediavault/config.xml")
    dirty_file: Path = Path("/var/lib/openmediavault/dirtymodules.json")
    deploy_root: Path = salt.DEPLOY_ROOT
    #: The file system the generated files live in ("/" on a box; a folder in tests).
    root: Path = Path("/")

    def real(self, generated: str) -> str:
        return str(self.root / generated.lstrip("/"))


class OmvStateError(ValueError):
    """OMV's state could not be read; the message names the file and why."""


def dirty_modules(path: Path) -> list[str]:
    """The modules OMV will deploy on Apply, as its engine wrote them."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise OmvStateError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if text.strip() else []
    except ValueError:
        raise OmvStateError(f"{path} is not valid JSON (omv-firstaid: 'Check configuration status file' repairs it)") from None
    if not isinstance(data, list) or not all(isinstance(m, str) for m in data):
        raise OmvStateError(f"{path} does not hold a list of module names")
    return list(dict.fromkeys(data))


def revisions(config_file: str | Path) -> list[Path]:
    """OMV's revision files of ``config_file`` (``config.xml.0001``…), oldest first."""
    path = Path(config_file)
    found = [p for p in path.parent.glob(path.name + ".*") if re.fullmatch(r"\d+", p.suffix[1:] or "x")]
    return sorted(found, key=lambda p: int(p.suffix[1:]))


def fingerprint(files) -> dict[str, str | None]:
    """sha256 of each file (None where it does not exist or cannot be read)."""
    out = {}
    for name in files:
        try:
            out[name] = hashlib.sha256(Path(name).read_bytes()).hexdigest()
        except OSError:
            out[name] = None
    return out


@dataclass
class Baseline:
    """Fingerprints of the generated files as the last deploy left them, kept in one small JSON
    file of the data dir (written after a deploy, not every cycle: boxes boot from flash)."""

    path: Path
    files: dict[str, str | None] = field(default_factory=dict)
    taken_at: float | None = None
    reason: str = ""

    @classmethod
    def load(cls, path: Path) -> "Baseline":
        try:
            data = json.loads(path.read_text())
            return cls(path, {str(k): v for k, v in dict(data["files"]).items()}, float(data["taken_at"]), str(data["reason"]))
        except (OSError, ValueError, KeyError, TypeError):
            return cls(path)

    def take(self, files, paths: Paths, reason: str) -> None:
        """Fingerprint ``files`` (as the salt states name them) and keep that as the baseline."""
        digests = fingerprint(paths.real(f) for f in files)
        self.files, self.taken_at, self.reason = {f: digests[paths.real(f)] for f in files}, time.time(), reason
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"taken_at": self.taken_at, "reason": reason, "files": self.files}, sort_keys=True))
        tmp.replace(self.path)

    def edited(self, files, paths: Paths) -> list[str]:
        """Files that changed since the baseline (a hand edit, or a deploy run by hand)."""
        known = [f for f in files if f in self.files]
        now = fingerprint(paths.real(f) for f in known)
        return [f for f in known if now[paths.real(f)] != self.files[f]]


def hand_edit(file: str, module: str) -> dict:
    """A changed generated file as reported: what happened and the durable way to make the change."""
    return {"file": file, "module": module, "durable_way": durable_way(file),
            "text": f"{file} (written by OMV's {module} state) was changed outside an OMV Apply — by hand or by "
                    f"omv-salt run by hand. The next Apply of {module} overwrites it; make the change durable through "
                    f"{durable_way(file)}."}


def drifted(paths: Paths, baseline: Baseline) -> list[dict]:
    """Generated files changed outside a deploy; the baseline is (re)taken on first run and after each deploy."""
    states = salt.all_states(paths.deploy_root)
    owner = {f: s.name for s in states for f in s.files}
    settled = not dirty_modules(paths.dirty_file) and not revisions(paths.config_file)
    applied_at = max(mtime(paths.dirty_file) or 0.0, mtime(paths.config_file) or 0.0)
    if baseline.taken_at is None:
        baseline.take(list(owner), paths, "first run")
        return []
    if settled and applied_at > baseline.taken_at:
        baseline.take(list(owner), paths, "after a deploy")
        return []
    return [hand_edit(f, owner[f]) for f in baseline.edited(list(owner), paths)]


#: Tests point the source at a folder laid out like a box.
PATHS = Paths()


def collect(ctx) -> dict:
    if not PATHS.deploy_root.is_dir():
        from omv_copilot_agent.collect.base import Unavailable

        raise Unavailable(f"no OMV salt states at {PATHS.deploy_root} (is this an OpenMediaVault box?)")
    baseline = Baseline.load(Path(ctx.config.data_dir) / BASELINE_FILE)
    try:
        edited = drifted(PATHS, baseline)
    except (OmvStateError, OSError) as exc:
        from omv_copilot_agent.collect.base import Degraded

        raise Degraded(str(exc), {"edited": []}) from None
    return {"edited": edited, "watched": len(baseline.files), "baseline_taken_at": baseline.taken_at,
            "baseline_reason": baseline.reason}
