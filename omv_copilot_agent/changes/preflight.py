"""Before you upgrade: what a pending upgrade touches on this box, and whether to go now.

The upgrade is read from apt's own simulation (``apt-get -s dist-upgrade``, what OMV's Update
Management and ``omv-upgrade`` run), never performed. Each risk found is a reason with its
level — ``no-go`` (it will break something: fix first), ``wait`` (finish or check something
first), ``info`` (what will happen) — and the verdict is the worst level. A rollback plan
says what to keep and how to go back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MIB = 1024 * 1024
#: A new kernel's image plus initramfs need this much free in /boot (Debian's are ~70 MiB together).
BOOT_NEEDED = 150 * MIB
#: Unpacking packages needs room on / beyond their download size.
ROOT_NEEDED = 1024 * MIB
#: A configuration backup older than this is no rollback.
BACKUP_MAX_AGE_S = 7 * 86400

_INST = re.compile(r"^Inst (\S+) (?:\[(\S+)\] )?\((\S+) ([^\[)]*?)(?: \[[^\]]+\])?\)", re.M)
_REMV = re.compile(r"^Remv (\S+)(?: \[(\S+)\])?", re.M)

NETWORK_PACKAGES = ("netplan.io", "systemd", "systemd-resolved", "ifupdown", "network-manager", "iproute2",
                    "wpasupplicant", "firmware-realtek", "r8168-dkms", "openmediavault")
DOCKER_PACKAGES = ("docker-ce", "docker-ce-cli", "containerd.io", "docker-compose-plugin", "docker.io", "containerd")
WEB_PACKAGES = ("nginx", "nginx-common", "php8.2-fpm", "php-fpm", "openmediavault")


@dataclass(frozen=True)
class Package:
    name: str
    old: str | None
    new: str | None
    origin: str = ""


@dataclass
class Box:
    """What the preflight needs to know about the box besides the upgrade itself."""

    installed: dict[str, str] = field(default_factory=dict)  # package -> version
    free_bytes: dict[str, int] = field(default_factory=dict)  # mount point -> free bytes ("/", "/boot")
    pending_modules: list[str] = field(default_factory=list)
    raid_actions: list[str] = field(default_factory=list)  # e.g. "md0: resync 42 %"
    backup_age_s: float | None = None  # newest configuration backup; None = none found
    running_kernel: str = ""


def parse_simulation(text: str) -> tuple[list[Package], list[Package]]:
    """(installed or upgraded, removed) packages from ``apt-get -s`` output."""
    upgrades = [Package(m.group(1), m.group(2), m.group(3), m.group(4).strip()) for m in _INST.finditer(text)]
    removed = [Package(m.group(1), m.group(2), None) for m in _REMV.finditer(text)]
    return upgrades, removed


def _major(version: str | None) -> int | None:
    match = re.match(r"(?:\d+:)?(\d+)", version or "")
    return int(match.group(1)) if match else None


def _reason(level: str, text: str, pattern_id: str | None = None) -> dict:
    return {"level": level, "text": text, "pattern_id": pattern_id}


def assess(upgrades: list[Package], removed: list[Package], box: Box, *, release_upgrade: bool = False) -> dict:
    """The verdict (go / wait / no-go), its reasons, what the upgrade touches and a rollback plan."""
    names = {p.name for p in upgrades}
    reasons: list[dict] = []
    kernels = sorted(p.name for p in upgrades if p.name.startswith(("linux-image-", "pve-kernel-", "proxmox-kernel-")))
    dkms = sorted(n for n in box.installed if n.endswith("-dkms"))
    core = next((p for p in upgrades if p.name == "openmediavault"), None)
    plugins = {n: v for n, v in box.installed.items() if n.startswith("openmediavault-") and n != "openmediavault-keyring"}

    for p in removed:
        if p.name.startswith("openmediavault"):
            reasons.append(_reason("no-go", f"The upgrade would remove {p.name}: a plugin or the core would be uninstalled. "
                                            "Do not upgrade until its repository offers a matching version.", "held-packages"))
    if kernels:
        boot = box.free_bytes.get("/boot", box.free_bytes.get("/"))
        if boot is not None and boot < BOOT_NEEDED:
            reasons.append(_reason("no-go", f"/boot has {boot // MIB} MiB free; a new kernel ({', '.join(kernels)}) needs about "
                                            f"{BOOT_NEEDED // MIB} MiB. Remove old kernels first (apt autoremove --purge).",
                                   "root-fs-full-logs"))
        if dkms:
            zfs = "zfs-dkms" in dkms
            reasons.append(_reason("wait", f"A new kernel ({', '.join(kernels)}) needs DKMS modules rebuilt: {', '.join(dkms)}. "
                                           + ("If zfs-dkms fails to build for it, the pools do not import after the reboot. " if zfs else "")
                                           + "Check `dkms status` after the upgrade, before rebooting.", "zfs-pool-degraded" if zfs else None))
        reasons.append(_reason("info", f"New kernel {', '.join(kernels)}: a reboot is needed to use it; the current one "
                                       f"({box.running_kernel or 'running'}) stays installed.", "reboot-required-kernel"))
    root = box.free_bytes.get("/")
    if upgrades and root is not None and root < ROOT_NEEDED:
        reasons.append(_reason("no-go", f"/ has {root // MIB} MiB free; unpacking {len(upgrades)} package(s) needs about "
                                        f"{ROOT_NEEDED // MIB} MiB. A full root file system mid-upgrade leaves dpkg half-configured.",
                               "root-fs-full-logs"))
    if core:
        new_major = _major(core.new)
        lagging = sorted(n for n, v in plugins.items() if n not in names and _major(v) is not None and new_major is not None
                         and _major(v) < new_major)
        if lagging:
            reasons.append(_reason("no-go" if release_upgrade else "wait",
                                   f"openmediavault goes to {core.new} but these plugins stay at an older release: "
                                   f"{', '.join(lagging)}. Check that each has a version for OMV {new_major} first.",
                                   "omv-extras-install-fails"))
        if _major(core.old) is not None and new_major is not None and new_major > _major(core.old) and not release_upgrade:
            reasons.append(_reason("no-go", f"openmediavault {core.old} → {core.new} is a release upgrade; use omv-release-upgrade "
                                            "from a console, not Update Management.", "held-packages"))
    if box.pending_modules:
        reasons.append(_reason("wait", f"OMV has unapplied configuration changes ({', '.join(box.pending_modules)}): apply or "
                                       "revert them first, so the upgrade's own deploy does not apply them unseen.",
                               "config-apply-fails"))
    for action in box.raid_actions:
        reasons.append(_reason("wait", f"RAID is busy ({action}): let it finish before an upgrade that may reboot.",
                               "mdadm-resync-slow"))
    if box.backup_age_s is None:
        reasons.append(_reason("wait", "No configuration backup found: make one (openmediavault-backup, or a copy of "
                                       "/etc/openmediavault/config.xml) so the box can be rebuilt.", "config-backup-missing"))
    elif box.backup_age_s > BACKUP_MAX_AGE_S:
        reasons.append(_reason("wait", f"The newest configuration backup is {box.backup_age_s / 86400:.0f} days old.",
                               "config-backup-missing"))
    touched = {"network": sorted(names & set(NETWORK_PACKAGES)), "docker": sorted(names & set(DOCKER_PACKAGES)),
               "web_ui": sorted(names & set(WEB_PACKAGES)), "kernel": kernels, "dkms": dkms,
               "plugins": sorted(n for n in names if n.startswith("openmediavault-"))}
    if touched["network"]:
        reasons.append(_reason("info", f"The network stack is upgraded ({', '.join(touched['network'])}): run it where a lost "
                                       "connection does no harm (the console, or with a way to reach the box).",
                               "nas-unreachable-network"))
    if touched["docker"]:
        reasons.append(_reason("info", f"Docker is upgraded ({', '.join(touched['docker'])}): running containers restart.",
                               "docker-compose-plugin-issues"))
    if touched["web_ui"]:
        reasons.append(_reason("info", "The web UI's server is upgraded: the page may answer 502 for a moment; reload it.",
                               "webui-502-bad-gateway"))
    levels = {r["level"] for r in reasons}
    verdict = "no-go" if "no-go" in levels else "wait" if "wait" in levels else "go"
    rollback = ["Keep a configuration backup (System > Backup with openmediavault-backup, or copy /etc/openmediavault/config.xml).",
                "Note the package versions now: dpkg -l > /root/packages-before-upgrade.txt"]
    if kernels:
        rollback.append("The previous kernel stays installed: pick it under 'Advanced options' in the boot menu if the new one fails; "
                        f"hold the new kernel meanwhile with apt-mark hold {' '.join(kernels)}.")
    if dkms:
        rollback.append(f"Keep the old kernel until {', '.join(dkms)} build for the new one (do not run apt autoremove yet).")
    return {"verdict": verdict, "reasons": reasons, "packages": [p.__dict__ for p in upgrades],
            "removed": [p.name for p in removed], "touches": touched, "rollback": rollback,
            "summary": f"{verdict.upper()}: {len(upgrades)} package(s) to upgrade, "
                       f"{sum(r['level'] == 'no-go' for r in reasons)} blocker(s), {sum(r['level'] == 'wait' for r in reasons)} "
                       "thing(s) to check first."}


def installed_packages(status_file: str = "/var/lib/dpkg/status", wanted=lambda name: True) -> dict[str, str]:
    """Installed packages' versions from dpkg's status file, read line by line (it is megabytes)."""
    out: dict[str, str] = {}
    name = version = None
    installed = False
    try:
        with open(status_file, errors="replace") as fh:
            for line in fh:
                if line.startswith("Package: "):
                    name, version, installed = line[9:].strip(), None, False
                elif line.startswith("Status: "):
                    installed = line.rstrip().endswith(" installed")
                elif line.startswith("Version: "):
                    version = line[9:].strip()
                elif line == "\n" and name:
                    if installed and version and wanted(name):
                        out[name] = version
                    name = None
        if name and installed and version and wanted(name):
            out[name] = version
    except OSError:
        pass
    return out


def relevant_package(name: str) -> bool:
    """The installed packages a preflight compares: OMV and its plugins, kernels, DKMS modules."""
    return name.startswith(("openmediavault", "linux-image-", "pve-kernel-", "proxmox-kernel-")) or name.endswith("-dkms")


def newest_backup_age(roots=("/srv",), now: float | None = None) -> float | None:
    """Age of the newest openmediavault-backup archive (``<shared folder>/omvbackup/backup-omv-*``).

    Looks up to three folders deep under /srv: run on demand only, since it touches the data
    disks (and so may wake one that sleeps), never from the periodic cycle.
    """
    import glob
    import os
    import time

    newest = None
    for root in roots:
        for depth in range(0, 3):
            pattern = os.path.join(root, *["*"] * (depth + 1), "omvbackup", "backup-omv-*")
            for path in glob.glob(pattern):
                try:
                    newest = max(newest or 0.0, os.stat(path).st_mtime)
                except OSError:
                    continue
    return None if newest is None else (now or time.time()) - newest
