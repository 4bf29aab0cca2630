"""Risk of a command in an answer, decided by the server — not by whoever wrote the answer.

An LLM (or an edited pattern) can label ``rm -rf /srv/*`` "read-only"; the label is
only a claim. The server's verdict for a command is:

- ``read-only`` only when the command is exactly a call of a catalogue probe, optionally
  with the display filter patterns show (``| grep -i -E X``, applied by a bounded regex);
  the probe lookup, ``recognise(argv) -> ProbeCall | None``, is passed in;
- ``data-risk`` when any simple command in it can destroy data (:func:`data_risk`);
- otherwise ``unverified`` ("review before running").

The claimed label is shown only when it is not milder than the verdict. **Run** is
offered only for a probe call, and runs the argv shown (``probe.argv``).
"""

from __future__ import annotations

import re
import shlex
from typing import Callable

from omv_copilot_agent.probes import OPEN_SLOT

#: The probe lookup (``omv_copilot_agent.probes.recognise``): argv (and ``open_slots=True``) → a ProbeCall or None.
Recognise = Callable[..., object]

UNVERIFIED = "unverified"
#: How severe a label is; unknown labels count as unverified.
_RANK = {**dict.fromkeys(("read-only", "none", "safe", "info"), 0), **dict.fromkeys(("low",), 1),
         **dict.fromkeys(("changes-config", "medium", "moderate"), 2), "restarts-service": 3, UNVERIFIED: 4,
         **dict.fromkeys(("high", "critical", "destructive", "dangerous", "data-risk"), 5)}
_REASONS = {"read-only": "a read-only catalogue probe", UNVERIFIED: "not a catalogue probe: review before running"}

_WRAPPERS = {"sudo", "doas", "env", "nohup", "nice", "ionice", "time", "timeout", "stdbuf", "xargs", "exec", "command",
             "busybox"}
_SEPARATORS = {";", "&&", "||", "|", "&", "\n"}
_ALWAYS = {"rm", "rmdir", "shred", "dd", "wipefs", "mkswap", "mke2fs", "blkdiscard", "fdisk", "sfdisk", "cfdisk",
           "gdisk", "cgdisk", "truncate", "srm", "unlink", "lvremove", "vgremove", "pvremove", "userdel", "deluser",
           "delgroup", "groupdel", "mkfs", "badblocks"}
_MDADM = {"--create", "-C", "--zero-superblock", "--build", "-B", "--grow", "-G", "--fail", "--remove", "--add",
          "--re-add", "--stop", "-S", "--manage", "--update"}
_SUBCOMMANDS = {"zpool": {"destroy", "labelclear", "create", "offline", "detach", "remove", "replace", "split", "reguid",
                          "export", "clear"},
                "zfs": {"destroy", "rollback", "promote", "rename", "receive", "recv"},
                "btrfs": {"delete", "remove", "balance", "replace", "rescue", "zero-log", "restore"},
                "cryptsetup": {"luksformat", "erase", "luksremovekey", "lukskillslot", "reencrypt"},
                "docker": {"prune", "rm", "rmi"}, "lvm": {"lvremove", "vgremove", "pvremove"},
                "apt": {"remove", "purge", "autoremove"}, "apt-get": {"remove", "purge", "autoremove"},
                "git": {"clean", "reset"}}
_PRINT_ONLY = {"sgdisk": {"-p", "--print", "-i", "--info", "-v", "--verify", "-O", "--print-mbr"},
               "parted": {"-l", "--list", "print", "-s", "--script", "-m", "--machine"}}


def rank(label: str | None) -> int:
    return _RANK.get(str(label or "").strip().lower(), _RANK[UNVERIFIED])


def simple_commands(command: str) -> list[list[str]] | None:
    """Each command a shell line runs, as its words (None: the line cannot be parsed).

    Why here: what a line runs is decided once, for this module's labels and for the tests'
    pattern-label lint (tests/risk_labels.py), with ``sudo``/``timeout``/``xargs`` unwrapped so a
    wrapped ``rm`` is still seen."""
    words = _split(command)
    return None if words is None else _simple_commands(words)


def _simple_commands(words: list[str]) -> list[list[str]]:
    out, cur = [], []
    for w in words:
        if w in _SEPARATORS:
            out.append(cur)
            cur = []
        else:
            cur.append(w)
    out.append(cur)
    cleaned = []
    for cmd in out:
        while cmd and "=" in cmd[0] and not cmd[0].startswith("-"):
            cmd = cmd[1:]  # A=B cmd
        if not cmd:
            continue
        cleaned.append(cmd)
        if cmd[0].rsplit("/", 1)[-1] in _WRAPPERS:
            # sudo -u x rm …, timeout 10 dd …, xargs rm: any later word may be the command run
            cleaned += [cmd[j:] for j in range(1, len(cmd)) if not cmd[j].startswith("-")]
    return cleaned


def _split(command: str) -> list[str] | None:
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        return list(lexer)
    except ValueError:
        return None


