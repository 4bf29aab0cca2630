"""Before you press Apply: what OMV's pending configuration change will do.

OMV marks a module dirty when one of its settings changes (``dirtymodules.json``) and keeps the
configuration as last applied in its lowest revision file. Apply runs ``omv-salt deploy run``
for each dirty module, rewriting the files its salt state generates and restarting its
services. This module puts those together — the modules, the settings that differ (in OMV's
words), the states, services and files — and warns when one of those files was edited by hand
since the last deploy, because Apply will overwrite that edit.

Everything here only reads. Reverting is OMV's own ``Config revertChanges``, offered, not run.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from omv_copilot_agent.changes import omvconfig, salt

#: The durable ways to change what OMV generates, by the file a hand edit went into.
DURABLE_WAY = {
    "/etc/samba/smb.conf": "Services > SMB/CIFS > Settings > Extra options (or a share's Extra options)",
    "/etc/ssh/sshd_config": "Services > SSH > Extra options",
    "/etc/exports": "the NFS share's Extra options in Services > NFS > Shares",
    "/etc/fstab": "Storage > File Systems (mount options), or an OMV_FSTAB_* variable in /etc/default/openmediavault",
    "/etc/proftpd/proftpd.conf": "Services > FTP > Settings > Extra options (openmediavault-ftp)",
}
DEFAULT_WAY = "the setting's page in OMV (Extra options where it has them) or an OMV_* variable in /etc/default/openmediavault"
PATTERN_ID = "config-hand-edit-overwritten"
REVERT = {"rpc": {"service": "Config", "method": "revertChanges", "params": {"filename": ""}},
          "command": "omv-rpc -u admin Config revertChanges '{\"filename\":\"\"}'",
          "ui": "the Revert button of OMV's pending-changes banner"}


@dataclass
class Paths:
    """Where OMV keeps what the explainer reads (the defaults are OMV 7's)."""

    config_file: Path = Path("/etc/openmediavault/config.xml")
    dirty_file: Path = Path("/var/lib/openmediavault/dirtymodules.json")
    deploy_root: Path = salt.DEPLOY_ROOT
    #: The file system the generated files live in ("/" on a box; a folder in tests).
    root: Path = Path("/")

    def real(self, generated: str) -> str:
        return str(self.root / generated.lstrip("/"))


class PendingError(ValueError):
    """OMV's state could not be read; the message names the file and why."""


def dirty_modules(path: Path) -> list[str]:
    """The modules OMV will deploy on Apply, as its engine wrote them."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise PendingError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if text.strip() else []
    except ValueError:
        raise PendingError(f"{path} is not valid JSON (omv-firstaid: 'Check configuration status file' repairs it)") from None
    if not isinstance(data, list) or not all(isinstance(m, str) for m in data):
        raise PendingError(f"{path} does not hold a list of module names")
    return list(dict.fromkeys(data))


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

    def take(self, files, paths: "Paths", reason: str) -> None:
        """Fingerprint ``files`` (as the salt states name them) and keep that as the baseline."""
        digests = fingerprint(paths.real(f) for f in files)
        self.files, self.taken_at, self.reason = {f: digests[paths.real(f)] for f in files}, time.time(), reason
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"taken_at": self.taken_at, "reason": reason, "files": self.files}, sort_keys=True))
        tmp.replace(self.path)

    def edited(self, files, paths: "Paths") -> list[str]:
        """Files that changed since the baseline (a hand edit, or a deploy run by hand)."""
        known = [f for f in files if f in self.files]
        now = fingerprint(paths.real(f) for f in known)
        return [f for f in known if now[paths.real(f)] != self.files[f]]


def _hand_edit(file: str, module: str) -> dict:
    return {"file": file, "module": module, "durable_way": DURABLE_WAY.get(file, DEFAULT_WAY), "pattern_id": PATTERN_ID,
            "text": f"{file} was changed by hand since OMV last deployed it: Apply will overwrite that change. "
                    f"Make it durable through {DURABLE_WAY.get(file, DEFAULT_WAY)}."}


def explain(paths: Paths = Paths(), baseline: Baseline | None = None) -> dict:
    """The pending change, ready for the API, the CLI and the panel."""
    modules = dirty_modules(paths.dirty_file)
    revisions = omvconfig.revisions(paths.config_file)
    changes: list[dict] = []
    if revisions:
        changes = [c.to_dict() for c in omvconfig.diff(omvconfig.load(revisions[0]), omvconfig.load(paths.config_file))]
    states, hand_edits = [], []
    for name in modules:
        state = salt.read_state(name, paths.deploy_root)
        entry = {"module": name, "state": state.to_dict() if state else None,
                 "note": "" if state else "no deploy state of its own (OMV runs it inside the module)"}
        states.append(entry)
        if state and baseline is not None:
            hand_edits += [_hand_edit(f, name) for f in baseline.edited(state.files, paths)]
    services = list(dict.fromkeys(s for e in states if e["state"] for s in e["state"]["services"]))
    files = list(dict.fromkeys(f for e in states if e["state"] for f in e["state"]["files"]))
    summary = ("No configuration changes are waiting to be applied." if not modules else
               f"{len(modules)} module(s) will be deployed on Apply: {', '.join(modules)}; "
               f"{len(changes)} setting(s) changed; services restarted or reloaded: {', '.join(services) or 'none named'}.")
    return {"pending": bool(modules), "summary": summary, "modules": states, "changes": changes,
            "services": services, "files": files, "hand_edits": hand_edits,
            "revision_files": [str(p) for p in revisions], "revert": REVERT if modules or revisions else None}


def drifted(paths: Paths, baseline: Baseline) -> list[dict]:
    """Generated files edited outside a deploy, refreshing the baseline after each deploy.

    Called every cycle: nothing pending and no revision files means OMV's last Apply is
    complete; if the baseline predates that, the deploy may have rewritten the files, so the
    baseline is taken again. Otherwise every file that differs from it was changed by hand.
    """
    owner = {f: s.name for s in salt.all_states(paths.deploy_root) for f in s.files}
    settled = not dirty_modules(paths.dirty_file) and not omvconfig.revisions(paths.config_file)
    applied_at = max((_mtime(paths.dirty_file), _mtime(paths.config_file)))
    if baseline.taken_at is None:
        baseline.take(list(owner), paths, "first run")
        return []
    if settled and applied_at > baseline.taken_at:
        baseline.take(list(owner), paths, "after a deploy")
        return []
    return [_hand_edit(f, owner[f]) for f in baseline.edited(list(owner), paths)]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
