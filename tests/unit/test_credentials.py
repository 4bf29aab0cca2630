"""Every path out of the box masks the same credentials: an alert's evidence (e-mail, webhooks) and
the Assistant's prompt (an LLM) read the same command lines and log lines. Each list once missed
forms the other caught: the evidence kept mysqldump -p, sshpass -p, curl -u and Basic secrets, the
prompt kept aws_secret_access_key=, DB_PRIVATE_KEY: and --password 'quoted'."""

from __future__ import annotations

import subprocess
import sys

import pytest

from omv_copilot_agent.alerts import evidence
from omv_copilot_agent.assist import redact
from tests.conftest import ROOT

SECRET = "Hunter2Secret"
LEAKED = [
    f"mysqldump -uroot -p{SECRET} nextcloud",
    f"sshpass -p {SECRET} rsync -a /srv/data backup@nas2:/srv",
    f"curl -u admin:{SECRET} https://nas2/api",
    f"Authorization: Basic {SECRET}",
    f"aws_secret_access_key={SECRET} restic backup /srv",
    f"DB_PRIVATE_KEY: {SECRET}",
    f"rclone sync --password '{SECRET}' /srv remote:",
    f"smtp_password_file={SECRET}",
    f"password={SECRET}",
    f"mount -o username=bob,passwords={SECRET}",
    f"https://bob:{SECRET}@example.org/dav",
    f"--token={SECRET}",
]


@pytest.mark.parametrize("line", LEAKED)
def test_a_credential_is_masked_on_every_path_out(line):
    shown = evidence.clean_text(line, limit=1000)
    assert SECRET not in shown and "***" in shown
    sent = redact.Redactor().scrub(line)
    assert SECRET not in sent and "<SECRET_1>" in sent


#: forms that leaked whole or in part: a passphrase of several words (borg's and restic's advice)
#: kept all but its first word; a Python dict in a log line; a Redis URL (no user); Samba's user%pass
PASSPHRASE = "correct horse battery staple"
LEAKED_WHOLE_OR_PART = [
    f'BORG_PASSPHRASE="{PASSPHRASE}" borg create ::today /srv',
    f"export RESTIC_PASSWORD='{PASSPHRASE}'",
    f'{{"passphrase": "{PASSPHRASE}", "repo": "/srv/borg"}}',
    f'{{"password": "say \\"{PASSPHRASE}\\""}}',
    f"rclone sync --password '{PASSPHRASE}' /srv remote:",
    f"gpg --batch --passphrase '{PASSPHRASE}' -c backup.tar",
    f"duplicity --ftp-pass {SECRET} /srv ftp://nas2",
    f"mysqldump -p'{PASSPHRASE}' nextcloud",
    f"{{'password': '{SECRET}', 'user': 'bob'}}",
    f"nextcloud: connecting to redis://:{SECRET}@127.0.0.1:6379/0",
    f"smbclient //nas2/backup -U bob%{SECRET} -c ls",
    f"mount -t cifs //nas2/backup /mnt -o username=bob%{SECRET},vers=3.0",
    f"curl -H 'Authorization: Token {SECRET}' http://127.0.0.1:8000/api/documents/",
    f'{{"Authorization": "Token {SECRET}"}}',
    f'Environment="BORG_PASSPHRASE={PASSPHRASE}" "BORG_REPO=/srv/borg"',
    f"docker run -e 'RESTIC_PASSWORD={PASSPHRASE}' restic/restic backup /data",
    f"ldapsearch -x -H ldap://dc1 -D cn=admin,dc=home -w {SECRET} -b dc=home",
    f"ldapmodify -D cn=admin,dc=home -w '{PASSPHRASE}' -f users.ldif",
    f"redis-cli -h 127.0.0.1 -a {SECRET} --no-auth-warning ping",
    f"ldappasswd -x -D cn=admin,dc=home -w {SECRET} -s 'correct horse' uid=bob,dc=home",
    f"ldappasswd -x -D uid=bob,dc=home -W -a {SECRET} -s '{PASSPHRASE}' uid=bob,dc=home",
    f"smtp:\n  user: bob\n  password: {PASSPHRASE}\n  port: 587",
    f"- passphrase: {PASSPHRASE}  # from the borg key export",
]


@pytest.mark.parametrize("line", LEAKED_WHOLE_OR_PART)
def test_no_word_of_a_credential_is_left(line):
    for shown in (evidence.clean_text(line, limit=1000), redact.Redactor().scrub(line)):
        assert not [word for word in (SECRET, "horse", "staple") if word in shown], shown


@pytest.mark.parametrize("line", ["3 tests passed: 12", "tokenizer=bpe", "basic setup of the NAS", "bypassing the cache",
                                  "borg: /etc/borg/passphrase: Permission denied",
                                  "mount error(2): /root/.smbpassword: No such file or directory",
                                  "Authorization: failed for administrator",
                                  "ldapsearch -W -x -D cn=admin,dc=home -b dc=home", "ldappasswd -A -S -x uid=bob",
                                  "mysql -h db -P3306 -u root nextcloud",
                                  "passwd: Authentication token manipulation error",
                                  "smbpasswd: Failed to add entry for user bob.",
                                  "chpasswd: (user bob) pam_chauthtok() failed, error: Authentication token manipulation error",
                                  "passwd:         files systemd",
                                  "journal:\nhtpasswd: cannot modify file /etc/nginx/.htpasswd; use '-c' to create it"])
def test_words_that_only_look_like_credentials_are_kept(line):
    assert evidence.clean_text(line, limit=1000) == line
    assert redact.Redactor().scrub(line) == line


#: text anyone on the box can put in a log line (``logger``), built to make a backtracking regex
#: re-read it once per character: a long word, a dash rule, a repeated credential word, many "mysql",
#: many blank lines
HOSTILE = ["'a' * 1_000_000", "'-' * 1_000_000", "'pass_' * 200_000", "'mysql ' * 170_000",
           "'password=\"' * 100_000", "'://:' * 250_000", "'ldapsearch -x ' * 80_000", "'ldappasswd -x ' * 80_000",
           "'redis-cli ' * 100_000",
           "'password: a' + ' ' * 1_000_000 + 'b'", "'\\n password: a b' * 80_000",
           "'\\n' * 1_000_000", "' \\n' * 500_000"]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_megabyte_of_hostile_text_is_masked_in_linear_time(text):
    """In a child process with a deadline: a quadratic pattern takes hours there (it did, from 10 KB
    of one word: 8 s), which no test run should wait for; a linear one takes well under a second."""
    code = f"from omv_copilot_agent import credentials; assert credentials.mask({text}, lambda s: '*')"
    try:
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=30, capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        pytest.fail(f"masking {text} took over 30 s")
    assert done.returncode == 0, done.stderr
