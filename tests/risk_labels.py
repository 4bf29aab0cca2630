"""A pattern's solution labelled ``read-only`` must not show a command that changes the box.

The label is what the web UI and the CLI show next to the command before anyone runs it; the
server's verdict (omv_copilot_agent/assist/risk.py) only replaces a label that is milder than what
it can prove, and for a solution command it proves only ``data-risk``. So the lint reuses its
parser and its data-risk rules (``risk.data_risk``) and adds the changes that are not data loss:
services, power, packages, permissions, files written, OMV's configuration. A finding carries the
label the command needs: ``data-risk`` (risk.data_risk), ``restarts-service`` or ``changes-config``.
"""

from __future__ import annotations

import re

from omv_copilot_agent.assist import risk
from omv_copilot_agent.knowledge import fill

RESTARTS, CHANGES, DATA = "restarts-service", "changes-config", "data-risk"

#: tool -> (label, why): any call of it changes the box
_ALWAYS = {
    "reboot": (RESTARTS, "reboots the box"), "shutdown": (RESTARTS, "shuts the box down"),
    "poweroff": (RESTARTS, "powers the box off"), "halt": (RESTARTS, "halts the box"),
    "mv": (CHANGES, "moves or renames files"), "cp": (CHANGES, "writes a copy onto a path"),
    "ln": (CHANGES, "creates a link"), "mkdir": (CHANGES, "creates a folder"), "touch": (CHANGES, "creates a file"),
    "install": (CHANGES, "installs files"), "tee": (CHANGES, "writes a file"),
    "chmod": (CHANGES, "changes permissions"), "chown": (CHANGES, "changes ownership"),
    "chgrp": (CHANGES, "changes ownership"), "chattr": (CHANGES, "changes file attributes"),
    "mount": (CHANGES, "mounts a file system"), "umount": (CHANGES, "unmounts a file system"),
    "swapon": (CHANGES, "switches swap on"), "swapoff": (CHANGES, "switches swap off"),
    "modprobe": (CHANGES, "loads a kernel module"), "rmmod": (CHANGES, "unloads a kernel module"),
    "useradd": (CHANGES, "adds a user"), "usermod": (CHANGES, "changes a user"), "passwd": (CHANGES, "sets a password"),
    "smbpasswd": (CHANGES, "sets a Samba password"), "kill": (RESTARTS, "stops a process"),
    "pkill": (RESTARTS, "stops processes"), "killall": (RESTARTS, "stops processes"),
    "update-grub": (CHANGES, "rewrites the boot menu"), "update-initramfs": (CHANGES, "rebuilds the initramfs"),
    "grub-install": (CHANGES, "writes the boot loader"), "omv-firstaid": (CHANGES, "changes OMV's configuration"),
    "omv-upgrade": (CHANGES, "upgrades packages"), "resize2fs": (CHANGES, "resizes a file system"),
    "growpart": (CHANGES, "resizes a partition"), "exportfs": (CHANGES, "changes the NFS exports"),
    "crontab": (CHANGES, "changes a crontab"), "certbot": (CHANGES, "changes certificates"),
    "ufw": (CHANGES, "changes the firewall"), "iptables": (CHANGES, "changes the firewall"),
    "nft": (CHANGES, "changes the firewall"), "ifup": (RESTARTS, "brings an interface up"),
    "ifdown": (RESTARTS, "takes an interface down"), "hostnamectl": (CHANGES, "changes the host name"),
}
#: tool -> {argument: label}: a call of it with one of these arguments changes the box
_WHEN = {
    "systemctl": {**dict.fromkeys(("restart", "stop", "start", "reload", "try-restart", "reload-or-restart",
                                   "try-reload-or-restart", "kill", "isolate", "reboot", "poweroff", "halt",
                                   "suspend", "hibernate"), RESTARTS),
                  **dict.fromkeys(("enable", "disable", "mask", "unmask", "daemon-reload", "reset-failed",
                                   "set-property", "edit", "revert", "preset", "link"), CHANGES)},
    "service": dict.fromkeys(("restart", "stop", "start", "reload", "force-reload"), RESTARTS),
    "apt": dict.fromkeys(("install", "reinstall", "remove", "purge", "upgrade", "full-upgrade", "dist-upgrade",
                          "autoremove", "clean", "autoclean"), CHANGES),
    "dpkg": dict.fromkeys(("-i", "--install", "-r", "--remove", "-P", "--purge", "--configure", "--unpack",
                           "--set-selections", "--clear-selections"), CHANGES),
    "omv-salt": dict.fromkeys(("run",), CHANGES),  # deploy run / stage run; deploy list, list-dirty only read
    "omv-confdbadm": dict.fromkeys(("update", "delete", "create", "populate", "migrate"), CHANGES),
    "omv-rpc": {},  # decided below: a *set*/*delete*/apply method
    "mdadm": dict.fromkeys(("--assemble", "-A", "--run", "-R", "--readwrite", "-w", "--readonly", "-o",
                            "--incremental", "-I", "--action"), CHANGES),
    "zpool": dict.fromkeys(("import", "export", "scrub", "online", "upgrade", "set", "attach", "add", "resilver",
                            "trim", "initialize"), CHANGES),
    "zfs": dict.fromkeys(("set", "create", "snapshot", "mount", "unmount", "umount", "inherit", "clone", "load-key",
                          "unload-key", "change-key", "allow", "share", "unshare"), CHANGES),
    "btrfs": dict.fromkeys(("start", "resume", "cancel", "add", "resize", "create", "snapshot", "set", "defragment"),
                           CHANGES),
    "docker": {**dict.fromkeys(("restart", "stop", "start", "kill", "pause", "unpause", "up", "down"), RESTARTS),
               **dict.fromkeys(("run", "pull", "create", "update", "network", "volume"), CHANGES)},
    "setfacl": dict.fromkeys(("-m", "--modify", "-M", "--modify-file", "-x", "--remove", "-X", "--remove-file", "-b",
                              "--remove-all", "-k", "--remove-default", "--set", "--set-file"), CHANGES),
    "sysctl": dict.fromkeys(("-w", "--write", "-p", "--load", "--system"), CHANGES),
    "ip": dict.fromkeys(("add", "del", "delete", "set", "flush", "change", "replace"), CHANGES),
    "nmcli": dict.fromkeys(("up", "down", "modify", "add", "delete", "reload"), CHANGES),
    "smbcontrol": dict.fromkeys(("reload-config", "close-share", "shutdown"), CHANGES),
    "journalctl": dict.fromkeys(("--vacuum-size", "--vacuum-time", "--vacuum-files", "--rotate", "--flush"), CHANGES),
    "timedatectl": dict.fromkeys(("set-time", "set-timezone", "set-ntp", "set-local-rtc"), CHANGES),
    "tune2fs": dict.fromkeys(("-c", "-C", "-e", "-i", "-L", "-m", "-o", "-O", "-r", "-U", "-E", "-j", "-J"), CHANGES),
    "hdparm": dict.fromkeys(("-y", "-Y", "--yes-i-know-what-i-am-doing"), CHANGES),  # set forms: _hdparm_sets
}
#: hdparm's options that read a setting alone and set it with a value (-S120, -B 254, -W0)
_HDPARM_VALUE = re.compile(r"-[SBWMAa]\d*")
_WHEN["apt-get"] = _WHEN["aptitude"] = {**_WHEN["apt"], "dselect-upgrade": CHANGES}
_WHEN["docker-compose"] = _WHEN["docker"]
#: writes through a shell redirection (a quoted ">" is an argument, not a redirection; /dev/null is no change)
_REDIRECT = re.compile(r"(?<![0-9&>])>>?(?!&)\s*(?!/dev/(?:null|stdout|stderr)\b)([^\s;&|]+)")
_QUOTED = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"")
#: a placeholder a solution shows for the admin to fill in (``<unit>``, or fill's ``{md_device}``): not a redirection
_PLACEHOLDER = re.compile(r"<[A-Za-z][\w.-]*>|" + fill.IN_COMMAND.pattern)


