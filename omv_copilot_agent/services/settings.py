"""The editable config sections; secrets are write-only.

Reading shows each secret (``api_key``, ``*token*``, ``*password*``, ``*secret*``) as
``null`` plus ``<name>_set: true|false``. Saving takes a partial ``{section: {key:
value}}``; a secret left out, null or empty keeps its current value (providers
are matched by ``name``). The merged config is validated as a whole (400 naming
the key), written back to the config file atomically with its mode kept, and
``events.CONFIG_CHANGED`` subscribers are told. Network exposure (``api``) and ``data_dir``
are not editable here on purpose: they need a restart and root's intent.
"""

from __future__ import annotations

import copy
import os
import re
import tempfile
from pathlib import Path

from omv_copilot_agent.events import CONFIG_CHANGED
from omv_copilot_agent.services.call import Call
from omv_copilot_agent.services.errors import invalid, unavailable

EDITABLE = ("assist", "findings", "alerts", "notifications", "collect", "knowledge", "logging")
#: Settings read once at start (thread pools, the source list, logging handlers): saved at once,
#: applied by the next start — the answer lists them so nobody waits for a change that is not coming.
RESTART_KEYS = ("assist.workers", "assist.max_queued_jobs", "collect.disabled_sources", "logging")


def _restart_required(old: dict, new: dict) -> list[str]:
    from omv_copilot_agent.config import get_path

    return [key for key in RESTART_KEYS if get_path(old, key) != get_path(new, key)]


SECRET_WORDS = ("api_key", "token", "password", "secret")


def is_secret(key: str) -> bool:
    key = key.lower()
    return any(w in key for w in SECRET_WORDS) and not key.endswith(("_file", "_set"))


