"""Check and store an admin's pattern edits in the local overlay directory.

Why a separate module: the REST API (PUT/validate), the CLI (``patterns validate``)
and the loader must agree on what a valid pattern is, so the rules live here once —
the schema, the id the file is stored under, and related ids that must exist.
Shipped patterns (in /usr/share, owned by the package) are never written; an edit
is a file in the overlay that shadows the shipped one until it is deleted.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


from omv_copilot_agent.knowledge import loader

#: Largest pattern text accepted (the biggest shipped pattern is a few KiB).
MAX_YAML_BYTES = 65536
#: Keys the API adds to a pattern it answers with; an editor that sends a fetched pattern back drops them.
DERIVED_KEYS = ("source", "overrides_shipped", "parameters", "yaml")
#: Package-owned trees an overlay must never be written into.
READ_ONLY_ROOTS = (Path("/usr/share"), Path("/usr/lib"))


class OverlayUnavailable(Exception):
    """The overlay directory cannot be created or written (message names the directory)."""


def problem(field: str, reason: str) -> dict:
    return {"field": field, "reason": reason}


def parse_text(text: object) -> tuple[dict | None, list[dict]]:
    """(mapping, []) or (None, problems) for the editor's YAML text: size cap, safe parse, one mapping."""
    if not isinstance(text, str):
        return None, [problem("yaml", "must be a string holding the pattern's YAML")]
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_YAML_BYTES:
        return None, [problem("yaml", f"is {size} bytes; the limit is {MAX_YAML_BYTES} bytes")]
    if not text.strip():
        return None, [problem("yaml", "is empty; paste or write the pattern's YAML")]
    data, reason = loader.parse(text)
    if reason:
        return None, [problem("yaml", reason)]
    if not isinstance(data, dict):
        return None, [problem("(root)", "the YAML must be one mapping (pattern_id: …, title: …)")]
    return data, []


def check(data: dict, known_ids: set[str] | frozenset[str], expected_id: str | None = None) -> list[dict]:
    """Every problem of one pattern: schema violations, id ≠ the id it is stored under, unknown related ids."""
    problems = [problem(field, reason) for field, reason in loader.validate(data)]
    pid = data.get("pattern_id")
    if expected_id is not None and isinstance(pid, str) and pid != expected_id:
        problems.append(problem("pattern_id", f"is '{pid[:64]}' but the pattern is saved as '{expected_id}'; "
                                              "they must be equal (a new id is a new pattern)"))
    related = data.get("related_patterns")
    if isinstance(related, list):
        known = set(known_ids) | ({pid} if isinstance(pid, str) else set())
        missing = [r for r in related if isinstance(r, str) and r not in known]
        if missing:
            problems.append(problem("related_patterns", f"unknown pattern id(s): {', '.join(m[:64] for m in missing)}"))
    return problems


def validate_text(text: object, known_ids, expected_id: str | None = None) -> tuple[dict | None, list[dict]]:
    """(pattern, problems) for YAML text; pattern is None when it could not be parsed."""
    data, problems = parse_text(text)
    if data is None:
        return None, problems
    return data, check(data, known_ids, expected_id)


def from_mapping(pattern: dict) -> tuple[str, dict]:
    """(YAML text, pattern) for a pattern sent as JSON, without the keys the API itself adds."""
    data = {k: v for k, v in pattern.items() if k not in DERIVED_KEYS}
    if isinstance(data.get("diagnostics"), list):
        # The API shows each probe diagnostic's rendered command; a fetched pattern sent back drops it
        # (a step with a command and no probe stays, and is refused with what to write instead).
        data["diagnostics"] = [{k: v for k, v in step.items() if k != "command"}
                               if isinstance(step, dict) and "probe" in step else step for step in data["diagnostics"]]
    import yaml  # here: only an edit needs it (knowledge/loader.parse)

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True), data


def ensure_writable(directory: Path) -> Path:
    """Create the overlay directory on first write; refuse package-owned trees."""
    directory = Path(directory)
    resolved = directory.resolve()
    if any(resolved == root or root in resolved.parents for root in READ_ONLY_ROOTS):
        raise OverlayUnavailable(f"local patterns directory {directory} is package-owned and read-only; "
                                 "set knowledge.local_patterns_dir to a writable directory")
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o755)
    except OSError as exc:
        raise OverlayUnavailable(f"cannot create local patterns directory {directory}: {exc.strerror or exc}") from None
    if not directory.is_dir() or not os.access(directory, os.W_OK | os.X_OK):
        raise OverlayUnavailable(f"local patterns directory {directory} is not writable by the agent")
    return directory


def write_atomic(directory: Path, pattern_id: str, text: str) -> Path:
    """Write ``<directory>/<id>.yaml`` via a tmp file + os.replace, so a reader never sees half a file."""
    directory = ensure_writable(directory)
    target = directory / f"{pattern_id}.yaml"
    if not text.endswith("\n"):
        text += "\n"
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{pattern_id}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OverlayUnavailable(f"cannot write in local patterns directory {directory}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OverlayUnavailable(f"cannot write {target}: {exc.strerror or exc}") from None
    return target


def remove(paths: list[Path]) -> bool:
    """Delete these overlay files; False when none of them existed."""
    found = False
    for path in paths:
        if path.is_file():
            try:
                path.unlink()
            except OSError as exc:
                raise OverlayUnavailable(f"cannot delete {path}: {exc.strerror or exc}") from None
            found = True
    return found
