"""The operations table is the one declaration: REST, RPC, OpenAPI and OMV's files follow it."""

from __future__ import annotations

import importlib
import json
import subprocess

import pytest

from omv_copilot_agent.services import operations
from omv_copilot_agent.services.call import Call
from tests.conftest import PYTHON, ROOT, load_tool


def _tool():
    return load_tool("gen-operations")


def test_generated_omv_files_are_current():
    result = subprocess.run([PYTHON, str(ROOT / "tools" / "gen-operations"), "--check"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_check_names_a_stale_file(tmp_path, monkeypatch):
    tool = _tool()
    stale = tmp_path / "rpc.copilot.json"
    stale.write_text("[]\n")
    monkeypatch.setattr(tool, "DATAMODELS", stale)
    assert tool.main(["--check"]) == 1
    assert stale.read_text() == "[]\n"  # --check writes nothing


def _echo(call: Call) -> dict:
    return {"id": call.path["id"], "colour": call.arg("colour")}


DUMMY = operations.Operation("getDummy", "a dummy for the table test", "dummies/{id}", "read", _echo,
                             args={"id": {"type": "string", "pattern": "^[a-z]{1,10}$"}, "colour": {"type": "string", "default": "none"}},
                             params={"id": {"type": "string", "required": True}, "colour": {"type": "string"}})


@pytest.fixture
def with_dummy(monkeypatch):
    table = operations.OPERATIONS + (DUMMY,)
    monkeypatch.setattr(operations, "OPERATIONS", table)
    return table


def test_a_new_operation_appears_in_rest_rpc_openapi_and_the_datamodel(with_dummy, live_server):
    server = live_server()
    rest = server.get("/api/v1/dummies/abc", params={"colour": "red"})
    assert rest.status_code == 200 and rest.json() == {"id": "abc", "colour": "red"}
    rpc = server.post("/api/v1/rpc", json={"method": "getDummy", "params": {"id": "abc", "colour": "blue"}})
    assert rpc.status_code == 200 and rpc.json() == {"id": "abc", "colour": "blue"}
    doc = server.get("/api/v1/openapi.json").json()
    item = doc["paths"]["/api/v1/dummies/{id}"]["get"]
    assert item["operationId"] == "getDummy" and {p["name"] for p in item["parameters"]} == {"id", "colour"}
    tool = _tool()
    models = {m["id"]: m for m in json.loads(tool.datamodels(with_dummy))}
    assert models["rpc.copilot.getdummy"]["params"]["properties"]["id"]["required"] is True
    php = tool.service_methods(with_dummy)
    assert "public function getDummy($params, $context)" in php and "'getDummy' => ['role' => 'admin'" in php


def test_without_the_dummy_it_is_nowhere(live_server):
    server = live_server()
    assert server.get("/api/v1/dummies/abc").status_code == 404
    assert server.post("/api/v1/rpc", json={"method": "getDummy", "params": {"id": "abc"}}).status_code == 400
    assert "getDummy" not in _tool().service_methods()


def test_every_operation_is_well_formed():
    names = [op.name for op in operations.OPERATIONS]
    assert len(names) == len(set(names))
    seen = set()
    for op in operations.OPERATIONS:
        for resource in (op.resource, *op.aliases):
            key = (resource, op.action in ("create", "invoke") and "post" or op.action)
            assert key not in seen, f"two operations at {key}"
            seen.add(key)
        for name in op.path_names:
            assert name in op.args, f"{op.name}: path name {name} has no schema"
        if op.rpc:
            for name in op.path_names:
                assert op.params.get(name, {}).get("required") is True, f"{op.name}: RPC must require {name}"
        handler = op.handler
        if isinstance(handler, operations.lazy):  # a typo here would only show at the first request
            handler = getattr(importlib.import_module(f"omv_copilot_agent.services.{handler.module}"), handler.function)
        assert callable(handler) and handler.__module__.startswith("omv_copilot_agent.services."), op.name


def test_the_php_proxy_finds_the_daemon_where_python_does():
    """OMV's engine has no Python per call: its reach() must give config.daemon_address's URL."""
    import re
    import shutil

    from omv_copilot_agent.config import daemon_address

    php = shutil.which("php")
    if php is None:
        pytest.skip("php-cli is not installed")
    source = (ROOT / "webui-extjs/omv/usr/share/openmediavault/engined/rpc/copilot.inc").read_text()
    body = re.search(r"\tprivate static function reach\(\$listen\) \{\n.*?\n\t\}\n", source, re.S).group(0)
    listens = ["127.0.0.1:8888", "0.0.0.0:9000", ":7000", "[::]:8888", "::1:8888", "[::1]:8888", "localhost:1234"]
    script = ("class Copy {" + body.replace("private static", "public static") + "}\n"
              + "foreach (json_decode($argv[1]) as $l) echo Copy::reach($l), \"\\n\";")
    result = subprocess.run([php, "-r", script, json.dumps(listens)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert ["http://" + line for line in result.stdout.split()] == [daemon_address(l).url for l in listens]
