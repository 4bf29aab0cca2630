"""SQLite store: the only place that speaks SQL.

One file in ``data_dir`` (``copilot.db``), WAL mode so the API reads while the
collector writes, schema migrations applied in order from ``migrations/NNNN_*.sql``
and recorded in ``schema_version``. Each concern adds its tables with a new
migration file and its queries in a module of this package (``snapshots``,
``metrics``, …), mixed into :class:`Store`.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
DB_NAME = "copilot.db"


class StoreError(RuntimeError):
    """The database refused an operation; the message says what and why."""


def _migrations() -> list[tuple[int, str, Path]]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        found.append((int(path.name[:4]), path.stem[5:], path))
    return found


class BaseStore:
    """Connection handling, transactions and migrations."""

    def __init__(self, data_dir: str | os.PathLike, *, readonly: bool = False):
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / DB_NAME
        self.readonly = readonly
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self.last_write_error: str | None = None
        #: set when a corrupted database was moved aside at start: {moved_to, reason, at}
        self.recovered: dict | None = None
        if not readonly:
            try:
                self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o750)
            except OSError as exc:
                raise StoreError(f"cannot create data directory {self.data_dir}: {exc.strerror}") from None
            self.recovered = set_aside_if_corrupt(self.path)
        self.migrate()

    # -- connections -------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        try:
            if self.readonly:
                conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10, isolation_level=None)
            else:
                conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                # WAL bounded: checkpoint every ~1000 pages (SQLite's default, set explicitly) and
                # truncate the -wal file back to 1 MiB after one, so it never grows on a small flash disk
                conn.execute("PRAGMA wal_autocheckpoint=1000")
                conn.execute("PRAGMA journal_size_limit=1048576")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from None
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        # One connection per thread (API workers, scheduler, assist): cap each page cache at 512 KiB
        # instead of SQLite's 2 MiB so idle RSS does not grow with the thread count; the OS caches the file.
        conn.execute("PRAGMA cache_size=-512")
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; failures (disk full, read-only) become StoreError.

        Nested in a write of the same thread, it is part of that transaction (one commit for
        a flush of buffered samples plus a snapshot).
        """
        if self.readonly:
            raise StoreError("store is open read-only")
        if getattr(self._local, "writing", False):
            yield self.conn
            return
        with self._write_lock:
            conn = self.conn
            self._local.writing = True
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
                self.last_write_error = None
            except BaseException as exc:
                # Whatever failed inside the transaction (a full disk, or a value SQLite cannot
                # bind) must not leave BEGIN IMMEDIATE open: that would lock the database for everyone.
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if not isinstance(exc, sqlite3.Error):
                    raise
                self.last_write_error = f"{exc} ({self.path})"
                raise StoreError(f"could not write to {self.path}: {exc}") from None
            finally:
                self._local.writing = False

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"could not read {self.path}: {exc}") from None

    # -- migrations --------------------------------------------------
    def schema_version(self) -> int:
        try:
            row = self.conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        except sqlite3.OperationalError:
            return 0
        return row[0] or 0

    def migrate(self) -> list[int]:
        """Apply pending migrations in order, each in its own transaction."""
        if self.readonly:
            return []
        applied = []
        with self._write_lock:
            conn = self.conn
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)")
            current = self.schema_version()
            for version, name, path in _migrations():
                if version <= current:
                    continue
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    for statement in _split_sql(path.read_text()):
                        conn.execute(statement)
                    conn.execute("INSERT INTO schema_version VALUES (?, ?, ?)", (version, name, time.time()))
                    conn.execute("COMMIT")
                except sqlite3.Error as exc:
                    conn.execute("ROLLBACK")
                    raise StoreError(f"migration {path.name} failed: {exc}") from None
                applied.append(version)
                log.info("applied migration %s", path.name)
        return applied

    def integrity_check(self) -> str:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0]

    def damage(self) -> str | None:
        """Why the open database is corrupted (``PRAGMA quick_check``), or None when it is sound."""
        try:
            return _damage(self.conn)
        except StoreError as exc:  # locked or unreadable now: not a reason to set the file aside
            log.warning("%s", exc)
            return None


#: What SQLite says about a damaged file (as opposed to a locked or unreadable one, which a move cannot fix).
_CORRUPT = ("not a database", "malformed", "corrupt")


