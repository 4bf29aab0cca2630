"""Every path out of the box masks the same credentials: an alert's evidence (e-mail, webhooks) and
the Assistant's prompt (an LLM) read the same command lines and log lines. Each list once missed
forms the other caught: the evidence kept mysqldump -p, sshpass -p, curl -u and Basic secrets, the
prompt kept aws_secret_access_key=, DB_PRIVATE_KEY: and --password 'quoted'."""

from __future__ import annotations

import pytest

from omv_copilot_agent.alerts import evidence
from omv_copilot_agent.assist import redact

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


@pytest.mark.parametrize("line", ["3 tests passed: 12", "tokenizer=bpe", "basic setup of the NAS", "bypassing the cache"])
def test_words_that_only_look_like_credentials_are_kept(line):
    assert evidence.clean_text(line, limit=1000) == line
    assert redact.Redactor().scrub(line) == line
