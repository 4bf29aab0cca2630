"""Source 'omv': OpenMediaVault's configuration, read through omv-rpc.

The engine is slow (≈1 s per call), so the configuration is read once and
kept in ``ctx.cache``; it is re-read only when ``config.xml``'s mtime changes
(a call that failed is retried alone after ``RETRY_FAILED_S``, then after twice as long each
time it fails again, up to ``RETRY_MAX_S``: a method that fails on this box for good —
a plugin's bug, a disk RPC in a container — costs one call a day, not one every two minutes).
The cheap live bits of ``System.getInformation`` (configDirty, updates) are
refreshed at most every ``LIVE_REFRESH_S``. One failing method does not lose
the others: it goes to ``data.errors`` and makes the source degraded.

``Smart.getList`` is deliberately not read: OMV answers it by running
``smartctl`` without ``-n standby`` on every disk, which spins up sleeping
disks; the ``smart`` source reads SMART itself without waking them.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from omv_copilot_agent.collect.base import Degraded, Unavailable, mtime
from omv_copilot_agent.collect.omv_rpc import OmvRpcClient, OmvRpcError

NAME = "omv"
LIVE_REFRESH_S = 120.0
#: a configuration call that failed is retried (alone) after this long, doubling per failure up to RETRY_MAX_S
RETRY_FAILED_S = 120.0
RETRY_MAX_S = 86400.0
#: the monotonic clock; tests replace it to simulate days of cycles
clock = time.monotonic

PAGE = {"start": 0, "limit": -1}


def _rows(resp) -> list:
    if isinstance(resp, dict) and "data" in resp:
        return list(resp.get("data") or [])
    return list(resp or []) if isinstance(resp, list) else []


def _users(resp) -> list[dict]:
    return [{"name": u.get("name"), "uid": u.get("uid"), "groups": u.get("groups") or [], "email": u.get("email")}
            for u in _rows(resp)]


def _email(resp) -> dict:
    resp = resp or {}
    return {k: resp.get(k) for k in ("enable", "server", "port", "tls", "sender", "primaryemail", "secondaryemail")}


def _topics(resp) -> list[dict]:
    return [{"id": t.get("id"), "enable": t.get("enable"), "title": t.get("title")} for t in _rows(resp)]


#: key -> (service, method, params, transform)
CONFIG_CALLS: dict[str, tuple[str, str, dict | None, Callable[[Any], Any]]] = {
    "services": ("Services", "getStatus", {}, lambda r: [{k: s.get(k) for k in ("name", "title", "enabled", "running")} for s in _rows(r)]),
    "shared_folders": ("ShareMgmt", "getList", PAGE, _rows),
    "smb_shares": ("SMB", "getShareList", PAGE, _rows),
    "nfs_shares": ("NFS", "getShareList", PAGE, _rows),
    "users": ("UserMgmt", "getUserList", PAGE, _users),
    "network": ("Network", "enumerateDevices", {}, _rows),
    "cron_jobs": ("Cron", "getList", {**PAGE, "type": ["userdefined"]}, _rows),
    "rsync_jobs": ("Rsync", "getList", PAGE, _rows),
    # the scheduled SMART tests (conf.service.smartmontools.job): configuration only, no disk is asked
    "smart_tests": ("Smart", "getScheduleList", PAGE, _rows),
    # openmediavault-borgbackup's archives (conf.service.borgbackup.archive); none when the plugin is not installed
    "borg_archives": ("BorgBackup", "getArchiveList", PAGE, _rows),
    "email": ("EmailNotification", "get", {}, _email),
    "topics": ("Notification", "getList", PAGE, _topics),
    "filesystems": ("FileSystemMgmt", "enumerateFilesystems", {}, _rows),
    "raid": ("MdMgmt", "getList", PAGE, _rows),
}


def client_from(config) -> OmvRpcClient:
    return OmvRpcClient(config.get_path("omv_rpc.command", "omv-rpc"), float(config.get_path("omv_rpc.timeout_s", 15)))


def _live(info) -> dict:
    info = info or {}
    return {"version": info.get("version"), "hostname": info.get("hostname"),
            "config_dirty": info.get("configDirty"), "dirty_modules": info.get("dirtyModules") or [],
            "reboot_required": info.get("rebootRequired"), "available_updates": info.get("availablePkgUpdates")}


def read_calls(client: OmvRpcClient, keys) -> tuple[dict, dict[str, str]]:
    """Run the configuration calls named by ``keys``: (raw data by key, errors by key)."""
    data: dict = {}
    errors: dict[str, str] = {}
    for key in keys:
        service, method, params, transform = CONFIG_CALLS[key]
        try:
            data[key] = transform(client.call(service, method, params))
        except OmvRpcError as exc:
            data[key] = {} if key == "email" else []
            if f"RPC service '{service}' not found" in exc.reason:
                continue  # plugin not installed (e.g. openmediavault-md): nothing to report
            errors[key] = exc.reason
    return data, errors


def assemble(raw: dict) -> dict:
    """The snapshot's view of the raw per-call data (email + topics under ``notifications``)."""
    data = {k: v for k, v in raw.items() if k not in ("email", "topics")}
    data["notifications"] = {"email": raw.get("email", {}), "topics": raw.get("topics", [])}
    return data


