"""`make deb`, lintian, then the package's whole life on this machine next to OMV's real engine.

Root only (apt/dpkg); in CI (root, CI=true) it runs, and a missing tool fails instead of
skipping. systemd is not PID 1 here, so deb-systemd-invoke does nothing during install: the
test starts the daemon itself, with the unit's ExecStart line and with
``omv-copilot daemon --detach --pidfile /run/omv-copilot.pid`` (the form the maintainer
scripts stop and restart on boxes without systemd).

Why it once hung: every child was started with pipes (``capture_output``/``stderr=PIPE``)
that nobody drained while the daemon logged, or that a backgrounded process kept open.
Here no long-lived process gets a pipe: daemons log to files in tmp_path, run in their own
session, and every command has a timeout. The OMV test bed is shared with other helpers:
the package is only installed while ``/run/omv-copilot-deb-test.lock`` (the plugin-install
lock of the OMV plugin/web UI tests) and ``/run/omv-testbed.lock`` are held, and it is purged
(and the engine restarted without the plugin) at the end, also on failure.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shlex
import shutil
import signal
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import IN_CI, ROOT, free_port
from tests.testbed import LOCK, TESTBED, omv_rpc, wait_for_engine

PKG = "openmediavault-copilot"
UNIT = Path("/lib/systemd/system/omv-copilot.service")
ETC = Path("/etc/omv-copilot")
CONFIG = ETC / "config.yaml"
TOKEN = ETC / "api-token"
STATE = Path("/var/lib/omv-copilot")
DEB_LOCK = Path("/run/omv-copilot-deb-test.lock")  # shared with tests/system/test_omv_plugin.py, test_webui_omv.py
PIDFILE = Path("/run/omv-copilot.pid")  # the maintainer scripts' convention without systemd
WORKBENCH_ASSETS = Path("/var/www/openmediavault/assets")
SYS_ENV = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "LC_ALL": "C.UTF-8", "DEBIAN_FRONTEND": "noninteractive",
           "HOME": os.environ.get("HOME", "/root")}
WAIT_S = 180
CACHE_DIR = "/var/cache/omv-copilot"  # the unit's CacheDirectory= (%C/omv-copilot)

pytestmark = [pytest.mark.skipif(os.geteuid() != 0, reason="installs a .deb with apt/dpkg: needs root")]


def _missing(reason: str):
    if IN_CI:
        pytest.fail(f"package tests need {reason} in CI")
    pytest.skip(reason)


def _run(argv, cwd=None, timeout=600, check=True, env=None) -> subprocess.CompletedProcess:
    """A short-lived command; stdin is /dev/null so nothing can wait for a terminal."""
    result = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                            stdin=subprocess.DEVNULL, env={**SYS_ENV, **(env or {})})
    if check:
        assert result.returncode == 0, f"{argv} exited {result.returncode}: {(result.stdout + result.stderr)[-3000:]}"
    return result


def _installed() -> bool:
    result = _run(["dpkg-query", "-W", "-f=${Status}", PKG], check=False, timeout=60)
    return result.returncode == 0 and "ok installed" in result.stdout


def _copy_tree(dest: Path) -> Path:
    shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(".git", "build", "dist", ".dev", "webui-dist",
                                                              "__pycache__", "*.pyc", ".pytest_cache"))
    return dest


def _make_deb(src: Path) -> tuple[Path, str]:
    """`make deb` in a copy of the tree; ExtJS comes from the work tree's npm cache."""
    for tool in ("dpkg-buildpackage", "dh", "lintian"):
        if shutil.which(tool, path=SYS_ENV["PATH"]) is None:
            _missing(f"{tool} is not installed (make test-deps)")
    cache = ROOT / "build" / "cache"
    if not (cache / "extjs-gpl-6.2.0.tgz").exists() and shutil.which("npm") is None:
        _missing("npm (to fetch extjs-gpl for the web UI) is not installed")
    result = _run(["make", "deb"], cwd=src, timeout=1800, check=False, env={"CACHE": str(cache)})
    assert result.returncode == 0, f"make deb failed:\n{(result.stdout + result.stderr)[-4000:]}"
    debs = sorted((src / "dist").glob(f"{PKG}_*_all.deb"))
    assert len(debs) == 1, debs
    return debs[0], result.stdout + result.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, str]:
    """(dist/…deb, make output) from `make deb` in a clean copy of this tree."""
    return _make_deb(_copy_tree(tmp_path_factory.mktemp("deb") / "src"))


