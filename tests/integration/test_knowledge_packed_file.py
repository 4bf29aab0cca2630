"""The daemon's packed patterns live in one file of its data dir, written only when they changed.

Why: the boot medium is often a USB stick (issue 17 spares the flash), so a restart must write
nothing; and a damaged file must never crash the daemon or serve a wrong pattern.
"""

from __future__ import annotations

import errno
import gc
import logging
import pickle
import zlib
import os
import stat
import tempfile
import threading
from contextlib import contextmanager

import pytest
import yaml

from tests.conftest import ROOT
from omv_copilot_agent.knowledge import KnowledgeBase, loader, packed

PATTERNS_DIR = ROOT / "patterns"
SHIPPED = "mdadm-degraded"


@contextmanager
def in_this_process():
    """Keep memory.in_child from forking (it runs the load here when another thread exists), so
    what the load writes can be counted in this process."""
    done = threading.Event()
    other = threading.Thread(target=done.wait, daemon=True)
    other.start()
    try:
        yield
    finally:
        done.set()
        other.join()


@pytest.fixture
def written(monkeypatch):
    """Bytes each write of a patterns file wrote, in order (loads run in this process)."""
    sizes: list[int] = []
    real = packed._write

    def counting(path, blobs):
        blobs = list(blobs)
        sizes.append(sum(map(len, blobs)))
        real(path, blobs)

    monkeypatch.setattr(packed, "_write", counting)
    with in_this_process():
        yield sizes


def files(data_dir) -> list[str]:
    return sorted(p.name for p in data_dir.iterdir() if p.name.startswith(packed.PREFIX) or p.name.endswith(".tmp"))


def kb_in(data_dir, **kw) -> KnowledgeBase:
    return KnowledgeBase(PATTERNS_DIR, data_dir=data_dir, local_dir=data_dir / "patterns", **kw)


def test_the_patterns_are_read_from_the_file_as_loaded(tmp_path, written):
    kb = kb_in(tmp_path)
    assert isinstance(kb.patterns, packed.Filed)
    (name,) = files(tmp_path)
    assert packed.intact(tmp_path / name) and written == [(tmp_path / name).stat().st_size]
    plain = KnowledgeBase(PATTERNS_DIR)
    assert type(plain.patterns) is packed.Packed
    assert list(kb.patterns) == list(plain.patterns)
    assert all(kb.patterns[pid] == plain.patterns[pid] for pid in plain.patterns)
    matches = kb.search("my raid is degraded", limit=3)
    assert [(m.pattern_id, m.score, m.pattern) for m in matches] == [
        (m.pattern_id, m.score, m.pattern) for m in plain.search("my raid is degraded", limit=3)]


