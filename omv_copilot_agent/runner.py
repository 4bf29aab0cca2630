"""The one way this agent runs a program on the box.

Every collector and every knowledge-base diagnostic goes through :func:`run`, so
the rules live in one place: an argv list (never a shell), a timeout that kills
the whole process group, and capped output. Collectors' fixed commands pass the
allowlist (the exact argument shapes they use); nothing else does.

Diagnostics go through :func:`run_probe`: only a catalogue probe
(omv_copilot_agent.probes) runs, and it runs inside a bubblewrap sandbox whose
file system is read-only, with no network (unless the probe observes the host's
network) and as ``nobody`` unless the probe needs root — so even a tool tricked
into writing cannot change the box. No sandbox, no probe: it fails closed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Callable

from omv_copilot_agent import probes
from omv_copilot_agent.probes import params as probe_params

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_OUTPUT = 512 * 1024

#: Characters a shell would give meaning to. They are never needed by a
#: read-only diagnostic argument, so their presence means someone is trying
#: to smuggle a second command in.
SHELL_METACHARACTERS = set(";|&`$<>\n\r\\\x00")

#: Search path for binaries: fixed, so a hostile PATH cannot swap a tool.
SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class CommandRefused(ValueError):
    """The command is not allowed; the message says why. It was not run."""


class Cancelled(RuntimeError):
    """The owner of the current :class:`ProcessScope` gave up (timeout, shutdown): the command was stopped.

    Raised by :func:`run` only inside a cancelled scope, so a caller that
    gave up is not fed a half-result it could cache as if it were real.
    """


class ProcessScope:
    """The child processes started on behalf of one owner (e.g. one collector source).

    The owner can :meth:`cancel` the scope when it stops waiting — a source cut
    at its timeout, a collector closing on SIGTERM — which kills every process
    still running in it (whole process group) and makes later :func:`run` calls
    in the scope raise :class:`Cancelled` at once. Without this, a hung
    ``omv-rpc`` would keep its thread (and so interpreter exit) waiting for its
    own, much longer, timeout.
    """

    def __init__(self, name: str = ""):
        self.name = name
        self.cancelled = False
        self._procs: set[subprocess.Popen] = set()
        # Re-entrant: cancel() may run in a signal handler that interrupted this same thread.
        self._lock = threading.RLock()

    def _add(self, proc: subprocess.Popen) -> bool:
        with self._lock:
            if self.cancelled:
                return False
            self._procs.add(proc)
            return True

    def _discard(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._procs.discard(proc)

    def running(self) -> int:
        """How many processes of this scope are still running."""
        with self._lock:
            return len(self._procs)

    def cancel(self) -> int:
        """Kill every process still running in this scope; returns how many were killed."""
        with self._lock:
            self.cancelled = True
            procs = list(self._procs)
        for proc in procs:
            _kill_group(proc)
        return len(procs)


_scopes = threading.local()


@contextmanager
def process_scope(scope: ProcessScope):
    """Run the block with ``scope`` as this thread's scope: every :func:`run` in it registers there."""
    previous = getattr(_scopes, "current", None)
    _scopes.current = scope
    try:
        yield scope
    finally:
        _scopes.current = previous


def current_scope() -> ProcessScope | None:
    return getattr(_scopes, "current", None)


@dataclass
class CommandResult:
    """What happened when a command ran (or why it could not)."""

    argv: list[str]
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    duration_s: float = 0.0
    timed_out: bool = False
    truncated: bool = False
    error: str | None = None  # binary missing, refused, could not start
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out and self.returncode == 0

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("extra")
        return data


Rule = Callable[[list[str]], "str | None"]


def _shape(*shapes: str) -> Rule:
    """Rule: the arguments, joined by spaces, fully match one of ``shapes`` (regexes over the collectors' argv)."""
    import re

    compiled = [re.compile(shape) for shape in shapes]

    def rule(args: list[str]) -> str | None:
        line = " ".join(args)
        return None if any(rx.fullmatch(line) for rx in compiled) else "not one of the argument shapes the collectors use"

    return rule


