"""Load pattern YAML files, validating each against schema.yaml; bad files are reported, not fatal.

Why: one broken file shipped or dropped in by an admin must not take the whole
knowledge base down, and the admin needs file, pattern id, field and reason to fix it.
"""

from __future__ import annotations

import re
from pathlib import Path


from omv_copilot_agent.findings import CATALOGUE
from omv_copilot_agent.knowledge import diagnostics, fill
from omv_copilot_agent.knowledge.signals import unknown_ids

SCHEMA_PATH = Path(__file__).with_name("schema.yaml")
#: What a pattern id may be (schema.yaml's pattern_id pattern): checked before an id reaches a path or URL.
PATTERN_ID = re.compile(r"[a-z0-9][a-z0-9_-]{2,63}")
PATTERN_ID_RULE = "a pattern id is 3-64 characters of a-z, 0-9, '-' or '_'"
_SCHEMA: dict | None = None
_VALIDATOR = None  # a jsonschema.Draft7Validator, built on first use


def schema() -> dict:
    global _SCHEMA
    if _SCHEMA is None:
        import yaml

        _SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text())
    return _SCHEMA


#: What an old-style ``command:`` diagnostic is told: patterns name probes, they cannot hold commands.
COMMAND_REFUSED = ("patterns cannot run commands; name a catalogue probe instead, e.g. "
                   "'probe: smart-health' with 'params: {device: \"{device}\"}' (GET /api/v1/knowledge/probes lists them)")


def unknown_placeholder(name: str) -> str:
    """What a solution command's ``{word}`` that names no placeholder is told."""
    return (f"unknown placeholder '{{{name[:32]}}}': a solution command may name only "
            + ", ".join("{" + n + "}" for n in sorted(fill.SOLUTION_NAMES))
            + " (write other braces with a space inside, e.g. awk '{ print }')")


def validate(pattern) -> list[tuple[str, str]]:
    """(field, reason) for every schema violation of one pattern dict, and every diagnostic that could not run."""
    global _VALIDATOR
    if _VALIDATOR is None:
        import jsonschema  # here, not at import: the daemon validates in a child process (memory.in_child)

        _VALIDATOR = jsonschema.Draft7Validator(schema())
    validator = _VALIDATOR
    out = []
    steps = pattern.get("diagnostics") if isinstance(pattern, dict) else None
    steps = steps if isinstance(steps, list) else []
    with_command = {i for i, step in enumerate(steps) if isinstance(step, dict) and "command" in step}
    for err in sorted(validator.iter_errors(pattern), key=lambda e: list(map(str, e.absolute_path))):
        path = list(err.absolute_path)
        if path[:1] == ["diagnostics"] and len(path) == 2 and path[1] in with_command:
            continue  # reported once below, with what to write instead
        field = ".".join(str(p) for p in path) or "(root)"
        out.append((field, err.message[:300]))
    out += [(f"diagnostics.{i}.command", COMMAND_REFUSED) for i in sorted(with_command)]
    if not out:
        out += [("findings", f"unknown finding id '{fid}' (known: {', '.join(sorted(CATALOGUE))})") for fid in unknown_ids(pattern)]
        for i, step in enumerate(steps):
            out += [(f"diagnostics.{i}.{field}", reason[:300]) for field, reason in diagnostics.problems(step)]
        out += [(f"solutions.{i}.command", unknown_placeholder(name))
                for i, s in enumerate(pattern.get("solutions") or []) for name in fill.unknown_in_command(s.get("command"))]
    return out


def load_dir(directory: str | Path) -> tuple[dict[str, dict], list[dict]]:
    """(patterns by id, errors) for every *.yaml/*.yml file in ``directory``."""
    patterns, files, errors = load_files(Path(directory))
    check_related(patterns, {pid: path.name for pid, path in files.items()}, errors)
    return patterns, errors


def parse(text: str) -> tuple[object, str | None]:
    """(data, None) or (None, reason) for YAML text; the one safe parse the loader and the editor share.

    YAML is imported here, not with the module: the daemon parses its patterns in a child process
    (memory.in_child), so only an edit brings python3-yaml (~1 MiB) into it.
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's when there (Debian's is): parsing dominates
    try:
        return yaml.load(text, Loader=loader), None  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        return None, f"not valid YAML: {' '.join(str(exc).split())[:300]}"


def load_files(directory: Path, label=lambda path: path.name) -> tuple[dict[str, dict], dict[str, Path], list[dict]]:
    """(patterns, their files, errors) of one directory; ``label`` names a file in errors.

    Related ids are not checked here: a local overlay may refer to shipped patterns
    and the other way round, so that check runs once over the merged set.
    """
    patterns: dict[str, dict] = {}
    files: dict[str, Path] = {}
    errors: list[dict] = []
    if not directory.is_dir():
        errors.append({"file": str(directory), "pattern_id": None, "field": None, "reason": "patterns directory does not exist"})
    for path in sorted(list(directory.glob("*.yaml")) + list(directory.glob("*.yml"))):
        try:
            data, reason = parse(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, OSError) as exc:
            data, reason = None, f"not readable: {str(exc).splitlines()[0][:200]}"
        if reason:
            errors.append({"file": label(path), "pattern_id": None, "field": None, "reason": reason})
            continue
        pid = data.get("pattern_id") if isinstance(data, dict) else None
        problems = validate(data) if isinstance(data, dict) else [("(root)", "file must hold one mapping")]
        if problems:
            for field, reason in problems:
                errors.append({"file": label(path), "pattern_id": pid, "field": field, "reason": reason})
            continue
        if pid in patterns:
            errors.append({"file": label(path), "pattern_id": pid, "field": "pattern_id",
                           "reason": f"duplicate id, already defined in {label(files[pid])}"})
            continue
        for step in data["diagnostics"]:
            step["command"] = diagnostics.display(step)  # what users see; never what runs
        patterns[pid] = data
        files[pid] = path
    return patterns, files, errors


def check_related(patterns: dict[str, dict], labels: dict[str, str], errors: list[dict]) -> None:
    """Report and drop related_patterns ids that name no loaded pattern (a dangling link is not fatal)."""
    for pid, pattern in list(patterns.items()):
        missing = [r for r in pattern.get("related_patterns", []) if r not in patterns]
        if missing:
            errors.append({"file": labels[pid], "pattern_id": pid, "field": "related_patterns",
                           "reason": f"unknown pattern id(s): {', '.join(missing)}"})
            pattern["related_patterns"] = [r for r in pattern["related_patterns"] if r in patterns]
