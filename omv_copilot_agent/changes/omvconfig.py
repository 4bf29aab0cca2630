"""OMV's configuration database (config.xml) as flat settings, and the difference of two of them
in OMV's own words ("SMB share 'media': read only → read/write").

OMV keeps the configuration as last applied in its lowest revision file (``config.xml.0001``:
each change writes a new revision until Apply deletes them, Revert restores the lowest), so
the pending change is the difference between that file and ``config.xml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the cycle needs only SECRET_FIELD (alerts.evidence); parsing config.xml imports it
    import xml.etree.ElementTree as ET

#: Configuration objects, by their path in the XML, as OMV's web UI names them.
OBJECT_NAMES = {
    "services/smb": "SMB/CIFS settings", "services/smb/shares/share": "SMB share",
    "services/nfs": "NFS settings", "services/nfs/shares/share": "NFS share",
    "services/ssh": "SSH settings", "services/rsync/jobs/job": "Rsync task",
    "services/rsyncd/modules/module": "Rsync server module", "services/smart": "S.M.A.R.T. settings",
    "services/smart/monitor/device": "S.M.A.R.T. device", "services/smart/scheduledtests/job": "S.M.A.R.T. scheduled test",
    "system/shares/sharedfolder": "Shared folder", "system/fstab/mntent": "File system mount",
    "system/network/interfaces/interface": "Network interface", "system/network/dns": "DNS settings",
    "system/network/proxy": "Proxy settings", "system/crontab/job": "Scheduled task",
    "system/usermanagement/users/user": "User", "system/usermanagement/groups/group": "Group",
    "system/email": "Notification e-mail", "system/time": "Date & Time", "system/time/ntp": "NTP",
    "system/apt": "Update settings", "system/powermanagement": "Power management",
    "system/monitoring/perfstats": "Performance statistics", "webadmin": "Workbench",
    "system/storage/hdparm": "Disk settings", "system/certificates/sslcertificate": "SSL certificate",
    "system/certificates/sshcertificate": "SSH certificate",
    "system/notification/notifications/notification": "Notification event",
}

#: Fields whose 0/1 means something better said in words.
FIELD_WORDS = {"readonly": ("read/write", "read only"), "enable": ("disabled", "enabled"),
               "passwordauthentication": ("password login off", "password login on"),
               "permitrootlogin": ("root login off", "root login on"), "browseable": ("hidden", "browseable")}

#: A field with one of these in its name holds a secret: a change is reported, its values never.
SECRET_FIELD = re.compile(r"pass(word|phrase)?|psk|secret|token|key(?!board)|credential|hash", re.I)

#: Child elements that name a list item, in order of preference.
_NAME_FIELDS = ("name", "sharename", "devicename", "devicefile", "dir", "fsname", "id", "comment")


@dataclass(frozen=True)
class Change:
    """One setting that differs: the object it belongs to (in OMV's words) and its values."""

    object: str
    field: str
    before: str | None
    after: str | None

    def describe(self) -> str:
        if self.before is None and self.field == "":
            return f"{self.object}: {self.after}"
        if self.after is None and self.field == "":
            return f"{self.object}: removed"
        if SECRET_FIELD.search(self.field):
            return f"{self.object}: {self.field} changed"
        return f"{self.object}: {self.field} {_word(self.field, self.before)} → {_word(self.field, self.after)}"

    def to_dict(self) -> dict:
        secret = bool(SECRET_FIELD.search(self.field))
        return {"object": self.object, "field": self.field, "before": None if secret else self.before,
                "after": None if secret else self.after, "text": self.describe()}


def _word(field: str, value: str | None) -> str:
    if value is None:
        return "(unset)"
    words = FIELD_WORDS.get(field)
    if words and value in ("0", "1"):
        return words[int(value)]
    return f"'{value}'" if value else "(empty)"


class ConfigError(ValueError):
    """config.xml could not be read or parsed; the message names the file."""


def load(path: str | Path) -> ET.Element:
    import xml.etree.ElementTree as ET

    try:
        return ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise ConfigError(f"cannot read OMV's configuration {path}: {exc}") from None


def _names_by_uuid(root: ET.Element) -> dict[str, str]:
    out = {}
    for el in root.iter():
        uuid = el.findtext("uuid")
        if uuid:
            name = next((el.findtext(f) for f in _NAME_FIELDS if el.findtext(f)), None)
            if name:
                out[uuid] = name
    return out


def _item_label(el: ET.Element, names: dict[str, str]) -> str:
    for ref in ("sharedfolderref", "mntentref"):
        if el.findtext(ref) in names:
            return names[el.findtext(ref)]
    for field in _NAME_FIELDS:
        if el.findtext(field):
            return el.findtext(field)
    return (el.findtext("uuid") or "?")[:8]


def flatten(root: ET.Element) -> dict[tuple[str, str], dict[str, str]]:
    """{(object path, item uuid or ""): {field: value}} for every leaf setting of the file; a list
    item's fields include ``@label``, the name OMV's pages show for it."""
    names = _names_by_uuid(root)
    out: dict[tuple[str, str], dict[str, str]] = {}

    def walk(el: ET.Element, path: str, item: str) -> None:
        for child in el:
            if not isinstance(child.tag, str):  # comments
                continue
            child_path = f"{path}/{child.tag}" if path else child.tag
            if child.find("uuid") is not None:
                uuid = child.findtext("uuid") or ""
                out.setdefault((child_path, uuid), {})["@label"] = _item_label(child, names)
                walk(child, child_path, uuid)
            elif len([c for c in child if isinstance(c.tag, str)]):
                walk(child, child_path, item)
            else:
                obj, field = child_path.rsplit("/", 1) if "/" in child_path else ("", child_path)
                out.setdefault((obj, item), {})[field] = (child.text or "").strip()

    walk(root, "", "")
    return out


def _object_name(path: str, item: str) -> str:
    prefix = next((p for p in sorted(OBJECT_NAMES, key=len, reverse=True) if path == p or path.startswith(p + "/")), None)
    name = OBJECT_NAMES[prefix] if prefix else path.replace("/", " › ")
    rest = path[len(prefix) + 1:].replace("/", " › ") if prefix and path != prefix else ""
    return f"{name} '{item}'" + (f" {rest}" if rest else "") if item else name + (f" › {rest}" if rest else "")


def diff(before: ET.Element, after: ET.Element) -> list[Change]:
    """The settings that differ between two configurations, objects added or removed included."""
    old, new = flatten(before), flatten(after)
    changes: list[Change] = []
    for key in sorted(set(old) | set(new), key=lambda k: (k[0], (new.get(k) or old.get(k)).get("@label", ""), k[1])):
        path, uuid = key
        a, b = old.get(key, {}), new.get(key, {})
        name = _object_name(path, (b or a).get("@label", "") if uuid else "")
        if not a and uuid:
            fields = {f: v for f, v in b.items() if f not in ("uuid", "@label") and not SECRET_FIELD.search(f)}
            shown = ", ".join(f"{f} {_word(f, v)}" for f, v in list(fields.items())[:4])
            changes.append(Change(name, "", None, "added" + (f" ({shown})" if shown else "")))
        elif not b and uuid:
            changes.append(Change(name, "", "removed", None))
        else:
            for field in sorted(set(a) | set(b)):
                if field not in ("uuid", "@label") and a.get(field) != b.get(field):
                    changes.append(Change(name, field, a.get(field), b.get(field)))
    return changes
