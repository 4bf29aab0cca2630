"""Patterns held packed: each one a compressed pickle, unpacked when it is read.

Why: the daemon keeps every pattern for weeks, and most of a pattern (its solutions,
diagnostics, causes, sources: ~90 % of it) is read only when an answer or a page shows that
one pattern. As Python dicts the 231 shipped patterns took ~2.2 MiB of the idle daemon; packed
they take ~0.35 MB, and unpacking one costs ~0.1 ms. What ranking reads for every pattern (the
title, category and ``findings:``) stays unpacked in the index (matcher.Index).

The daemon keeps even the packed bytes out of its heap: :func:`keep` puts them in one file of its
data dir, read with ``os.pread`` when a pattern is unpacked (:class:`Filed`). The boot medium is
often a USB stick, so the file is named by the hash of its content and written only when the
patterns changed (an upgrade, an admin's edit), never on a plain restart. Each read is checked
against the BLAKE2b digest of what this process packed (held in memory, 16 bytes a pattern) before
it is unpickled: a damaged file is noticed, never served, and a file that someone else wrote (a
data dir on a share, a second process) can never make this one unpickle bytes it did not pack. A
CRC would notice damage but not a forged blob, and unpickling runs code.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import pickle
import stat
import tempfile
import time
import weakref
import zlib
from array import array
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: ``<data dir>/patterns-<hash>.packed``: the name holds the first 32 hex digits of the content's SHA-256
PREFIX, SUFFIX = "patterns-", ".packed"
_CHUNK = 1 << 16
#: bytes of each pattern's BLAKE2b digest held in memory (128 bits: no second preimage to find)
DIGEST_SIZE = 16
#: seconds after its last write that a temporary file counts as left by a write that died (a power
#: cut): a younger one may be another process's write in progress (the CLI, run as root, and the
#: daemon share a data dir), and removing it would make that write fail. Writing ~0.5 MB takes
#: well under a second, even on a slow USB stick.
STALE_TMP_S = 600


def _digest(blob: bytes) -> bytes:
    return hashlib.blake2b(blob, digest_size=DIGEST_SIZE).digest()


def pack(patterns: Mapping[str, dict]) -> dict[str, bytes]:
    """pattern id -> its packed form (what :class:`Packed` holds)."""
    return {pid: zlib.compress(pickle.dumps(p, protocol=pickle.HIGHEST_PROTOCOL)) for pid, p in patterns.items()}


def _unpack(blob: bytes) -> dict:
    return pickle.loads(zlib.decompress(blob))  # noqa: S301 - packed by pack() above (a file's bytes are checked against its in-memory digest first)


class _ById(Mapping):
    """What both kinds share: the pattern ids are the keys of ``_by_id`` (in load order)."""

    _by_id: dict[str, object]

    def __contains__(self, pattern_id: object) -> bool:
        return pattern_id in self._by_id

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} patterns)"


class Packed(_ById):
    """A read-only mapping pattern id -> pattern dict over packed patterns.

    Each read unpacks a fresh copy: a caller that changes the dict it got changes nothing
    that another reader sees.
    """

    def __init__(self, packed: dict[str, bytes]):
        self._by_id = packed

    def __getitem__(self, pattern_id: str) -> dict:
        return _unpack(self._by_id[pattern_id])


class Damaged(Exception):
    """A pattern's bytes in the file are not what was written (short read, wrong digest, I/O error)."""


@dataclass
class Layout:
    """Where each pattern is in a file :func:`keep` wrote: pattern i is ``bounds[i]:bounds[i + 1]``,
    and its BLAKE2b digest ``digests[i * DIGEST_SIZE:(i + 1) * DIGEST_SIZE]``."""

    path: str
    ids: list[str]
    bounds: array
    digests: bytes


def keep(directory: Path, packed: dict[str, bytes]) -> Layout:
    """Put ``packed`` in ``directory``'s patterns file, writing it only when it is missing or differs.

    A file with the same content hash is kept as it is (no write: a restart spares the flash); one
    whose bytes no longer hash to its name is rewritten. The write goes to a temporary file, is
    fsynced and renamed over, so a power cut leaves the old file or the new one, never half of
    one. Older patterns files are removed afterwards: a process still reading one keeps its open
    descriptor (:class:`Filed`), and one that had not opened it yet keeps its patterns in memory.
    The temporary file of a write that died is removed once it is stale (:data:`STALE_TMP_S`),
    never while another process may still be writing it. A directory at the file's path is left as it
    is (logged: no file can replace it). Raises OSError (the caller keeps the patterns in memory instead).
    The clean-up never raises: what it cannot remove (a directory at an old file's name) is skipped
    and named, with why, in one warning; the new file is used all the same.
    """
    ids, bounds, digests, digest = list(packed), array("I", [0]), bytearray(), hashlib.sha256()
    for blob in packed.values():
        bounds.append(bounds[-1] + len(blob))
        digests += _digest(blob)
        digest.update(blob)
    path = directory / f"{PREFIX}{digest.hexdigest()[:32]}{SUFFIX}"
    if not intact(path):
        try:
            _write(path, packed.values())
        except IsADirectoryError:  # no rename replaces a directory, and what is in one is not ours to remove
            log.warning("packed patterns file %s is a directory, which no file can replace: the patterns are kept "
                        "in memory instead (on every start until it is gone); move or remove that directory, "
                        "then restart the daemon to keep them in the file", path)
            raise
    skipped: list[str] = []
    for old in directory.glob(f"{PREFIX}*{SUFFIX}"):
        if old != path:
            _remove(old, skipped)
    stale = time.time() - STALE_TMP_S
    for tmp in directory.glob(f".{PREFIX}*.tmp"):  # what a write a power cut interrupted left
        try:
            if tmp.lstat().st_mtime < stale:
                _remove(tmp, skipped)
        except FileNotFoundError:  # renamed into place, or removed, by its writer meanwhile
            pass
    if skipped:  # the new file is written and used all the same: only the clean-up is left undone
        log.warning("packed patterns file %s is in use, but the clean-up of older ones could not remove %s (left as "
                    "%s; move or remove %s)", path, "; ".join(skipped), "it is" if len(skipped) == 1 else "they are",
                    "it" if len(skipped) == 1 else "them")
    return Layout(str(path), ids, bounds, bytes(digests))


