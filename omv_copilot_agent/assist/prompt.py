"""Prompt assembly from jinja2 templates in the top-level ``prompts/`` directory.

System state is cut to a budget (characters, and the model's tokens where its server can
count them) most relevant section first: a section that does not fit loses rows, then long
values, before it is left out, so the most relevant state always reaches the model and the
JSON sent is always valid (never cut in half).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Callable, NamedTuple

from omv_copilot_agent import paths

#: Template search path: the source tree's prompts/ when this code runs from a checkout (so a
#: package installed on the same machine never shadows the code under test), then the installed
#: copy (/usr/share/omv-copilot/prompts, debian/rules). Looked up per template, not at import.
PROMPTS_DIRS = [str(paths.REPO / "prompts"), str(paths.INSTALLED / "prompts")]

#: Sources in order of relevance per context (first = keep longest).
RELEVANCE = {
    "storage": ("storage", "smart", "system", "logs", "services", "omv", "network", "apt"),
    "network": ("network", "services", "system", "logs", "omv", "storage", "smart", "apt"),
    "service": ("services", "logs", "omv", "network", "system", "storage", "smart", "apt"),
    "performance": ("system", "storage", "services", "logs", "network", "smart", "omv", "apt"),
    "security": ("omv", "services", "logs", "network", "system", "apt", "storage", "smart"),
    "general": ("system", "storage", "services", "smart", "network", "logs", "omv", "apt"),
}


@lru_cache(maxsize=1)
def _env():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(PROMPTS_DIRS), autoescape=False,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def state_sections(snapshot) -> dict:
    if snapshot is None:
        return {}
    out = {}
    for name, result in snapshot.sources.items():
        out[name] = {"status": result.status, "data": result.data} if getattr(result, "status", "ok") != "ok" else result.data
    return out


class State(NamedTuple):
    """The state as sent: JSON text, sections in it (most relevant first), sections left out,
    sections cut down to fit (rows or long values left out)."""

    text: str
    kept: list[str]
    dropped: list[str]
    trimmed: list[str]


#: Sections whose lists hold the newest rows last (the journal): trimming keeps the tail.
NEWEST_LAST = frozenset({"logs"})
_UNLIMITED = 1 << 30
#: Fields kept longest when an object must lose some: what names a thing and its state, and the
#: lists of things a question is usually about (the rest follow alphabetically).
FIELDS_FIRST = ("name", "device", "devicefile", "mountpoint", "state", "status", "percent", "passed", "active_state",
                "users", "smb_shares", "shared_folders", "nfs_shares", "services", "filesystems", "raid", "disks",
                "units", "interfaces", "entries", "counts")


def _field_rank(item) -> tuple:
    key = str(item[0])
    return (FIELDS_FIRST.index(key) if key in FIELDS_FIRST else len(FIELDS_FIRST), key)


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), default=str, sort_keys=True, ensure_ascii=False)


def _shrink(value, rows: int, chars: int, keys: int, tail: bool):
    """``value`` without empty fields, every list cut to ``rows`` rows (plus a "+N more" note),
    every object to its first ``keys`` fields, every string to ``chars`` characters: valid JSON
    whatever the cut."""
    if isinstance(value, list):
        part = value[-rows:] if tail and rows else value[:rows]
        out = [_shrink(v, rows, chars, keys, tail) for v in part]
        if len(value) > rows:
            out.append(f"+{len(value) - rows} more")
        return out
    if isinstance(value, dict):
        full = sorted(((k, v) for k, v in value.items() if v not in (None, "", [], {})), key=_field_rank)
        out = {k: _shrink(v, rows, chars, keys, tail) for k, v in full[:keys]}
        if len(full) > keys:
            out["…"] = f"+{len(full) - keys} more fields"
        return out
    if isinstance(value, str) and len(value) > chars:
        return value[:chars] + "…"
    return value


def _extent(value) -> tuple[int, int, int]:
    """(longest list, longest string, most fields) anywhere in ``value``."""
    if isinstance(value, (list, dict)):
        items = value if isinstance(value, list) else list(value.values())
        inner = [_extent(v) for v in items] or [(0, 0, 0)]
        rows = len(value) if isinstance(value, list) else 0
        fields = len(value) if isinstance(value, dict) else 0
        return (max([rows] + [e[0] for e in inner]), max(e[1] for e in inner), max([fields] + [e[2] for e in inner]))
    return 0, len(value) if isinstance(value, str) else 0, 0


def _largest(low: int, high: int, fits) -> int | None:
    """The largest n in [low, high] with fits(n) (fits is monotone), or None."""
    best = None
    while low <= high:
        mid = (low + high) // 2
        if fits(mid):
            best, low = mid, mid + 1
        else:
            high = mid - 1
    return best


def compact(value, limit: int, tail: bool = False) -> tuple[str | None, bool]:
    """(JSON of ``value`` in ≤ ``limit`` characters or None, whether it was cut). Empty fields
    go first, then rows (fewer per list), then fields (shorter strings, then fewer per object)."""
    full = _dumps(value)
    if len(full) <= limit:
        return full, False
    most_rows, longest_text, most_fields = _extent(value)
    big = _UNLIMITED

    def dump(rows, chars, keys):
        return _dumps(_shrink(value, rows, chars, keys, tail))

    def fits(rows, chars, keys):
        return len(dump(rows, chars, keys)) <= limit

    rows = _largest(1, most_rows, lambda r: fits(r, big, big))
    if rows is not None:
        return dump(rows, big, big), True
    chars = _largest(8, longest_text, lambda c: fits(1, c, big))
    if chars is not None:
        return dump(1, chars, big), True
    keys = _largest(1, most_fields, lambda k: fits(1, 8, k))
    if keys is not None:
        return dump(1, 8, keys), True
    return None, True


def _fit_chars(sections: dict, order: list[str], budget: int) -> State:
    """Most relevant first; a section that does not fit whole gets at most half of what is left
    (so the next ones still get some), cut inside; what is left over goes back to the cut ones."""
    parts: dict[str, str] = {}
    trimmed: list[str] = []
    remaining = budget - 2  # the braces
    for i, name in enumerate(order):
        overhead = len(json.dumps(name)) + 1 + (1 if parts else 0)
        room = remaining - overhead
        share = room if i == len(order) - 1 else room // 2
        text, cut = _dumps(sections[name]), False
        if len(text) > room:
            text, cut = compact(sections[name], share, name in NEWEST_LAST)
        if text is None:
            continue
        parts[name] = text
        remaining -= overhead + len(text)
        if cut:
            trimmed.append(name)
    for name in list(trimmed):  # give what the smaller sections left back to the cut ones
        grown, cut = compact(sections[name], len(parts[name]) + remaining, name in NEWEST_LAST)
        if grown is not None and len(grown) > len(parts[name]):
            remaining -= len(grown) - len(parts[name])
            parts[name] = grown
            if not cut:
                trimmed.remove(name)
    kept = [n for n in order if n in parts]
    text = "{" + ",".join(f"{json.dumps(n)}:{parts[n]}" for n in kept) + "}" if kept else ""
    return State(text, kept, [n for n in order if n not in parts], [n for n in kept if n in trimmed])


def budget_state(sections: dict, context: str, budget: int, tokens: int | None = None,
                 count: Callable[[str], int | None] | None = None) -> State:
    """The state in ≤ ``budget`` characters and, when the model's tokenizer is at hand
    (``count``), in ≤ ``tokens`` of its tokens. Nothing is cut in half: sections are cut by
    rows, then by long values, and dropped whole only when even that does not fit."""
    order = [s for s in RELEVANCE.get(context, RELEVANCE["general"]) if s in sections]
    order += [s for s in sections if s not in order]
    state = _fit_chars(sections, order, budget)
    if tokens is None or count is None:
        return state
    for _ in range(4):  # characters per token differ by content: measure, rescale, measure again
        used = count(state.text) if state.text else 0
        if used is None or used <= tokens:
            return state
        budget = max(0, int(len(state.text) * tokens / used * 0.95))
        state = _fit_chars(sections, order, budget)
    return state


def build(context: str, query: str, state: State, patterns: list[dict], diagnostics: list[dict]) -> dict:
    """{system, user, state_sections, dropped, trimmed} for a state cut by :func:`budget_state`."""
    env = _env()
    system = env.get_template(f"{context}.j2").render()
    user = env.get_template("frame.j2").render(state=state.text, state_sections=state.kept, dropped=state.dropped,
                                               trimmed=state.trimmed, patterns=patterns, diagnostics=diagnostics,
                                               query=query)
    return {"system": system.strip(), "user": user.strip(), "state_sections": state.kept, "dropped": state.dropped,
            "trimmed": state.trimmed}


NO_STATE = State("", [], [], [])


def direct(query: str) -> dict:
    return {"system": "You are a helpful assistant for OpenMediaVault administrators. Answer plainly.", "user": query,
            "state_sections": [], "dropped": [], "trimmed": []}
