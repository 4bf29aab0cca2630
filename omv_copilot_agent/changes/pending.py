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

from omv_copilot_agent.changes import omvconfig
from omv_copilot_agent.collect import omv_salt as salt
from omv_copilot_agent.collect.omv_files import Baseline, OmvStateError, Paths, dirty_modules, hand_edit, revisions

__all__ = ["Baseline", "Paths", "PendingError", "dirty_modules", "explain"]

PATTERN_ID = "config-hand-edit-overwritten"
REVERT = {"rpc": {"service": "Config", "method": "revertChanges", "params": {"filename": ""}},
          "command": "omv-rpc -u admin Config revertChanges '{\"filename\":\"\"}'",
          "ui": "the Undo button of OMV's 'Pending configuration changes' banner"}

#: OMV's state could not be read; the message names the file and why.
PendingError = OmvStateError


def _hand_edit(file: str, module: str) -> dict:
    return {**hand_edit(file, module), "pattern_id": PATTERN_ID}


def explain(paths: Paths = Paths(), baseline: Baseline | None = None) -> dict:
    """The pending change, ready for the API, the CLI and the panel."""
    modules = dirty_modules(paths.dirty_file)
    revision_files = revisions(paths.config_file)
    changes: list[dict] = []
    if revision_files:
        changes = [c.to_dict() for c in omvconfig.diff(omvconfig.load(revision_files[0]), omvconfig.load(paths.config_file))]
    states, hand_edits = [], []
    for name in modules:
        state = salt.read_state(name, paths.deploy_root)
        note = ("" if state else
                f"OMV's salt states are not at {paths.deploy_root} on this box" if not paths.deploy_root.is_dir() else
                "no deploy state of its own (OMV runs it inside the module)")
        entry = {"module": name, "state": state.to_dict() if state else None, "note": note}
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
            "revision_files": [str(p) for p in revision_files], "revert": REVERT if modules or revision_files else None}
