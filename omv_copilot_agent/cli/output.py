"""Plain-text tables, wrapped prose and JSON output for CLI commands (no colour libraries).

What the CLI prints comes largely from elsewhere (LLM answers, log lines, disk and share
names), so every byte written goes through :class:`SafeStream`: terminal control
sequences are removed — an OSC 52 in an answer would otherwise fill the clipboard with a
command, a CSI could hide or repaint lines, a bidi override could reorder a command.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Iterable, Sequence

#: ESC sequences (OSC/DCS/APC/PM/SOS strings, CSI, two-byte), 8-bit CSI/OSC, C0/C1 controls but \t \n,
#: and Unicode bidi overrides/isolates.
_CONTROL = re.compile(r"\x1b[\]P^_X][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b\[[0-?]*[ -/]*[@-~]?|\x1b[ -/]*[0-~]?"
                      r"|\x9b[0-?]*[ -/]*[@-~]?|[\x90\x9d\x9e\x9f][^\x07\x1b\x9c]*[\x07\x9c]?|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: str, keep: str = "") -> str:
    """``text`` without terminal control sequences (characters in ``keep``, e.g. ``"\\r"``, stay)."""
    return _CONTROL.sub(lambda m: m.group(0) if m.group(0) in keep else "", text)


class SafeStream:
    """A text stream that writes :func:`clean` text; everything else is the wrapped stream's."""

    def __init__(self, stream, keep: str = ""):
        self.stream, self.keep = stream, keep

    def write(self, text: str) -> int:
        self.stream.write(clean(text, self.keep))
        return len(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)


def print_json(data) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def show(args, data, render, code: int = 0) -> int:
    """Print a command's answer: as JSON with ``--json``, else as ``render(data)``; return ``code``."""
    if args.json:
        print_json(data)
    else:
        print(render(data))
    return code


def table(headers: Sequence[str], rows: Iterable[Sequence], *, title: str | None = None) -> str:
    rows = [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = []
    if title:
        lines.append(title)
    lines.append("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    if not rows:
        lines.append("(none)")
    return "\n".join(lines)


def human_bytes(value) -> str:
    if value is None:
        return "-"
    value = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(value)


def width(stream=None, fallback: int = 100) -> int:
    """The width to wrap prose at for ``stream`` (``sys.stdout`` when None): ``COLUMNS`` when it is set
    to a positive number, else the width of the terminal ``stream`` writes to, else ``fallback`` (the
    stream is a pipe, a file or a test's); never under 60 columns, so a narrow window still gets lines
    worth reading.

    ``COLUMNS`` wins for every stream, stderr's notices included: whoever runs
    ``COLUMNS=60 omv-copilot ask ... 2>&1 | less`` asked for 60 columns for all of it, and the notices
    land in the same pager as the answer. Off a terminal without ``COLUMNS`` each caller keeps its own
    fallback (the answer 100, a notice 80)."""
    import os

    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size((stream or sys.stdout).fileno()).columns
        except (AttributeError, OSError, ValueError):  # not a terminal, or a stream without a file (a test's)
            columns = 0
    return max(60, columns or fallback)


def wrap(text: str, indent: str, width: int, first: str | None = None) -> list[str]:
    """``text`` wrapped at ``width`` with every line indented (its paragraphs kept); ``first`` replaces
    the first line's indent (a list bullet). Words are never broken, so a path or a unit name stays whole,
    and neither is a step of a web UI path ("Storage > Disks"): a line that starts with "> Disks" reads as
    a quote or a shell prompt, not as the rest of a menu path."""
    import textwrap

    out: list[str] = []
    for para in str(text).split("\n"):
        lines = textwrap.wrap(para.replace(" > ", _GLUED), width=width,
                              initial_indent=first if first is not None and not out else indent, subsequent_indent=indent,
                              break_long_words=False, break_on_hyphens=False) or [indent]
        out += [line.replace(_GLUED, " > ") for line in lines]
    return out


#: " > " of a web UI path while wrapping: the same width, no space to break at.
_GLUED = "\x1f>\x1f"