_OMV_READ_PREFIXES = ("get", "enumerate", "is", "check")
#: The one change the agent may ask OMV for: its own revert of unapplied configuration changes
#: (back to the configuration as last applied), and only on an admin's confirmed request
#: (services/changes.py revert_changes). Nothing is deployed, nothing else is written.
_OMV_WRITES = {("Config", "revertChanges")}


def _omv_rpc(args: list[str]) -> str | None:
    rest = list(args)
    if rest[:1] == ["-u"]:
        if len(rest) < 2 or rest[1] != "admin":
            return "omv-rpc may only run as -u admin"
        rest = rest[2:]
    if len(rest) < 2:
        return "omv-rpc needs <service> <method>"
    method = rest[1]
    if tuple(rest[:2]) in _OMV_WRITES:
        return None
    if not method.startswith(_OMV_READ_PREFIXES) or method == "getDiagnosticReport_":
        return f"omv-rpc method {method} is not a read method"
    return None


#: binary -> rule over its arguments (the argv without argv[0]). Only the collectors' own, fixed
#: commands are here; diagnostics are catalogue probes (omv_copilot_agent.probes, run_probe).
ALLOWLIST: dict[str, Rule] = {
    # only with -n standby: a periodic read never spins up a sleeping disk (collect/smart.py)
    "smartctl": _shape(r"--json -n standby (-a|-H -A) /dev/[A-Za-z0-9/_-]+"),
    "systemctl": _shape(r"show -p [A-Za-z,]+( [A-Za-z0-9@._-]+)+"),
    "journalctl": _shape(r"-o json --no-pager -p warning -n \d+ --since=-\d+s",
                         # collect/omv_jobs.py: cron's and OMV's job scripts' lines (-D: a folder of journal files)
                         r"-o json --no-pager --reverse -n \d+ --since=-\d+s( -D /[A-Za-z0-9/._-]+)?( -t [A-Za-z0-9_.-]+)+"),
    "zpool": _shape(r"list -H -p -o [a-z,]+"),
    "omv-rpc": _omv_rpc,
}


def register(binary: str, rule: Rule) -> None:
    """Add a read-only tool to the allowlist (rrdtool fetch for the RRD import; tests)."""
    ALLOWLIST[binary] = rule


def check(argv: list[str]) -> None:
    """Raise :class:`CommandRefused` naming the reason if ``argv`` may not run."""
    if not argv or not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        raise CommandRefused("command must be a non-empty list of strings")
    binary = os.path.basename(argv[0])
    if argv[0] != binary and not argv[0].startswith("/"):
        raise CommandRefused(f"relative path {argv[0]!r} is not allowed")
    rule = ALLOWLIST.get(binary)
    if rule is None:
        raise CommandRefused(f"{binary} is not on the allowlist of read-only tools")
    for arg in argv[1:]:
        bad = SHELL_METACHARACTERS.intersection(arg)
        if bad:
            raise CommandRefused(f"argument {arg!r} contains shell metacharacters {''.join(sorted(bad))!r}")
    reason = rule(argv[1:])
    if reason:
        raise CommandRefused(f"{binary}: {reason}")


def which(binary: str) -> str | None:
    """Locate ``binary`` on the fixed safe path (plus $OMV_COPILOT_EXTRA_PATH for tests)."""
    extra = os.environ.get("OMV_COPILOT_EXTRA_PATH")
    path = f"{extra}:{SAFE_PATH}" if extra else SAFE_PATH
    return shutil.which(binary, path=path)


def _decode(data: bytes, cap: int) -> tuple[str, bool]:
    truncated = len(data) > cap
    return data[:cap].decode("utf-8", "replace"), truncated


@dataclass(frozen=True)
class Sandbox:
    """How a probe is confined: always a read-only file system; root and the host network only when declared."""

    as_root: bool = False
    host_network: bool = False
    host_pids: bool = False
    groups: tuple[str, ...] = ()


#: What a root probe keeps: raw disk and NVMe/SG_IO passthrough (smartctl, hdparm), reading any file and
#: directory, NIC/firewall queries (ethtool, iptables, nft), raw ICMP (ping), the kernel log (dmesg).
#: Gone: reboot, modules, time, kill, setuid, chown, ptrace, mknod and the rest.
ROOT_PROBE_CAPS = ("CAP_SYS_RAWIO", "CAP_SYS_ADMIN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_NET_ADMIN",
                   "CAP_NET_RAW", "CAP_SYSLOG")
