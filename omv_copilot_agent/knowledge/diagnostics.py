"""Run a pattern's diagnostic commands safely through omv_copilot_agent.runner.

A command string is split with shlex (never a shell); a bare ``|`` token splits it
into stages that runner.run_pipeline executes itself. ``{name}`` placeholders are
filled token by token, and only with values that pass that name's strict
validator, so a parameter can never add an argument or a command.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
import time

from omv_copilot_agent import runner

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def _ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False


_RX = {
    "device": r"/dev/(sd[a-z]{1,2}|hd[a-z]|vd[a-z]{1,2}|xvd[a-z]{1,2}|nvme\d{1,2}(n\d{1,2})?|md\d{1,3}|mmcblk\d{1,2})(p?\d{1,2})?",
    "md_device": r"/dev/md\d{1,3}|/dev/md/[A-Za-z0-9_-]{1,32}",
    "disk": r"(sd[a-z]{1,2}|nvme\d{1,2}n\d{1,2}|vd[a-z]{1,2}|hd[a-z])",
    "share": r"[A-Za-z0-9][A-Za-z0-9._ -]{0,63}",
    "interface": r"[A-Za-z][A-Za-z0-9._-]{0,14}",
    "unit": r"[A-Za-z0-9][A-Za-z0-9@._-]{0,100}\.(service|timer|mount|socket|target)",
    "user": r"[a-z_][a-z0-9_-]{0,31}",
    "host": r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*",
    "path": r"/(srv|mnt|media|export|var/log|etc)(/[A-Za-z0-9._@+ -]{1,128}){0,16}",
    "mountpoint": r"/(srv|mnt|media|export)?(/[A-Za-z0-9._@+-]{1,128}){0,16}",
    "pool": r"[A-Za-z][A-Za-z0-9_.:-]{0,63}",
    "ups": r"[A-Za-z0-9_-]{1,32}(@[A-Za-z0-9.-]{1,253})?",
    "container": r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}",
    "cert": r"/etc/ssl/certs/[A-Za-z0-9._-]{1,128}\.(crt|pem)",
    "port": r"\d{1,5}",
}


def validate_param(name: str, value) -> str | None:
    """None when ``value`` is acceptable for placeholder ``name``, else the reason."""
    if not isinstance(value, str):
        return f"parameter '{name}' must be a string"
    if name == "client_ip" or name == "ip":
        return None if _ip(value) else f"parameter '{name}' is not an IP address"
    rx = _RX.get(name)
    if rx is None:
        return f"unknown parameter '{name}'"
    if not value.isascii() or not re.fullmatch(rx, value) or ".." in value.split("/"):
        return f"parameter '{name}' has an invalid value"
    if runner.SHELL_METACHARACTERS.intersection(value):
        return f"parameter '{name}' contains shell metacharacters"
    return None


def placeholders(command: str) -> list[str]:
    return sorted(set(_PLACEHOLDER.findall(command)))


def build(command: str, params: dict) -> list[list[str]]:
    """The argv stages for ``command`` with placeholders filled; raises CommandRefused."""
    for name in placeholders(command):
        if name not in params:
            raise runner.CommandRefused(f"needs parameter '{name}'")
        reason = validate_param(name, params[name])
        if reason:
            raise runner.CommandRefused(reason)
    try:
        parts = shlex.split(command)
    except ValueError as exc:
        raise runner.CommandRefused(f"cannot parse command: {exc}") from None
    stages, current = [], []
    for part in parts:
        if part == "|":
            stages.append(current)
            current = []
            continue
        current.append(_PLACEHOLDER.sub(lambda m: params[m.group(1)], part))
    stages.append(current)
    if any(not s for s in stages):
        raise runner.CommandRefused("empty pipeline stage")
    for stage in stages[:1]:
        runner.check(stage)
    return stages


def run_step(diag: dict, params: dict, *, timeout: float = 15.0, max_output: int = 64 * 1024) -> dict:
    """Run one diagnostic; refusals come back with ``error`` set and nothing run."""
    out = {"name": diag["name"], "command": diag["command"], "argv": None, "returncode": None, "stdout": "",
           "stderr": "", "duration_s": 0.0, "timed_out": False, "error": None, "matched_expected": None,
           "expected_output": diag.get("expected_output")}
    try:
        stages = build(diag["command"], params or {})
    except runner.CommandRefused as exc:
        out["error"] = f"refused: {exc}"
        return out
    start = time.monotonic()
    result = runner.run_pipeline(stages, timeout=timeout, max_output=max_output) if len(stages) > 1 \
        else runner.run(stages[0], timeout=timeout, max_output=max_output)
    out.update(argv=[a for s in stages for a in s + ["|"]][:-1], returncode=result.returncode, stdout=result.stdout,
               stderr=result.stderr, duration_s=round(result.duration_s or (time.monotonic() - start), 4),
               timed_out=result.timed_out, error=result.error)
    expected = diag.get("expected_output")
    if expected and result.error is None:
        try:
            out["matched_expected"] = re.search(expected, result.stdout, re.IGNORECASE | re.MULTILINE) is not None
        except re.error:
            out["matched_expected"] = expected.lower() in result.stdout.lower()
    return out


# Read-only tools the patterns need beyond the foundation's allowlist.
runner.register("pdbedit", lambda a: None if a in (["-L"], ["-L", "-v"], ["-Lv"]) else "pdbedit only lists users (-L)")