@pytest.fixture(scope="module")
def built_next(tmp_path_factory, built) -> Path:
    """The next version (N+1): the same tree with one more changelog entry."""
    src = _copy_tree(tmp_path_factory.mktemp("deb-next") / "src")
    version = _deb_field(built[0], "Version")
    changelog = src / "debian" / "changelog"
    changelog.write_text(f"{PKG} ({version}+upgradetest1) stable; urgency=medium\n\n"
                         "  * Upgrade test build.\n\n"
                         " -- OMV Co-Pilot developers <copilot@example.org>  Fri, 04 Dec 2026 13:00:00 +0000\n\n"
                         + changelog.read_text())
    return _make_deb(src)[0]


def _deb_field(deb: Path, field: str) -> str:
    return _run(["dpkg-deb", "-f", deb, field], timeout=60).stdout.strip()


def _deb_paths(deb: Path) -> dict[str, str]:
    """Path in the package → link target ('' for files and dirs)."""
    out = {}
    for line in _run(["dpkg-deb", "-c", deb], timeout=60).stdout.splitlines():
        name = line.split(None, 5)[5]
        target = ""
        if " -> " in name:
            name, target = name.split(" -> ", 1)
        out[name.removeprefix(".").rstrip("/") or "/"] = target
    return out


# --- the build ----------------------------------------------------------------------------

def test_make_deb_writes_dist_and_lintian_is_clean(built):
    deb, output = built
    version = _deb_field(deb, "Version")
    assert deb.name == f"{PKG}_{version}_all.deb" and deb.parent.name == "dist"
    assert _deb_field(deb, "Architecture") == "all"
    # make deb ran lintian --fail-on error,warning; check the package once more, tag by tag.
    lint = _run(["lintian", "--fail-on", "error,warning", deb], check=False, timeout=600)
    tags = [line for line in lint.stdout.splitlines() if line[:2] in ("E:", "W:")]
    assert lint.returncode == 0 and not tags, lint.stdout + lint.stderr
    overrides = ROOT / "debian" / f"{PKG}.lintian-overrides"
    if overrides.exists():  # every override carries a one-line reason (a comment right above it)
        lines = overrides.read_text().splitlines()
        for i, line in enumerate(lines):
            if line.strip() and not line.startswith("#"):
                assert i > 0 and lines[i - 1].startswith("# "), f"override without a reason: {line}"


def test_package_ships_every_tree_file_by_glob(built):
    """Files other concerns add (patterns, prompts, web UI, OMV plugin, package data) are shipped."""
    deb, _ = built
    paths = _deb_paths(deb)
    expected = []
    for name in ("patterns", "prompts"):
        expected += [f"/usr/share/omv-copilot/{p.relative_to(ROOT)}" for p in (ROOT / name).rglob("*") if p.is_file()]
    omv = ROOT / "webui-extjs" / "omv"
    for p in omv.rglob("*"):
        if p.is_file():
            rel = "/" + str(p.relative_to(omv))
            if rel.startswith("/etc/nginx/"):
                assert paths.get(rel) == f"/usr/share/omv-copilot/nginx/{p.name}", rel
                rel = f"/usr/share/omv-copilot/nginx/{p.name}"
            expected.append(rel)
    for p in (ROOT / "webui-extjs" / "app").iterdir():
        expected.append(f"/usr/share/omv-copilot/webui/{p.name}")
    expected += ["/usr/share/omv-copilot/webui/copilot-loader.js", "/usr/share/omv-copilot/webui/ext/ext-all-sandbox.js"]
    pkg_root = ROOT / "omv_copilot_agent"
    expected += [f"/usr/lib/python3/dist-packages/{p.relative_to(ROOT)}" for p in pkg_root.rglob("*")
                 if p.is_file() and p.suffix != ".pyc" and "__pycache__" not in p.parts]
    missing = [p for p in expected if p not in paths]
    assert not missing, f"not in the package: {missing}"
    for p in ("/usr/bin/omv-copilot", "/etc/omv-copilot/config.yaml", "/lib/systemd/system/omv-copilot.service",
              "/usr/share/man/man1/omv-copilot.1.gz", "/usr/share/bash-completion/completions/omv-copilot"):
        assert p in paths, p