def _by_method(errors: dict[str, str]) -> dict[str, str]:
    return {f"{CONFIG_CALLS[k][0]}.{CONFIG_CALLS[k][1]}": reason for k, reason in errors.items()}


def read_config(client: OmvRpcClient) -> tuple[dict, dict]:
    """Every configuration call once; returns (data, errors by 'Service.method')."""
    raw, errors = read_calls(client, CONFIG_CALLS)
    return assemble(raw), _by_method(errors)


def collect(ctx) -> dict:
    client = client_from(ctx.config)
    if not client.available():
        raise Unavailable("omv-rpc not found (not an OpenMediaVault box)")
    cache = ctx.cache.setdefault(NAME, {})
    now = clock()
    errors: dict[str, str] = {}
    if "live" not in cache or now - cache.get("live_at", 0) >= LIVE_REFRESH_S:
        try:
            cache["live"] = _live(client.call("System", "getInformation", {}))
            cache["live_at"] = now
            cache.pop("live_error", None)
        except OmvRpcError as exc:
            if exc.missing:
                raise Unavailable(exc.reason) from None
            cache["live_error"] = exc.reason
            cache.setdefault("live", _live({}))
            cache["live_at"] = now
    if cache.get("live_error"):
        errors["System.getInformation"] = cache["live_error"]
    written = mtime(ctx.config.get_path("omv_rpc.config_xml", "/etc/openmediavault/config.xml"))
    if "config" not in cache or cache.get("mtime") != written:
        cache["raw"], cache["failed"] = read_calls(client, CONFIG_CALLS)
        cache["mtime"], cache["retry"] = written, {k: (now + RETRY_FAILED_S, RETRY_FAILED_S) for k in cache["failed"]}
    else:
        # a failed call may have been transient (engine restarting): retry only those that are due
        due = [k for k in cache["failed"] if now >= cache["retry"][k][0]]
        if due:
            raw, failed = read_calls(client, due)
            cache["raw"].update(raw)
            for key in due:
                cache["failed"].pop(key, None)
                if key in failed:
                    delay = min(cache["retry"][key][1] * 2, RETRY_MAX_S)
                    cache["failed"][key], cache["retry"][key] = failed[key], (now + delay, delay)
    cache["config"], cache["config_errors"] = assemble(cache["raw"]), _by_method(cache["failed"])
    errors.update(cache["config_errors"])
    data = {**cache["live"], **cache["config"], "errors": dict(errors)}
    if errors:
        raise Degraded("; ".join(f"{m}: {r}" for m, r in errors.items())[:1000], data)
    return data


def invalidate(ctx_cache: dict) -> None:
    """Forget the cached configuration (tests, settings changes)."""
    ctx_cache.pop(NAME, None)
