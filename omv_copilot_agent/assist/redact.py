"""Redaction before anything leaves the box: stable placeholders, mapped back afterwards.

The same value always gets the same placeholder within one request (``<IP_1>``),
so the LLM can still reason about "the same disk"; :meth:`Redactor.restore`
puts the real values back into the answer shown to the user.
"""

from __future__ import annotations

import re

_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("SECRET", re.compile(r"(?i)((?:password|passwd|pass|token|secret|api[_-]?key|apikey)\s*[=:]\s*[\"']?)([^\s\"',;}]+)")),
    ("EMAIL", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")),
    ("MAC", re.compile(r"\b(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}\b")),
    ("WWN", re.compile(r"\b(?:wwn-)?0x[0-9a-fA-F]{16,32}\b")),
    ("IP", re.compile(r"(?<![\w:.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\w.]*\d)")),
    ("IP6", re.compile(r"(?<![\w:])[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:]*(?![\w:])")),
    ("SERIAL", re.compile(r"(?i)(\"?(?:serial(?:_number|no)?|serial number)\"?\s*[:=]\s*\"?)([A-Za-z0-9._-]{4,})")),
    ("USER", re.compile(r"(/(?:home|srv/[^/\s\"]+/home|export/home)/)([^/\s\"']+)")),
]
_PLACEHOLDER = re.compile(r"<(?:IP|MAC|EMAIL|WWN|SERIAL|USER|HOST|SECRET|NAME)_\d+>")


def _is_ipv6(text: str) -> bool:
    import ipaddress

    try:
        return isinstance(ipaddress.ip_address(text), ipaddress.IPv6Address)
    except ValueError:
        return False


class Redactor:
    """One request's mapping value → placeholder, plus known names (host, domain, users, serials)."""

    def __init__(self, known: dict[str, list[str]] | None = None):
        self.forward: dict[str, str] = {}
        self.back: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        self.known = {kind: sorted({v for v in vals if v and len(str(v)) >= 3}, key=len, reverse=True)
                      for kind, vals in (known or {}).items()}

    def _placeholder(self, kind: str, value: str) -> str:
        if value in self.forward:
            return self.forward[value]
        self.counts[kind] = self.counts.get(kind, 0) + 1
        token = f"<{kind}_{self.counts[kind]}>"
        self.forward[value], self.back[token] = token, value
        return token

    def redact(self, text: str) -> str:
        for kind, values in self.known.items():
            for value in values:
                if value in text:
                    text = re.sub(r"(?<![\w-])" + re.escape(str(value)) + r"(?![\w-])",
                                  lambda m, k=kind: self._placeholder(k, m.group(0)), text)
        for kind, pattern in _PATTERNS:
            if kind in ("SECRET", "SERIAL", "USER"):
                text = pattern.sub(lambda m, k=kind: m.group(1) + self._placeholder(k, m.group(2))
                                   if not _PLACEHOLDER.fullmatch(m.group(2)) else m.group(0), text)
            elif kind == "IP6":
                text = pattern.sub(lambda m: self._placeholder("IP", m.group(0)) if _is_ipv6(m.group(0)) else m.group(0), text)
            else:
                text = pattern.sub(lambda m, k=kind: self._placeholder(k, m.group(0)), text)
        return text

    def restore(self, value):
        """Placeholders back to real values, recursively through dicts/lists."""
        if isinstance(value, str):
            return _PLACEHOLDER.sub(lambda m: self.back.get(m.group(0), m.group(0)), value)
        if isinstance(value, list):
            return [self.restore(v) for v in value]
        if isinstance(value, dict):
            return {k: self.restore(v) for k, v in value.items()}
        return value


def known_from_snapshot(snapshot) -> dict[str, list[str]]:
    """Host name, domain, serials, WWNs and user names the snapshot reveals."""
    known: dict[str, list[str]] = {"HOST": [], "SERIAL": [], "WWN": [], "USER": []}
    if snapshot is None:
        return known
    try:
        system = snapshot.data("system")
        for key in ("hostname", "fqdn", "domain", "domainname"):
            if system.get(key):
                known["HOST"].append(str(system[key]))
                if key == "hostname" and "." in str(system[key]):
                    known["HOST"].append(str(system[key]).split(".")[0])
                    known["HOST"].append(str(system[key]).split(".", 1)[1])
        # OMV's user list names users under "name" (not "user"): take them explicitly.
        for user in snapshot.data("omv").get("users") or []:
            if isinstance(user, dict) and user.get("name"):
                known["USER"].append(str(user["name"]))

        def walk(node, key=""):
            if isinstance(node, dict):
                for k, v in node.items():
                    walk(v, k)
            elif isinstance(node, list):
                for v in node:
                    walk(v, key)
            elif isinstance(node, str) and node:
                k = key.lower()
                if "serial" in k:
                    known["SERIAL"].append(node)
                elif k in ("wwn", "wwid"):
                    known["WWN"].append(node)
                elif k in ("user", "username", "owner", "login"):
                    known["USER"].append(node)
                elif k in ("hostname", "fqdn", "domain", "domainname"):
                    known["HOST"].append(node)

        walk(snapshot.to_dict().get("sources", {}))
    except Exception:
        pass
    for k in known:
        known[k] = [v for v in known[k] if v.lower() not in ("root", "nobody", "localhost", "none", "unknown")]
    return known