def test_a_restart_with_unchanged_patterns_writes_nothing(tmp_path, written):
    kb_in(tmp_path)
    (name,) = files(tmp_path)
    before = (tmp_path / name).stat()
    written.clear()
    again = kb_in(tmp_path)
    assert written == []  # 0 bytes
    after = (tmp_path / name).stat()
    assert files(tmp_path) == [name] and (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert again.get(SHIPPED)["pattern_id"] == SHIPPED


def test_a_restart_in_a_child_process_writes_nothing_either(tmp_path):
    """The daemon's start loads in a forked child (memory.in_child): the file is still reused."""
    kb_in(tmp_path)
    (name,) = files(tmp_path)
    before = (tmp_path / name).stat()
    assert kb_in(tmp_path).get(SHIPPED)["pattern_id"] == SHIPPED
    after = (tmp_path / name).stat()
    assert files(tmp_path) == [name] and (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_an_edited_pattern_makes_a_new_file_and_removes_the_old(tmp_path, written):
    kb = kb_in(tmp_path)
    (old,) = files(tmp_path)
    title = "Degraded array, as our admin explains it"
    kb.save_local(SHIPPED, yaml.safe_dump({**yaml.safe_load(kb.text(SHIPPED)), "title": title}, sort_keys=False))
    (new,) = files(tmp_path)
    assert new != old and len(written) == 2
    assert kb.get(SHIPPED)["title"] == title
    assert kb.search("degraded array as our admin explains it", limit=1)[0].title == title
    kb.delete_local(SHIPPED)
    assert files(tmp_path) == [old]  # back to the shipped patterns: the same content, the same name
    assert kb.get(SHIPPED)["title"] != title


def test_a_corrupt_file_is_found_at_start_and_rewritten(tmp_path, written):
    kb_in(tmp_path)
    (name,) = files(tmp_path)
    path = tmp_path / name
    good = path.read_bytes()
    with open(path, "r+b") as f:  # one flipped byte in the middle
        f.seek(len(good) // 2)
        byte = f.read(1)
        f.seek(len(good) // 2)
        f.write(bytes([byte[0] ^ 0xFF]))
    assert not packed.intact(path)
    kb = kb_in(tmp_path)
    assert files(tmp_path) == [name] and path.read_bytes() == good and len(written) == 2
    assert all(kb.patterns[pid] == KnowledgeBase(PATTERNS_DIR).patterns[pid] for pid in (SHIPPED, list(kb.patterns)[-1]))


@pytest.mark.parametrize("damage", ["zeroed", "truncated", "truncated-and-removed"])
def test_a_file_damaged_while_running_is_never_served(tmp_path, written, damage, caplog):
    kb = kb_in(tmp_path)
    expected = KnowledgeBase(PATTERNS_DIR).get(SHIPPED)
    (name,) = files(tmp_path)
    path = tmp_path / name
    size = path.stat().st_size
    with open(path, "r+b") as f:  # the same inode the running knowledge base reads
        if damage == "zeroed":
            f.write(bytes(size))
        else:
            f.truncate(size // 3)
    if damage == "truncated-and-removed":
        path.unlink()
    with caplog.at_level(logging.WARNING, logger="omv_copilot_agent.knowledge.packed"):
        assert kb.get(SHIPPED) == expected
    assert "damaged" in caplog.text
    assert files(tmp_path) == [name] and packed.intact(path)  # rebuilt
    assert kb.search("my raid is degraded", limit=1)[0].pattern == kb.get(kb.search("my raid is degraded", limit=1)[0].pattern_id)


def test_a_file_damaged_again_after_its_rebuild_leaves_the_patterns_in_memory(tmp_path, written):
    kb = kb_in(tmp_path)
    expected = KnowledgeBase(PATTERNS_DIR).get(SHIPPED)
    for _ in range(2):
        (name,) = files(tmp_path)
        with open(tmp_path / name, "r+b") as f:
            f.truncate(10)
        assert kb.get(SHIPPED) == expected
    assert type(kb.patterns) is packed.Packed
    assert kb.get(SHIPPED) == expected


def test_without_a_damage_handler_a_damaged_read_raises_instead_of_unpacking(tmp_path):
    layout = packed.keep(tmp_path, packed.pack({"a": {"x": 1}, "b": {"y": 2}}))
    filed = packed.Filed(layout)
    assert filed["b"] == {"y": 2}
    os.truncate(layout.path, 3)
    with pytest.raises(packed.Damaged):
        filed["b"]


@pytest.mark.parametrize("data_dir", ["missing", "a-file"])
def test_a_data_dir_that_cannot_be_written_keeps_the_patterns_in_memory_quietly(tmp_path, data_dir, caplog):
    """The CLI builds its own agent on the daemon's data dir, which may not exist or not be its to
    write: its one-line answers get no warning about it."""
    (tmp_path / "a-file").write_text("")
    with caplog.at_level(logging.WARNING), in_this_process():  # the child's log records would not reach caplog
        kb = kb_in(tmp_path / data_dir)
    assert type(kb.patterns) is packed.Packed and kb.get(SHIPPED)["pattern_id"] == SHIPPED
    assert "packed" not in caplog.text


def test_a_leftover_temporary_file_is_removed(tmp_path):
    leftover = tmp_path / f".{packed.PREFIX}0123.packed.abc.tmp"
    leftover.write_bytes(b"half a write")
    an_hour_ago = leftover.stat().st_mtime - 3600
    os.utime(leftover, (an_hour_ago, an_hour_ago))
    kb_in(tmp_path)
    assert [n for n in files(tmp_path) if n.endswith(".tmp")] == []


def test_another_process_s_write_in_progress_is_left_alone(tmp_path):
    """The CLI (as root) and the daemon may keep patterns in the same data dir at once: one's start
    must not remove the temporary file the other is writing, or the other's rename fails."""
    other = packed.pack({"a": {"x": 1}})
    fd, tmp = tempfile.mkstemp(prefix=f".{packed.PREFIX}0123{packed.SUFFIX}.", suffix=".tmp", dir=tmp_path)
    with os.fdopen(fd, "wb") as half:
        half.write(other["a"][:5])  # half written, not yet renamed
        kb = kb_in(tmp_path)
        assert isinstance(kb.patterns, packed.Filed)
        half.write(other["a"][5:])
    os.replace(tmp, tmp_path / f"{packed.PREFIX}0123{packed.SUFFIX}")  # the other process's rename
    assert (tmp_path / f"{packed.PREFIX}0123{packed.SUFFIX}").read_bytes() == other["a"]


def test_a_file_removed_before_it_is_opened_leaves_the_patterns_in_memory(tmp_path, monkeypatch, caplog):
    """Another process's keep() may remove this one's file between its write and its open (the
    daemon reading it already keeps its descriptor): the patterns are then parsed again and served
    from memory. A second parse (~2 s of CPU) on this rare path is what spares every other load
    carrying the file's content back from the start-up child."""
    parsed, real_parse = [], loader.load_files

    def counting(directory, *args, **kw):
        parsed.append(directory)
        return real_parse(directory, *args, **kw)

    monkeypatch.setattr(loader, "load_files", counting)
    real = packed.keep

    def removed_at_once(directory, blobs):
        layout = real(directory, blobs)
        os.unlink(layout.path)  # another process's keep(), with other patterns, in between
        return layout

    monkeypatch.setattr(packed, "keep", removed_at_once)
    with caplog.at_level(logging.WARNING), in_this_process():
        kb = kb_in(tmp_path)
    assert type(kb.patterns) is packed.Packed and "keeping the patterns in memory" in caplog.text
    assert parsed == [PATTERNS_DIR, PATTERNS_DIR]  # parsed again, not kept from the first parse
    assert files(tmp_path) == []  # the second parse kept them in memory: it wrote no file to lose again
    plain = KnowledgeBase(PATTERNS_DIR)
    assert list(kb.patterns) == list(plain.patterns) and all(kb.get(pid) == plain.get(pid) for pid in plain.patterns)
    assert kb.search("my raid is degraded", limit=1)[0].pattern_id == SHIPPED


def test_a_load_brings_back_where_the_patterns_are_not_their_content(tmp_path, monkeypatch):
    """The start-up child sends back only each pattern's place in the file (ids, bounds, digests):
    the file's ~0.5 MB never crosses the pipe, nor sits in the daemon's heap while it loads."""
    from omv_copilot_agent import memory

    answers, real = [], memory.in_child

    def measured(fn, *args):
        answer = real(fn, *args)
        answers.append(len(pickle.dumps(answer)))
        return answer

    monkeypatch.setattr(memory, "in_child", measured)
    for _ in range(2):  # the load that writes the file, and a restart's that reuses it
        kb = kb_in(tmp_path)
        assert isinstance(kb.patterns, packed.Filed)
    (name,) = files(tmp_path)
    size = (tmp_path / name).stat().st_size
    assert len(answers) == 2 and max(answers) < size // 4, (answers, size)


def test_an_edit_through_the_api_is_served_from_the_new_file(live_server, tmp_path):
    srv = live_server(cycle=False)
    data_dir = tmp_path / "data"
    (old,) = files(data_dir)
    shipped = srv.get(f"/api/v1/knowledge/patterns/{SHIPPED}").json()
    edited = yaml.safe_load(shipped["yaml"])
    edited["title"] = "Degraded array, in the admin's words"
    r = srv.request("PUT", f"/api/v1/knowledge/patterns/{SHIPPED}", json={"yaml": yaml.safe_dump(edited, sort_keys=False)})
    assert r.status_code == 200, r.text
    (new,) = files(data_dir)
    assert new != old
    assert srv.get(f"/api/v1/knowledge/patterns/{SHIPPED}").json()["title"] == edited["title"]
    assert srv.request("DELETE", f"/api/v1/knowledge/patterns/{SHIPPED}").status_code in (200, 204)
    assert files(data_dir) == [old]


def _crc32_forged(blob: bytes, length: int, crc: int) -> bytes:
    """``blob`` padded to ``length`` bytes whose CRC-32 is ``crc`` (CRC-32 is affine in its input's
    bits for a fixed length, so the last 4 bytes are solved for over GF(2))."""
    head = blob + bytes(length - len(blob) - 4)
    base = zlib.crc32(head + bytes(4))
    columns = [zlib.crc32(head + (1 << bit).to_bytes(4, "little")) ^ base for bit in range(32)]
    rows = [(columns[bit], 1 << bit) for bit in range(32)]  # (crc contribution, tail bits) pairs
    want, tail, basis = crc ^ base, 0, {}
    for value, bits in rows:  # Gaussian elimination, keyed by each basis vector's top bit
        for top in sorted(basis, reverse=True):
            if value >> top & 1:
                value, bits = value ^ basis[top][0], bits ^ basis[top][1]
        if value:
            basis[value.bit_length() - 1] = (value, bits)
    for top in sorted(basis, reverse=True):
        if want >> top & 1:
            want, tail = want ^ basis[top][0], tail ^ basis[top][1]
    assert want == 0
    forged = blob + bytes(length - len(blob) - 4) + tail.to_bytes(4, "little")
    assert len(forged) == length and zlib.crc32(forged) == crc
    return forged


class _Planted:
    """A pickle that, when unpickled, creates a directory: proof that code from the file ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def _plant(layout: packed.Layout, index: int, marker) -> None:
    """Overwrite pattern ``index`` in the kept file, in place, with a code-running pickle that has
    the same length and CRC-32 as the pattern it replaces (what anyone able to write the file can make)."""
    lo, hi = layout.bounds[index], layout.bounds[index + 1]
    with open(layout.path, "rb") as f:
        real = os.pread(f.fileno(), hi - lo, lo)
    evil = zlib.compress(pickle.dumps(_Planted(marker)), 0)
    assert len(evil) + 4 <= hi - lo
    with open(layout.path, "r+b") as f:
        os.pwrite(f.fileno(), _crc32_forged(evil, hi - lo, zlib.crc32(real)), lo)


def test_a_planted_pickle_with_the_right_length_and_crc_is_never_unpickled(tmp_path):
    """The file is read back and unpickled, possibly by root (the CLI on the daemon's data dir): a
    blob that is not byte for byte what this process packed must not be unpickled, whatever its
    CRC-32 (a data_dir may be configured on a share others can write)."""
    blobs = packed.pack({"a": {"x": 1}, "b": {"y": 2, "pad": os.urandom(400)}})  # 400 bytes zlib cannot shrink
    layout = packed.keep(tmp_path, blobs)
    filed = packed.Filed(layout)
    _plant(layout, 1, tmp_path / "pwned")
    with pytest.raises(packed.Damaged):
        filed["b"]
    assert not (tmp_path / "pwned").exists()


def test_the_knowledge_base_serves_the_real_pattern_over_a_planted_one(tmp_path, written):
    kb = kb_in(tmp_path)
    expected = KnowledgeBase(PATTERNS_DIR).get(SHIPPED)
    (name,) = files(tmp_path)
    ids = list(kb.patterns)
    layout = packed.Layout(str(tmp_path / name), ids, kb.patterns._bounds, None)
    _plant(layout, ids.index(SHIPPED), tmp_path / "pwned")
    assert kb.get(SHIPPED) == expected
    assert not (tmp_path / "pwned").exists()


def test_a_full_disk_keeps_the_patterns_in_memory_and_leaves_no_partial_file(tmp_path, monkeypatch):
    """ENOSPC while writing (a USB stick filled by logs): no half-written file stays behind to be
    read, and the knowledge base works from memory."""
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(packed.os, "fsync", full)
    with in_this_process():
        kb = kb_in(tmp_path)
    assert type(kb.patterns) is packed.Packed and kb.get(SHIPPED)["pattern_id"] == SHIPPED
    assert files(tmp_path) == []


def test_two_readers_meeting_the_same_damage_rebuild_once(tmp_path, written, monkeypatch):
    """API threads read at once: two that find the same damaged read must rebuild the file once, not
    count two incidents (a second incident leaves the patterns in memory until the next start)."""
    kb = kb_in(tmp_path)
    expected = KnowledgeBase(PATTERNS_DIR).get(SHIPPED)
    both_read = threading.Barrier(2, timeout=10)
    real, calls = os.pread, []

    def short_read_twice(fd, n, offset):  # the first two reads come back short, once both are in
        calls.append(n)
        if len(calls) <= 2:
            both_read.wait()
            return b""
        return real(fd, n, offset)

    monkeypatch.setattr(packed.os, "pread", short_read_twice)
    got = [None, None]

    def read(i):
        got[i] = kb.get(SHIPPED)

    readers = [threading.Thread(target=read, args=(i,)) for i in range(2)]
    for t in readers:
        t.start()
    for t in readers:
        t.join(30)
    assert got == [expected, expected]
    assert isinstance(kb.patterns, packed.Filed)  # one incident: still read from the file


def test_a_second_agent_on_the_same_data_dir_replacing_the_file_leaves_the_first_serving(tmp_path, written, caplog):
    """The CLI builds its own agent on the daemon's data dir: an edit it saves writes a new file and
    removes the daemon's, which keeps reading the one it opened (no rebuild, no warning)."""
    daemon, cli = kb_in(tmp_path), kb_in(tmp_path)
    shipped_title = daemon.get(SHIPPED)["title"]
    cli.save_local(SHIPPED, yaml.safe_dump({**yaml.safe_load(cli.text(SHIPPED)), "title": "Edited by the CLI"},
                                           sort_keys=False))
    assert not os.path.exists(daemon.patterns.path) and files(tmp_path) == [os.path.basename(cli.patterns.path)]
    with caplog.at_level(logging.WARNING):
        assert daemon.get(SHIPPED)["title"] == shipped_title and cli.get(SHIPPED)["title"] == "Edited by the CLI"
    assert "damaged" not in caplog.text and isinstance(daemon.patterns, packed.Filed)


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc/self/fd (Linux)")
def test_reloading_replacing_and_dropping_the_knowledge_base_leaves_no_descriptor_open(tmp_path, written):
    """The daemon freezes what start-up built (memory.settle: gc.freeze), so a reference cycle that
    holds a patterns file open is never collected: each file must close as soon as nothing reads it,
    with no help from the cycle collector."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        before = _open_fds()
        kb = kb_in(tmp_path)
        assert isinstance(kb.patterns, packed.Filed) and _open_fds() == before + 1
        for _ in range(3):
            kb.reload()
            kb = kb_in(tmp_path)  # replaced: the one before is dropped
        (name,) = files(tmp_path)
        with open(tmp_path / name, "r+b") as f:  # a damaged read: the knowledge base rebuilds its file
            f.truncate(10)
        assert kb.get(SHIPPED)["pattern_id"] == SHIPPED and isinstance(kb.patterns, packed.Filed)
        assert _open_fds() == before + 1
        del kb
        assert _open_fds() == before
    finally:
        if was_enabled:
            gc.enable()


def _within(seconds: float, fn, fifo=None):
    """``fn()``, which must return within ``seconds``: a hang fails the test instead of the suite
    (a reader blocked on ``fifo`` is let go by opening its other end)."""
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - raised again in the test's thread
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)  # a second thread: the load runs in this process
    worker.start()
    worker.join(seconds)
    hung = worker.is_alive()
    if hung and fifo is not None:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # the blocked open returns, reads EOF
        worker.join(seconds)
    assert not hung, f"hung for {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["value"]


def _name_of_the_patterns_file(tmp_path) -> str:
    """The name the shipped patterns' file gets (their content's hash), with no file left there."""
    kb_in(tmp_path)
    (name,) = files(tmp_path)
    (tmp_path / name).unlink()
    return name


@pytest.mark.parametrize("planted", ["fifo", "symlink"])
def test_a_fifo_or_symlink_at_the_files_path_is_replaced_not_read(tmp_path, planted, caplog):
    """Whoever can write the data dir must not be able to hang the daemon's start (a FIFO blocks its
    reader until a writer comes) or point its reads at another file (a symbolic link)."""
    name = _name_of_the_patterns_file(tmp_path)
    path, elsewhere = tmp_path / name, tmp_path / "elsewhere"
    elsewhere.mkdir()
    if planted == "fifo":
        os.mkfifo(path)
    else:
        kb_in(elsewhere)  # a copy with the right content: only the link is wrong
        (elsewhere / name).rename(elsewhere / "target")
        os.symlink(elsewhere / "target", path)
    target_before = (elsewhere / "target").read_bytes() if planted == "symlink" else None
    with caplog.at_level(logging.WARNING):
        kb = _within(30, lambda: kb_in(tmp_path), fifo=path if planted == "fifo" else None)
    assert f"is a {'FIFO' if planted == 'fifo' else 'symbolic link'}" in caplog.text
    assert isinstance(kb.patterns, packed.Filed) and kb.get(SHIPPED)["pattern_id"] == SHIPPED
    mode = os.lstat(path).st_mode
    assert stat.S_ISREG(mode) and packed.intact(path)  # a regular file of the patterns in its place
    if planted == "symlink":
        assert (elsewhere / "target").read_bytes() == target_before


def test_a_directory_at_the_files_path_is_left_alone_and_said_so(tmp_path, caplog):
    """No file can be renamed over a directory (and what is in one is not ours to remove): the log
    must say what really happens (the patterns in memory), where, and what the admin can do, not
    that the directory is being replaced."""
    name = _name_of_the_patterns_file(tmp_path)
    path = tmp_path / name
    path.mkdir()
    (path / "someone's").write_text("kept")
    with caplog.at_level(logging.INFO), in_this_process():  # the child's log records would not reach caplog
        kb = kb_in(tmp_path)
    assert type(kb.patterns) is packed.Packed and kb.get(SHIPPED) == KnowledgeBase(PATTERNS_DIR).get(SHIPPED)
    assert (path / "someone's").read_text() == "kept" and files(tmp_path) == [name]  # no temporary file left
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert "replacing" not in caplog.text
    assert f"packed patterns file {path} is a directory" in warning
    assert "kept in memory" in warning and "move or remove that directory" in warning


@pytest.mark.parametrize("planted", ["fifo", "symlink"])
def test_a_fifo_or_symlink_planted_before_the_open_leaves_the_patterns_in_memory(tmp_path, planted, monkeypatch,
                                                                                 caplog):
    """Planted between the write and the open: the open refuses it (it neither blocks nor follows),
    and the knowledge base serves its patterns from memory."""
    fifo = tmp_path / _name_of_the_patterns_file(tmp_path) if planted == "fifo" else None  # where plant() puts it
    real = packed.keep

    def plant(directory, blobs):
        layout = real(directory, blobs)
        if planted == "fifo":
            os.unlink(layout.path)
            os.mkfifo(layout.path)
        else:
            os.rename(layout.path, directory / "moved")
            os.symlink(directory / "moved", layout.path)
        return layout

    monkeypatch.setattr(packed, "keep", plant)
    with caplog.at_level(logging.WARNING):
        kb = _within(30, lambda: kb_in(tmp_path), fifo=fifo)
    kind = "a FIFO" if planted == "fifo" else "a symbolic link"
    assert f"unreadable ({kind}, not " in caplog.text and "keeping the patterns in memory" in caplog.text
    assert type(kb.patterns) is packed.Packed and kb.get(SHIPPED) == KnowledgeBase(PATTERNS_DIR).get(SHIPPED)


def test_what_the_clean_up_cannot_remove_is_skipped_and_named_once(tmp_path, caplog):
    """A directory at an old patterns file's name (or a stale temporary one's) cannot be unlinked and
    is not ours to remove: the new file, written just before, stays in use, the rest of the clean-up
    still happens (a FIFO at another old name goes), and one warning names what was left and why."""
    name = _name_of_the_patterns_file(tmp_path)  # so this load writes the file anew
    old_dir, old_fifo = tmp_path / f"{packed.PREFIX}{'a' * 32}{packed.SUFFIX}", tmp_path / f"{packed.PREFIX}{'b' * 32}{packed.SUFFIX}"
    old_dir.mkdir()
    (old_dir / "someone's").write_text("kept")
    os.mkfifo(old_fifo)
    tmp_dir = tmp_path / f".{packed.PREFIX}{'c' * 32}.tmp"
    tmp_dir.mkdir()
    os.utime(tmp_dir, (1, 1))  # long stale
    with caplog.at_level(logging.INFO), in_this_process():  # the child's log records would not reach caplog
        kb = _within(30, lambda: kb_in(tmp_path), fifo=old_fifo)
    assert isinstance(kb.patterns, packed.Filed) and kb.patterns.path == str(tmp_path / name)
    assert kb.get(SHIPPED)["pattern_id"] == SHIPPED and packed.intact(tmp_path / name)
    assert not os.path.lexists(old_fifo) and (old_dir / "someone's").read_text() == "kept" and tmp_dir.is_dir()
    records = [r for r in caplog.records if "packed" in r.getMessage() or str(tmp_path) in r.getMessage()]
    (warning,) = records  # once, at warning level: no second line (the caller's "keeping them in memory")
    assert warning.levelno == logging.WARNING
    message = warning.getMessage()
    assert f"{old_dir} (a directory)" in message and f"{tmp_dir} (a directory)" in message
    assert str(old_fifo) not in message and f"{tmp_path / name} is in use" in message
