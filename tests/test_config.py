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
