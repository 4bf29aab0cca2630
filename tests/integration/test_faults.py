"""Fault tests, each against the real daemon process: crashes, a full disk, broken tools, a clock jump.

What must hold in every case: the API keeps answering, nothing hangs (every
wait below is bounded), ``/system/status`` says what is wrong, and no write the
API acknowledged is lost.
"""

from __future__ import annotations

import contextlib
import glob
import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from bench._common import daemon_environment
from tests.conftest import PYTHON, ROOT

FAKE_OMV = ROOT / "tests" / "fakes" / "omv-rpc"
QUIET = ["smart", "apt", "omv", "logs", "services", "network"]  # sources a test does not need
LAUNCHER = """
import runpy, sys
from omv_copilot_agent import runner
runner.SAFE_PATH = sys.argv.pop(1)
sys.argv[0] = "omv_copilot_agent"
runpy.run_module("omv_copilot_agent", run_name="__main__", alter_sys=True)
"""


class Daemon:
    """A daemon process on a free loopback port, with its token and a small HTTP helper."""

    def __init__(self, config_path: Path, env: dict | None = None, safe_path: str | None = None):
        from omv_copilot_agent import config as config_mod

        config = config_mod.load(str(config_path))
        self.url = "http://" + config["api"]["listen"]
        self.token_file = Path(config["api"]["token_file"])
        self.data_dir = Path(config["data_dir"])
        argv = [PYTHON, "-m", "omv_copilot_agent"]
        if safe_path is not None:
            argv = [PYTHON, "-c", LAUNCHER, safe_path]
        self.log = open(config_path.parent / f"daemon-{time.monotonic_ns()}.log", "w+b")
        self.proc = subprocess.Popen([*argv, "--config", str(config_path), "daemon"], cwd=ROOT,
                                     env={**daemon_environment(), "PYTHONPATH": str(ROOT), **(env or {})},
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_until(lambda: self.get("/healthz", auth=False).status_code == 200, 30, "daemon did not answer /healthz")
        self.token = self.token_file.read_text().strip()

    def get(self, path, auth=True, **kw):
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        return requests.get(self.url + path, headers=headers, timeout=kw.pop("timeout", 15), **kw)

    def post(self, path, **kw):
        return requests.post(self.url + path, headers={"Authorization": f"Bearer {self.token}"},
                             timeout=kw.pop("timeout", 15), **kw)

    def wait_until(self, predicate, timeout: float, message: str):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}: {self.output()[-2000:]}")
            with contextlib.suppress(requests.RequestException, KeyError, TypeError, ValueError):
                if predicate():
                    return
            time.sleep(0.2)
        raise AssertionError(f"{message} within {timeout} s; log: {self.output()[-2000:]}")

    def status(self) -> dict:
        return self.get("/api/v1/system/status").json()

    def wait_snapshot(self, timeout: float = 60):
        self.wait_until(lambda: self.get("/healthz", auth=False).json()["snapshot_age_s"] is not None, timeout,
                        "no snapshot")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError("daemon did not stop within 90 s of SIGTERM") from None


@pytest.fixture
def daemons():
    started: list[Daemon] = []

    def _start(*args, **kw) -> Daemon:
        d = Daemon(*args, **kw)
        started.append(d)
        return d

    yield _start
    for d in started:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait(timeout=10)
        d.log.close()


def a_pattern_id(d: Daemon) -> str:
    r = d.get("/api/v1/knowledge/patterns", params={"limit": 1})
    assert r.status_code == 200, r.text
    return r.json()["data"][0]["pattern_id"]


# -- kill -9 during heavy writes -----------------------------------------------

