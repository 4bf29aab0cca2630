"""Run a pattern's diagnostic commands safely through omv_copilot_agent.runner.

A command string is split with shlex (never a shell); a bare ``|`` token splits it
into stages that run_stages executes (the first through runner.run, the filters
in-process). ``{name}`` placeholders are filled token by token, and only with
values that pass that name's strict validator, so a parameter can never add an
argument or a command.
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
    "ups": r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}(@[A-Za-z0-9][A-Za-z0-9.-]{0,252})?",
    "container": r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}",
    "cert": r"/etc/ssl/certs/[A-Za-z0-9._-]{1,128}\.(crt|pem)",
    "port": r"\d{1,5}",
}


#: What a value must look like, in words, for the "invalid value" message (the regex says it exactly).
_EXPECTED = {
    "device": "a disk or partition like /dev/sda, /dev/nvme0n1 or /dev/md0",
    "md_device": "an md array like /dev/md0",
    "disk": "a disk name like sda or nvme0n1",
    "share": "a share name (letters, digits, '.', '_', '-', spaces)",
    "interface": "a network interface like eth0 or enp3s0",
    "unit": "a systemd unit like smbd.service",
    "user": "a user name like admin",
    "host": "a host name",
    "path": "a path under /srv, /mnt, /media, /export, /var/log or /etc",
    "mountpoint": "a mount point like /srv/dev-disk-by-uuid-…",
    "pool": "a ZFS pool name",
    "ups": "a UPS name like ups or ups@host",
    "container": "a container name",
    "cert": "a certificate under /etc/ssl/certs ending in .crt or .pem",
    "port": "a port number",
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
        return f"parameter '{name}' has an invalid value: expected {_EXPECTED.get(name, 'a plain value')}"
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
    # Split before filling: a parameter's value is one word, never a pipe.
    stages = [[_PLACEHOLDER.sub(lambda m: params[m.group(1)], word) for word in stage]
              for stage in runner.split_pipeline(parts)]
    if any(not s for s in stages):
        raise runner.CommandRefused("empty pipeline stage")
    if "/" in stages[0][0]:
        # a path would bypass the fixed search path (runner.which): name the tool, never a file
        raise runner.CommandRefused(f"name the tool, not a path: {stages[0][0]!r}")
    runner.check(stages[0])
    for stage in stages[1:]:
        check_filter(stage)
    return stages


#: Text filters that may follow a pipe; they run in this process over the first stage's output.
FILTERS = ("grep", "head", "tail", "wc", "sort")
#: In a filter's arguments only these are refused: the filter is never a process, so a regex
#: alternation ``a|b`` or anchor ``$`` is data, but control characters have no business there.
_FILTER_FORBIDDEN = set("\x00\n\r")


def check_filter(stage: list[str]) -> None:
    """Refuse a filter stage before anything runs: unknown filter, control characters, bad regex/count."""
    name = stage[0]
    if name not in FILTERS:
        raise runner.CommandRefused(f"only {', '.join(FILTERS)} may follow a pipe, not {name!r}")
    for arg in stage[1:]:
        if _FILTER_FORBIDDEN.intersection(arg):
            raise runner.CommandRefused(f"{name}: argument {arg!r} contains control characters")
    try:
        runner._TEXT_FILTERS[name]([], stage[1:])
    except (ValueError, IndexError, re.error) as exc:
        raise runner.CommandRefused(f"bad {name} arguments: {exc}") from None


def run_stages(stages: list[list[str]], *, timeout: float, max_output: int) -> runner.CommandResult:
    """Run the first stage through runner.run (allowlist, timeout, cap) and apply the filters in-process."""
    result = runner.run(stages[0], timeout=timeout, max_output=max_output)
    for stage in stages[1:]:
        if result.error:
            return result
        lines = runner._TEXT_FILTERS[stage[0]](result.stdout.splitlines(), stage[1:])
        rc = (0 if lines else 1) if stage[0] == "grep" else result.returncode
        result = runner.CommandResult(argv=result.argv + ["|"] + stage, returncode=rc,
                                      stdout="\n".join(lines) + ("\n" if lines else ""), stderr=result.stderr,
                                      duration_s=result.duration_s, truncated=result.truncated)
    return result


DEFAULT_TIMEOUT_S = 15.0
DEFAULT_MAX_OUTPUT = 64 * 1024


#: programs that read a disk itself (not the kernel's view of it), spinning up one that sleeps
_DISK_READERS = ("smartctl", "hdparm", "badblocks", "dd", "blkid", "fdisk", "sfdisk", "parted", "nvme", "sg_inq")


def wakes_disks(command: str) -> bool:
    """Would this diagnostic spin up a sleeping disk? (asked before running it, to say so)

    ``smartctl -n standby``/``-n idle`` and ``hdparm -C`` (power mode only) do not.
    """
    for stage in runner.split_pipeline(command.split()):
        if not stage or stage[0] not in _DISK_READERS:
            continue
        args = stage[1:]
        if not any(a.startswith("/dev/") or "{device" in a or "{md_device" in a for a in args):
            continue
        if stage[0] == "smartctl" and any(a in ("standby", "idle") or a.startswith("--nocheck=s") or a.startswith("--nocheck=i")
                                          for a in args):
            continue
        if stage[0] == "hdparm" and args[:1] == ["-C"]:
            continue
        return True
    return False


def run_step(diag: dict, params: dict, *, timeout: float = DEFAULT_TIMEOUT_S, max_output: int = DEFAULT_MAX_OUTPUT) -> dict:
    """Run one diagnostic; refusals come back with ``error`` set and nothing run."""
    out = {"name": diag["name"], "command": diag["command"], "argv": None, "returncode": None, "stdout": "",
           "stderr": "", "duration_s": 0.0, "timed_out": False, "truncated": False, "error": None,
           "matched_expected": None, "expected_output": diag.get("expected_output")}
    try:
        stages = build(diag["command"], params or {})
    except runner.CommandRefused as exc:
        out["error"] = f"refused: {exc}"
        return out
    start = time.monotonic()
    result = run_stages(stages, timeout=timeout, max_output=max_output)
    out.update(argv=runner.join_pipeline(stages), returncode=result.returncode, stdout=result.stdout,
               stderr=result.stderr, duration_s=round(result.duration_s or (time.monotonic() - start), 4),
               timed_out=result.timed_out, truncated=result.truncated, error=result.error)
    expected = diag.get("expected_output")
    if expected and result.error is None:
        out["matched_expected"] = matches_expected(expected, result.stdout)
    return out


def matches_expected(expected: str, output: str) -> bool:
    """``expected_output`` is a case-insensitive multiline regex (a plain substring if it does not compile).

    A healthy-state check can be written as a negative look-ahead over the whole output,
    e.g. ``\\A(?![\\s\\S]*: inactive)`` passes only when no md array is inactive.
    """
    try:
        return re.search(expected, output, re.IGNORECASE | re.MULTILINE) is not None
    except re.error:
        return expected.lower() in output.lower()


# Read-only tools the patterns need beyond the foundation's allowlist.
runner.register("pdbedit", lambda a: None if a in (["-L"], ["-L", "-v"], ["-Lv"]) else "pdbedit only lists users (-L)")
