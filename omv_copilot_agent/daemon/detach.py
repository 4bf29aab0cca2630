"""``daemon --detach``: classic Unix daemon via python-daemon, for boxes without systemd."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from pathlib import Path

from omv_copilot_agent.config import ConfigError


@contextlib.contextmanager
def detached(config, pidfile: str | None):
    import daemon
    from daemon.pidfile import TimeoutPIDLockFile

    log_path = config["logging"]["file"] or str(Path(config.data_dir) / "omv-copilot.log")
    try:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        log_stream = open(log_path, "a", buffering=1)
    except OSError as exc:
        raise ConfigError(f"logging.file: cannot open {log_path}: {exc.strerror}") from None
    lock = TimeoutPIDLockFile(pidfile, acquire_timeout=1) if pidfile else None
    if lock is not None and lock.is_locked():
        pid = lock.read_pid()
        if pid and _alive(pid):
            raise ConfigError(f"--pidfile: {pidfile} says the daemon already runs as pid {pid}")
        lock.break_lock()
    context = daemon.DaemonContext(pidfile=lock, umask=0o027, working_directory="/", stdout=log_stream, stderr=log_stream,
                                   signal_map={signal.SIGTERM: None, signal.SIGHUP: None},
                                   files_preserve=[log_stream])
    with context:
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        handler = logging.StreamHandler(log_stream)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        yield


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
