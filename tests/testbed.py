"""The OMV 7 test bed (../shared/omv-testbed): OMV's real engine, omv-rpc and web UI.

Tests that need it use the ``omv_engine`` / ``omv_web`` fixtures (registered in
conftest). They bring the test bed up once per session (idempotent ``up.sh``) and
skip with the reason where that is impossible — except in CI (``CI=true``),
where a missing test bed is a failure, because there it must run.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from pathlib import Path

import pytest

# OMV_TESTBED names it for a clone that is not beside ../shared (a git worktree elsewhere).
TESTBED = Path(os.environ.get("OMV_TESTBED") or Path(__file__).resolve().parent.parent.parent / "shared" / "omv-testbed")
IN_CI = os.environ.get("CI") == "true"

LOCK = Path("/run/omv-testbed.lock")


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"OMV test bed required in CI: {reason}")
    pytest.skip(f"OMV test bed not available: {reason}")


def _script(name: str, timeout: int = 900) -> None:
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run([str(TESTBED / name)], capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        _unavailable(f"{name} failed: {(result.stderr or result.stdout)[-500:]}")


def omv_rpc(service: str, method: str, params: dict | None = None, timeout: int = 60) -> subprocess.CompletedProcess:
    import json

    argv = ["/usr/sbin/omv-rpc", "-u", "admin", service, method]
    if params is not None:
        argv.append(json.dumps(params))
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def wait_for_engine(timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if omv_rpc("System", "getTimeSettings", {}, timeout=30).returncode == 0:
            return
        time.sleep(0.5)
    _unavailable("omv-engined did not answer within 60 s")


@pytest.fixture(scope="session")
def omv_engine():
    """OMV's engine running here; yields the path of omv-rpc."""
    if not (TESTBED / "up.sh").exists():
        _unavailable(f"{TESTBED} is missing (a clone without ../shared)")
    if os.geteuid() != 0:
        _unavailable("up.sh needs root")
    _script("up.sh")
    wait_for_engine()
    return "/usr/sbin/omv-rpc"


@pytest.fixture(scope="session")
def omv_web(omv_engine):
    """OMV's web UI on http://127.0.0.1:8880/ (nginx + php-fpm)."""
    _script("web-up.sh")
    return "http://127.0.0.1:" + os.environ.get("OMV_TESTBED_PORT", "8880")
