"""Before Apply, before an upgrade: OMV's pending change explained, an upgrade checked against the box.

Both only read: the pending change from OMV's own files (dirty modules, revision files, salt
states), the upgrade from apt's simulation run as a catalogue probe. Reverting and upgrading
stay OMV's and the admin's to do.
"""

from __future__ import annotations

import os
from pathlib import Path

from omv_copilot_agent import probes, runner
from omv_copilot_agent.changes import omvconfig, pending, preflight
from omv_copilot_agent.collect import omv_files
from omv_copilot_agent.collect.omv import client_from
from omv_copilot_agent.collect.omv_rpc import OmvRpcError
from omv_copilot_agent.services.call import Call
from omv_copilot_agent.services.errors import ServiceError, invalid, unavailable
from omv_copilot_agent.services.schemas import REVERT_SCHEMA

BASELINE_FILE = omv_files.BASELINE_FILE


def baseline(call: Call) -> pending.Baseline:
    return pending.Baseline.load(Path(call.agent.config.data_dir) / BASELINE_FILE)


def pending_changes(call: Call) -> dict:
    """What Apply will do: dirty modules, the settings behind them, states, services, files, hand edits."""
    try:
        return pending.explain(omv_files.PATHS, baseline(call))
    except (pending.PendingError, omvconfig.ConfigError) as exc:
        raise unavailable("omv_unreadable", str(exc)) from None


def revert_changes(call: Call) -> dict:
    """OMV's own revert (``Config revertChanges``): unapplied changes go, the configuration as last applied stays.

    Only with ``{"confirm": true}`` (the panel asks first). Answers the pending change as it is afterwards.
    """
    if call.body(REVERT_SCHEMA).get("confirm") is not True:
        raise invalid(f"{call.field('confirm')}: must be true to revert OMV's unapplied configuration changes", "not_confirmed")
    rpc = pending.REVERT["rpc"]
    try:
        client_from(call.agent.config).call(rpc["service"], rpc["method"], rpc["params"])
    except OmvRpcError as exc:
        raise ServiceError("unavailable" if exc.missing else "upstream_failed", "omv_revert_failed",
                           f"OMV did not revert the changes: {exc}") from None
    try:
        return {"reverted": True, "pending": pending_changes(call), "message": "OMV reverted the unapplied changes."}
    except ServiceError as exc:  # reverted all the same; only the state afterwards could not be read
        return {"reverted": True, "pending": None, "message": f"OMV reverted the unapplied changes ({exc.message})."}


def _free_bytes(path: str) -> int | None:
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def _raid_actions(snapshot) -> list[str]:
    data = getattr(snapshot.sources.get("storage") if snapshot else None, "data", None) or {}
    return [f"{a.get('name')}: {a.get('action')} {a.get('progress_percent', '')}".strip()
            for a in data.get("raid") or [] if a.get("action") not in (None, "idle")]


def preflight_check(call: Call) -> dict:
    """apt's simulated dist-upgrade judged against this box: go / wait / no-go, reasons, rollback plan."""
    result = runner.run_probe(probes.ProbeCall("apt-simulate-upgrade", {}), timeout=120)
    if result.error or result.returncode not in (0, None):
        raise unavailable("simulation_failed", f"apt's simulated upgrade did not run: {result.error or result.stderr[-300:]}")
    upgrades, removed = preflight.parse_simulation(result.stdout)
    free = {mount: size for mount in ("/", "/boot") if (size := _free_bytes(mount)) is not None}
    try:
        dirty = pending.dirty_modules(omv_files.PATHS.dirty_file)
    except pending.PendingError:
        dirty = []
    box = preflight.Box(installed=preflight.installed_packages(wanted=preflight.relevant_package), free_bytes=free,
                        pending_modules=dirty, raid_actions=_raid_actions(call.agent.snapshot),
                        backup_age_s=preflight.newest_backup_age(), running_kernel=os.uname().release)
    release = call.arg("release") == "true"
    return preflight.assess(upgrades, removed, box, release_upgrade=release)
