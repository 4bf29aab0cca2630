"""Typed probe parameters: each type is a strict shape, and paths are checked after realpath.

Why types and not free text: a parameter is the only thing a pattern (or a user
filling in ``{device}``) can put into a probe's argv, so every type admits exactly
the values that name one object of its kind — never an option, never a second
argument, never a file that holds secrets.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from typing import Callable


class ParamError(ValueError):
    """A value does not fit its parameter's type; the message names the parameter and the shape."""


#: Files and trees that hold secrets; refused even under an allowed root (checked on the realpath).
DENIED_PATHS = (
    "/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/security/opasswd",
    "/etc/ssl/private", "/etc/wireguard", "/etc/netplan", "/etc/wpa_supplicant", "/etc/NetworkManager/system-connections",
    "/etc/openmediavault/config.xml", "/etc/omv-copilot", "/var/lib/omv-copilot", "/etc/postfix/sasl_passwd",
    "/etc/postfix/sasl_passwd.db", "/etc/nut/upsd.users", "/etc/nut/upsmon.conf", "/etc/samba/smbpasswd",
    "/var/lib/samba/private", "/etc/docker/daemon.json", "/var/lib/docker", "/root", "/home", "/etc/rsyncd.secrets",
    "/etc/msmtprc", "/etc/exim4/passwd.client", "/etc/ppp/chap-secrets", "/etc/ppp/pap-secrets", "/etc/krb5.keytab",
    "/etc/cifs-credentials", "/etc/davfs2/secrets", "/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ecdsa_key",
    "/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_dsa_key", "/etc/sudoers", "/etc/sudoers.d",
    "/etc/openmediavault/ssl", "/var/lib/openmediavault", "/etc/letsencrypt", "/etc/apt/auth.conf", "/etc/apt/auth.conf.d",
)
#: Words in a file's own name that mark it as holding a secret, wherever it lives.
SECRET_NAME = re.compile(r"shadow|passw|secret|token|credential|private|psk|\.key$|_key$|id_rsa|id_ed25519|id_ecdsa|"
                         r"\.netrc$|keytab|environ$|api[-_]?key", re.IGNORECASE)
#: A process' own view of the file system: /proc/<pid>/root, /proc/self/cwd… escape any root check.
PROC_PROCESS = re.compile(r"^/proc/(self|thread-self|\d+)(/|$)")
#: Extra denied paths the daemon adds at start (its API token file, its config file).
EXTRA_DENIED: set[str] = set()


def deny(path: str) -> None:
    """Add a secret file (e.g. the configured API token file) to the deny list."""
    EXTRA_DENIED.add(os.path.realpath(path))


def _denied(real: str) -> str | None:
    for denied in (*DENIED_PATHS, *EXTRA_DENIED):
        if real == denied or real.startswith(denied.rstrip("/") + "/"):
            return f"{real} may hold secrets"
    if SECRET_NAME.search(os.path.basename(real)):
        return f"{real} is named like a file that holds secrets"
    if "/.ssh/" in real + "/" or "/.docker/" in real + "/" or "/.gnupg/" in real + "/":
        return f"{real} holds keys"
    return None


def check_path(value: str, roots: tuple[str, ...], *, content: bool) -> str | None:
    """None when ``value`` resolves under one of ``roots`` (and, for content reads, is no secret file)."""
    if not value.startswith("/") or "\x00" in value:
        return "must be an absolute path"
    if PROC_PROCESS.match(value) or PROC_PROCESS.match(os.path.normpath(value)):
        return "may not go through /proc/<pid> (a process' root, cwd or environment)"
    if any(part in (".", "..") for part in value.split("/")):
        return "may not contain '.' or '..' components"
    try:
        real = os.path.realpath(value)
    except OSError as exc:  # e.g. a link the daemon may not follow
        return f"cannot be resolved ({exc.strerror or exc})"
    if PROC_PROCESS.match(real):
        # /proc/net is the one /proc/self link a probe needs: the kernel's network state, not a process' files.
        if not (value.startswith("/proc/net/") and re.fullmatch(r"/proc/\d+" + re.escape(value[len("/proc"):]), real)):
            return "resolves into /proc/<pid>"
        real = value
    if not any(real == r or real.startswith(r.rstrip("/") + "/") for r in roots):
        return f"resolves to {real}, which is not under {', '.join(roots)}"
    if content:
        return _denied(real)
    return None