def test_kill_9_during_heavy_writes_loses_no_acknowledged_write(make_config, daemons):
    _, path = make_config({"collect": {"interval_s": 10, "disabled_sources": QUIET}})
    acked: dict[int, str] = {}
    lock = threading.Lock()
    for round_no in range(3):
        d = daemons(path)
        pattern_id = a_pattern_id(d)
        # the first cycle's snapshot is a write of its own: let it land before the API writers
        # flood the store (fast writers could otherwise reach 50 acknowledgements first)
        d.wait_until(lambda: d.get("/api/v1/system/status").status_code == 200, 30, "no first cycle")
        stop = threading.Event()

        def writer(tid: int):
            session = requests.Session()
            i = 0
            while not stop.is_set():
                comment = f"r{round_no}-t{tid}-{i}-" + "x" * 200
                try:
                    r = session.post(d.url + "/api/v1/knowledge/feedback", timeout=10,
                                     headers={"Authorization": f"Bearer {d.token}"},
                                     json={"pattern_id": pattern_id, "helpful": i % 2 == 0, "comment": comment})
                except requests.RequestException:
                    return  # the daemon is gone
                if r.status_code == 201:
                    try:
                        ack_id = r.json()["id"]
                    except ValueError:
                        return  # the answer was cut by the kill: not an acknowledged write
                    with lock:
                        acked[ack_id] = comment
                i += 1

        threads = [threading.Thread(target=writer, args=(t,), daemon=True) for t in range(6)]
        for t in threads:
            t.start()
        d.wait_until(lambda: len(acked) >= 50 * (round_no + 1), 60, "writes were not acknowledged")
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(timeout=30)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        assert not any(t.is_alive() for t in threads)
    db = sqlite3.connect(Path(d.data_dir) / "copilot.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = dict(db.execute("SELECT id, comment FROM knowledge_feedback").fetchall())
        assert db.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0] >= 1
    finally:
        db.close()
    missing = {i: c for i, c in acked.items() if stored.get(i) != c}
    assert len(acked) >= 150 and not missing, f"{len(missing)} of {len(acked)} acknowledged writes lost"
    d = daemons(path)  # and it starts again on the crashed database
    d.wait_snapshot()
    assert d.status()["agent"]["store"]["error"] is None
    assert d.post("/api/v1/knowledge/feedback", json={"pattern_id": a_pattern_id(d), "helpful": True}).status_code == 201
    assert d.stop() == 0


# -- the data disk fills up -----------------------------------------------------