def public(node):
    """Secrets → null + ``<key>_set``."""
    if isinstance(node, list):
        return [public(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if is_secret(key) and not isinstance(value, (dict, list)):
            out[key] = None
            out[f"{key}_set"] = bool(value)
        else:
            out[key] = public(value)
    return out


def _strip_set_flags(node):
    if isinstance(node, list):
        return [_strip_set_flags(v) for v in node]
    if not isinstance(node, dict):
        return node
    return {k: _strip_set_flags(v) for k, v in node.items() if not (k.endswith("_set") and is_secret(k[:-4]))}


def _keep_secrets(new, old):
    """Fill secrets the client left empty from the current values (lists of providers by name)."""
    if isinstance(new, dict) and isinstance(old, dict):
        out = {}
        for key, value in new.items():
            if is_secret(key) and value in (None, "") and old.get(key):
                out[key] = old[key]
            else:
                out[key] = _keep_secrets(value, old.get(key))
        for key, value in old.items():
            if is_secret(key) and key not in out and value:
                out[key] = value
        return out
    if isinstance(new, list) and isinstance(old, list):
        by_name = {o.get("name"): o for o in old if isinstance(o, dict) and o.get("name")}
        return [_keep_secrets(v, by_name.get(v.get("name")) if isinstance(v, dict) else None) for v in new]
    return new


MAX_DEPTH = 6


def _depth(node) -> int:
    """Nesting depth, iteratively (a hostile body must not hit Python's recursion limit)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            return level
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def current(call: Call) -> dict:
    cfg = call.agent.config
    return {name: copy.deepcopy(cfg.get(name)) for name in EDITABLE if name in cfg}


def get_settings(call: Call) -> dict:
    return {"settings": public(current(call)), "editable": [s for s in EDITABLE if s in call.agent.config],
            "path": call.agent.config.path}


def set_settings(call: Call) -> dict:
    from omv_copilot_agent.config import migrate

    return save(call, migrate(call.body()))


def save(call: Call, body: dict) -> dict:
    """Merge ``body`` ({section: {key: value}}) into the config, validate, write, tell the listeners."""
    cfg = call.agent.config
    for section, value in body.items():
        if section not in EDITABLE or section not in cfg:
            raise invalid(f"{call.field(section)}: not an editable section (editable: {', '.join(EDITABLE)})", "invalid_body")
        if not isinstance(value, dict):
            raise invalid(f"{call.field(section)}: must be an object of settings", "invalid_body")
        if _depth(value) > MAX_DEPTH:
            raise invalid(f"{call.field(section)}: nested deeper than any setting ({MAX_DEPTH} levels)", "invalid_body")
    body = _strip_set_flags(body)
    from omv_copilot_agent.config import ConfigError, _merge, validate

    merged = copy.deepcopy(dict(cfg))
    for section, value in body.items():
        merged[section] = _keep_secrets(_merge(merged[section], value), cfg[section])
    try:
        validate(merged)
    except ConfigError as exc:
        raise invalid(f"setting {exc}", "invalid_setting") from None
    if cfg.path:
        _write(Path(cfg.path), {s: merged[s] for s in body})
    restart = _restart_required(dict(cfg), merged)
    cfg.clear()
    cfg.update(merged)
    call.agent.events.publish(CONFIG_CHANGED, copy.deepcopy(merged))
    return {"settings": public(current(call)), "saved": bool(cfg.path), "restart_required": restart}


def _write(path: Path, sections: dict) -> None:
    """Replace ``sections`` in the YAML file, atomically; mode 0600 if new, else the old one without other/group-write bits."""
    import yaml

    from omv_copilot_agent.config import defaults

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
        data = data if isinstance(data, dict) else {}
        # It may hold API keys: never world-readable, never group-writable (0640 at most, 0600 if new).
        mode = path.stat().st_mode & 0o640 if path.exists() else 0o600
        default = defaults()
        for section, values in sections.items():
            # Only what differs from the defaults, or was in the file already: a saved form must
            # not pin every default, or a later package's better default would never reach this box.
            before = data.get(section) if isinstance(data.get(section), dict) else {}
            data[section] = {k: v for k, v in values.items() if k in before or v != default.get(section, {}).get(k)}
        fd, tmp = tempfile.mkstemp(prefix=".config-", dir=str(path.parent))
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                yaml.safe_dump(data, fh, sort_keys=False, default_flow_style=False)
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, yaml.YAMLError) as exc:
        raise unavailable("settings_not_saved", f"cannot write {path}: {getattr(exc, 'strerror', None) or exc.__class__.__name__}") from None


# -- the settings as one flat form (OMV's formPage) --------------------------------------------

def _text(value) -> str:
    """A scalar as a form shows it ('' for none, '1'/'' for yes/no, 1.0 as '1')."""
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


#: Sections the flat form does not show (see form()).
FORM_HIDDEN = ("notifications",)


def form(call: Call) -> dict:
    """The settings flattened for a form: ``section__key`` scalars, lists of scalars as 'a, b'.

    Webhooks are one URL per line. Mappings and lists of mappings are left out: the LLM
    providers are an ordered list with their own page (services/providers.py). The older
    ``notifications`` switches are left out too: ``alerts.email``/``alerts.webhooks`` are the
    one place for them on the form (the alert engine still honours a config that sets them).
    """
    settings = get_settings(call)["settings"]
    flat: dict = {}
    for section, values in settings.items():
        if not isinstance(values, dict) or section in FORM_HIDDEN:
            continue
        for key, value in values.items():
            if isinstance(value, dict):  # a mapping (alerts.policies), even an empty one, has no form field
                continue
            if isinstance(value, list):
                items = list(value)
                if items and isinstance(items[0], (dict, list)):
                    continue
                value = ", ".join(_text(v) for v in items)
            flat[f"{section}__{key}"] = value
    hooks = (settings.get("alerts") or {}).get("webhooks") or []
    flat["alerts__webhooks"] = "\n".join(_text(h.get("url")) if isinstance(h, dict) else _text(h) for h in hooks)
    return flat


def _typed_like(old, value):
    """A form value typed like the setting's current value (lists split at ',' or newlines)."""
    if isinstance(old, list):
        return [part.strip() for part in re.split(r"[,\n]", _text(value)) if part.strip()]
    if isinstance(old, bool):
        return value is True or _text(value).strip().lower() in ("1", "true", "on", "yes", "y")
    if isinstance(old, int) and _numeric(value) and float(value) == int(float(value)):
        return int(float(value))
    if isinstance(old, float) and _numeric(value):
        return float(value)
    if old is None and value == "":
        return None
    return value


def _numeric(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    try:
        float(str(value).strip())
        return str(value).strip() != ""
    except ValueError:
        return False


def set_form(call: Call) -> dict:
    """Save the form: each field typed like the current value.

    Webhook URLs keep the other fields of a hook with the same URL. The whole config is
    validated as usual.
    """
    params = call.body()
    settings = get_settings(call)["settings"]
    current_form = form(call)
    body: dict = {}
    unknown = sorted(set(params) - set(current_form))
    if unknown:
        raise invalid(f"{call.unknown_field(unknown[0])}: not a field of the settings form", "invalid_body")
    for key, value in params.items():
        if "__" not in key or key == "alerts__webhooks":
            continue
        section, name = key.split("__", 1)
        old = (settings.get(section) or {}).get(name)
        body.setdefault(section, {})[name] = _typed_like(old, value)
    if "alerts__webhooks" in params and "alerts" in settings:
        by_url = {h["url"]: h for h in settings["alerts"].get("webhooks") or [] if isinstance(h, dict) and "url" in h}
        body.setdefault("alerts", {})["webhooks"] = [by_url.get(url, {"url": url})
                                                     for url in re.split(r"\s+", _text(params["alerts__webhooks"])) if url]
    save(call, body)
    return form(call)