@dataclass(frozen=True)
class ParamType:
    """One kind of value: a full-match shape, words for messages, an optional extra check."""

    name: str
    shape: str
    expected: str
    extra: Callable[[str], "str | None"] | None = None

    def check(self, value) -> str | None:
        if not isinstance(value, str):
            return f"must be a string ({self.expected})"
        if not value.isascii() or not value.isprintable() or not re.fullmatch(self.shape, value):
            return f"invalid value {value[:80]!r}: expected {self.expected}"
        return self.extra(value) if self.extra else None


def _ip_or_host(value: str) -> str | None:
    try:
        ipaddress.ip_address(value)
        return None
    except ValueError:
        pass
    if re.fullmatch(r"[\d.]+", value):
        return f"invalid value {value!r}: not an IP address"
    return None


def _roots(*roots: str, content: bool) -> Callable[[str], str | None]:
    return lambda value: check_path(value, roots, content=content)


def _int_range(low: int, high: int) -> Callable[[str], str | None]:
    return lambda value: None if low <= int(value) <= high else f"must be between {low} and {high}"


DATA_ROOTS = ("/srv", "/mnt", "/media", "/export")
_NAME = r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}"
_PATH = rf"(/{_NAME}){{1,24}}"

TYPES: dict[str, ParamType] = {t.name: t for t in (
    ParamType("disk", r"/dev/(sd[a-z]{1,2}|hd[a-z]|vd[a-z]{1,2}|xvd[a-z]{1,2}|nvme\d{1,2}(n\d{1,2})?|mmcblk\d{1,2})",
              "a whole disk like /dev/sda, /dev/nvme0n1 or /dev/mmcblk0"),
    ParamType("nvme", r"/dev/nvme\d{1,2}(n\d{1,2})?", "an NVMe device like /dev/nvme0 or /dev/nvme0n1"),
    ParamType("md_device", r"/dev/md\d{1,3}", "an md array like /dev/md0"),
    ParamType("interface", r"[A-Za-z][A-Za-z0-9_.-]{0,14}", "a network interface like eth0 or enp3s0"),
    ParamType("unit", r"[A-Za-z0-9][A-Za-z0-9:_.@-]{0,100}", "a systemd unit like smbd or smbd.service"),
    ParamType("user", r"[a-z_][a-z0-9_-]{0,31}", "a user name like admin"),
    ParamType("host", r"[A-Za-z0-9]([A-Za-z0-9.:-]{0,252})", "a host name or IP address", _ip_or_host),
    ParamType("ups", r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}(@[A-Za-z0-9][A-Za-z0-9.-]{0,252})?", "a UPS like ups or ups@host"),
    ParamType("container", r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}", "a container name"),
    ParamType("pool", r"[A-Za-z][A-Za-z0-9_.:-]{0,63}", "a ZFS pool name"),
    ParamType("package", r"[a-z0-9][a-z0-9+.-]{1,99}", "a Debian package name"),
    ParamType("lines", r"[1-9]\d{0,3}", "a line count from 1 to 1000", _int_range(1, 1000)),
    ParamType("count", r"[1-9]\d?", "a count from 1 to 10", _int_range(1, 10)),
    ParamType("data_path", _PATH, "a path under /srv, /mnt, /media or /export", _roots(*DATA_ROOTS, content=False)),
    ParamType("meta_path", rf"/|{_PATH}", "an absolute path (only its metadata is read)", _roots("/", content=False)),
    ParamType("system_file", _PATH, "a file under /etc, /proc (not /proc/<pid>), /sys or /var/log that holds no secrets",
              _roots("/etc", "/proc", "/sys", "/var/log", "/run/systemd/resolve", content=True)),
    ParamType("log_file", _PATH, "a log file under /var/log", _roots("/var/log", content=True)),
    ParamType("cert", _PATH, "a certificate under /etc/ssl/certs",
              _roots("/etc/ssl/certs", "/usr/share/ca-certificates", "/usr/local/share/ca-certificates", content=True)),
)}