def data_risk(command: str) -> str | None:
    """Why ``command`` can destroy data (the first reason found), else None."""
    commands = simple_commands(command)
    if commands is None:
        return "cannot be parsed (unbalanced quotes)"
    for redirect in re.finditer(r"(?<![0-9&])>>?\s*(/dev/(?!null\b|stdout\b|stderr\b)\S+)", command):
        return f"writes to the device {redirect.group(1)}"
    for cmd in commands:
        tool = cmd[0].rsplit("/", 1)[-1]
        args = cmd[1:]
        lower = [a.lower() for a in args]
        if tool in _ALWAYS or tool.startswith("mkfs.") or tool.startswith("mkfs"):
            return f"{tool} deletes or overwrites data"
        if tool in ("chmod", "chown", "chgrp", "setfacl") and any(a in ("-R", "--recursive") or
                                                                 (re.fullmatch(r"-[a-zA-Z]*R[a-zA-Z]*", a)) for a in args):
            return f"{tool} -R changes every file below a folder"
        if tool == "mdadm" and any(a.split("=")[0] in _MDADM for a in args):
            return "mdadm changes the array's members or superblocks"
        if tool in ("fsck", "e2fsck", "xfs_repair") or tool.startswith("fsck."):
            if tool == "xfs_repair" and "-n" not in args or any(a in ("-y", "-p", "-a", "--repair", "-L", "-f") or
                                                                  re.fullmatch(r"-[a-zA-Z]*[ypa][a-zA-Z]*", a)
                                                                  for a in args):
                return f"{tool} repairs (writes) the file system"
        if tool in _SUBCOMMANDS and set(lower) & _SUBCOMMANDS[tool]:
            return f"{tool} {sorted(set(lower) & _SUBCOMMANDS[tool])[0]} can destroy data"
        if tool in _PRINT_ONLY and args and not set(args) <= _PRINT_ONLY[tool] | {a for a in args if a.startswith("/dev/")}:
            return f"{tool} writes the partition table"
        if tool == "rsync" and any(a.startswith("--delete") or a.startswith("--remove-source") for a in args):
            return "rsync --delete removes files"
        if tool == "find" and any(a in ("-delete", "-exec", "-execdir", "-ok") for a in args):
            return "find -delete/-exec acts on every match"
        if tool == "hdparm" and any(a.startswith("--security-erase") or a.startswith("--trim-sector") or a == "--dco-restore"
                                    or a.startswith("--write-sector") for a in args):
            return "hdparm erases or writes sectors"
        if tool in ("sh", "bash", "dash", "zsh") and "-c" in args:
            inner = args[args.index("-c") + 1] if args.index("-c") + 1 < len(args) else ""
            reason = data_risk(inner)
            if reason:
                return reason
    return None


def _call(words: list[str], recognise: Recognise, **how) -> tuple[object, str | None]:
    """(probe call or None, its display filter): ``words`` as a probe call, alone or with the filter patterns show
    (``| grep -i -E X``, applied by a bounded regex)."""
    call = recognise(words, **how)
    if call is None and "|" in words:
        cut = words.index("|")
        if words[cut + 1:cut + 4] == ["grep", "-i", "-E"] and len(words) == cut + 5:
            return recognise(words[:cut], **how), words[cut + 4]
    return call, None


def classify(command: str, recognise: Recognise) -> dict:
    """{risk, reason, probe}: the server's verdict for ``command`` (``probe`` = {name, params, argv} or None).

    A probe call that still shows a ``{placeholder}`` ("mdadm --detail {md_device}", the value the
    answer asks for) is that probe's, read-only, but not runnable as shown: ``probe`` is None and
    ``needs`` names what to fill in.
    """
    words = _split(command) if command else None
    call, shown_filter = _call(words, recognise) if words else (None, None)
    if call is not None:
        return {"risk": "read-only", "reason": _REASONS["read-only"] + f" ({call.name})",
                "probe": {"name": call.name, "params": dict(call.params), "argv": list(call.argv), "filter": shown_filter}}
    if words and any(OPEN_SLOT.match(w) for w in words):
        call, _ = _call(words, recognise, open_slots=True)
        if call is not None:
            return {"risk": "read-only", "probe": None, "needs": call.open,
                    "reason": f"{_REASONS['read-only']} ({call.name}) once {', '.join(call.open)} is filled in"}
    reason = data_risk(command)
    if reason:
        return {"risk": "data-risk", "reason": reason, "probe": None}
    return {"risk": UNVERIFIED, "reason": _REASONS[UNVERIFIED], "probe": None}


def _decide(item: dict, recognise: Recognise, claimed: str | None) -> dict:
    command = str(item.get("command") or "").strip()
    if not command:
        return {**item, "risk": claimed or item.get("risk") or UNVERIFIED, "risk_by": "label", "probe": None}
    verdict = classify(command, recognise)
    harsher = claimed and rank(claimed) > rank(verdict["risk"])
    return {**item, "risk": claimed if harsher else verdict["risk"], "risk_reason": verdict["reason"],
            "risk_by": "label" if harsher else "server", "probe": verdict["probe"]}


def review(fields: dict, recognise: Recognise) -> dict:
    """The answer's diagnostics and actions with the server's risk, and a probe only where Run is allowed."""
    out = dict(fields)
    out["suggested_diagnostics"] = [_decide(d, recognise, d.get("risk")) for d in fields.get("suggested_diagnostics") or []]
    out["recommended_actions"] = [_decide(a, recognise, a.get("risk")) for a in fields.get("recommended_actions") or []]
    return out
