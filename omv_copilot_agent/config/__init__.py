"""Configuration: one YAML file, validated against per-section schemas, with env overrides.

Each concern owns a schema file in ``config/schema/<section>.yaml`` (JSON Schema
written in YAML, with ``default`` on every property), so adding a feature never
means editing a central list. Loading merges defaults, the file and environment
overrides (``OMV_COPILOT_<SECTION>__<KEY>=value``, value parsed as YAML), then
validates and reports the first problem as ``key.path: what is wrong``.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


DEFAULT_PATH = "/etc/omv-copilot/config.yaml"
ENV_PATH = "OMV_COPILOT_CONFIG"
ENV_PREFIX = "OMV_COPILOT_"
SCHEMA_DIR = Path(__file__).with_name("schema")


class ConfigError(ValueError):
    """The configuration is unusable; ``str()`` is one line naming the key."""


_SCHEMA: dict | None = None


def schema() -> dict:
    """The whole configuration schema, assembled from the section files (read once)."""
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = read_schema()
    return _SCHEMA


def read_schema() -> dict:
    """The schema from its YAML files. The daemon reads it in a child process and keeps the result
    (:func:`use_schema`), so python3-yaml and the parse never take up its memory (memory.in_child)."""
    import yaml

    properties = {}
    for path in sorted(SCHEMA_DIR.glob("*.yaml")):
        properties[path.stem] = yaml.safe_load(path.read_text())
    return {"type": "object", "additionalProperties": False, "properties": properties}


def use_schema(value: dict) -> None:
    """Keep ``value`` (from :func:`read_schema`) as the schema."""
    global _SCHEMA
    _SCHEMA = value


def defaults(node: dict | None = None) -> Any:
    """The documented default configuration (every section, every key)."""
    node = schema() if node is None else node
    if node.get("type") == "object" and "properties" in node:
        return {key: defaults(sub) for key, sub in node["properties"].items()}
    return copy.deepcopy(node.get("default"))


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _env_overrides(environ: dict[str, str]) -> dict:
    import yaml

    properties = schema()["properties"]
    sections = set(properties)
    # Top-level settings that are not sections (data_dir) are one word: OMV_COPILOT_DATA_DIR.
    plain = {k for k, v in properties.items() if v.get("type") != "object"}
    data: dict = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        path = name[len(ENV_PREFIX):].lower().split("__")
        if path[0] not in sections or (len(path) == 1) != (path[0] in plain):
            continue
        try:
            value = yaml.safe_load(raw) if raw != "" else ""
        except yaml.YAMLError as exc:
            raise ConfigError(f"{'.'.join(path)}: environment variable {name} is not valid YAML ({exc.problem})") from None
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return data


def _error_path(error) -> str:
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties":
        extra = set(error.instance) - set(error.schema.get("properties", {}))
        if extra:
            parts.append(sorted(extra)[0])
            return ".".join(parts) + ": unknown key"
    if error.validator == "required":
        return ".".join(parts + [error.message.split("'")[1]]) + ": is required"
    return ".".join(parts) + ": " + _describe(error)


def _describe(error) -> str:
    if error.validator == "type":
        return f"must be of type {error.validator_value}, not {type(error.instance).__name__} ({error.instance!r})"
    if error.validator == "enum":
        return f"must be one of {', '.join(map(str, error.validator_value))}, not {error.instance!r}"
    if error.validator in ("minimum", "maximum", "exclusiveMinimum"):
        return f"{error.instance!r} is out of range ({error.validator} {error.validator_value})"
    if error.validator == "pattern":
        return error.schema.get("description") and f"{error.instance!r} is not valid: {error.schema['description']}" or f"{error.instance!r} does not match {error.validator_value}"
    return error.message


def validate(data: dict) -> None:
    """Raise :class:`ConfigError` for the first problem, deepest key first."""
    import jsonschema

    validator = jsonschema.Draft7Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (-len(e.absolute_path), str(e.absolute_path)))
    if errors:
        raise ConfigError(_error_path(errors[0]))
    for lower, higher in ORDERED:
        low, high = get_path(data, lower), get_path(data, higher)
        if isinstance(low, (int, float)) and isinstance(high, (int, float)) and not low < high:
            raise ConfigError(f"{lower}: must be below {higher} ({low} is not below {high})")
    check_fences(data)


def _under(path: str, root: str) -> bool:
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real == base or real.startswith(base.rstrip("/") + "/")


#: The package's log directory (debian/postinst creates it); the other place a log file may live.
LOG_DIR = "/var/log/omv-copilot"


def check_fences(data: dict) -> None:
    """Settings that name files stay inside their fences; raise :class:`ConfigError` naming the key.

    Why: a pattern edit writes and deletes ``*.yaml`` in the overlay directory, so it must
    be the agent's own; an API key file is sent to a remote endpoint, so it must be a
    private root file and never the daemon's own API token.
    """
    data_dir = get_path(data, "data_dir")
    local = get_path(data, "knowledge.local_patterns_dir")
    if local and isinstance(data_dir, str) and not _under(local, data_dir):
        raise ConfigError(f"knowledge.local_patterns_dir: must be a directory under data_dir ({data_dir}), not {local} "
                          "(pattern edits write and delete *.yaml files there)")
    log_file = get_path(data, "logging.file")
    if log_file and isinstance(data_dir, str) and not any(_under(log_file, root) for root in (data_dir, LOG_DIR)):
        raise ConfigError(f"logging.file: must be under data_dir ({data_dir}) or {LOG_DIR}, not {log_file} "
                          "(the daemon appends to it as root)")
    token = get_path(data, "api.token_file")
    for i, provider in enumerate(get_path(data, "assist.providers") or []):
        key_file = provider.get("api_key_file") if isinstance(provider, dict) else None
        reason = key_file_problem(key_file, token) if key_file else None
        if reason:
            raise ConfigError(f"assist.providers.{i}.api_key_file: {reason}")


def key_file_problem(path: str, token_file: str | None = None) -> str | None:
    """None when ``path`` may hold an LLM API key: not the API token, owned by root, not readable by group/other.

    A file that does not exist yet passes (the provider reports it when it is used).
    """
    if token_file and (os.path.realpath(path) == os.path.realpath(token_file) or _same_file(path, token_file)):
        return f"{path} is the daemon's API token file (api.token_file); it is never sent to a provider"
    try:
        st = os.stat(path)
    except OSError:
        return None
    if st.st_uid not in (0, os.geteuid()):
        return f"{path} must be owned by root (it is owned by uid {st.st_uid})"
    if st.st_mode & 0o077:
        return f"{path} must not be readable by group or others (mode {st.st_mode & 0o777:04o}; chmod 600 it)"
    return None


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


#: Thresholds that only make sense in order (warning before critical); a swap would silence one.
ORDERED = (("findings.disk_usage_warning_percent", "findings.disk_usage_critical_percent"),
           ("findings.temperature_warning_c", "findings.temperature_critical_c"),
           ("findings.nvme_temperature_warning_c", "findings.nvme_temperature_critical_c"),
           ("alerts.forecast_critical_s", "alerts.forecast_warning_s"))

#: Keys that moved to another section: (old section, new section, keys). Files, environment
#: variables and settings forms written for the old place keep working.
MOVED = (("alerts", "findings", ("disk_usage_warning_percent", "disk_usage_critical_percent", "temperature_warning_c",
                                 "temperature_critical_c", "nvme_percentage_used_warning", "memory_warning_percent",
                                 "swap_warning_percent", "load_per_cpu_warning", "security_updates_min")),)


def migrate(data: dict) -> dict:
    """A copy of ``data`` with moved keys at their new place; a value given at the new place wins."""
    out = dict(data)
    for old, new, keys in MOVED:
        section = out.get(old)
        if not isinstance(section, dict) or not any(k in section for k in keys):
            continue
        target = out.get(new) if isinstance(out.get(new), dict) else {}
        out[old] = {k: v for k, v in section.items() if k not in keys}
        out[new] = {**{k: section[k] for k in keys if k in section}, **target}
    return out


def get_path(data: dict, dotted: str, default: Any = None) -> Any:
    """``data["a"]["b"]`` for ``"a.b"``, or ``default`` where a level is missing or not a mapping."""
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


@dataclass(frozen=True)
class DaemonAddress:
    """Where the daemon listens (``host``, ``port``) and the URL a client on this box reaches it at."""

    host: str
    port: int
    url: str


def daemon_address(listen: str) -> DaemonAddress:
    """Where is the daemon: ``api.listen`` as the address to bind and the URL to call.

    A wildcard bind (0.0.0.0, ::, empty) is reached on loopback; an IPv6 host is bracketed.
    The CLI, the daemon and the generated OMV proxy all take the answer from here.
    """
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    try:
        port_n = int(port)
    except ValueError:
        raise ConfigError(f"api.listen: {listen!r} has no port number (host:port)") from None
    if not 1 <= port_n <= 65535:
        raise ConfigError(f"api.listen: port {port_n} is out of range 1-65535")
    reach = "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else (f"[{host}]" if ":" in host else host))
    return DaemonAddress(host, port_n, f"http://{reach}:{port_n}")


class Config(dict):
    """The validated configuration; a dict plus where it came from."""

    path: str | None = None

    def get_path(self, dotted: str, default: Any = None) -> Any:
        return get_path(self, dotted, default)

    @property
    def data_dir(self) -> Path:
        return Path(self["data_dir"])

    @property
    def token_file(self) -> Path:
        return Path(self["api"]["token_file"])

    @property
    def daemon(self) -> DaemonAddress:
        return daemon_address(self["api"]["listen"])


def config_path(cli_path: str | None = None, environ: dict[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    return cli_path or environ.get(ENV_PATH) or DEFAULT_PATH


def load(path: str | None = None, *, environ: dict[str, str] | None = None, must_exist: bool | None = None) -> Config:
    """Load, merge and validate the configuration.

    A missing file is fine for the default path (defaults apply) but an error
    for a path the user named explicitly.
    """
    import yaml

    environ = dict(os.environ if environ is None else environ)
    explicit = path is not None or ENV_PATH in environ
    path = config_path(path, environ)
    file_data: dict = {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        if must_exist if must_exist is not None else explicit:
            raise ConfigError(f"{path}: config file does not exist") from None
        text = ""
    except (PermissionError, IsADirectoryError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.__class__.__name__})") from None
    try:
        loaded = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: top level must be a mapping of sections, not {type(loaded).__name__}")
    file_data = migrate(loaded)
    merged = _merge(_merge(defaults(), file_data), migrate(_env_overrides(environ)))
    validate(merged)
    config = Config(merged)
    config.path = path
    return config


def from_dict(data: dict) -> Config:
    """A validated configuration from a dict of overrides (tests, `make run`)."""
    merged = _merge(defaults(), migrate(data))
    validate(merged)
    return Config(merged)
