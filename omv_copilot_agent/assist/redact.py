"""Redaction before anything leaves the box: on the data first, then on the text.

Text patterns alone leak whatever is not shaped like an address (a ``"password"``
inside JSON, a share name, ``mysqldump -pSECRET``), so the snapshot is redacted as
data before any prompt is built (:meth:`Redactor.redact_data`):

- a key that holds a secret (:data:`SECRET_KEY`) is dropped at any depth, its value
  remembered so the same string in a log line becomes ``<SECRET_n>`` too;
- in OpenMediaVault's configuration (the ``omv`` source: user-typed data) every string
  is an identifier placeholder unless its field is OMV's own vocabulary or a device node
  (:data:`OMV_KEEP`), which are kept but still text-redacted; command lines are scrubbed
  of credentials (:data:`omv_copilot_agent.credentials.PATTERNS`);
- elsewhere fields named like identifiers (:data:`KIND_BY_KEY`) become placeholders and
  every other string is text-redacted.

Every value placeholdered in the data is then a *known* value: the same share name in
a log line, the question or a pattern gets the same placeholder. ``<IP_1>`` is stable
within one request so the LLM can still reason about "the same disk".
:meth:`Redactor.restore` puts identifiers back for display only: never a secret, never
inside a command (a ``command`` field or a `code span`) the user would copy, never in a URL.
"""

from __future__ import annotations

import ipaddress
import re

from omv_copilot_agent import credentials

#: Keys whose values are secrets: dropped from the data at any depth.
SECRET_KEY = re.compile(r"(?ix) passw | passphrase | ^pass$ | _pass$ | psk | secret | token | credential | wpa | ssid"
                        r" | cookie | private | sshpubkey | api_?key | (?:^|[_-])key$ | authkey | ^authentication$"
                        r" | ^auth$ | ^cert")

#: Keys whose string values are identifiers, by placeholder kind (any source).
KIND_BY_KEY = {
    **dict.fromkeys(("hostname", "fqdn", "domain", "domainname", "server", "host", "workgroup", "netbiosname"), "HOST"),
    **dict.fromkeys(("serial", "serialnumber", "serial_number", "serialno"), "SERIAL"),
    **dict.fromkeys(("wwn", "wwid"), "WWN"),
    **dict.fromkeys(("user", "username", "owner", "login", "validusers", "invalidusers", "adminusers", "readlist",
                     "writelist", "users"), "USER"),
    **dict.fromkeys(("email", "sender", "primaryemail", "secondaryemail", "mail"), "EMAIL"),
    **dict.fromkeys(("address", "address6", "gateway", "gateway6", "ip", "dns"), "IP"),
    **dict.fromkeys(("ether", "mac", "hwaddr"), "MAC"),
    **dict.fromkeys(("label", "comment", "description", "sharedfoldername", "sharedfolder", "reldirpath", "dir",
                     "uuid", "fsuuid", "partuuid", "mntentref", "sharedfolderref"), "NAME"),
}

#: The omv source: fields kept (text-redacted) per section, OMV's own vocabulary and device
#: nodes. Every other string of OMV's configuration is user data and becomes a placeholder.
OMV_KEEP: dict[str, set[str]] = {
    "": {"version", "dirty_modules", "errors"},
    "services": {"name", "title"},
    "filesystems": {"type", "devicefile", "canonicaldevicefile", "parentdevicefile", "predictabledevicefile",
                    "devicefiles", "devlinks", "devicename", "mountpoint"},
    "raid": {"level", "state", "devicefile", "devices", "canonicaldevicefile"},
    "smart": {"devicefile", "canonicaldevicefile", "devicename", "devicelinks", "model", "vendor", "overallstatus",
              "powermode"},
    "network": {"devicename", "method", "method6", "state", "link", "netmask", "type", "wol"},
    "cron_jobs": {"command", "execution", "type", "minute", "hour", "month", "dayofmonth", "dayofweek"},
    "rsync_jobs": {"type", "mode", "minute", "hour", "month", "dayofmonth", "dayofweek", "extraoptions"},
    "topics": {"id", "type"},
    "users": {"shell"},
}

#: Values that identify nobody (and would wreck prose if substituted as known values).
COMMON = {"root", "nobody", "localhost", "none", "unknown", "users", "sudo", "ssh", "_ssh", "admin", "daemon", "staff",
          "www-data", "openmediavault-admin", "openmediavault-config", "openmediavault-notify", "true", "false", ""}

