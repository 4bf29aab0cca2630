"""What a probe's result means: ok, problem found, or could not run (and why), in one line.

Why: a non-zero exit alone says nothing an admin can act on. "smartctl is not
installed", "needs parameter device", "no bonding interface here" and "SMART
says FAILED" all used to show as "fail". The catalogue's per-probe ``readings``
(catalogue.yaml) name the healthy and unhealthy answers of a probe's output;
generic rules cover the rest (missing tool, missing parameter, timeout, exit
codes outside the probe's ``ok_exit_codes``, a pattern's ``expected_output``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The three states a result is shown in.
OK, PROBLEM, COULD_NOT_RUN = "ok", "problem", "could_not_run"
STATES = (OK, PROBLEM, COULD_NOT_RUN)
#: Why a probe could not run.
REASONS = ("not_installed", "needs_parameter", "bad_parameter", "not_applicable", "timed_out", "refused", "failed_to_run")

_NEEDS = re.compile(r"needs parameter '?([a-z_]+)'?")
_BAD_PARAM = re.compile(r"parameter '([a-z_]+)': (.*)")
READING_CHARS = 160


@dataclass(frozen=True)
class Reading:
    """A catalogue rule: when the output matches ``match`` (or the exit code is ``exit``, or the output is
    ``empty``), the result is ``state`` (ok | problem | not_applicable) and reads ``text``
    (``{match}`` is the matched text)."""

    state: str
    text: str
    match: str | None = None
    exit: int | None = None
    empty: bool | None = None

    def applies(self, returncode: int | None, output: str) -> str | None:
        """The matched text (or "" for an exit/empty rule) when this rule applies, else None."""
        if self.exit is not None and returncode != self.exit:
            return None
        if self.empty is not None and (not output.strip()) != self.empty:
            return None
        if self.match is not None:
            m = re.search(self.match, output, re.IGNORECASE | re.MULTILINE)
            return m.group(0).strip() if m else None
        return ""


def parse_readings(name: str, raw) -> tuple[Reading, ...]:
    """The ``readings`` list of catalogue entry ``name``; raises ValueError naming what is wrong."""
    out = []
    for i, rule in enumerate(raw or ()):
        if not isinstance(rule, dict) or rule.get("state") not in (OK, PROBLEM, "not_applicable") or not rule.get("text"):
            raise ValueError(f"catalogue: probe {name} readings[{i}] needs state (ok|problem|not_applicable) and text")
        if not any(k in rule for k in ("match", "exit", "empty")):
            raise ValueError(f"catalogue: probe {name} readings[{i}] needs match, exit or empty")
        if rule.get("match") is not None:
            re.compile(rule["match"])
        out.append(Reading(state=rule["state"], text=str(rule["text"]), match=rule.get("match"),
                           exit=rule.get("exit"), empty=rule.get("empty")))
    return tuple(out)


#: Rules every probe shares, after its own: tools that need what this box does not run.
GENERIC = (Reading(state="not_applicable", text="systemd is not running as PID 1 here",
                   match="System has not been booted with systemd|Failed to connect to bus"),
           Reading(state="not_applicable", text="Docker is installed but not running here",
                   match="Cannot connect to the Docker daemon"))


def _first_line(text: str) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            line = " ".join(line.split())
            return line if len(line) <= READING_CHARS else line[:READING_CHARS - 1] + "…"
    return ""


def _could_not(reason: str, reading: str) -> dict:
    return {"state": COULD_NOT_RUN, "reason": reason, "reading": reading}


def judge(result: dict, probe=None) -> dict:
    """``{state, reason, reading}`` of a probe ``result`` (runner.CommandResult.to_dict(), or a
    diagnostic step with ``matched_expected``/``expected_output``); ``probe`` is its catalogue entry
    when known (its ``ok_exit_codes`` and ``readings``)."""
    error, code = result.get("error"), result.get("returncode")
    tool = (result.get("argv") or [probe.binary if probe else "the command"])[0]
    if error:
        if m := _NEEDS.search(error):
            return _could_not("needs_parameter", f"needs parameter {m.group(1)}: fill it in and run again")
        if error.startswith("refused:") and (m := _BAD_PARAM.search(error)):
            return _could_not("bad_parameter", f"parameter {m.group(1)}: {_first_line(m.group(2))}")
        if "is not installed" in error:
            return _could_not("not_installed", f"{tool} is not installed on this box")
        if result.get("timed_out"):
            return _could_not("timed_out", _first_line(error))
        if error.startswith("refused:"):
            return _could_not("refused", _first_line(error[len("refused:"):]))
        return _could_not("failed_to_run", _first_line(error))
    if code == 127:
        return _could_not("not_installed", f"{tool} is not installed on this box")
    output = (result.get("stdout") or "") + (result.get("stderr") or "")
    for rule in (*(probe.readings if probe is not None else ()), *GENERIC):
        found = rule.applies(code, output)
        if found is not None:
            text = rule.text.replace("{match}", found)
            if rule.state == "not_applicable":
                return _could_not("not_applicable", text)
            return {"state": rule.state, "reason": None, "reading": text}
    ok_codes = probe.ok_exit_codes if probe is not None else (0,)
    if code not in ok_codes:
        detail = _first_line(result.get("stderr") or "") or _first_line(result.get("stdout") or "")
        return {"state": PROBLEM, "reason": None, "reading": f"exited with {code}" + (f": {detail}" if detail else "")}
    if result.get("matched_expected") is False:
        return {"state": PROBLEM, "reason": None,
                "reading": f"the output does not show the healthy answer (expected /{result.get('expected_output')}/)"}
    if result.get("matched_expected") is True:
        return {"state": OK, "reason": None, "reading": "the output shows the healthy answer"}
    first = _first_line(result.get("stdout") or "")
    return {"state": OK, "reason": None, "reading": first or "ran fine, no output"}


def summary(results: list[dict]) -> dict:
    """How many results are in each state (``state`` as :func:`judge` set it)."""
    return {state: sum(1 for r in results if r.get("state") == state) for state in STATES}