def is_corruption(message: str) -> bool:
    """Whether an SQLite error message means a damaged file."""
    return any(word in message.lower() for word in _CORRUPT)


def _damage(conn: sqlite3.Connection) -> str | None:
    """quick_check's complaint, SQLite's corruption error, or None; other errors raise StoreError."""
    try:
        result = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        if not is_corruption(str(exc)):
            raise StoreError(f"cannot check the database: {exc}") from None
        return str(exc)
    return None if result == "ok" else f"quick_check: {result}"


def set_aside_if_corrupt(path: Path) -> dict | None:
    """Move a corrupted database (and its -wal/-shm) aside as ``copilot.db.corrupt-<UTC time>``.

    Why at start: a damaged file keeps failing (or, worse, keeps being written to) and a
    daemon that exits on it exits forever; a fresh database loses history but not the box's
    health checks. ``PRAGMA quick_check`` reads every page (seconds on a Pi for a large file),
    so it runs once per start, not per write. Returns {moved_to, reason, at}, or None when
    the file is absent or healthy.
    """
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(path, timeout=10, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from None
    try:
        reason = _damage(conn)
    finally:
        conn.close()
    if reason is None:
        return None
    target = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
    try:
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{path}{suffix}").exists():
                os.replace(f"{path}{suffix}", f"{target}{suffix}")
    except OSError as exc:
        raise StoreError(f"database {path} is corrupted ({reason}) and could not be moved aside: {exc.strerror}") from None
    log.error("database %s is corrupted (%s): moved to %s, starting with a fresh one", path, reason, target)
    return {"moved_to": str(target), "reason": reason[:300], "at": time.time()}


def _split_sql(text: str) -> list[str]:
    """Split a migration file into statements (no semicolons inside strings there)."""
    lines = [l for l in text.splitlines() if not l.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


from omv_copilot_agent.store.knowledge import KnowledgeMixin  # noqa: E402
from omv_copilot_agent.store.alerts import AlertsMixin  # noqa: E402
from omv_copilot_agent.store.metrics import MetricsMixin  # noqa: E402
from omv_copilot_agent.store.snapshots import SnapshotsMixin  # noqa: E402
from omv_copilot_agent.store.assist import AssistMixin  # noqa: E402
from omv_copilot_agent.store.history import HistoryMixin  # noqa: E402


class Store(AlertsMixin, HistoryMixin, SnapshotsMixin, MetricsMixin, KnowledgeMixin, AssistMixin, BaseStore):
    """The agent's database. Concerns add a mixin module and a migration."""

    def has_buffered_writes(self) -> bool:
        """Samples or open alerts' counted cycles are waiting for :meth:`flush_buffered`."""
        return bool(self._metric_buffer) or bool(self.pending_alert_touches())

    def flush_buffered(self, snapshot=None) -> None:
        """One transaction: ``snapshot`` (if given), the buffered samples, the open alerts' counted cycles.

        What the transaction takes out of memory is put back when it fails after taking it: a full
        disk often fails the COMMIT or the last statement, after flush_metrics emptied the buffer.
        """
        samples = list(self._metric_buffer or ())
        touches = dict(self.__dict__.get("_alert_touches", {}))
        try:
            with self.write():
                if snapshot is not None:
                    self.save_snapshot(snapshot)
                self.flush_metrics()
                self.flush_alert_touches()
        except BaseException:
            self._metric_buffer = samples
            self.__dict__["_alert_touches"] = touches
            raise

    def prune_history(self, before: float) -> dict[str, int]:
        """Forget resolved alerts and configuration revisions from before ``before`` (notes stay)."""
        return {"resolved_alerts": self.prune_resolved_alerts(before), "config_snapshots": self.prune_config_revisions(before)}

    def prune(self, now: float | None = None, *, snapshot_days: int = 7, history_days: int = 365) -> dict[str, int]:
        """Apply retention for every concern; returns rows removed per table."""
        now = now or time.time()
        removed = {"snapshots": self.prune_snapshots(now - snapshot_days * 86400)}
        removed.update(self.prune_history(now - history_days * 86400))
        removed.update(self.downsample_metrics(now))
        return removed


__all__ = ["Store", "StoreError", "DB_NAME", "is_corruption"]
