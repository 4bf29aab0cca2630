"""Text normalisation for matching: tokens, light stemming, synonyms, typo tolerance.

Why not a library: Debian has no stemmer we may depend on, and admins' queries are
short; a few suffix rules plus a domain synonym table carry most of the weight.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

STOPWORDS = set("""a an the is are was were be been my me i it its to of in on for and or with at by from this that
there what why how when can cant can't cannot does doesnt doesn't do dont don't not no any some after
into i'm im our we you your have has had just still will wont won't get getting got keeps keep
too many much lot lots all anything everything something nothing very really became become becomes
always suddenly again also now then ive isnt didnt wasnt werent arent havent hasnt couldnt wouldnt shouldnt
youre thats theres whats ok okay""".split())

#: phrase or word -> canonical tokens (applied before stemming).
SYNONYMS = {
    "samba": "smb", "cifs": "smb", "windows share": "smb", "network drive": "smb share", "mapped drive": "smb share",
    "nas slow": "slow performance", "slow": "slow performance", "sluggish": "slow performance", "laggy": "slow performance",
    "speed": "throughput performance", "transfer": "transfer throughput", "mb/s": "throughput", "mbps": "throughput",
    "webui": "web ui", "web interface": "web ui", "gui": "web ui", "dashboard": "web ui", "login page": "web ui login",
    "hdd": "disk", "harddrive": "disk", "hard drive": "disk", "drive": "disk", "ssd": "disk", "drives": "disk",
    "raid": "raid mdadm", "raid0": "raid mdadm", "raid1": "raid mdadm", "raid5": "raid mdadm", "raid6": "raid mdadm",
    "raid10": "raid mdadm", "raidz": "zfs raid", "raidz1": "zfs raid", "raidz2": "zfs raid", "md": "mdadm", "array": "raid", "degraded": "degraded",
    "full": "full space", "no space": "full space", "out of space": "full space", "space left": "full space",
    "readonly": "read-only", "read only": "read-only", "ro": "read-only",
    "container": "docker", "containers": "docker", "compose": "docker compose", "portainer": "docker",
    "ups": "ups nut", "power outage": "ups power", "blackout": "ups power",
    "mail": "email", "e-mail": "email", "notification": "email notification", "notifications": "email notification",
    "time": "time ntp", "clock": "time ntp", "ntp": "ntp time", "chrony": "ntp time",
    "cert": "certificate", "ssl": "certificate tls", "https": "certificate tls", "tls": "certificate tls",
    "backup": "backup rsync", "rsync": "rsync backup", "snapshot": "snapshot backup",
    "temp": "temperature", "hot": "temperature", "overheating": "temperature", "heat": "temperature",
    "update": "upgrade apt", "updates": "upgrade apt", "upgrade": "upgrade apt", "apt": "apt upgrade",
    "plex": "plex media", "jellyfin": "jellyfin media", "emby": "jellyfin media",
    "502": "502 bad gateway", "bad gateway": "502 bad gateway",
    "wifi": "network", "lan": "network", "ethernet": "network", "nic": "network interface",
    "usb": "usb", "external": "usb external", "nvme": "nvme ssd", "m.2": "nvme",
    "zfs": "zfs pool", "zpool": "zfs pool",
    "permission denied": "permission denied access", "access denied": "permission denied access",
    "perms": "permission", "acl": "acl permission",
    "firewall": "firewall iptables", "blocked": "firewall blocked",
    "dns": "dns resolve", "resolve": "dns resolve", "hostname": "dns hostname",
    "ipv6": "ipv6", "bond": "bonding", "bonding": "bonding", "lacp": "bonding",
    "smart": "smart", "bad sectors": "reallocated pending sector", "bad sector": "reallocated pending sector",
    "os disk": "system disk", "os drive": "system disk", "boot disk": "system disk", "boot drive": "system disk",
    "system drive": "system disk", "usb stick": "usb system disk",
    "something wrong": "", "something is wrong": "", "something went wrong": "", "what is wrong": "",
    "whats wrong": "", "what's wrong": "", "is everything ok": "", "everything ok": "", "check my nas": "",
    "any problems": "", "help me": "", "not working": "fail", "broken": "fail",
    "spin down": "spindown", "spin-down": "spindown", "spun down": "spindown", "spins down": "spindown",
    "spinning down": "spindown",
    "wont mount": "mount fail", "won't mount": "mount fail", "doesnt mount": "mount fail",
}

_TOKEN = re.compile(r"[a-z0-9][a-z0-9./+-]*[a-z0-9]|[a-z0-9]")


_VOWELS = set("aeiou")


def _silent_e(base: str) -> bool:
    """Whether a stem lost a silent e to its suffix: one vowel then one consonant at its end,
    after a consonant or at the start ('shar', 'sav', 'us'), but not 'fail' or 'mount'."""
    return (len(base) >= 2 and base[-1] not in _VOWELS and base[-1] not in "wxy" and base[-2] in _VOWELS
            and (len(base) == 2 or base[-3] not in _VOWELS))


def stem(word: str) -> str:
    """Strip common English suffixes (light: 'mounting'→'mount', 'disks'→'disk', 'failed'→'fail')."""
    if len(word) <= 3 or not word.isalpha() or word.endswith("ss"):
        return word  # 'access', 'address', 'wireless' are no plurals ('accessed' is already 'access')
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("ly", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)] + repl
            if suffix == "es" and not base.endswith(("ss", "sh", "ch", "x")):
                base = word[:-1]
            if suffix in ("ing", "ed") and len(base) > 3 and base[-1] == base[-2] and base[-1] not in "ls":
                base = base[:-1]
            elif suffix in ("ing", "ed") and _silent_e(base):
                base += "e"  # 'shared', 'sharing' -> 'share' (as 'shares' -> 'share'), 'saved' -> 'save'
            return base
    return word


_APOSTROPHE = re.compile(r"(?<=[a-z])['\u2019\u00b4`](?=[a-z])")


def _lower(text: str) -> str:
    """Lower case with in-word apostrophes dropped: "don't", "can’t", "I´ve" are the stop words
    'dont', 'cant', 'ive' (split at the apostrophe they were 'don' + 't', words that matched patterns)."""
    return _APOSTROPHE.sub("", text.lower())


def _padded(text: str) -> str:
    """Lower case, punctuation between words as spaces ('read only, cant' holds 'read only'), padded."""
    return " " + re.sub(r"\s+", " ", re.sub(r"[,;:!?()\"]", " ", _lower(text))) + " "


def expand(text: str) -> str:
    """Apply the synonym table (phrases first, longest first) to lowercase text."""
    text = _padded(text)
    for phrase in sorted(SYNONYMS, key=len, reverse=True):
        needle = f" {phrase} "
        if needle in text:
            # an empty expansion marks a vague phrase: drop it so only the findings can answer it
            replacement = f" {phrase} {SYNONYMS[phrase]} " if SYNONYMS[phrase] else " "
            text = text.replace(needle, replacement)
    return text


def phrase_synonyms(text: str) -> list[tuple[list[str], list[str]]]:
    """(the phrase's words, its expansion's tokens) for each multi-word synonym in ``text``:
    'read only' stands for 'read-only', so 'read' and 'only' each count as matched by it."""
    padded = _padded(text)
    return [(tokens(phrase, synonyms=False), tokens(SYNONYMS[phrase], synonyms=False))
            for phrase in SYNONYMS if " " in phrase and SYNONYMS[phrase] and f" {phrase} " in padded]


def _words(lowered: str) -> list[str]:
    """The words of ``lowered`` (text :func:`_lower` or :func:`expand` made), stop words left out,
    unstemmed: the one tokenising :func:`tokens` and :func:`typed_words` share, so the word a
    typo is judged on is always the word its token was stemmed from."""
    return [t for t in _TOKEN.findall(lowered) if t not in STOPWORDS]


def tokens(text: str, *, synonyms: bool = True) -> list[str]:
    return [stem(t) for t in _words(expand(text) if synonyms else _lower(text))]


def typed_words(text: str) -> dict[str, str]:
    """stem -> the word as typed, for the words of ``text`` (those ``tokens(text, synonyms=False)``
    stems): a typo is judged on what was typed ('acces' is one letter from 'access' though its
    stem 'acce' is two)."""
    return {stem(t): t for t in _words(_lower(text))}


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (insert, delete, replace, swap two neighbours), or
    ``limit + 1`` as soon as it must exceed ``limit``. A swap counts once: 'degarded' is one edit
    from 'degraded' (difflib's ratio saw 'dead' closer)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        prev2, prev = prev, row
    return min(prev[-1], limit + 1)


#: Debian's English word list (package wamerican). A token found there is a real word, not a typo:
#: 'bread' must not be read as 'read', nor 'sick' as 'stick', nor 'swapped' as 'swap'.
WORD_LIST = Path("/usr/share/dict/words")

#: Words of the trade that are no English words but are no typos either ('fdisk' is not 'disk').
DOMAIN_WORDS = frozenset("""
fdisk gdisk sgdisk cfdisk parted gparted lsblk blkid mkfs wipefs badblocks smartctl smartd hdparm sdparm
mdadm mdstat zpool zfs btrfs xfs ext4 ntfs exfat lvm lvcreate pvcreate vgcreate fstab crypttab luks cryptsetup
systemctl journalctl dmesg syslog rsyslog logrotate crontab anacron rsnapshot rclone restic borg borgbackup
snapraid mergerfs unionfs nfsd exportfs showmount smbd nmbd winbind testparm smbclient smbpasswd pdbedit
wsdd avahi netplan ifupdown iproute ethtool iperf iperf3 nmcli dhclient dhcpcd resolvconf chrony ntpd
dockerd containerd portainer podman kubectl nginx apache php phpfpm salt omv omvextras firstaid openmediavault
apticron dpkg aptitude ctrl initramfs grub systemd udev udevadm nvme sata sas uasp uas hba lsi
iostat iotop vmstat htop sysstat collectd rrdcached rrdtool monit postfix sendmail msmtp upsmon upsc nut
plex jellyfin emby nextcloud syncthing qbittorrent transmission sonarr radarr lidarr
""".split())


@functools.lru_cache(maxsize=4096)
def is_real_word(token: str) -> bool:
    """Whether ``token`` is an English or domain word (so no typo to correct).

    The word list is scanned on demand (a 1 MB file, about a millisecond) and only for tokens the
    index does not know; loading its 100,000 words into memory would cost the daemon ~10 MiB.
    Without the list, every unknown token counts as a word: no guessing.
    """
    if token in DOMAIN_WORDS:
        return True
    try:
        text = WORD_LIST.read_text(errors="replace")
    except OSError:
        return True
    return re.search(rf"^{re.escape(token)}$", text, re.M | re.I) is not None
