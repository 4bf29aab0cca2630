"""The idle daemon's memory: modules only a rare path needs are not imported by start-up or a cycle.

Why: a Python process keeps the pages of every module it ever imported (unloading frees
nothing measurable), and the daemon's idle RSS is compared with glances' (issue 17,
docs/benchmarks.md "nas"). The daemon is started the way the unit starts it
(``omv-copilot daemon``), runs its first cycle, answers a ``/metrics`` scrape, and reports its ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

#: module -> the path that may import it, and why start-up must not
RARE = {
    "jsonschema": "config and patterns are validated in a child process at start (memory.in_child); "
                  "an API body, a settings change or a pattern edit imports it when it happens",
    "requests": "only an LLM provider or a webhook call needs an HTTP client",
    "omv_copilot_agent.cli.ask": "`omv-copilot daemon` registers only its own subcommand (the others are ~1 MiB of modules)",
    "_hashlib": "OpenSSL (libcrypto, ~4.7 MiB) is kept out of Flask's imports (memory.without_openssl); "
                "Python's built-in hashes serve jinja2 and werkzeug",
    "_ssl": "only TLS needs OpenSSL: an LLM provider, an HTTPS webhook, SMTP (each imports it when it sends)",
    "smtplib": "only sending an e-mail needs it (and with it OpenSSL)",
    "croniter": "only a box with scheduled jobs needs cron arithmetic (the test config has none)",
    "yaml": "config, config schema, probe catalogue and patterns are parsed in child processes at start; "
            "a settings change or a pattern edit imports it when it happens",
    "regex": "only checking or running a pattern's diagnostic (or a probe's display filter) needs python3-regex",
    "prometheus_client": "/metrics writes the text format itself (api/metrics.py): the library pulls in urllib and OpenSSL",
    "ssl": "a /metrics scrape (every 15 s from a Prometheus) must not load OpenSSL",
    "urllib.request": "nothing the daemon serves fetches URLs (prometheus_client imported it, with HTTPS)",
    "statistics": "only the health report's time-to-resolution median needs it (and with it fractions)",
    "xml.etree.ElementTree": "only reading OMV's config.xml (pending changes, snapshot drift) parses XML",
    **{f"omv_copilot_agent.services.{name}": "its operations' handlers are imported at their first request "
                                             "(services.operations.lazy)"
       for name in ("assist", "changes", "history", "knowledge", "providers", "settings")},
    "natsort.natsort": "OMV's Python client imports it only to save /etc/default/openmediavault "
                       "(memory.deferred; where OMV's library is installed, as on this machine and a NAS)",
    "omv_copilot_agent.changes.preflight": "only the upgrade preflight operation needs it",
    "omv_copilot_agent.changes.pending": "only the pending-changes operations need it",
    "omv_copilot_agent.history.timeline": "only the timeline operation needs it",
    **{f"omv_copilot_agent.assist.{name}": "the assistant's pipeline is built at the first question (AssistService.engine)"
       for name in ("engine", "redact", "prompt", "router", "risk", "parse", "kb_answer", "providers", "trace")},
}

DRIVER = r"""
import json, os, signal, sys, threading, time
from omv_copilot_agent import cli, memory

with memory.without_openssl():  # as `omv-copilot daemon` imports it (cli/daemon.py)
    from omv_copilot_agent import daemon

config_path, token_file, port = sys.argv[1], sys.argv[2], int(sys.argv[3])


def status(path="/api/v1/system/status") -> int:
    # GET over a plain socket: http.client here would be this process's own import
    import socket

    token = open(token_file).read().strip()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(("GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                      + "\r\n\r\n").encode())
        head = conn.recv(64).decode("latin-1")
    return int(head.split()[1])


def report():
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # until the first cycle's snapshot is served
        if status() == 200:
            print("STATUS 200", flush=True)
            break
        time.sleep(0.2)
    print("METRICS " + str(status("/metrics")), flush=True)  # as a Prometheus scrapes it every 15 s
    print("MODULES " + json.dumps(sorted(sys.modules)), flush=True)
    os.kill(os.getpid(), signal.SIGTERM)


notify = daemon._notify_systemd


def notify_then_report(message):  # READY=1 is what systemd hears once the API listens
    notify(message)
    if message == "READY=1":
        threading.Thread(target=report, daemon=True).start()


daemon._notify_systemd = notify_then_report
sys.exit(cli.main(["--config", config_path, "daemon"]))
"""


def test_idle_daemon_does_not_import_rare_paths(make_config, tmp_path):
    config, path = make_config()
    out = subprocess.run([sys.executable, "-c", DRIVER, str(path), str(config.token_file), str(config.daemon.port)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    lines = [line for line in out.stdout.splitlines() if line.startswith("MODULES ")]
    assert lines, f"the daemon did not report (exit {out.returncode}): {out.stderr[-3000:]}"
    modules = set(json.loads(lines[0].removeprefix("MODULES ")))
    assert "omv_copilot_agent.api" in modules and "flask" in modules  # it did serve
    assert "STATUS 200" in out.stdout and "METRICS 200" in out.stdout, out.stdout[-3000:]
    imported = {name: why for name, why in RARE.items() if name in modules}
    assert not imported, f"imported by the idle daemon: {imported}"
    assert out.returncode == 0, out.stderr[-3000:]


def test_cli_finds_the_subcommand_after_global_options():
    from omv_copilot_agent.cli import command_of

    assert command_of(["--config", "/etc/x.yaml", "-v", "daemon", "--detach"]) == "daemon"
    assert command_of(["--config=/etc/x.yaml", "status"]) == "status"
    assert command_of(["--config", "daemon"]) is None  # "daemon" is the config path here
    assert command_of(["--version"]) == "--version" and command_of([]) is None