def _remove(path: Path, skipped: list[str]) -> None:
    """Remove an old patterns file or a stale temporary one; what cannot be removed is added to
    ``skipped`` with why (a directory there is not ours to remove, nor is it ever read)."""
    try:
        path.unlink()
    except FileNotFoundError:  # removed meanwhile (another process's clean-up)
        pass
    except OSError as exc:
        why = "a directory" if exc.errno in (errno.EISDIR, errno.EPERM) and path.is_dir() else exc.strerror or str(exc)
        skipped.append(f"{path} ({why})")


_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISDIR, "a directory"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


class NotRegular(OSError):
    """What is at a patterns file's path is not a regular file (a FIFO, a symbolic link, ...)."""


def open_regular(path: str | Path) -> int:
    """A read-only descriptor of ``path``, which must be a regular file and not a symbolic link.

    Why: anything else planted at the path would hang the open (a FIFO waits for a writer: the
    start-up child, and so the daemon's start, would wait for ever) or send the reads elsewhere (a
    symbolic link). Opened with O_NOFOLLOW and O_NONBLOCK, so neither blocks nor follows, then
    fstat-ed: the check is on what was opened, not on a name that may change in between. Raises
    :class:`NotRegular` (an OSError) with what was found.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegular(errno.ELOOP, "a symbolic link, not followed", str(path)) from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise NotRegular(errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL, f"{kind}, not read", str(path))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def intact(path: Path) -> bool:
    """Whether ``path`` is a regular file whose bytes still hash to the name :func:`keep` gave it."""
    digest = hashlib.sha256()
    try:
        with os.fdopen(open_regular(path), "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
    except NotRegular as exc:
        if exc.errno != errno.EISDIR:  # a directory cannot be replaced: keep() says what happens instead
            log.warning("packed patterns file %s is %s; replacing it with a file of the patterns", path, exc.strerror)
        return False
    except OSError:
        return False
    return path.name == f"{PREFIX}{digest.hexdigest()[:32]}{SUFFIX}"


def _write(path: Path, blobs) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for blob in blobs:
                out.write(blob)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)


class Filed(_ById):
    """A read-only mapping pattern id -> pattern dict over a file :func:`keep` wrote.

    The file stays open (an fd, closed when this mapping is freed: reference counting frees it as
    soon as no reader holds it, so nothing it refers to may refer back to it, e.g. its
    ``on_damage``): a newer file replacing it, or its removal, changes nothing for a reader still
    holding this one. It is never closed under a reader: a closed descriptor's number is reused by
    the next open, and a read would then go to another file. A read that does not
    match the pattern's digest is never unpacked: ``on_damage(this mapping)`` (the knowledge base
    rebuilding its patterns, once however many readers met the damage) gives the mapping that this
    one reads from from then on; without one, :class:`Damaged` is raised.
    """

    def __init__(self, layout: Layout, on_damage: Callable[[Filed], Mapping[str, dict]] | None = None):
        self._fd = open_regular(layout.path)
        weakref.finalize(self, os.close, self._fd)
        self.path = layout.path
        self._by_id = {pid: i for i, pid in enumerate(layout.ids)}
        self._bounds, self._digests = layout.bounds, layout.digests
        self._on_damage = on_damage
        self._instead: Mapping[str, dict] | None = None

    def __getitem__(self, pattern_id: str) -> dict:
        if self._instead is not None:
            return self._instead[pattern_id]
        i = self._by_id[pattern_id]
        lo, hi = self._bounds[i], self._bounds[i + 1]
        try:
            blob = os.pread(self._fd, hi - lo, lo)
            if len(blob) != hi - lo or _digest(blob) != self._digests[i * DIGEST_SIZE:(i + 1) * DIGEST_SIZE]:
                raise Damaged(f"{self.path}: pattern {pattern_id} does not match its digest")
        except (OSError, Damaged) as exc:
            if self._on_damage is None:
                raise Damaged(str(exc)) from None
            # the text, not the exception: a handler that keeps records (a test's) would keep its
            # traceback's frames, and with them this mapping and its open file
            log.warning("packed patterns damaged (%s); rebuilding them", str(exc))
            self._instead = self._on_damage(self)
            return self._instead[pattern_id]
        return _unpack(blob)