def test_dependencies_come_from_debian(built):
    """apt resolves every Depends from Debian's archive (openmediavault: the test bed registers it)."""
    deb, _ = built
    depends = [re.split(r"[\s(:]", d.strip())[0] for d in _deb_field(deb, "Depends").split(",")]
    names = sorted({d for d in depends if d and d != "openmediavault"})
    script = ("import apt, json, sys\ncache = apt.Cache()\nout = {}\nfor n in sys.argv[1:]:\n"
              "    p = cache[n]\n"
              "    out[n] = sorted({o.origin for x in (p.installed, p.candidate) if x for o in x.origins if o.origin})\nprint(json.dumps(out))\n")
    result = _run(["/usr/bin/python3", "-c", script, *names], check=False, timeout=300)
    if result.returncode != 0 and "No module named 'apt'" in result.stderr:
        _missing("python3-apt")
    assert result.returncode == 0, result.stderr
    origins = json.loads(result.stdout)  # installed version's origins, else the candidate's
    assert {n: o for n, o in origins.items() if "Debian" not in o} == {}


def test_unit_hardening_matches_docs_and_bad_config_does_not_loop():
    if shutil.which("systemd-analyze", path=SYS_ENV["PATH"]) is None:
        _missing("systemd-analyze (package systemd)")
    unit = ROOT / "debian" / f"{PKG}.omv-copilot.service"
    result = _run(["systemd-analyze", "security", "--offline=yes", "--threshold=50", unit], check=False, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    exposure = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout).group(1)
    docs = (ROOT / "docs" / "security.md").read_text()
    assert f"Overall exposure level: {exposure}" in docs, f"docs/security.md must report {exposure}"
    text = unit.read_text()
    for line in ("Type=notify", "Restart=on-failure", "StartLimitBurst=", "StateDirectory=omv-copilot",
                 "LogsDirectory=omv-copilot", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                 "NoNewPrivileges=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
                 "SystemCallFilter=@system-service", "CapabilityBoundingSet=", "RestartPreventExitStatus=2"):
        assert line in text, line


# --- the package installed ----------------------------------------------------------------

SNAPSHOT_ROOTS = ("/etc", "/usr", "/var/lib", "/var/log", "/run")
SNAPSHOT_SKIP = ("/var/lib/dpkg", "/var/lib/apt", "/var/lib/openmediavault", "/var/lib/php", "/var/lib/nginx",
                 "/var/lib/man-db", "/var/lib/systemd/timers", "/run/user", "/run/lock", "/usr/share/doc-base")


def _fs_snapshot() -> set[str]:
    """Paths under the roots a package touches (piuparts-style), minus volatile trees."""
    seen = set()
    for root in SNAPSHOT_ROOTS:
        for dirpath, dirnames, filenames in os.walk(root):
            if dirpath.startswith(SNAPSHOT_SKIP) or "__pycache__" in dirpath:
                dirnames[:] = []
                continue
            if root in ("/var/log", "/run"):  # other processes log and run here: ours only
                seen.update(os.path.join(dirpath, n) for n in dirnames + filenames if "copilot" in n)
                continue
            seen.update(os.path.join(dirpath, n) for n in dirnames + filenames if n != "__pycache__")
    return seen


