"""The catalogue of named, read-only probes: the only commands a diagnostic can run.

Why a catalogue: a pattern an admin edits (or an LLM suggests) must not be able to
introduce a command. A probe declares its exact argv shape and the type of each
parameter (catalogue.yaml, types in params.py); :func:`render` builds the argv from
a name and checked values, and :func:`recognise` answers whether a given argv is
exactly what some probe renders — so abbreviations (``--vacuum-t``), ``=`` forms,
combined short options and undeclared positionals are not in the language at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


from omv_copilot_agent.probes.params import TYPES, ParamError
from omv_copilot_agent.probes.verdict import Reading, parse_readings

__all__ = ["Probe", "ProbeCall", "ParamError", "UnknownProbe", "catalogue", "get", "render", "recognise", "TYPES"]

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")
#: A parameter slot: one whole argument, or a fixed prefix then the value (``/proc/net/bonding/{bond}``).
_SLOT = re.compile(r"^([^{}]*)\{([a-z_]+)\}$")
#: A whole argument a pattern shows for a value the user still has to give (``{md_device}``).
OPEN_SLOT = re.compile(r"^\{[a-z_]{1,32}\}$")


class UnknownProbe(KeyError):
    """No probe has this name."""

    def __str__(self) -> str:
        return f"unknown probe {self.args[0]!r}"


@dataclass(frozen=True)
class Probe:
    """One declared command: argv template, typed parameters, how its exit code is judged, what it needs."""

    name: str
    description: str
    argv: tuple[str, ...]
    params: dict[str, str] = field(default_factory=dict)  # parameter -> type name
    ok_exit_codes: tuple[int, ...] = (0,)
    root: bool = False
    host_network: bool = False
    host_pids: bool = False  # sees the host's processes (ss -p, systemctl status); only for root probes
    groups: tuple[str, ...] = ()  # extra groups of the unprivileged user (adm, systemd-journal: logs without root)
    readings: tuple[Reading, ...] = ()  # what its output means (probes/verdict.py)

    @property
    def binary(self) -> str:
        return self.argv[0]

    def slots(self) -> list[tuple[int, str, str]]:
        """(position, parameter, fixed prefix) of every argument that holds a parameter."""
        return [(i, m.group(2), m.group(1)) for i, token in enumerate(self.argv)
                if (m := _SLOT.match(token)) and m.group(2) in self.params]

    def check_param(self, name: str, value) -> str | None:
        """None when ``value`` fits parameter ``name``, else a reason naming probe and parameter."""
        kind = self.params.get(name)
        if kind is None:
            return f"probe {self.name!r} has no parameter {name!r}" + (
                f" (it takes: {', '.join(self.params)})" if self.params else " (it takes none)")
        reason = TYPES[kind].check(value)
        return f"probe {self.name!r} parameter {name!r}: {reason}" if reason else None


@dataclass(frozen=True)
class ProbeCall:
    """A probe with checked parameter values; ``argv`` is what runs."""

    name: str
    params: dict[str, str]

    @property
    def probe(self) -> Probe:
        return get(self.name)

    @property
    def argv(self) -> list[str]:
        return render(self.name, self.params)

    @property
    def open(self) -> list[str]:
        """Parameters still holding a ``{placeholder}`` (only from ``recognise(..., open_slots=True)``)."""
        return sorted(p for p, v in self.params.items() if OPEN_SLOT.match(v))


def _load(path: Path) -> dict[str, Probe]:
    import yaml  # here, not at import: the daemon parses the catalogue in a child (cli/daemon.py)

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    probes = {}
    for name, spec in data.items():
        probe = Probe(name=name, description=spec["description"], argv=tuple(str(a) for a in spec["argv"]),
                      params=dict(spec.get("params") or {}), ok_exit_codes=tuple(spec.get("ok_exit_codes") or (0,)),
                      root=bool(spec.get("root")), host_network=bool(spec.get("host_network")),
                      host_pids=bool(spec.get("host_pids")), groups=tuple(spec.get("groups") or ()),
                      readings=parse_readings(name, spec.get("readings")))
        unknown = [t for t in probe.params.values() if t not in TYPES]
        slots = {p for _, p, _ in probe.slots()}
        if probe.groups and probe.root:
            raise ValueError(f"catalogue: probe {name} runs as root; groups are for the unprivileged user")
        if probe.host_pids and not probe.root:
            raise ValueError(f"catalogue: probe {name} sees host processes but does not run as root")
        if unknown or slots != set(probe.params):
            raise ValueError(f"catalogue: probe {name} declares bad parameters (unknown types {unknown}, "
                             f"slots {sorted(slots)} vs params {sorted(probe.params)})")
        probes[name] = probe
    return probes


_CATALOGUE: dict[str, Probe] | None = None


def catalogue() -> dict[str, Probe]:
    """Every probe by name (loaded once; the file ships with the package and is not configurable)."""
    global _CATALOGUE
    if _CATALOGUE is None:
        _CATALOGUE = load_catalogue()
    return _CATALOGUE


def load_catalogue() -> dict[str, Probe]:
    """The shipped catalogue, parsed and checked (what :func:`catalogue` keeps)."""
    return _load(CATALOGUE_PATH)


def use_catalogue(probes: dict[str, Probe]) -> None:
    """Keep ``probes`` (from :func:`load_catalogue`, e.g. computed in a child process) as the catalogue."""
    global _CATALOGUE
    _CATALOGUE = probes


def get(name: str) -> Probe:
    try:
        return catalogue()[name]
    except (KeyError, TypeError):
        raise UnknownProbe(name) from None


def problems(name: str, params: dict, *, still_open: frozenset | set = frozenset()) -> list[str]:
    """Every reason ``name`` with ``params`` cannot run (unknown probe, missing/extra/invalid parameter).

    Parameters in ``still_open`` are present but not checked: their value is a placeholder (recognise).
    """
    try:
        probe = get(name)
    except UnknownProbe as exc:
        return [str(exc)]
    if not isinstance(params, dict):
        return [f"probe {name!r}: params must be a mapping"]
    out = [probe.check_param(p, v) for p, v in params.items() if p not in still_open]
    out += [f"probe {name!r} needs parameter {p!r} ({TYPES[t].expected})" for p, t in probe.params.items() if p not in params]
    return [reason for reason in out if reason]


def render(name: str, params: dict | None = None) -> list[str]:
    """The argv of probe ``name`` with ``params`` filled in; raises ParamError/UnknownProbe naming what is wrong."""
    probe = get(name)
    params = params or {}
    reasons = problems(name, params)
    if reasons:
        raise ParamError("; ".join(reasons))
    argv = list(probe.argv)
    for i, param, prefix in probe.slots():
        argv[i] = prefix + params[param]
    return argv


def recognise(argv: list[str], *, open_slots: bool = False) -> ProbeCall | None:
    """The probe call that renders exactly ``argv`` (tool by name, every literal equal, every slot valid), else None.

    ``open_slots``: a slot may also hold a whole ``{placeholder}``, the value a KB answer asks for
    ("mdadm --detail {md_device}" on a box that shows no array). Such a call is that probe's, so it
    is read-only once filled, but it cannot run as shown: its open parameters keep the placeholder,
    and ``argv`` raises ParamError until they are given (:attr:`ProbeCall.open`).
    """
    if not isinstance(argv, (list, tuple)) or not argv or not all(isinstance(a, str) for a in argv):
        return None
    for probe in catalogue().values():
        if len(probe.argv) != len(argv) or probe.argv[0] != argv[0]:
            continue
        slots = {i: (param, prefix) for i, param, prefix in probe.slots()}
        params = {}
        for i, (token, arg) in enumerate(zip(probe.argv, argv)):
            if i in slots and arg.startswith(slots[i][1]):
                params[slots[i][0]] = arg[len(slots[i][1]):]
            elif token != arg:
                break
        else:
            still_open = {p for p, v in params.items() if open_slots and OPEN_SLOT.match(v)}
            if not problems(probe.name, params, still_open=still_open):
                return ProbeCall(probe.name, params)
    return None
