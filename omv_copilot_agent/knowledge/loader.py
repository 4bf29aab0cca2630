"""Load pattern YAML files, validating each against schema.yaml; bad files are reported, not fatal.

Why: one broken file shipped or dropped in by an admin must not take the whole
knowledge base down, and the admin needs file, pattern id, field and reason to fix it.
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).with_name("schema.yaml")
_SCHEMA: dict | None = None
_VALIDATOR: jsonschema.Draft7Validator | None = None
#: libyaml's loader when python3-yaml has it (Debian's does): parsing dominates load time.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def schema() -> dict:
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text())
    return _SCHEMA


def validate(pattern) -> list[tuple[str, str]]:
    """(field, reason) for every schema violation of one pattern dict."""
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = jsonschema.Draft7Validator(schema())
    validator = _VALIDATOR
    out = []
    for err in sorted(validator.iter_errors(pattern), key=lambda e: list(map(str, e.absolute_path))):
        field = ".".join(str(p) for p in err.absolute_path) or "(root)"
        out.append((field, err.message[:300]))
    return out


def load_dir(directory: str | Path) -> tuple[dict[str, dict], list[dict]]:
    """(patterns by id, errors) for every *.yaml/*.yml file in ``directory``."""
    directory = Path(directory)
    patterns: dict[str, dict] = {}
    files: dict[str, str] = {}
    errors: list[dict] = []
    if not directory.is_dir():
        return {}, [{"file": str(directory), "pattern_id": None, "field": None, "reason": "patterns directory does not exist"}]
    for path in sorted(list(directory.glob("*.yaml")) + list(directory.glob("*.yml"))):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 (a safe loader)
        except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
            errors.append({"file": path.name, "pattern_id": None, "field": None, "reason": f"not valid YAML: {str(exc).splitlines()[0][:200]}"})
            continue
        pid = data.get("pattern_id") if isinstance(data, dict) else None
        problems = validate(data) if isinstance(data, dict) else [("(root)", "file must hold one mapping")]
        if problems:
            for field, reason in problems:
                errors.append({"file": path.name, "pattern_id": pid, "field": field, "reason": reason})
            continue
        if pid in patterns:
            errors.append({"file": path.name, "pattern_id": pid, "field": "pattern_id", "reason": f"duplicate id, already defined in {files[pid]}"})
            continue
        patterns[pid] = data
        files[pid] = path.name
    for pid, pattern in list(patterns.items()):
        missing = [r for r in pattern.get("related_patterns", []) if r not in patterns]
        if missing:
            errors.append({"file": files[pid], "pattern_id": pid, "field": "related_patterns",
                           "reason": f"unknown pattern id(s): {', '.join(missing)}"})
            pattern["related_patterns"] = [r for r in pattern["related_patterns"] if r in patterns]
    return patterns, errors