class Bed:
    """The package's state on this machine during the module; cleans up whatever happens."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.pids: list[int] = []
        self.touched_engine = False

    def apt_install(self, deb: Path) -> subprocess.CompletedProcess:
        return _run(["apt-get", "install", "-y", "-q", "--no-install-recommends", deb], timeout=900)

    def start(self, argv: list[str], log: Path, env=None) -> subprocess.Popen:
        """A daemon: own session, stdio to a file (never a pipe that nobody reads)."""
        with open(log, "ab") as out:
            proc = subprocess.Popen(argv, cwd="/", stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True, env={**SYS_ENV, **(env or {})})
        self.pids.append(proc.pid)
        return proc

    def restart_engine(self) -> None:
        """down.sh + up.sh (we already hold the test bed lock), as OMV's restart-engined trigger would."""
        self.touched_engine = True
        for script in ("down.sh", "up.sh"):
            _run([TESTBED / script], timeout=900)
        wait_for_engine()

    def kill_all(self) -> None:
        pids = list(self.pids)
        if PIDFILE.exists():
            try:
                pids.append(int(PIDFILE.read_text().strip()))
            except ValueError:
                pass
        for pid in pids:
            try:  # only our daemons: a pid may have been reused since
                if b"omv-copilot" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                    continue
                os.kill(pid, signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass


def _clashes(deb: Path) -> list[str]:
    """Files of the package (or its state) that exist although it is not installed."""
    paths = _deb_paths(deb)
    found = [p for p, target in paths.items() if not target and "copilot" in p and os.path.lexists(p)]
    found += [p for p, target in paths.items() if target and os.path.lexists(p)]
    return found + [str(p) for p in (ETC, STATE) if p.exists()]


@pytest.fixture(scope="module")
def bed(built, omv_engine, tmp_path_factory):
    """Exclusive use of the OMV test bed while the package is installed; purge at the end."""
    deb, _ = built
    # Lock order as in test_omv_plugin / test_webui_omv: the plugin-install lock (they hold it
    # while their copies of the plugin files are in place), then the test bed's lock. Another
    # process's test may still have copies in place: wait for it (locks released meanwhile).
    deadline = time.monotonic() + (0 if IN_CI else 900)  # in CI a clash is a leftover: fail at once
    while True:
        deb_lock, lock = open(DEB_LOCK, "w"), open(LOCK, "w")
        fcntl.flock(deb_lock, fcntl.LOCK_EX)
        fcntl.flock(lock, fcntl.LOCK_EX)
        clashes = _clashes(deb)
        if not clashes or time.monotonic() > deadline:
            break
        lock.close()
        deb_lock.close()
        time.sleep(15)
    with deb_lock, lock:
        if _installed():
            pytest.skip(f"{PKG} is already installed on this machine; not touching it")
        if clashes:
            _missing(f"files of the package already exist (another test's leftovers?): {clashes[:5]}")
        state = Bed(tmp_path_factory.mktemp("bed"))
        try:
            yield state
        finally:
            state.kill_all()
            if _installed() or _run(["dpkg-query", "-W", PKG], check=False, timeout=60).returncode == 0:
                _run(["dpkg", "--purge", PKG], check=False, timeout=600)
            if state.touched_engine:
                for script in ("down.sh", "up.sh"):
                    _run([TESTBED / script], check=False, timeout=900)


def _get(port: int, path: str, token: str | None = None, timeout: float = 30) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"http://127.0.0.1:{port}{path}", headers=headers, timeout=timeout)


def _wait_for(port: int, path: str, token: str | None = None, proc: subprocess.Popen | None = None,
              log: Path | None = None) -> requests.Response:
    deadline = time.monotonic() + WAIT_S
    last = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"daemon exited {proc.returncode}: {log.read_text()[-2000:] if log else ''}")
        try:
            resp = _get(port, path, token, timeout=10)
            if resp.status_code == 200:
                return resp
            last = f"{resp.status_code} {resp.text[:300]}"
        except requests.RequestException as exc:
            last = str(exc)
        time.sleep(0.5)
    tail = log.read_text()[-2000:] if log and log.exists() else ""
    raise AssertionError(f"GET {path} on port {port} not 200 within {WAIT_S} s: {last}\n{tail}")


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        status = Path(f"/proc/{pid}/status")
        try:
            if "\nState:\tZ" in status.read_text():  # exited, waiting for its parent to reap it
                return
        except OSError:
            return
        time.sleep(0.2)
    assert not Path(f"/proc/{pid}").exists(), f"pid {pid} still running 60 s after SIGTERM"


def _ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _workbench_mentions_copilot() -> bool:
    return any("copilot" in p.read_text(errors="replace") for p in WORKBENCH_ASSETS.glob("*-config.json"))