#: The unprivileged user probes run as when they do not need root.
NOBODY = 65534
#: Secret paths a probe needs none of: hidden (empty, read-only) inside the sandbox, on top of the deny list
#: the parameters are checked against. OMV's engine socket lives under /var/lib/openmediavault, so it stays.
_NOT_HIDDEN = ("/var/lib/openmediavault",)
#: How long a "bwrap works here" answer is trusted before it is checked again.
SANDBOX_RECHECK_S = 300.0
_sandbox_state: dict = {}


def sandbox_unavailable() -> str | None:
    """None when bubblewrap can build the probe sandbox on this machine, else why not (cached)."""
    now = time.monotonic()
    if _sandbox_state and now - _sandbox_state["at"] < SANDBOX_RECHECK_S:
        return _sandbox_state["reason"]
    bwrap = which("bwrap")
    reason = None
    if not bwrap:
        reason = "bubblewrap (bwrap) is not installed; probes run only inside its sandbox (apt install bubblewrap)"
    else:
        try:
            done = subprocess.run([bwrap, *_namespace_args(Sandbox()), "--", "/bin/true"], stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=10, env=_base_env())
            if done.returncode != 0:
                detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
                reason = (f"bwrap cannot build the probe sandbox here ({(detail or ['exit ' + str(done.returncode)])[0][:200]}); "
                          "probes run only inside it")
        except (OSError, subprocess.TimeoutExpired) as exc:
            reason = f"bwrap cannot build the probe sandbox here ({exc}); probes run only inside it"
    _sandbox_state.update(at=now, reason=reason)
    return reason


