"""Give freed heap back to the OS after startup and after each collection cycle.

Why: the daemon's idle RSS is what an admin compares against glances. Startup
(config/pattern YAML parsing, schema validation, BM25 indexing) and each cycle
(command output, snapshot JSON) leave freed-but-retained pages in glibc's heap;
``gc.collect()`` breaks reference cycles and glibc's ``malloc_trim(0)`` returns
the free pages. Both are cheap (milliseconds) and a no-op where unavailable
(musl, macOS, non-glibc builds).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os

_TRIM = None
_LOOKED_UP = False


def _malloc_trim():
    global _TRIM, _LOOKED_UP
    if not _LOOKED_UP:
        _LOOKED_UP = True
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _TRIM = libc.malloc_trim
            _TRIM.argtypes, _TRIM.restype = [ctypes.c_size_t], ctypes.c_int
        except (OSError, AttributeError):
            _TRIM = None
    return _TRIM


#: glibc's mallopt parameter number for M_ARENA_MAX (malloc.h).
_M_ARENA_MAX = -8


def limit_arenas(count: int = 2) -> bool:
    """Cap glibc malloc arenas (like MALLOC_ARENA_MAX) before the worker threads start.

    Why: glibc gives each thread that allocates its own arena (up to 8 per core), and each
    keeps its freed pages; the daemon's threads are mostly idle, so two arenas are plenty.
    An explicit MALLOC_ARENA_MAX in the environment wins. True if the cap was set.
    """
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(_M_ARENA_MAX, int(count)) == 1


def trim() -> bool:
    """Collect garbage and return free heap pages to the OS; True if malloc_trim ran."""
    gc.collect()
    fn = _malloc_trim()
    if fn is None:
        return False
    try:
        fn(0)
    except Exception:  # noqa: BLE001 - trimming is best effort, never fatal
        return False
    return True
