"""A pattern's diagnostics: references to catalogue probes, checked, run in their sandbox, judged.

A diagnostic names a probe (omv_copilot_agent.probes) and gives its parameters,
either a literal value or a whole ``{name}`` placeholder the user fills in when
running it. A pattern therefore cannot introduce a command, an option or an
argument: the probe's argv template is fixed, and every value is checked
against the parameter's type before anything runs. A pattern's own regexes
(``filter``: keep matching lines; ``expected_output``: the healthy answer) run
in-process with python3-regex and a time bound, so a catastrophic expression
costs one diagnostic, not the daemon.
"""

from __future__ import annotations

import re
import shlex
import time

from omv_copilot_agent import probes, runner
from omv_copilot_agent.probes import verdict

PLACEHOLDER = re.compile(r"^\{([a-z_]{1,32})\}$")
_SHOWN_PLACEHOLDER = re.compile(r"\{[a-z_]{1,32}\}$")
#: Time one pattern regex may take over one diagnostic's output (python3-regex releases the GIL meanwhile).
REGEX_TIMEOUT_S = 0.5
DEFAULT_TIMEOUT_S = 15.0
DEFAULT_MAX_OUTPUT = 64 * 1024


def _regex():
    """python3-regex, imported on first use: only checking or running a diagnostic needs it, and
    the idle daemon would keep its ~2 MiB for good (docs/benchmarks.md, "nas")."""
    import regex

    return regex


def _flags() -> int:
    regex = _regex()
    return regex.IGNORECASE | regex.MULTILINE


#: programs that read a disk itself (not the kernel's view of it), spinning up one that sleeps
_DISK_READERS = ("smartctl", "hdparm", "badblocks", "dd", "blkid", "fdisk", "sfdisk", "parted", "nvme", "sg_inq")


def wakes_disks(argv) -> bool:
    """Would this probe (its argv or argv template) spin up a sleeping disk? Asked before running it, to say so.

    ``smartctl -n standby``/``-n idle`` and ``hdparm -C`` (power mode only) do not.
    """
    if not argv or argv[0] not in _DISK_READERS:
        return False
    args = list(argv[1:])
    if not any(a.startswith("/dev/") or "{" in a for a in args):
        return False
    if argv[0] == "smartctl" and any(a in ("standby", "idle") or a.startswith(("--nocheck=s", "--nocheck=i")) for a in args):
        return False
    return not (argv[0] == "hdparm" and args[:1] == ["-C"])


class RegexTimeout(Exception):
    """A pattern's regex did not finish within REGEX_TIMEOUT_S."""


def placeholders(diag: dict) -> list[str]:
    """The ``{name}`` parameters a diagnostic asks the user for."""
    values = diag.get("params") if isinstance(diag, dict) else None
    if not isinstance(values, dict):
        return []
    return sorted({m.group(1) for v in values.values() if isinstance(v, str) and (m := PLACEHOLDER.match(v))})


def problems(diag: dict) -> list[tuple[str, str]]:
    """(field, reason) for everything that stops ``diag`` from ever running: probe, parameters, regexes.

    Placeholders are checked by shape only (their value comes at run time); literal
    values are checked against the parameter's type now, so an admin learns at save time.
    """
    name, values = diag.get("probe"), diag.get("params") or {}
    try:
        probe = probes.get(name)
    except probes.UnknownProbe:
        return [("probe", f"unknown probe {str(name)[:64]!r}; patterns run only catalogue probes "
                          "(GET /api/v1/knowledge/probes lists them)")]
    if not isinstance(values, dict):
        return [("params", f"must be a mapping of probe {name!r}'s parameters")]
    out = []
    for param, value in values.items():
        if isinstance(value, str) and PLACEHOLDER.match(value) and param in probe.params:
            continue
        reason = probe.check_param(param, value)
        if reason:
            out.append((f"params.{param}", reason))
    out += [(f"params.{p}", f"probe {name!r} needs parameter {p!r} ({probes.TYPES[t].expected})")
            for p, t in probe.params.items() if p not in values]
    for key in ("filter", "expected_output"):
        if isinstance(diag.get(key), str):
            try:
                _regex().compile(diag[key], _flags())
            except _regex().error as exc:
                out.append((key, f"is not a valid regular expression: {exc}"))
    return out


def check_params(steps: list[dict], params: dict) -> list[tuple[str, str]]:
    """(parameter, reason) for every user value the pattern ``steps`` cannot take: unused name or wrong type."""
    out = []
    for name, value in params.items():
        feeds = [(step["probe"], param) for step in steps for param, v in (step.get("params") or {}).items()
                 if v == "{" + name + "}"]
        if not feeds:
            takes = sorted({n for step in steps for n in placeholders(step)})
            out.append((name, f"this pattern takes no parameter '{name}'" + (f" (it takes: {', '.join(takes)})" if takes else "")))
            continue
        for probe_name, param in feeds:
            reason = probes.get(probe_name).check_param(param, value)
            if reason:
                out.append((name, reason))
                break
    return out


