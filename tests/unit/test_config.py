import pytest

from omv_copilot_agent import config as config_mod
from tests.conftest import run_cli


def test_defaults_documented():
    d = config_mod.defaults()
    assert d["api"]["listen"] == "127.0.0.1:8888"
    assert d["data_dir"] == "/var/lib/omv-copilot"
    assert d["omv_rpc"]["command"] == "omv-rpc"
    assert d["collect"]["interval_s"] == 60


@pytest.mark.parametrize("text,message", [
    ("collect:\n  interval_s: fast\n", "collect.interval_s: must be of type integer"),
    ("api:\n  listen: 8888\n", "api.listen: must be of type string"),
    ("api:\n  listen: nohostport\n", "api.listen:"),
    ("colect: {}\n", "colect: unknown key"),
    ("collect:\n  interval_s: 1\n", "collect.interval_s: 1 is out of range"),
    ("- a\n- b\n", "top level must be a mapping"),
    ("api: [\n", "not valid YAML"),
])
def test_bad_config_names_the_key(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(config_mod.ConfigError) as exc:
        config_mod.load(str(path))
    assert message in str(exc.value)


def test_cli_exits_nonzero_with_one_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("collect:\n  interval_s: 'soon'\n")
    result = run_cli("--config", str(path), "status")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "collect.interval_s" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_env_overrides_and_env_path(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("collect:\n  interval_s: 30\n")
    cfg = config_mod.load(environ={"OMV_COPILOT_CONFIG": str(path), "OMV_COPILOT_API__LISTEN": "127.0.0.1:9999"})
    assert cfg["collect"]["interval_s"] == 30 and cfg["api"]["listen"] == "127.0.0.1:9999"


def test_env_sets_top_level_keys_too(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("")
    cfg = config_mod.load(str(path), environ={"OMV_COPILOT_DATA_DIR": str(tmp_path / "data"),
                                              "OMV_COPILOT_COLLECT": "not a section value"})  # a section needs SECTION__KEY
    assert cfg["data_dir"] == str(tmp_path / "data") and cfg["collect"]["interval_s"] == config_mod.defaults()["collect"]["interval_s"]
    with pytest.raises(config_mod.ConfigError, match="data_dir"):
        config_mod.load(str(path), environ={"OMV_COPILOT_DATA_DIR": "[1, 2]"})


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(config_mod.ConfigError, match="does not exist"):
        config_mod.load(str(tmp_path / "nope.yaml"))


@pytest.mark.parametrize("overrides,message", [
    ({"findings": {"disk_usage_warning_percent": 99, "disk_usage_critical_percent": 95}}, "findings.disk_usage_warning_percent: must be below"),
    ({"findings": {"temperature_warning_c": 70}}, "findings.temperature_warning_c: must be below findings.temperature_critical_c"),
    # the old place of the thresholds is still read, and still checked
    ({"alerts": {"disk_usage_warning_percent": 99, "disk_usage_critical_percent": 95}}, "findings.disk_usage_warning_percent: must be below"),
    ({"findings": {"nvme_temperature_warning_c": 85}}, "findings.nvme_temperature_warning_c: must be below"),
    ({"collect": {"disabled_sources": ["nosuch"]}}, "collect.disabled_sources.0"),
    ({"alerts": {"alertmanager_url": "not a url"}}, "alerts.alertmanager_url"),
    ({"alerts": {"email_to": ["not-an-email"]}}, "alerts.email_to.0"),
])
def test_values_that_would_silently_do_nothing_are_refused(overrides, message):
    with pytest.raises(config_mod.ConfigError, match=message.replace(".", r"\.")):
        config_mod.from_dict(overrides)


def test_disabled_sources_names_are_the_collector_sources():
    from omv_copilot_agent.collect import SOURCES

    items = config_mod.schema()["properties"]["collect"]["properties"]["disabled_sources"]["items"]
    assert tuple(items["enum"]) == SOURCES


def test_thresholds_written_under_alerts_are_read_as_findings(tmp_path):
    """Configs from before the findings section keep their thresholds; the new place wins when both are set."""
    path = tmp_path / "config.yaml"
    path.write_text("alerts:\n  disk_usage_warning_percent: 80\n  memory_warning_percent: 70\n  enabled: true\n"
                    "findings:\n  memory_warning_percent: 75\n")
    cfg = config_mod.load(str(path), environ={"OMV_COPILOT_ALERTS__SWAP_WARNING_PERCENT": "33"})
    assert cfg.get_path("findings.disk_usage_warning_percent") == 80
    assert cfg.get_path("findings.memory_warning_percent") == 75
    assert cfg.get_path("findings.swap_warning_percent") == 33
    assert "disk_usage_warning_percent" not in cfg["alerts"] and cfg["alerts"]["enabled"] is True


# --- settings fences (issue 15) ----------------------------------------------------------------

def fenced(tmp_path, **sections):
    data = {"data_dir": str(tmp_path / "data"), "api": {"token_file": str(tmp_path / "api-token")}, **sections}
    return config_mod.from_dict(data)


def test_overlay_and_log_file_stay_under_the_data_dir(tmp_path):
    assert fenced(tmp_path, knowledge={"local_patterns_dir": str(tmp_path / "data" / "mine")})
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "escape").symlink_to("/etc")
    for where in ("/etc", str(tmp_path / "elsewhere"), str(tmp_path / "data" / "escape")):
        with pytest.raises(config_mod.ConfigError, match="knowledge.local_patterns_dir: must be a directory under data_dir"):
            fenced(tmp_path, knowledge={"local_patterns_dir": where})
    assert fenced(tmp_path, logging={"file": "/var/log/omv-copilot/daemon.log"})
    with pytest.raises(config_mod.ConfigError, match="logging.file: must be under data_dir"):
        fenced(tmp_path, logging={"file": "/etc/cron.d/copilot"})


def provider(key_file) -> dict:
    return {"providers": [{"name": "p", "kind": "openai", "endpoint": "http://127.0.0.1:9", "model": "m",
                           "api_key_file": str(key_file)}]}


def test_api_key_file_is_never_the_token_and_only_a_private_root_file(tmp_path):
    import os

    token = tmp_path / "api-token"
    token.write_text("daemon-token\n")
    token.chmod(0o600)
    with pytest.raises(config_mod.ConfigError, match=r"assist.providers.0.api_key_file: .* is the daemon's API token file"):
        fenced(tmp_path, assist=provider(token))
    link = tmp_path / "innocent-name"
    link.symlink_to(token)
    with pytest.raises(config_mod.ConfigError, match="API token file"):
        fenced(tmp_path, assist=provider(link))
    key = tmp_path / "llm.key"
    key.write_text("sk-test\n")
    key.chmod(0o644)
    with pytest.raises(config_mod.ConfigError, match="must not be readable by group or others"):
        fenced(tmp_path, assist=provider(key))
    key.chmod(0o600)
    assert fenced(tmp_path, assist=provider(key))
    if os.geteuid() == 0:
        os.chown(key, 65534, 65534)
        with pytest.raises(config_mod.ConfigError, match="must be owned by root"):
            fenced(tmp_path, assist=provider(key))


def test_key_file_loosened_after_start_is_refused_when_read(tmp_path):
    from omv_copilot_agent.assist import llm

    key = tmp_path / "llm.key"
    key.write_text("sk-test\n")
    key.chmod(0o600)
    assert llm.api_key({"api_key_file": str(key)}) == "sk-test"
    key.chmod(0o644)
    with pytest.raises(llm.ProviderError, match="key file refused"):
        llm.api_key({"api_key_file": str(key)})


def test_token_is_not_sent_to_a_provider_through_the_settings_api(live_server, tmp_path):
    """The reproduction: api_key_file pointed at the token file sent it as a Bearer to the provider."""
    srv = live_server(cycle=False)
    r = srv.request("PUT", "/api/v1/settings", json={"assist": provider(srv.agent.config.token_file)})
    assert r.status_code == 400 and "API token file" in r.json()["error"]["message"], r.text


def test_settings_file_is_written_private(live_server, tmp_path):
    import stat

    srv = live_server(cycle=False)
    path = tmp_path / "config.yaml"
    path.chmod(0o664)
    assert srv.request("PUT", "/api/v1/settings", json={"knowledge": {"diagnostic_timeout_s": 20}}).status_code == 200
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    path.unlink()
    assert srv.request("PUT", "/api/v1/settings", json={"knowledge": {"diagnostic_timeout_s": 21}}).status_code == 200
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
