"""The probe sandbox itself, without the grammar in front: a writing or connecting command stays harmless.

Each test runs a command through ``runner.sandbox_argv`` directly, i.e. what would happen if a
probe's tool were tricked into writing, reading a secret or phoning out.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from omv_copilot_agent import runner
from omv_copilot_agent.probes import params as probe_params

pytestmark = pytest.mark.skipif(runner.sandbox_unavailable() is not None,
                                reason=f"no probe sandbox on this machine: {runner.sandbox_unavailable()}")


def sandboxed(command: list[str], **sandbox) -> subprocess.CompletedProcess:
    argv = runner.sandbox_argv(command, runner.Sandbox(**sandbox))
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)


@pytest.fixture
def victim_dir():
    """A world-writable directory outside the sandbox: even ``nobody`` could write here without it."""
    path = Path(tempfile.mkdtemp(prefix="ocp-sandbox-", dir="/var/tmp"))  # not /tmp: probes get a private one
    path.chmod(0o777)
    yield path
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


@pytest.mark.parametrize("as_root", [False, True])
def test_a_writing_command_cannot_write(victim_dir, as_root):
    target = victim_dir / "written"
    done = sandboxed(["/bin/sh", "-c", f"echo owned > {target}; touch /etc/ocp-sandbox-test; mkdir /var/tmp/ocp-x; "
                                       "echo rc=$?"], as_root=as_root)
    assert "Read-only file system" in done.stderr, done.stderr
    assert not target.exists() and not Path("/etc/ocp-sandbox-test").exists() and not Path("/var/tmp/ocp-x").exists()
    # Without the sandbox the same command does write: the test can fail.
    subprocess.run(["/bin/sh", "-c", f"echo owned > {target}"], check=True)
    assert target.read_text() == "owned\n"


def test_root_probes_keep_only_the_capabilities_reading_needs():
    if os.geteuid() != 0:
        pytest.skip("capabilities are only dropped from root")
    status = sandboxed(["/bin/cat", "/proc/self/status"], as_root=True).stdout
    effective = int(next(line for line in status.splitlines() if line.startswith("CapEff:")).split()[1], 16)
    names = {"CAP_KILL": 5, "CAP_SETUID": 7, "CAP_SYS_MODULE": 16, "CAP_SYS_PTRACE": 19, "CAP_SYS_BOOT": 22,
             "CAP_SYS_TIME": 25, "CAP_MKNOD": 27, "CAP_CHOWN": 0, "CAP_SYS_RAWIO": 17, "CAP_DAC_READ_SEARCH": 2}
    kept = {name for name, bit in names.items() if effective >> bit & 1}
    assert kept == {"CAP_SYS_RAWIO", "CAP_DAC_READ_SEARCH"}, kept


def test_runs_as_nobody_unless_root_is_declared():
    assert sandboxed(["/usr/bin/id", "-u"]).stdout.strip() == "65534"
    if os.geteuid() == 0:
        assert sandboxed(["/usr/bin/id", "-u"], as_root=True).stdout.strip() == "0"
        # nobody cannot read root's private files, whatever a probe's parameter said
        assert sandboxed(["/bin/cat", "/etc/shadow"]).returncode != 0


def test_secret_files_are_hidden_even_from_root_probes(tmp_path, monkeypatch):
    secret = tmp_path / "api-token"
    secret.write_text("the-daemon-token\n")
    monkeypatch.setattr(probe_params, "EXTRA_DENIED", {str(secret)})
    done = sandboxed(["/bin/cat", str(secret)], as_root=True)
    assert done.stdout == "" and "Permission denied" in done.stderr  # a nodev /dev/null is bound over it
    assert subprocess.run(["/bin/cat", str(secret)], capture_output=True, text=True).stdout == "the-daemon-token\n"
    if Path("/etc/shadow").exists():
        assert sandboxed(["/bin/cat", "/etc/shadow"], as_root=True).stdout == ""


class _Listener:
    """A loopback TCP server on the host that counts connections."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()


CONNECT = ("import socket,sys\n"
           "try:\n socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=3); print('connected')\n"
           "except OSError as e:\n print('refused', e)\n")


def test_no_network_unless_declared():
    listener = _Listener()
    try:
        blocked = sandboxed([sys.executable, "-c", CONNECT, str(listener.port)])
        assert blocked.stdout.startswith("refused") and listener.accepted == 0, blocked
        outside = sandboxed([sys.executable, "-c", "import socket; socket.create_connection(('192.0.2.1', 9), timeout=2)"])
        assert "Network is unreachable" in outside.stderr, outside.stderr
        # A probe that declares the host network (ip, ss, ping) reaches it: the check above can fail.
        allowed = sandboxed([sys.executable, "-c", CONNECT, str(listener.port)], host_network=True)
        assert allowed.stdout.startswith("connected") and listener.accepted == 1, allowed
    finally:
        listener.sock.close()


def test_log_probes_get_log_groups_not_root():
    if os.geteuid() != 0:
        pytest.skip("dropping to nobody needs root")
    ids = sandboxed(["/usr/bin/id"], groups=("adm", "systemd-journal", "no-such-group-here")).stdout
    assert ids.startswith("uid=65534(nobody)") and "(adm)" in ids and "no-such-group" not in ids, ids
    from omv_copilot_agent import probes

    journal = probes.get("unit-journal")
    assert not journal.root and "systemd-journal" in journal.groups


@pytest.mark.parametrize("as_root", [False, True])
def test_a_probe_gets_a_private_scratch_tmp_that_never_reaches_the_host(as_root):
    """apt's simulation needs scratch files: /tmp inside is a tmpfs of its own, gone with the sandbox."""
    marker = f"ocp-private-tmp-{os.getpid()}-{as_root}"
    host_file = Path("/tmp", f"ocp-host-only-{os.getpid()}-{as_root}")
    host_file.write_text("host")
    try:
        done = sandboxed(["/bin/sh", "-c", f"echo x > /tmp/{marker} && cat /tmp/{marker} && ls /tmp"], as_root=as_root)
        assert done.stdout.split()[0] == "x", (done.stdout, done.stderr)
        assert host_file.name not in done.stdout  # the host's /tmp is not visible inside
        assert not Path("/tmp", marker).exists()  # and what the probe wrote never reaches it
    finally:
        host_file.unlink()