def call(diag: dict, params: dict) -> probes.ProbeCall:
    """The probe call for ``diag`` with placeholders filled from ``params``; raises ParamError/UnknownProbe."""
    values = {}
    for param, value in (diag.get("params") or {}).items():
        m = PLACEHOLDER.match(value) if isinstance(value, str) else None
        if m:
            if m.group(1) not in params:
                raise probes.ParamError(f"needs parameter '{m.group(1)}' (probe {diag.get('probe')!r} argument {param!r})")
            value = params[m.group(1)]
        values[param] = value
    probes.render(diag.get("probe"), values)  # raises naming the probe and parameter
    return probes.ProbeCall(diag["probe"], values)


def display(diag: dict) -> str:
    """The command a user sees: the probe's argv with literal values and ``{placeholders}``, plus its filter."""
    probe = probes.get(diag["probe"])
    values = diag.get("params") or {}
    argv = list(probe.argv)
    for i, param, prefix in probe.slots():
        argv[i] = prefix + values.get(param, "{" + param + "}")
    text = " ".join(a if _SHOWN_PLACEHOLDER.search(a) else shlex.quote(a) for a in argv)
    if diag.get("filter"):
        text += f" | grep -i -E {shlex.quote(diag['filter'])}"
    return text


def search(pattern: str, text: str) -> bool:
    """Case-insensitive multiline search with a time bound; raises RegexTimeout, regex.error."""
    try:
        return _regex().search(pattern, text, _flags(), timeout=REGEX_TIMEOUT_S) is not None
    except TimeoutError:
        raise RegexTimeout(f"regex {pattern[:80]!r} took longer than {REGEX_TIMEOUT_S:g} s") from None


def filter_lines(pattern: str, text: str) -> str:
    """The lines of ``text`` that ``pattern`` matches, the whole filter within one time bound."""
    rx = _regex().compile(pattern, _flags())
    deadline = time.monotonic() + REGEX_TIMEOUT_S
    kept = []
    for line in text.splitlines():
        left = deadline - time.monotonic()
        try:
            if left <= 0:
                raise TimeoutError
            if rx.search(line, timeout=left):
                kept.append(line)
        except TimeoutError:
            raise RegexTimeout(f"filter {pattern[:80]!r} took longer than {REGEX_TIMEOUT_S:g} s") from None
    return "".join(line + "\n" for line in kept)


def not_run(diag: dict, error: str | None = None) -> dict:
    """The result of ``diag`` before (or instead of) running it: ``error`` says why it did not run (judged
    could_not_run with it)."""
    out = {"name": diag.get("name"), "probe": diag.get("probe"), "command": diag.get("command") or "", "argv": None,
           "returncode": None, "stdout": "", "stderr": "", "duration_s": 0.0, "timed_out": False, "truncated": False,
           "error": error, "ok": False, "matched_expected": None, "expected_output": diag.get("expected_output")}
    if error:
        out.update(verdict.judge(out))
    return out


def run_step(diag: dict, params: dict, *, timeout: float = DEFAULT_TIMEOUT_S, max_output: int = DEFAULT_MAX_OUTPUT) -> dict:
    """Run one diagnostic, judged: ``state`` ok | problem | could_not_run, ``reason``, one-line ``reading``
    (probes/verdict.py); a refusal comes back with ``error`` set and nothing run."""
    out = _run_step(diag, params, timeout=timeout, max_output=max_output)
    try:
        probe = probes.get(diag.get("probe"))
    except probes.UnknownProbe:
        probe = None
    out.update(verdict.judge(out, probe))
    return out


def _run_step(diag: dict, params: dict, *, timeout: float, max_output: int) -> dict:
    out = not_run(diag)
    try:
        probe_call = call(diag, params or {})
        if not out["command"]:
            out["command"] = display(diag)
    except (probes.ParamError, probes.UnknownProbe) as exc:
        out["error"] = f"refused: {exc}"
        return out
    result = runner.run_probe(probe_call, timeout=timeout, max_output=max_output)
    shown_filter = ["|", "grep", "-i", "-E", diag["filter"]] if diag.get("filter") else []
    out.update(argv=result.argv + shown_filter, returncode=result.returncode, stdout=result.stdout, stderr=result.stderr,
               duration_s=result.duration_s, timed_out=result.timed_out, truncated=result.truncated, error=result.error)
    if result.error is not None:
        return out
    out["ok"] = result.returncode in probes.get(probe_call.name).ok_exit_codes
    try:
        if diag.get("filter"):
            out["stdout"] = filter_lines(diag["filter"], out["stdout"])
        if diag.get("expected_output"):
            out["matched_expected"] = search(diag["expected_output"], out["stdout"])
    except (RegexTimeout, _regex().error) as exc:
        out["ok"], out["error"] = False, f"judging the output failed: {exc}"
    return out


def matches_expected(expected: str, output: str) -> bool | None:
    """Whether ``output`` shows the healthy answer ``expected``; None when the regex is too slow.

    A string that does not compile is taken as a plain substring (the loader refuses
    such patterns, so this only serves callers judging text of their own).

    A healthy-state check can be a negative look-ahead over the whole output, e.g.
    ``\\A(?![\\s\\S]*: inactive)`` passes only when no md array is inactive.
    """
    try:
        return search(expected, output)
    except _regex().error:
        return expected.lower() in output.lower()
    except RegexTimeout:
        return None