def _arg_matches(arg: str, option: str) -> bool:
    """``arg`` is ``option`` or it with its value (``--vacuum-size=1G``); a subcommand in any case."""
    if not option.startswith("-"):
        return arg.lower() == option
    name = arg.split("=", 1)[0]
    # a long option may be shortened while it stays unambiguous (getopt_long: --vacuum-t=1s)
    return name == option or (option.startswith("--") and len(name) > 4 and option.startswith(name))


def _hdparm_sets(args: list[str]) -> bool:
    return any(_HDPARM_VALUE.fullmatch(a) and (a[2:] or (i + 1 < len(args) and args[i + 1].isdigit()))
               for i, a in enumerate(args))


def changes_the_box(command: str) -> tuple[str, str] | None:
    """(the label ``command`` needs, why) when it is not read-only, else None."""
    reason = risk.data_risk(command)
    if reason:
        return DATA, reason
    target = _REDIRECT.search(_PLACEHOLDER.sub("X", _QUOTED.sub("''", command)))
    if target:
        return CHANGES, f"writes {target.group(1)} through a redirection"
    worst = None
    for cmd in risk.simple_commands(command) or []:
        tool, args = cmd[0].rsplit("/", 1)[-1], cmd[1:]
        found = None
        if tool in _ALWAYS:
            found = _ALWAYS[tool]
        elif tool == "sed" and any(a == "-i" or a.startswith("-i") and not a.startswith("--") or a.startswith("--in-place")
                                   for a in args):
            found = CHANGES, "sed -i edits the file in place"
        elif tool == "hdparm" and _hdparm_sets(args):
            found = CHANGES, "hdparm sets a drive setting"
        elif tool == "omv-rpc" and any(re.search(r"(?i)\b(set|delete|apply|update|create|remove|import)", a) for a in args):
            found = CHANGES, "an omv-rpc call that changes OMV's configuration"
        elif tool in _WHEN:
            hits = [(label, a) for a in args for option, label in _WHEN[tool].items() if _arg_matches(a, option)]
            if hits:
                label, arg = max(hits, key=lambda h: risk.rank(h[0]))
                found = label, f"{tool} {arg}"
        if found and (worst is None or risk.rank(found[0]) > risk.rank(worst[0])):
            worst = found
    return worst


def lying_read_only_labels(patterns: dict[str, dict]) -> list[tuple[str, int, str, str, str]]:
    """(pattern id, solution priority, command, the label it needs, why) for every ``read-only`` solution whose
    command changes the box."""
    out = []
    for pid, pattern in sorted(patterns.items()):
        for solution in pattern.get("solutions") or []:
            command = str(solution.get("command") or "")
            if solution.get("risk") == "read-only" and command.strip():
                verdict = changes_the_box(command)
                if verdict:
                    out.append((pid, solution.get("priority"), command, *verdict))
    return out