def _namespace_args(sandbox: Sandbox) -> list[str]:
    # A private, empty /tmp: tools such as apt's simulation need scratch files; what they write there
    # lives in the sandbox's own memory and is gone when it ends (the real /tmp is not visible).
    args = ["--ro-bind", "/", "/", "--proc", "/proc", "--perms", "1777", "--tmpfs", "/tmp", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    # A root probe reads device nodes (smartctl, mdadm) with only the capabilities reading needs;
    # everyone else gets a minimal private /dev.
    if sandbox.as_root:
        args += ["--dev-bind", "/dev", "/dev", "--cap-drop", "ALL"]
        for cap in ROOT_PROBE_CAPS:
            args += ["--cap-add", cap]
    else:
        args += ["--dev", "/dev"]
    if not sandbox.host_network:
        args.append("--unshare-net")
    if not sandbox.host_pids:
        # Its own pid namespace: when bwrap is killed (timeout) every process inside dies with it,
        # even one that dropped to nobody (which clears the parent-death signal) or left the session.
        args.append("--unshare-pid")
    return args


def _gid(group: str) -> int | None:
    """The id of a group that exists on this box (a log group a distribution lacks is just not granted)."""
    import grp

    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        return None


def sandbox_argv(argv: list[str], sandbox: Sandbox) -> list[str]:
    """``argv`` (argv[0] an absolute path) wrapped in bwrap: read-only /, secrets hidden, no network, nobody."""
    bwrap = which("bwrap") or "bwrap"
    out = [bwrap, *_namespace_args(sandbox)]
    for path in sorted({*probe_params.DENIED_PATHS, *probe_params.EXTRA_DENIED}):
        if path in _NOT_HIDDEN or path.startswith("/tmp/") or not os.path.lexists(path) or os.path.islink(path):
            continue  # (what lives in /tmp is hidden already: the sandbox's /tmp is its own)
        if os.path.isdir(path):
            out += ["--tmpfs", path, "--remount-ro", path]
        else:
            out += ["--ro-bind", "/dev/null", path]
    out.append("--")
    if not sandbox.as_root and os.geteuid() == 0:
        gids = [str(gid) for gid in map(_gid, sandbox.groups) if gid is not None]
        out += [which("setpriv") or "/usr/bin/setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
                f"--groups={','.join(gids)}" if gids else "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    return out + argv


def run_probe(call: "probes.ProbeCall", *, timeout: float = DEFAULT_TIMEOUT_S,
              max_output: int = DEFAULT_MAX_OUTPUT) -> CommandResult:
    """Run one catalogue probe in its sandbox; refused (not run) when the sandbox cannot be built."""
    try:
        argv = probes.render(call.name, call.params)
        probe = probes.get(call.name)
    except (probes.ParamError, probes.UnknownProbe) as exc:
        return CommandResult(argv=[call.name], error=f"refused: {exc}")
    reason = sandbox_unavailable()
    if reason:
        return CommandResult(argv=argv, error=f"refused: {reason}")
    return run(argv, timeout=timeout, max_output=max_output,
               sandbox=Sandbox(as_root=probe.root, host_network=probe.host_network, host_pids=probe.host_pids,
                               groups=probe.groups),
               checked=True)


def _base_env() -> dict[str, str]:
    """A command's whole environment: nothing of the daemon's own is passed on.

    Why: the unit runs the daemon with PYTHONOPTIMIZE=2 and PYTHONPYCACHEPREFIX (docstrings and asserts
    dropped, bytecode in its cache); a Python tool it runs (OMV's, salt) may need both, and must not
    write its bytecode into the daemon's cache.
    """
    return {"PATH": SAFE_PATH, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}


def run(
    argv: list[str],
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    max_output: int = DEFAULT_MAX_OUTPUT,
    env: dict[str, str] | None = None,
    sandbox: Sandbox | None = None,
    checked: bool = False,
) -> CommandResult:
    """Run ``argv`` if the allowlist admits it; never raises for the command's own failure.

    A refused command comes back with ``error`` set and is never started. A
    missing binary, a non-zero exit and a timeout are all reported in the
    result, so callers turn them into a degraded status instead of a crash.
    ``checked`` is for :func:`run_probe` only: the catalogue, not the allowlist,
    has admitted the argv (and the sandbox is then mandatory).
    """
    result = CommandResult(argv=list(argv) if isinstance(argv, list) else [str(argv)])
    try:
        if not checked:
            check(argv)
        elif sandbox is None or probes.recognise(argv) is None:
            raise CommandRefused("a probe runs only as its catalogue renders it, inside its sandbox")
    except CommandRefused as exc:
        result.error = f"refused: {exc}"
        return result
    binary = argv[0] if argv[0].startswith("/") else which(argv[0])
    if not binary or not os.path.exists(binary):
        result.error = f"{argv[0]} is not installed"
        return result
    run_env = _base_env()
    if env:
        run_env.update(env)
    command = [binary, *argv[1:]]
    if sandbox is not None:
        command = sandbox_argv(command, sandbox)
        run_env.setdefault("HOME", "/nonexistent")
    scope = current_scope()
    if scope is not None and scope.cancelled:
        raise Cancelled(f"{argv[0]} not started: {scope.name or 'its owner'} was cancelled")
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=run_env,
            start_new_session=True,
        )
    except OSError as exc:
        result.error = f"could not start {argv[0]}: {exc.strerror or exc}"
        return result
    if scope is not None and not scope._add(proc):
        _kill_group(proc)
        proc.communicate()
        raise Cancelled(f"{argv[0]} stopped: {scope.name or 'its owner'} was cancelled")
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        result.timed_out = True
        result.error = f"{argv[0]} did not finish within {timeout:g} s and was killed"
    finally:
        if scope is not None:
            scope._discard(proc)
    if scope is not None and scope.cancelled:
        raise Cancelled(f"{argv[0]} stopped: {scope.name or 'its owner'} was cancelled")
    result.duration_s = round(time.monotonic() - start, 4)
    result.returncode = proc.returncode
    result.stdout, t1 = _decode(out or b"", max_output)
    result.stderr, t2 = _decode(err or b"", max_output // 4)
    result.truncated = t1 or t2
    return result


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def split_pipeline(words: list[str]) -> list[list[str]]:
    """Words with bare ``|`` tokens between stages -> the stages (how a diagnostic with a filter is shown)."""
    stages: list[list[str]] = [[]]
    for word in words:
        if word == "|":
            stages.append([])
        else:
            stages[-1].append(word)
    return stages
