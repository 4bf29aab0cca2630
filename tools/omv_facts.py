#!/usr/bin/python3
"""Check what the knowledge base says about OMV 7 against OMV 7's own source.

A pattern that tells a user to run ``omv-salt deploy run mdadm`` on a box without the
openmediavault-md plugin, to restart ``wsdd`` when OMV 7 runs ``wsdd-server``, or to edit
``/etc/samba/smb.conf`` (rewritten on the next Apply) does harm with confidence. The facts
are therefore derived from the source tree (``../shared/omv-source``: the core package, its
official plugins and the main omv-extras plugins), never from memory:

- salt states: the folders under ``srv/salt/omv/deploy/`` (what ``omv-salt deploy run``
  accepts), each with the package that provides it;
- RPC services and methods: ``getName()`` and ``registerMethod()`` in ``engined/rpc/*.inc``;
- ``OMV_*`` variables: every ``OMV_`` name the trees use;
- omv-firstaid entries: the ``description`` of each ``firstaid/modules.d`` module;
- web UI paths: the ``navigation.d`` items chained by their dotted ``path`` ("Storage >
  Multiple Device"), plus the labels of the pages they open;
- systemd units: the ``service.*`` states, unit files and ``systemctl`` lines of the trees;
- generated files: literal paths that a salt state writes (``name:`` of its file states).

Usage: ``tools/omv_facts.py [--source DIR] [PATTERN_DIR_OR_FILE ...]``; prints one line per
finding and exits 1 when there is any. ``tests/integration/test_omv_facts.py`` runs it over the shipped
patterns and over planted wrong facts.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from omv_copilot_agent.collect.omv_salt import parse_sls  # noqa: E402  (the daemon reads the states the same way)


def _find_source() -> Path:
    """``$OMV_SOURCE``, else the first ``shared/omv-source`` beside the checkout or an ancestor."""
    import os

    if os.environ.get("OMV_SOURCE"):
        return Path(os.environ["OMV_SOURCE"])
    for folder in ROOT.parents:
        if (folder / "shared" / "omv-source").is_dir():
            return folder / "shared" / "omv-source"
    return ROOT.parent / "shared" / "omv-source"


DEFAULT_SOURCE = _find_source()
CORE = "openmediavault"

#: Units and packages that come with Debian itself (or a Debian package OMV users install
#: on purpose) and so are not named in OMV's trees. Each is a real Debian bookworm name.
DEBIAN_UNITS = frozenset({
    "systemd-journald", "systemd-networkd", "systemd-resolved", "systemd-timesyncd", "systemd-udevd",
    "systemd-logind", "networking", "cron", "ssh", "sshd", "docker", "containerd", "smartd", "smartmontools",
    "mdmonitor", "mdadm", "zfs-import-cache", "zfs-mount", "zfs-zed", "zfs-import-scan", "nfs-server",
    "nfs-kernel-server", "rpcbind", "postfix", "hd-idle", "fstrim", "fstrim.timer", "apt-daily", "apt-daily-upgrade",
    "unattended-upgrades", "wpa_supplicant", "NetworkManager", "dbus", "avahi-daemon", "winbind", "rsync",
    "nut-server", "nut-client", "nut-monitor", "upsmon", "rrdcached", "collectd", "monit", "nginx",
    "php8.2-fpm", "chrony", "omv-copilot", "openmediavault-engined", "wsdd-server",
})
DEBIAN_PACKAGES = frozenset({
    "hd-idle", "hdparm", "smartmontools", "mdadm", "nfs-common", "cifs-utils", "iperf3", "ethtool", "lsof",
    "iotop", "sysstat", "fio", "smbclient", "nut-client", "zfsutils-linux", "zfs-dkms", "linux-headers-amd64",
    "pve-headers", "proxmox-kernel", "dkms", "docker-ce", "docker.io", "docker-compose-plugin", "ncdu", "htop",
    "wsdd-server", "fail2ban", "rsync", "borgbackup", "snapraid", "mergerfs", "wireguard", "wireguard-tools",
    "openmediavault-keyring", "btrfs-progs", "xfsprogs", "e2fsprogs", "ntfs-3g", "exfatprogs", "f2fs-tools",
    "apticron", "needrestart", "debsums", "apparmor", "usrmerge",
})

_TOP_LEVEL_HINT = re.compile(r"\b(?:System|Storage|Services|Users|Network|Diagnostics|Dashboard)\s*>")
#: A web UI path as patterns write it: Title Case elements joined by ">" ("Services > SMB/CIFS >
#: Settings"), starting at a top-level menu; an element ends at the first lower-case word.
_UI_WORD = r"(?:[A-Z0-9][\w/&().'+-]*|&)"
_UI_PATH = re.compile(rf"\b((?:System|Storage|Services|Users|Network|Diagnostics|Dashboard)"
                      rf"(?:\s*>\s*[A-Z0-9][\w/&().'+-]*(?:[ ]{_UI_WORD})*)+)")
_SALT = re.compile(r"omv-salt\s+deploy\s+run\s+((?:--\S+\s+)*)((?:[a-z0-9_-]+\s*)+)")
_RPC = re.compile(r"omv-rpc\s+(?:-\S+\s+(?:\S+\s+)?)*['\"]?([A-Z][A-Za-z]+)['\"]?\s+['\"]?([A-Za-z]+)['\"]?")
_VAR = re.compile(r"\bOMV_[A-Z0-9_]+\b")
_UNIT = re.compile(r"(?:systemctl\s+(?:--\S+\s+)*(?:status|restart|start|stop|reload|enable|disable|is-active|is-enabled|"
                   r"is-failed|mask|unmask|show|cat)\s+(?:--\S+\s+)*|journalctl\s+(?:-\S+\s+)*-u\s*)"
                   r"((?:[A-Za-z0-9@_.:{}-]+[ ]?)+)")
_APT_INSTALL = re.compile(r"apt(?:-get)?\s+(?:-\S+\s+)*install\s+((?:-\S+\s+)*(?:[a-z0-9][a-z0-9.+-]*\s*)+)")
_FIRSTAID_QUOTED = re.compile(r"['\"\u2018\u201c]([^'\"\u2019\u201d]{4,80})['\"\u2019\u201d]")
#: Words that make a sentence naming a generated file an instruction to change it by hand.
_EDIT_VERB = re.compile(r"(?:\b(?:nano|vi|vim|edit|editing|modify|change|set|add|append|cap|configure|put|write|insert|"
                        r"uncomment|comment out)\b|sed\s+-i|\btee\b|>>?)", re.I)
_GENERATED_MENTION = re.compile(r"/etc/[A-Za-z0-9_./@-]*[A-Za-z0-9_]")


@dataclasses.dataclass(frozen=True)
class Finding:
    """One claim the source does not back: where it is, what it says, why it is wrong."""

    where: str
    claim: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.claim!r}: {self.reason}"


def _package(path: Path, source: Path) -> str:
    """The package a file of the source tree belongs to (its top folder's name)."""
    parts = path.relative_to(source).parts
    return parts[1] if len(parts) > 1 and parts[0] in ("openmediavault", "plugins") else parts[0]


def _package_roots(source: Path) -> list[Path]:
    roots = [p for p in (source / "openmediavault").glob("openmediavault*") if p.is_dir()]
    roots += [p for p in (source / "plugins").glob("openmediavault*") if p.is_dir()]
    return sorted(roots)


class OmvSource:
    """The facts of one OMV source tree, read once."""

    def __init__(self, root: Path):
        if not (root / "openmediavault" / CORE).is_dir():
            raise FileNotFoundError(f"no OMV source tree at {root} (expected openmediavault/{CORE}/)")
        self.root = root
        self.states: dict[str, set[str]] = {}
        self.rpc: dict[str, set[str]] = {}
        self.rpc_package: dict[str, str] = {}
        self.variables: set[str] = set()
        self.firstaid: set[str] = set()
        self.nav: dict[str, tuple[str, str]] = {}  # dotted path -> (text, package)
        self.labels: set[str] = set()
        self.units: set[str] = set()
        self.packages: set[str] = set()
        self.generated: dict[str, str] = {}  # literal path -> package
        for pkg_root in _package_roots(root):
            self._read_package(pkg_root, pkg_root.name)

    def _read_package(self, base: Path, pkg: str) -> None:
        self.packages.add(pkg)
        for state in (base / "srv/salt/omv/deploy").glob("*"):
            if state.is_dir():
                self.states.setdefault(state.name, set()).add(pkg)
        for inc in (base / "usr/share/openmediavault/engined/rpc").glob("*.inc"):
            text = inc.read_text(errors="replace")
            name = re.search(r"function\s+getName\(\)\s*\{\s*return\s+[\"']([A-Za-z]+)[\"']", text)
            if name:
                self.rpc.setdefault(name.group(1), set()).update(re.findall(r"registerMethod\([\"'](\w+)[\"']", text))
                self.rpc_package[name.group(1)] = pkg
        for module in (base / "usr/share/openmediavault/firstaid/modules.d").glob("*.py"):
            desc = re.search(r"def description.*?return\s+[\"']([^\"']+)[\"']", module.read_text(errors="replace"), re.S)
            if desc:
                self.firstaid.add(desc.group(1).lower())
        workbench = base / "usr/share/openmediavault/workbench"
        for item in (workbench / "navigation.d").glob("*.yaml"):
            data = (yaml.safe_load(item.read_text()) or {}).get("data") or {}
            if "path" in data and "text" in data:
                self.nav[data["path"]] = (_gettext(data["text"]), pkg)
        for page in workbench.glob("**/*.yaml"):
            for label in re.findall(r"(?:text|label|title|tooltip):\s*_?\(?[\"']([^\"']{2,60})[\"']", page.read_text(errors="replace")):
                self.labels.add(label.lower())
        control = base / "debian/control"
        if control.is_file():
            self.packages.update(re.findall(r"^Package:\s*(\S+)", control.read_text(), re.M))
            for field in re.findall(r"^(?:Pre-)?(?:Depends|Recommends|Suggests):(.*?)(?=^\S|\Z)", control.read_text(), re.M | re.S):
                self.packages.update(n.split("(")[0].strip() for n in re.split(r"[,|\n]", field) if n.strip() and "$" not in n)
        for path in base.rglob("*"):
            if not path.is_file() or path.suffix in (".png", ".svg", ".ico", ".woff", ".woff2", ".ttf", ".gz"):
                continue
            text = path.read_text(errors="replace")
            self.variables.update(_VAR.findall(text))
            if path.suffix in (".service", ".timer", ".mount", ".socket", ".path"):
                self.units.add(path.stem)
            if path.suffix == ".sls":
                self._read_state(text, pkg)

    def _read_state(self, text: str, pkg: str) -> None:
        files, services = parse_sls(text)
        self.units.update(services)
        for path in files:
            self.generated.setdefault(path, pkg)

    def nav_chains(self) -> dict[tuple[str, ...], str]:
        """Every navigation item as its chain of texts ("Storage", "Multiple Device") -> package."""
        chains = {}
        for path, (_text, pkg) in self.nav.items():
            parts = path.split(".")
            texts = [self.nav.get(".".join(parts[:i + 1]), (None, None))[0] for i in range(len(parts))]
            if all(texts):
                chains[tuple(t.lower() for t in texts)] = pkg
        return chains


def _gettext(value: str) -> str:
    match = re.fullmatch(r"_\([\"'](.*)[\"']\)", str(value).strip())
    return match.group(1) if match else str(value)


@functools.lru_cache(maxsize=4)
def load_source(root: str = str(DEFAULT_SOURCE)) -> OmvSource:
    """The facts of the tree at ``root`` (cached: reading it walks ~3,000 files)."""
    return OmvSource(Path(root))


def _strings(node, where: str):
    """Every string in a pattern with its location (``solutions[1].command``)."""
    if isinstance(node, str):
        yield where, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{where}.{key}" if where else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, f"{where}[{i}]")


def _units_before_options(words: str) -> list[str]:
    """The unit names of ``systemctl VERB a b --no-pager -n 5``: the words before the first option."""
    units = []
    for word in words.split():
        if word.startswith("-"):
            break
        units.append(word)
    return units


def _named_plugins(pattern: dict) -> set[str]:
    """The plugins a pattern says it is about: its ``plugins:`` field or any name in its text."""
    named = set(pattern.get("plugins") or [])
    for _where, text in _strings(pattern, ""):
        named.update(re.findall(r"\bopenmediavault-[a-z0-9]+\b", text))
    return named


class Checker:
    """Checks patterns (dicts as loaded from YAML) against one source tree."""

    def __init__(self, source: OmvSource):
        self.src = source
        self.chains = source.nav_chains()
        self.children: dict[tuple[str, ...], set[str]] = {}
        for chain in self.chains:
            self.children.setdefault(chain[:-1], set()).add(chain[-1])

    def _provider_ok(self, providers: set[str], plugins: set[str]) -> str | None:
        if CORE in providers or providers & plugins:
            return None
        return f"provided by {', '.join(sorted(providers))}, which the pattern does not name"

    def check_pattern(self, pattern: dict, name: str = "") -> list[Finding]:
        plugins = _named_plugins(pattern)
        found: list[Finding] = []
        for where, text in _strings(pattern, ""):
            loc = f"{name}:{where}" if name else where
            found += [Finding(loc, claim, reason) for claim, reason in self.check_text(text, plugins)]
        return found

    def check_text(self, text: str, plugins: set[str] = frozenset()) -> list[tuple[str, str]]:
        """(claim, reason) for each fact in ``text`` that the source does not back."""
        out: list[tuple[str, str]] = []
        plugins = set(plugins) | set(re.findall(r"\bopenmediavault-[a-z0-9]+\b", text))
        for match in _SALT.finditer(text):
            for state in match.group(2).split():
                if state.startswith("-"):  # a trailing option (--append-dirty), not a state
                    continue
                providers = self.src.states.get(state)
                if not providers:
                    out.append((f"omv-salt deploy run {state}", "no such salt state in OMV 7 or its plugins"))
                elif reason := self._provider_ok(providers, plugins):
                    out.append((f"omv-salt deploy run {state}", reason))
        for service, method in _RPC.findall(text):
            if service not in self.src.rpc:
                out.append((f"omv-rpc {service} {method}", f"no RPC service {service!r}"))
            elif method not in self.src.rpc[service]:
                out.append((f"omv-rpc {service} {method}", f"{service} has no method {method!r}"))
            elif reason := self._provider_ok({self.src.rpc_package[service]}, plugins):
                out.append((f"omv-rpc {service} {method}", reason))
        for var in set(_VAR.findall(text)):
            family = var.endswith("_") and any(v.startswith(var) for v in self.src.variables)  # OMV_FSTAB_MNTOPS_<TYPE>
            if var not in self.src.variables and not family:
                out.append((var, "no such OMV_* variable in OMV 7's source"))
        for unit in (u for group in _UNIT.findall(text) for u in _units_before_options(group)):
            base = unit.removesuffix(".service").split("@")[0]
            if base.startswith("{") or base.isupper() or base in self.src.units or base in DEBIAN_UNITS or unit in DEBIAN_UNITS:
                continue
            out.append((unit, "no such systemd unit in OMV 7's states or the Debian base list"))
        for match in _APT_INSTALL.finditer(text):
            for pkg in match.group(1).split():
                if pkg.startswith("-") or pkg.startswith("./") or pkg in self.src.packages or pkg in DEBIAN_PACKAGES:
                    continue
                out.append((f"apt install {pkg}", "package not known to OMV 7's source or the Debian list"))
        if "firstaid" in text:
            for phrase in _FIRSTAID_QUOTED.findall(text.split("firstaid", 1)[1]):
                if not phrase.startswith(("omv-", "/")) and phrase.lower() not in self.src.firstaid:
                    out.append((phrase, "no omv-firstaid entry of that name (OMV 7: "
                                        + "; ".join(sorted(self.src.firstaid)) + ")"))
        for match in _UI_PATH.finditer(text):
            path = match.group(1).strip()
            while path.endswith(")") and path.count(")") > path.count("("):
                path = path[:-1]  # the closing bracket of the sentence around it
            out += self._check_ui_path(path, plugins)
        for match in _GENERATED_MENTION.finditer(text):
            path, owner = match.group(0), self.src.generated.get(match.group(0))
            sentence = re.split(r"[.;!?]\s|\n|&&", text[:match.start()])[-1]
            if owner and _EDIT_VERB.search(sentence) and not re.search(r"regenerat|\b(?:cat|less|grep|ls|diff)\b", sentence, re.I):
                out.append((f"edit {path}", f"generated by OMV's salt states ({owner}): a hand edit is lost on the "
                                            "next deploy; use the page's Extra options or an OMV_* variable"))
        return out

    def _check_ui_path(self, path: str, plugins: set[str]) -> list[tuple[str, str]]:
        """Each element must be a navigation child of the one before, down to a page (a leaf);
        what follows a page (a tab, a button) is page content the source's YAML does not list."""
        parts = [p.strip().lower() for p in path.split(">")]
        chain: tuple[str, ...] = ()
        owner = CORE
        for part in parts:
            if chain and not self.children.get(chain):
                break
            if chain + (part,) not in self.chains and part.endswith("."):
                part = part[:-1]  # a sentence's full stop, unless the name ends in one ("S.M.A.R.T.")
            if chain + (part,) not in self.chains:
                return [(path, "no such page in OMV 7's web UI navigation"
                         + (f" (under {' > '.join(chain).title()}: {', '.join(sorted(self.children[chain]))})" if chain else ""))]
            chain += (part,)
            owner = self.chains[chain] if self.chains[chain] != CORE else owner
        if owner != CORE and owner not in plugins:
            return [(path, f"this page comes with {owner}, which the pattern does not name")]
        return []


def check_files(paths: list[Path], checker: Checker) -> list[Finding]:
    found: list[Finding] = []
    for path in paths:
        files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        for file in files:
            try:
                data = yaml.safe_load(file.read_text())
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:  # a finding, not a traceback
                found.append(Finding(file.name, "(the file)", f"cannot be read as YAML: {' '.join(str(exc).split())}"))
                continue
            if isinstance(data, dict):
                found += checker.check_pattern(data, file.name)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", default=str(DEFAULT_SOURCE), help="OMV source tree (default: %(default)s)")
    parser.add_argument("paths", nargs="*", default=[str(ROOT / "patterns")])
    args = parser.parse_args(argv)
    try:
        checker = Checker(load_source(args.source))
    except FileNotFoundError as exc:
        print(f"omv_facts: {exc}", file=sys.stderr)
        return 2
    findings = check_files([Path(p) for p in args.paths], checker)
    for finding in findings:
        print(finding)
    print(f"{len(findings)} finding(s)", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
