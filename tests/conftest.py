"""Shared fixtures: configs in tmp dirs, a real loopback API server, a real daemon process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "captures"  # real smartctl/mdstat captures, licences beside them
PYTHON = "/usr/bin/python3"

sys.path.insert(0, str(ROOT))

IN_CI = os.environ.get("CI") == "true"

#: Test tiers by file, until tools/tier-tests moves each file into tests/<tier>/ (then the folder
#: says it). Files not named here are integration tests.
TIERS = {
    "unit": {"test_alerts_forecast", "test_alerts_lifecycle", "test_alerts_rules", "test_alerts_store",
             "test_alerts_udev", "test_assist_llm", "test_assist_units", "test_collect_parsers",
             "test_collect_sources", "test_config", "test_knowledge_patterns", "test_knowledge_signals",
             "test_memory_trim", "test_runner", "test_store_foundation", "test_layering",
             "test_findings", "test_events", "test_knowledge_relevance", "test_probe_grammar_fuzz"},
    "system": {"test_debian_install", "test_webui_omv", "test_webui_dev", "test_omv_plugin", "test_fuzz"},
}
TIER_NAMES = ("unit", "integration", "system")


def tier_of(path: Path) -> str:
    """unit, integration or system: the folder under tests/ if it is a tier, else :data:`TIERS`."""
    if path.parent.name in TIER_NAMES:
        return path.parent.name
    return next((tier for tier, names in TIERS.items() if path.stem in names), "integration")


def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(getattr(pytest.mark, tier_of(Path(str(item.fspath)))))


def load_tool(name: str):
    """A script under tools/ (no .py suffix) as a module, to test its functions."""
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), str(ROOT / "tools" / name))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def make_config(tmp_path):
    """make_config(overrides) -> (Config, path): a valid config file in tmp_path."""
    from omv_copilot_agent import config as config_mod

    def _make(overrides: dict | None = None, name: str = "config.yaml"):
        data = {"data_dir": str(tmp_path / "data"),
                "api": {"listen": f"127.0.0.1:{free_port()}", "token_file": str(tmp_path / "token")},
                "collect": {"interval_s": 10, "source_timeout_s": 10}}
        for key, value in (overrides or {}).items():
            if isinstance(value, dict):
                data.setdefault(key, {}).update(value)
            else:
                data[key] = value
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data))
        return config_mod.load(str(path)), path

    return _make


class LiveServer:
    """An Agent + API served by waitress on a loopback port in this process."""

    def __init__(self, config, agent, token):
        from omv_copilot_agent.api import create_app
        from omv_copilot_agent.daemon import _serve_forever, build_server

        self.agent = agent
        self.token = token
        self.app = create_app(agent, token)
        self.server = build_server(self.app, "127.0.0.1", 0, 4)
        self.port = self.server.effective_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=_serve_forever, args=(self.server,), daemon=True)
        self.thread.start()

    def request(self, method, path, *, token=..., **kwargs):
        import requests

        headers = kwargs.pop("headers", {})
        token = self.token if token is ... else token
        if token:
            headers.setdefault("Authorization", f"Bearer {token}")
        return requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def close(self):
        self.server.close()
        self.server.task_dispatcher.shutdown(timeout=5)  # else 4 idle worker threads per server pile up over a run


@pytest.fixture
def live_server(make_config):
    """live_server(overrides=None, sources=None, cycle=True) -> LiveServer on a real port."""
    from omv_copilot_agent.collect import Collector
    from omv_copilot_agent.daemon.agent import Agent

    servers = []

    def _start(overrides=None, sources=("system",), cycle=True):
        config, _ = make_config(overrides)
        agent = Agent(config, collector=Collector(config, sources=tuple(sources)))
        if cycle:
            agent.run_cycle()
        server = LiveServer(config, agent, "test-token-" + "x" * 20)
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.close()
        server.agent.close()


@pytest.fixture
def assist_server(live_server):
    """``assist_server(providers=(), **assist_settings)``: a live API server whose latest snapshot is the
    assist fixture's (degraded RAID, failing disk), with those ``assist.providers``, no collection."""
    from tests.assist_helpers import fixture_snapshot

    def _start(providers=(), **assist):
        server = live_server({"assist": {"providers": list(providers), **assist}}, cycle=False)
        server.agent.snapshot = fixture_snapshot()
        return server
    return _start


@pytest.fixture
def agents(make_config):
    """``agents(*provider_entries, **assist_settings)``: Agents with the assist fixture snapshot
    and those ``assist.providers`` (no collection), closed after the test."""
    from tests.assist_helpers import make_agent

    made = []

    def _make(*providers, **kw):
        agent = make_agent(make_config, providers, **kw)
        made.append(agent)
        return agent

    yield _make
    for agent in made:
        agent.close()


@pytest.fixture
def fake_llm():
    """A loopback server speaking the OpenAI and Anthropic wire protocols (tests/fake_llm.py)."""
    from tests.fake_llm import FakeLLM

    server = FakeLLM()
    yield server
    server.close()


def start_daemon(config_path, env=None, extra_args=()):
    """Start `python3 -m omv_copilot_agent daemon` as a real process, as the systemd unit runs it (its
    Environment=: optimized, bytecode cached under build/cache-root); wait for /healthz."""
    import requests
    from bench._common import daemon_environment
    from omv_copilot_agent import config as config_mod

    config = config_mod.load(str(config_path))
    proc = subprocess.Popen([PYTHON, "-m", "omv_copilot_agent", "--config", str(config_path), "daemon", *extra_args],
                            cwd=ROOT, env={**daemon_environment(), **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = "http://" + config["api"]["listen"]
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"daemon exited {proc.returncode}: {err.decode()[-2000:]}")
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except requests.RequestException:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("daemon did not answer /healthz within 30 s")


def wait_for_first_cycle(url, headers, timeout=180):
    """Poll /system/status until the daemon has a snapshot (the first collection cycle)."""
    import requests

    deadline = time.time() + timeout
    while time.time() < deadline and requests.get(url + "/api/v1/system/status", headers=headers, timeout=30).status_code != 200:
        time.sleep(0.5)


def start_engine_daemon(tmp: Path, **sections):
    """A real daemon as OMV's engine reaches it: token file and config in ``tmp`` (plus ``sections``),
    started, first cycle done. Returns (proc, url, headers, config path)."""
    import uuid

    token = "omv-test-token-" + uuid.uuid4().hex
    token_file = tmp / "api-token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    config = tmp / "config.yaml"
    config.write_text(yaml.safe_dump({
        "data_dir": str(tmp / "data"),
        "api": {"listen": f"127.0.0.1:{free_port()}", "token_file": str(token_file)},
        "collect": {"interval_s": 3600, "source_timeout_s": 60, "disabled_sources": ["smart", "apt"]},
        **sections}))
    proc, url = start_daemon(config)
    headers = {"Authorization": "Bearer " + token}
    wait_for_first_cycle(url, headers)
    return proc, url, headers, config


def stop_daemon(proc):
    """SIGTERM, then SIGKILL if the daemon has not exited within 30 s (the benches' ``stop``)."""
    from bench._common import stop

    stop(proc)


def run_cli(*args, env=None, timeout=120, input=None):
    return subprocess.run([PYTHON, "-m", "omv_copilot_agent", *args], cwd=ROOT, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout, input=input)


def needs_root():
    return pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


from tests.testbed import omv_engine, omv_web  # noqa: E402,F401  (fixtures)
from tests.alerts_support import hook, sink  # noqa: E402,F401  (fixtures: loopback webhook and SMTP sink)