def test_install_run_upgrade_remove_purge(bed, built, built_next, tmp_path):
    deb, _ = built
    before = _fs_snapshot()

    # apt resolves the dependencies (only Debian packages; see test_dependencies_come_from_debian).
    out = bed.apt_install(deb).stdout
    assert f"Setting up {PKG} (" in out
    assert _installed()
    assert _run(["/usr/bin/omv-copilot", "--version"], timeout=60).stdout.strip().startswith("omv-copilot ")
    assert "/etc/omv-copilot/config.yaml" in Path(f"/var/lib/dpkg/info/{PKG}.conffiles").read_text().split()
    for path in ("/usr/share/man/man1/omv-copilot.1.gz", "/usr/share/bash-completion/completions/omv-copilot",
                 "/usr/share/omv-copilot/webui/index.html", "/usr/share/openmediavault/engined/rpc/copilot.inc"):
        assert Path(path).is_file(), path
    assert UNIT.is_file()
    assert len(list(Path("/usr/share/omv-copilot/patterns").glob("*.yaml"))) == len(list((ROOT / "patterns").glob("*.yaml")))
    # The installed code finds the shipped prompts and patterns (not the source tree's).
    probe = _run(["/usr/bin/python3", "-c", "from omv_copilot_agent.assist.prompt import _env; "
                  "from omv_copilot_agent.paths import data_path; "
                  "print(_env().get_template('frame.j2').filename, data_path('patterns'))"],
                 cwd="/", timeout=60)
    assert probe.stdout.split() == ["/usr/share/omv-copilot/prompts/frame.j2", "/usr/share/omv-copilot/patterns"]

    # postinst: token (random, 0640, root:OMV web backend group), state dir, workbench rebuilt.
    st = TOKEN.stat()
    group = "openmediavault-webgui" if _run(["getent", "group", "openmediavault-webgui"], check=False, timeout=30).returncode == 0 else "root"
    assert stat.S_IMODE(st.st_mode) == 0o640 and st.st_uid == 0
    assert _run(["stat", "-c", "%G", TOKEN], timeout=30).stdout.strip() == group
    token = TOKEN.read_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    assert STATE.is_dir() and stat.S_IMODE(STATE.stat().st_mode) == 0o750
    # The config may hold LLM API keys: root's alone (issue 15), whatever mode dpkg unpacked it with.
    conf = CONFIG.stat()
    assert stat.S_IMODE(conf.st_mode) == 0o600 and conf.st_uid == 0 and conf.st_gid == 0, oct(conf.st_mode)
    assert _workbench_mentions_copilot(), "omv-mkworkbench did not pick up the plugin's workbench YAML"
    nginx_dropin = Path("/etc/nginx/openmediavault-webgui.d/openmediavault-copilot.conf")
    assert nginx_dropin.is_symlink() and nginx_dropin.resolve().is_file()

    # The unit verifies against the installed files.
    verify = _run(["systemd-analyze", "verify", UNIT], check=False, timeout=120)
    assert verify.returncode == 0 and "omv-copilot" not in verify.stderr, verify.stderr

    # The admin edits the conffile: a free port for this test.
    port = free_port()
    edited = CONFIG.read_text() + f"\n# edited by the admin\napi:\n  listen: 127.0.0.1:{port}\ncollect:\n  interval_s: 3600\n"
    CONFIG.write_text(edited)

    # A bad edit: one line naming the key, exit 2 (the unit's RestartPreventExitStatus: no loop).
    exec_start = shlex.split(next(line.split("=", 1)[1] for line in UNIT.read_text().splitlines()
                                  if line.startswith("ExecStart=")))
    CONFIG.write_text(edited.replace("interval_s: 3600", "interval_s: often"))
    bad = _run(exec_start, check=False, timeout=120)
    CONFIG.write_text(edited)
    assert bad.returncode == 2 and "RestartPreventExitStatus=2" in UNIT.read_text()
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and "collect.interval_s" in lines[0] and "Traceback" not in bad.stderr, bad.stderr

    # The unit's ExecStart by hand (no systemd here), with the unit's Environment= and the
    # CacheDirectory= systemd would create: serves with the generated token, and caches its
    # optimized bytecode there (which purge must remove, below).
    from bench._common import unit_environment

    unit_env = unit_environment(UNIT, cache_root="/var/cache")
    assert unit_env.get("PYTHONOPTIMIZE") == "2" and unit_env.get("PYTHONPYCACHEPREFIX") == CACHE_DIR, unit_env
    os.makedirs(CACHE_DIR, mode=0o755, exist_ok=True)
    log = tmp_path / "execstart.log"
    proc = bed.start(exec_start, log, env=unit_env)
    _wait_for(port, "/healthz", proc=proc, log=log)
    assert _get(port, "/api/v1/system/status").status_code == 401
    status = _wait_for(port, "/api/v1/system/status", token, proc=proc, log=log).json()
    assert status
    cached = list(Path(CACHE_DIR).rglob("*.opt-2.pyc"))
    assert any("omv_copilot_agent" in str(p) for p in cached), f"no optimized bytecode in {CACHE_DIR}"
    cli = _run(["/usr/bin/omv-copilot", "status"], check=False, timeout=300, cwd="/")
    assert cli.returncode in (0, 1) and cli.stdout.strip(), cli.stderr  # 1 = this box has findings
    assert "Traceback" not in cli.stderr

    # OMV's engine, restarted as the package's restart-engined trigger does, serves the plugin's
    # RPC service, which reaches the daemon with the token from config.yaml.
    bed.restart_engine()
    rpc = omv_rpc("Copilot", "getStatus", {}, timeout=120)
    assert rpc.returncode == 0, rpc.stderr[-1500:]
    assert json.loads(rpc.stdout)

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, log.read_text()[-2000:]
    db = STATE / "copilot.db"
    assert db.is_file()
    with sqlite3.connect(db) as conn:
        snapshots_before = conn.execute("SELECT count(*) FROM snapshots").fetchone()[0]
    assert snapshots_before >= 1

    # Without systemd: --detach --pidfile, as the maintainer scripts expect it.
    detach_log = tmp_path / "detach.log"
    with open(detach_log, "ab") as out:
        rc = subprocess.run(["/usr/bin/omv-copilot", "daemon", "--detach", "--pidfile", str(PIDFILE)], cwd="/",
                            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, timeout=120,
                            env=SYS_ENV).returncode
    assert rc == 0, detach_log.read_text()  # returned: the daemon went to the background
    _wait_for(port, "/healthz")
    old_pid = int(PIDFILE.read_text().strip())
    bed.pids.append(old_pid)
    assert _ppid(old_pid) != os.getpid() and os.getsid(old_pid) != os.getsid(0)  # detached from us

    # Upgrade to N+1 while it runs: config and data kept, the daemon restarted on the new code.
    next_version = _deb_field(built_next, "Version")
    bed.apt_install(built_next)
    assert _run(["dpkg-query", "-W", "-f=${Version}", PKG], timeout=60).stdout == next_version
    assert CONFIG.read_text() == edited
    assert not list(ETC.glob("config.yaml.dpkg-*"))
    assert TOKEN.read_text().strip() == token
    _wait_gone(old_pid)
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline and not (PIDFILE.exists() and PIDFILE.read_text().strip()):
        time.sleep(0.2)
    new_pid = int(PIDFILE.read_text().strip())
    bed.pids.append(new_pid)
    assert new_pid != old_pid
    _wait_for(port, "/healthz")
    _wait_for(port, "/api/v1/system/status", token)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM snapshots").fetchone()[0] >= snapshots_before

    # remove: prerm stops the detached daemon; the config and the data stay.
    _run(["apt-get", "remove", "-y", "-q", PKG], timeout=600)
    _wait_gone(new_pid)
    assert not Path("/usr/bin/omv-copilot").exists() and not UNIT.exists()
    assert not nginx_dropin.exists() and not nginx_dropin.is_symlink()
    assert CONFIG.read_text() == edited and TOKEN.exists() and db.is_file()
    assert not _workbench_mentions_copilot(), "workbench not rebuilt after remove"
    assert "shutting down" in (STATE / "omv-copilot.log").read_text()

    # purge: nothing is left behind (piuparts-style: the same paths as before the install).
    _run(["apt-get", "purge", "-y", "-q", PKG], timeout=600)
    assert not _installed() and not Path(f"/var/lib/dpkg/info/{PKG}.list").exists()
    after = _fs_snapshot()
    assert sorted(after - before) == [], "left behind after purge"
    assert sorted(before - after) == [], "removed by the package although not its own"
    for path in ("/etc/omv-copilot", "/var/lib/omv-copilot", "/var/log/omv-copilot", CACHE_DIR, "/usr/share/omv-copilot",
                 "/usr/lib/python3/dist-packages/omv_copilot_agent", str(PIDFILE)):
        assert not os.path.lexists(path), f"{path} left behind after purge"

    # The engine, restarted, no longer knows the Copilot service.
    bed.restart_engine()
    bed.touched_engine = False  # already back to its state without the plugin: no restart at teardown
    gone = omv_rpc("Copilot", "getStatus", {}, timeout=120)
    assert gone.returncode != 0