_TEXT_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("EMAIL", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")),
    ("MAC", re.compile(r"\b(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}\b")),
    ("WWN", re.compile(r"\b(?:wwn-)?0x[0-9a-fA-F]{16,32}\b")),
    ("NAME", re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")),
    ("IP", re.compile(r"(?<![\w:.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\w.]*\d)")),
    ("IP6", re.compile(r"(?<![\w:])[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:]*(?![\w:])")),
    ("SERIAL", re.compile(r"(?i)(\"?(?:serial(?:_number|no)?|serial number)\"?\s*[:=]\s*\"?)([A-Za-z0-9._-]{4,})")),
    ("USER", re.compile(r"(/(?:home|srv/[^/\s\"]+/home|export/home)/)([\w.-]+)")),
    # curl -u USER:…, --user USER:…, scheme://USER:…@, ssh USER@host
    ("USER", re.compile(r"((?:\s-u\s*|--user(?:=|\s+))[\"']?)([^\s:\"'<]+)(?=:)")),
    ("USER", re.compile(r"(://)([^\s/:@\"'<]+)(?=[:@])")),
    ("USER", re.compile(r"((?:^|[\s\"'=,;(]))([\w.-]+)(?=@[A-Za-z<])")),
    # /dev/disk/by-id/ata-MODEL_SERIAL, /srv/dev-disk-by-uuid-…, by-label names: the id part
    ("NAME", re.compile(r"((?:/dev/disk/by-[a-z]+/|dev-disk-by-[a-z]+-))([^\s\"'/,;]+)")),
    # user@host / URL hosts: the host is an identifier (user@ is caught by EMAIL when it has a TLD)
    ("HOST", re.compile(r"((?:://(?:[^\s/@\"']+@)?|(?<=[\w>])@))([A-Za-z][\w-]*(?:\.[\w-]+)*)")),
]
_PLACEHOLDER = re.compile(r"<(IP|MAC|EMAIL|WWN|SERIAL|USER|HOST|SECRET|NAME)_\d+>")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
#: Parts of an answer left with their placeholders: code spans (commands to copy) and URLs (a link the
#: LLM built from placeholders must not carry the real address or user name to wherever it points).
_KEEP_PLACEHOLDERS = re.compile(r"(`[^`]*`|\b[A-Za-z][A-Za-z0-9+.-]*://\S+|\bwww\.\S+)")


def _is_ipv6(text: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(text), ipaddress.IPv6Address)
    except ValueError:
        return False


class Redactor:
    """One request's mapping value → placeholder (forward) and placeholder → value (back)."""

    def __init__(self, known: dict[str, list[str]] | None = None, identifiers: bool = True):
        self.forward: dict[str, str] = {}
        self.back: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        #: False: only secrets are removed (``assist.redaction: false``); identifiers pass.
        self.identifiers = identifiers
        self._known_re: re.Pattern | None = None
        self._known_n = -1
        for kind, values in (known or {}).items():
            for value in values:
                self._identifier(kind, str(value))

    # -- placeholders ---------------------------------------------------
    def _placeholder(self, kind: str, value: str) -> str:
        if value in self.forward:
            return self.forward[value]
        self.counts[kind] = self.counts.get(kind, 0) + 1
        token = f"<{kind}_{self.counts[kind]}>"
        self.forward[value], self.back[token] = token, value
        return token

    def _identifier(self, kind: str, value: str) -> str:
        """Placeholder for an identifier value (kept as is if it identifies nobody or redaction is off)."""
        if (not self.identifiers and kind != "SECRET") or value.lower() in COMMON or _PLACEHOLDER.fullmatch(value) \
                or _NUMBER.fullmatch(value):
            return value
        token = self._placeholder(kind, value)
        if kind == "HOST" and "." in value:  # keller-nas.fritz.box: its parts are known too
            short, domain = value.split(".", 1)
            self._identifier("HOST", short)
            self._identifier("HOST", domain)
        return token

    def _secret(self, value) -> None:
        if isinstance(value, str) and len(value) >= 4:
            self._placeholder("SECRET", value)
        elif isinstance(value, (dict, list)):
            for v in (value.values() if isinstance(value, dict) else value):
                self._secret(v)

    # -- text -------------------------------------------------------------
    def _known(self) -> re.Pattern | None:
        """One alternation of every known value (longest first), rebuilt when new values arrive."""
        if self._known_n != len(self.forward):
            values = sorted((v for v in self.forward if len(v) >= 3), key=len, reverse=True)
            self._known_re = (re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, values)) + r")(?![\w-])")
                              if values else None)
            self._known_n = len(self.forward)
        return self._known_re

    def scrub(self, text: str) -> str:
        """Credentials out of a command line or log text (also with identifier redaction off)."""
        return credentials.mask(text, lambda secret: secret if _PLACEHOLDER.fullmatch(secret)
                                else self._placeholder("SECRET", secret))

    def redact(self, text: str) -> str:
        text = self.scrub(text)
        known = self._known()
        if known is not None:
            text = known.sub(lambda m: self.forward[m.group(0)] if (self.identifiers or
                             self.forward[m.group(0)].startswith("<SECRET")) else m.group(0), text)
        if not self.identifiers:
            return text
        for kind, pattern in _TEXT_PATTERNS:
            if pattern.groups == 2:
                text = pattern.sub(lambda m, k=kind: m.group(1) + (m.group(2) if _PLACEHOLDER.fullmatch(m.group(2))
                                                                   else self._identifier(k, m.group(2))), text)
            elif kind == "IP6":
                text = pattern.sub(lambda m: self._identifier("IP", m.group(0)) if _is_ipv6(m.group(0)) else m.group(0),
                                   text)
            else:
                text = pattern.sub(lambda m, k=kind: self._identifier(k, m.group(0)), text)
        return text

    # -- data -------------------------------------------------------------
    def redact_data(self, sections: dict) -> dict:
        """The snapshot's sections ({source: data}) with secrets dropped and identifiers replaced.

        Two passes: the first registers every identifier of every source, so the second can
        replace, say, a share name from the omv source inside a log line of the logs source.
        """
        for _ in range(2):
            out = {name: self._section(name, data) for name, data in sections.items()}
        return out

    def _section(self, name: str, data):
        if isinstance(data, dict) and set(data) == {"status", "data"}:  # a source that is not ok (prompt.state_sections)
            return {"status": str(data["status"]), "data": self._walk(data["data"], (), name == "omv")}
        return self._walk(data, (), name == "omv")

    def _walk(self, node, path: tuple[str, ...], omv: bool):
        """``path``: the keys down to ``node`` (list indices left out); ``omv``: inside OMV's configuration."""
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if SECRET_KEY.search(str(k)):
                    self._secret(v)
                    continue
                out[k] = self._walk(v, (*path, str(k)), omv)
            return out
        if isinstance(node, list):
            return [self._walk(v, path, omv) for v in node]
        if not isinstance(node, str) or not node:
            return node
        key = path[-1].lower() if path else ""
        if omv:
            keys = [p for p in path if p != "notifications"]
            section = keys[0] if len(keys) >= 2 else ""
            if key in OMV_KEEP.get(section, ()):
                return self.redact(node)
            kind = "USER" if (section == "users" and key == "name") else KIND_BY_KEY.get(key, "NAME")
            return self._identifier(kind, node) if self.identifiers else self.scrub(node)
        if key in KIND_BY_KEY:
            return self._identifier(KIND_BY_KEY[key], node)
        return self.redact(node)

    # -- back ---------------------------------------------------------------
    def restore(self, value, key: str = ""):
        """Identifiers back for display, recursively: never a secret, never in a command, a code span or a URL."""
        if isinstance(value, str):
            if key == "command":
                return value
            return "".join(part if i % 2 else self._restore_text(part)
                           for i, part in enumerate(_KEEP_PLACEHOLDERS.split(value)))
        if isinstance(value, list):
            return [self.restore(v, key) for v in value]
        if isinstance(value, dict):
            return {k: self.restore(v, k) for k, v in value.items()}
        return value

    def _restore_text(self, text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: m.group(0) if m.group(1) == "SECRET" else self.back.get(m.group(0), m.group(0)),
                                text)


def known_from_snapshot(snapshot) -> dict[str, list[str]]:
    """Host name, domain, serials, WWNs and user names the snapshot reveals (for callers without data)."""
    known: dict[str, list[str]] = {}
    if snapshot is None:
        return known
    r = Redactor()
    try:
        r.redact_data({name: res.data for name, res in snapshot.sources.items()})
    except Exception:
        return known
    for value, token in r.forward.items():
        kind = token[1:token.rindex("_")]
        if kind != "SECRET":
            known.setdefault(kind, []).append(value)
    return known
