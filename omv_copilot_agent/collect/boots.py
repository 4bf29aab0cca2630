"""When the box booted: the ``reboot`` records of ``/var/log/wtmp`` (and ``wtmp.1``), plus this boot.

systemd-update-utmp writes a BOOT_TIME record at every boot on Debian 12, so wtmp holds the
reboots of the last months without running ``journalctl --list-boots`` (a journal on a USB
stick is often volatile and forgets older boots). The running boot comes from psutil either way.
"""

from __future__ import annotations

import os
import struct

WTMP = "/var/log/wtmp"
BOOT_TIME = 2  # utmp ut_type of a boot record (user "reboot")
#: glibc's ``struct utmp``: 32-bit ``ut_session``/``ut_tv`` where glibc sets __WORDSIZE_TIME64_COMPAT32
#: (x86-64, 32-bit ARM and i386: 384 bytes), 64-bit ones on AArch64 (a Raspberry Pi's arm64 OS: 400 bytes)
LAYOUTS = {"compat32": struct.Struct("<hhi32s4s32s256shhiii16s20s"),
           "time64": struct.Struct("<hhi32s4s32s256shhqqq16s20s4x")}
_MAX_TYPE = 9  # ACCOUNTING, the highest ut_type


def layout_of(data: bytes) -> struct.Struct | None:
    """The record layout a wtmp file was written with: this machine's first, the other when only it fits."""
    native = ["time64", "compat32"] if os.uname().machine in ("aarch64", "arm64") else ["compat32", "time64"]
    for name in native:
        rec = LAYOUTS[name]
        if data and len(data) % rec.size == 0 and all(
                0 <= rec.unpack_from(data, off)[0] <= _MAX_TYPE for off in range(0, min(len(data), 64 * rec.size), rec.size)):
            return rec
    return None


def parse(data: bytes) -> list[dict]:
    """Boot records (``at``, ``kernel``) of a wtmp file's bytes, oldest first ([] when no layout fits)."""
    out = []
    rec_struct = layout_of(data)
    if rec_struct is None:
        return out
    for offset in range(0, len(data), rec_struct.size):
        rec = rec_struct.unpack_from(data, offset)
        if rec[0] != BOOT_TIME or rec[10] <= 0:
            continue
        kernel = rec[6].split(b"\0", 1)[0].decode("utf-8", "replace")  # ut_host holds the kernel release
        out.append({"at": float(rec[10]) + rec[11] / 1e6, "kernel": kernel})
    return sorted(out, key=lambda b: b["at"])


def read(path: str = WTMP, since: float = 0.0) -> list[dict]:
    """Boots at or after ``since`` from wtmp and its last rotation, and the running boot."""
    boots: list[dict] = []
    for name in (path + ".1", path):
        try:
            with open(name, "rb") as fh:
                boots += parse(fh.read(64 * 1024 * 1024))
        except OSError:
            continue
    try:
        import psutil

        now = psutil.boot_time()
        if not any(abs(b["at"] - now) < 120 for b in boots):
            boots.append({"at": float(now), "kernel": os.uname().release})
    except (ImportError, OSError):
        pass
    return sorted((b for b in boots if b["at"] >= since), key=lambda b: b["at"])