@contextlib.contextmanager
def small_tmpfs(where: Path, size: str):
    where.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill_up(folder: Path) -> Path:
    """Fill ``folder``'s file system. Unbuffered: a buffered file that met ENOSPC mid-write raises it
    again from close() (where no suppress is), depending on how the free space happens to align."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as fh:
        with contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * 65536)
    with contextlib.suppress(OSError):  # the last partial block, too
        with open(folder / "filler2", "wb", buffering=0) as fh:
            while True:
                fh.write(b"\0" * 512)
    return filler


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a size-limited tmpfs needs root")
def test_full_data_disk_keeps_serving_fails_writes_clearly_and_recovers(make_config, daemons, tmp_path):
    with small_tmpfs(tmp_path / "small", "3m") as data:
        _, path = make_config({"data_dir": str(data / "data"), "collect": {"interval_s": 10, "disabled_sources": QUIET}})
        d = daemons(path)
        d.wait_snapshot()
        pattern_id = a_pattern_id(d)
        assert d.post("/api/v1/knowledge/feedback", json={"pattern_id": pattern_id, "helpful": True}).status_code == 201
        fill_up(data)
        failures = []
        for i in range(400):
            r = d.post("/api/v1/knowledge/feedback", json={"pattern_id": pattern_id, "helpful": True, "comment": "y" * 1900})
            assert r.status_code in (201, 503), (r.status_code, r.text[:300])
            if r.status_code == 503:
                failures.append(r.json()["error"])
                if len(failures) >= 3:
                    break
        assert failures, "no write failed on a full disk"
        assert all("full" in f["message"] and f["code"] == "store_unavailable" for f in failures), failures
        # Reads keep working and the status says what is wrong once a cycle has tried to save.
        cycles = d.status()["agent"]["cycles"]
        d.wait_until(lambda: d.status()["agent"]["cycles"] > cycles and d.status()["agent"]["store"]["error"], 60,
                     "status did not report the store error")
        status = d.status()
        assert "full" in status["agent"]["store"]["error"], status["agent"]["store"]
        assert d.get("/api/v1/system/metrics").status_code == 200
        assert d.get("/healthz", auth=False).status_code == 200
        # Space comes back: writes succeed again, the next cycle clears the error.
        for name in ("filler", "filler2"):
            with contextlib.suppress(FileNotFoundError):
                (data / name).unlink()
        d.wait_until(lambda: d.post("/api/v1/knowledge/feedback",
                                    json={"pattern_id": pattern_id, "helpful": False}).status_code == 201, 30,
                     "writes did not recover")
        d.wait_until(lambda: d.status()["agent"]["store"]["error"] is None, 60, "store error did not clear")
        assert d.stop() == 0
        db = sqlite3.connect(data / "data" / "copilot.db")
        try:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            db.close()


# -- broken or missing tools ---------------------------------------------------

@pytest.mark.parametrize("mode, words", [("slow", ("did not answer", "timed out")),
                                         ("garbage", ("json", "JSON")),
                                         ("engine-down", ("socket", "engine", "connect")),
                                         ("missing", ("not installed", "not found", "missing"))])
def test_omv_rpc_hanging_garbage_down_or_missing(make_config, daemons, tmp_path, mode, words):
    folder = tmp_path / "fake"
    folder.mkdir()
    command = folder / "omv-rpc"
    if mode != "missing":
        command.symlink_to(FAKE_OMV)
        (folder / "fake-mode").write_text(mode)
    _, path = make_config({"omv_rpc": {"command": str(command), "timeout_s": 2},
                           "collect": {"interval_s": 3600, "source_timeout_s": 6,
                                       "disabled_sources": [s for s in QUIET if s != "omv"]}})
    d = daemons(path)
    started = time.monotonic()
    assert d.get("/healthz", auth=False).status_code == 200  # answers while omv-rpc is still running
    d.wait_snapshot(60)
    assert time.monotonic() - started < 60
    omv = d.status()["sources"]["omv"]
    assert omv["status"] in ("degraded", "unavailable"), omv
    assert omv["reason"] and any(w in omv["reason"] for w in words), omv["reason"]
    configuration = d.get("/api/v1/system/configuration").json()
    assert configuration["omv"]["status"] == omv["status"] and configuration["omv"]["reason"]
    assert d.stop() == 0


def safe_path_without(tmp_path: Path, *absent: str) -> str:
    """A directory of links to every tool on the runner's safe path except ``absent``."""
    from omv_copilot_agent import runner

    folder = tmp_path / "bin"
    folder.mkdir()
    for directory in runner.SAFE_PATH.split(":"):
        with contextlib.suppress(OSError):
            for name in os.listdir(directory):
                target = Path(directory) / name
                if name not in absent and not (folder / name).exists() and os.access(target, os.X_OK):
                    (folder / name).symlink_to(target)
    return str(folder)


def test_journald_and_smartctl_absent(make_config, daemons, tmp_path):
    _, path = make_config({"collect": {"interval_s": 3600, "disabled_sources": ["apt", "omv"]}})
    d = daemons(path, safe_path=safe_path_without(tmp_path, "journalctl", "smartctl"))
    d.wait_snapshot(90)
    status = d.status()
    for source, needle in (("smart", "smartctl"), ("logs", "journalctl")):
        result = status["sources"][source]
        assert result["status"] == "unavailable" and needle in result["reason"], (source, result)
    assert status["sources"]["system"]["status"] == "ok"
    logs = d.get("/api/v1/system/logs").json()
    assert logs["status"] == "unavailable" and "journalctl" in logs["reason"] and logs["entries"] == []
    assert d.stop() == 0


# -- the clock jumps backwards ----------------------------------------------------

def libfaketime() -> str | None:
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    return found[0] if found else None


