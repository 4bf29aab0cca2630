#!/usr/bin/python3
"""Schemathesis over every endpoint of a real daemon, with the bearer token: 0 server errors, 0 schema violations.

Schemathesis is not in Debian, so it comes from PyPI into ``build/fuzz-venv``, a
venv that also sees the system packages (the agent itself runs on Debian's
Flask, waitress, …). ``make fuzz`` runs this file; ``tests/system/test_fuzz.py`` runs a
shorter, seeded pass in ``make test``.

Only ``examples`` and ``fuzzing`` phases run: schemathesis 4.32's ``coverage``
phase crashes inside hypothesis on this schema (a schemathesis bug, not an API
failure), and the API has no links for the ``stateful`` phase to follow.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "build" / "fuzz-venv"
SCHEMATHESIS_VERSION = "4.32.5"
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance"


def ensure_venv() -> Path:
    """The schemathesis executable, building the venv first if needed (raises RuntimeError on failure)."""
    exe = VENV / "bin" / "schemathesis"
    if exe.exists():
        return exe
    steps = [["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(VENV)],
             [str(VENV / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", f"schemathesis=={SCHEMATHESIS_VERSION}"]]
    for step in steps:
        try:
            proc = subprocess.run(step, capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{' '.join(step[:3])} took over 300 s (no PyPI?)") from None
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(step[:3])} failed: {(proc.stderr or proc.stdout).strip()[-500:]}")
    return exe


def start_daemon(workdir: Path) -> tuple[subprocess.Popen, str, str]:
    """The daemon as its systemd unit runs it (the unit's Environment=: optimized, bytecode cached)."""
    import socket

    import requests
    import yaml

    from bench._common import daemon_environment

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = {"data_dir": str(workdir / "data"),
              "api": {"listen": f"127.0.0.1:{port}", "token_file": str(workdir / "token")},
              "collect": {"interval_s": 60, "disabled_sources": ["apt", "smart", "omv", "logs"]},
              # the fake: a fuzzed {"confirm": true} must not revert a real OMV engine's changes on this machine
              "omv_rpc": {"command": str(ROOT / "tests" / "fakes" / "omv-rpc")}}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    proc = subprocess.Popen(["/usr/bin/python3", "-m", "omv_copilot_agent", "--config", str(workdir / "config.yaml"), "daemon"],
                            cwd=ROOT, env=daemon_environment(), stdout=open(workdir / "daemon.log", "wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if requests.get(url + "/healthz", timeout=2).json().get("snapshot_age_s") is not None:
                return proc, url, (workdir / "token").read_text().strip()
        except (requests.RequestException, ValueError, OSError):
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"daemon did not start: {(workdir / 'daemon.log').read_text()[-1000:]}")


def run(max_examples: int, max_time: int | None, seed: int | None = 1) -> tuple[int, str]:
    """Start a daemon, fuzz it, stop it; returns (schemathesis exit code, its output + the daemon's log tail).

    With ``max_time`` the fuzzing phase repeats until the time is spent; without it each
    operation gets one round of ``max_examples`` (bounded by count, for the test suite).
    """
    from tests.conftest import stop_daemon

    exe = ensure_venv()
    with tempfile.TemporaryDirectory(prefix="copilot-fuzz-") as tmp:
        workdir = Path(tmp)
        proc, url, token = start_daemon(workdir)
        try:
            argv = [str(exe), "run", f"{url}/api/v1/openapi.json", "-H", f"Authorization: Bearer {token}",
                    "--phases", "examples,fuzzing", "-c", CHECKS, "-n", str(max_examples),
                    "-w", "2", "--no-color", "--request-timeout", "30", "--suppress-health-check", "all"]
            if max_time is not None:
                argv += ["--max-time", str(max_time)]
            if seed is not None:
                argv += ["--seed", str(seed)]
            out = subprocess.run(argv, capture_output=True, text=True, timeout=(max_time or 600) + 300,
                                 env={**os.environ, "SCHEMATHESIS_HOOKS": ""}, cwd=workdir)
        finally:
            stop_daemon(proc)
        log = (workdir / "daemon.log").read_text(errors="replace")
    return out.returncode, out.stdout + out.stderr + "\n--- daemon log (tail) ---\n" + log[-3000:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--max-time", type=int, default=300, help="seconds")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    code, output = run(args.max_examples, args.max_time, args.seed)
    print(output)
    return code


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
