"""Credentials inside command lines and log text: each pattern's group 1 is kept, group 2 is the secret.

Why one list for every path out of the box: an alert's evidence (e-mail, webhooks, Alertmanager)
and the Assistant's prompt (an LLM) carry the same kind of text the box wrote (process command
lines, log lines, notes). A form of secret masked on one path and not on the other leaked there:
the evidence kept ``mysqldump -pSECRET`` and ``curl -u user:SECRET``, the prompt kept
``aws_secret_access_key=SECRET`` and ``--password 'SECRET'``.
"""

from __future__ import annotations

import re
from typing import Callable

#: a quoted secret whole, spaces and all (a passphrase of several words, borg's and restic's advice;
#: a JSON string with \" in it), when the text before it (group 1) ends with its opening quote
_QUOTED = r"(?<=\")(?:[^\"\\\n]|\\.)++(?=\")|(?<=')[^'\n]++(?=')"

#: a name that says its value is a secret: password, RESTIC_PASSWORD, aws_secret_access_key, db_password_file,
#: passwords, token_id (not passed, tokenizer), read from its start only: no backtracking over a long word
_NAME = (r"(?=[\w-]*?(?:password|passwd|passphrase|pass|pwd|token|secret|api[_-]?key|access[_-]?key|private[_-]?key|psk)"
         r"(?:s?(?![\w-])|[_-]))[\w-]++")

#: not a password tool's name before its message ("passwd: Authentication token manipulation error",
#: "smbpasswd: Failed to add entry") nor nsswitch.conf's "passwd: files": a value of a key named
#: exactly so is no secret ("passwd=x" still is)
_NOT_A_TOOL = r"(?!(?:(?:smb|ht|ch|g|ldap|mk|yp|k|vnc)?passwd|sshpass):[ \t])"


def _tool_option(tools: str, stop: str, option: str) -> re.Pattern:
    """A secret given to one of ``tools`` after ``option`` (quoted whole, or one word), on its command line."""
    return re.compile(r"(?i)(\b(?:" + tools + r")\b(?:(?!\b(?:" + stop + r"))[^|;&\n])*?\s" + option + r")"
                      r"('[^'\n]*+'|\"[^\"\n]*+\"|[^\s|;&]+)")


PATTERNS: tuple[re.Pattern, ...] = (
    # a YAML or config line "password: several words" unquoted: the whole rest of the line is its value
    # (blanks, never newlines, before the name: from every line start "\s" read all the blank lines after it)
    re.compile(r"(?im)^([ \t]*+(?:-[ \t]++)?" + _NOT_A_TOOL + _NAME + r"[ \t]*+:[ \t]++)(?![\"'])(\S(?:[^\n]*\S)?)"),
    # "NAME=several words" quoted whole: systemd's Environment="BORG_PASSPHRASE=a b", docker -e 'X_PASSWORD=a b'
    re.compile(r"(?i)((?<=\")" + _NAME + r"\s*+=\s*+)([^\"\n]++)(?=\")"),
    re.compile(r"(?i)((?<=')" + _NAME + r"\s*+=\s*+)([^'\n]++)(?=')"),
    # password=x, "token": "x", 'password': 'x', PGPASSWORD=x, api_key: x, aws_secret_access_key=x,
    # db_password_file=x (a name ending in "s" or in _… / -… too: "passwords:", "token_id="; not
    # "passed:" or "tokenizer="; not a file's name: "/etc/borg/passphrase: Permission denied")
    # (the name is read once, from its start, without backtracking: a long word or "----" line must
    # not take the daemon minutes, tests/unit/test_credentials.py)
    re.compile(r"(?i)((?<![\w/-])(?<!/\.)" + _NOT_A_TOOL + _NAME + r"[\"']?\s*+[=:]\s*+[\"']?)(" + _QUOTED + r"|[^\s\"',;}]+)"),
    # --password x, --password=x, --pass 'x', --passphrase 'x y', --ftp-pass x, --token=x, --api-key x
    re.compile(r"(?i)((?<![\w-])--(?:(?:\w+-)*(?:password|passwd|passphrase|pass|token|secret|api-key|apikey)|auth)"
               r"(?:=|\s+)[\"']?)(" + _QUOTED + r"|[^\s\"'|;&]+)"),
    # mysql/mysqldump/mariadb -pSECRET, -p'SECRET' (attached); ldapsearch/ldapmodify… -w SECRET;
    # redis-cli -a SECRET (each read up to the next word of its tool at most: every character is read
    # once, however many "mysql" a line holds)
    # (options case-sensitive: mysql's -P is the port, ldap's -W, -A and -S prompt for the secret;
    # ldappasswd -a OLD and -s NEW are each masked by their own pattern, after its -w BIND)
    _tool_option(r"mysql\w*|mariadb\w*", r"mysql|mariadb", r"(?-i:-p)"),
    _tool_option(r"ldap\w+", r"ldap\w+", r"(?-i:-w)\s*+"),
    _tool_option(r"ldappasswd", r"ldap\w+", r"(?-i:-a)\s*+"),
    _tool_option(r"ldappasswd", r"ldap\w+", r"(?-i:-s)\s*+"),
    _tool_option(r"redis-cli", r"redis-cli", r"-a\s*+"),
    # sshpass -p SECRET
    re.compile(r"(\bsshpass\s+-p\s*)(\S+)"),
    # curl/wget -u user:SECRET, --user user:SECRET
    re.compile(r"((?:\s-u\s*|--user(?:=|\s+))[\"']?[^\s:\"']+:)([^\s\"'@]+)"),
    # Samba's user%SECRET: smbclient -U bob%x, --user=bob%x, mount.cifs -o username=bob%x
    re.compile(r"((?:(?<!\S)-U\s*+|--user(?:=|\s+)|\buser(?:name)?=)[\"']?[^\s%:\"',/]+%)([^\s\"',]+)"),
    # scheme://user:SECRET@host, scheme://:SECRET@host (Redis), a secret holding an @ up to the last one
    re.compile(r"(://[^\s/:\"']*:)([^\s/\"']+)(?=@)"),
    # Authorization: Bearer/Basic SECRET (8+ characters: "basic setup" is not a credential)
    re.compile(r"(?i)(\b(?:bearer|basic)\s+)([A-Za-z0-9._~+/=-]{8,})"),
    # Authorization: Token SECRET, or any other scheme (Paperless-ngx, Django REST: "Token")
    re.compile(r"(?i)(\bauthorization[\"']?\s*+[=:]\s*+[\"']?\w++\s++)([A-Za-z0-9._~+/=-]{8,})"),
)

def mask(text: str, replace: Callable[[str], str]) -> str:
    """``text`` with every secret :data:`PATTERNS` find replaced by ``replace(secret)``."""
    for pattern in PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + replace(m.group(2)), text)
    return text