@pytest.mark.skipif(libfaketime() is None, reason="libfaketime not installed (Debian package faketime)")
def test_clock_jump_backwards(make_config, daemons, tmp_path):
    offset = tmp_path / "faketime"
    offset.write_text("+0\n")
    env = {"LD_PRELOAD": libfaketime(), "FAKETIME_TIMESTAMP_FILE": str(offset), "FAKETIME_CACHE_DURATION": "1",
           "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    _, path = make_config({"collect": {"interval_s": 10, "disabled_sources": QUIET}})
    d = daemons(path, env=env)
    d.wait_snapshot()
    pattern_id = a_pattern_id(d)
    assert d.post("/api/v1/knowledge/feedback", json={"pattern_id": pattern_id, "helpful": True}).status_code == 201
    before = d.status()
    offset.write_text("-2d\n")
    d.wait_until(lambda: d.status()["agent"]["cycles"] > before["agent"]["cycles"], 60, "no cycle after the jump")
    after = d.status()
    assert after["snapshot"]["taken_at"] < before["snapshot"]["taken_at"] - 86400  # it really jumped
    assert after["snapshot"]["age_s"] >= 0 and after["agent"]["store"]["error"] is None
    assert d.get("/api/v1/system/metrics", params={"name": "cpu_percent", "since": 3600}).status_code == 200
    assert d.post("/api/v1/knowledge/feedback", json={"pattern_id": pattern_id, "helpful": False}).status_code == 201
    assert d.stop() == 0
    # Restart in the past: the stored "future" snapshot does not stop the agent; the next cycle replaces it.
    d = daemons(path, env=env)
    d.wait_until(lambda: d.status()["agent"]["cycles"] >= 1, 60, "no cycle after restart in the past")
    status = d.status()
    assert status["snapshot"]["age_s"] >= 0 and status["agent"]["store"]["error"] is None
    assert d.stop() == 0
    db = sqlite3.connect(Path(d.data_dir) / "copilot.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*) FROM knowledge_feedback").fetchone()[0] == 2
        assert db.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0] >= 3
    finally:
        db.close()


# -- LLM endpoints down, hanging, failing, answering garbage -------------------------

def test_llm_down_hanging_failing_or_garbage_falls_back_to_kb(make_config, daemons):
    """Every provider broken in a different way: the daemon still answers, KB-only, and says why."""
    from tests.conftest import free_port
    from tests.fake_llm import FakeLLM

    fakes = [FakeLLM().script({"body": "<html>not json"}), FakeLLM().script({"delay": 30, "text": "late"}),
             FakeLLM().script({"status": 500})]
    try:
        providers = [fakes[0].provider("garbage"), fakes[1].provider("hangs", timeout_s=2), fakes[2].provider("fails", kind="anthropic"),
                     {"name": "down", "kind": "openai", "endpoint": f"http://127.0.0.1:{free_port()}/v1", "model": "m",
                      "timeout_s": 2}]
        _, path = make_config({"assist": {"providers": providers},
                               "collect": {"interval_s": 3600, "disabled_sources": QUIET}})
        d = daemons(path)
        d.wait_snapshot()
        result: dict = {}

        def ask():
            result["r"] = d.post("/api/v1/assist/query", json={"query": "my RAID array is degraded, what now?"}, timeout=120)

        asker = threading.Thread(target=ask)
        started = time.monotonic()
        asker.start()
        while asker.is_alive() and time.monotonic() - started < 120:
            assert d.get("/healthz", auth=False, timeout=10).status_code == 200  # serving while the LLMs misbehave
            time.sleep(0.5)
        asker.join(timeout=10)
        r = result["r"]
        assert r.status_code == 200, r.text[:500]
        answer = r.json()
        assert answer["mode"] == "kb_only" and answer["provider"] is None, answer
        notices = " ".join(answer.get("notices") or [])
        assert "every LLM provider failed" in notices, notices
        for name in ("garbage", "hangs", "fails", "down"):
            assert name in notices, (name, notices)
        assert d.stop() == 0
    finally:
        for fake in fakes:
            fake.close()
