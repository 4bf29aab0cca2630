"""Give freed heap back to the OS after startup and after each collection cycle.

Why: the daemon's idle RSS is what an admin compares against glances. Startup
(config/pattern YAML parsing, schema validation, BM25 indexing) and each cycle
(command output, snapshot JSON) leave freed-but-retained pages in glibc's heap;
``gc.collect()`` breaks reference cycles and glibc's ``malloc_trim(0)`` returns
the free pages. Both are cheap (milliseconds) and a no-op where unavailable
(musl, macOS, non-glibc builds). What only start-up needs (validating the
config and the patterns) runs in a forked child (:func:`in_child`), so its
imports and garbage never reach the daemon's heap; the daemon's own imports
load no OpenSSL until something speaks TLS (:func:`without_openssl`), and a
library a dependency imports for a path the daemon never takes is imported when
that path runs (:func:`deferred`).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import os
import sys
import threading
import types
from typing import Any, Callable, Iterator, TypeVar

T = TypeVar("T")

_TRIM = None
_LOOKED_UP = False


def _malloc_trim() -> Callable[[int], int] | None:
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


def settle() -> bool:
    """End of start-up: collect, freeze what survived (``gc.freeze``), and trim.

    Why: :func:`trim` runs after every cycle, and a full collection walks every tracked object
    — ~53,000 once the modules, Flask, the patterns and their index are loaded: ~30 ms of CPU
    per cycle, twice what the cycle's sources cost. Frozen start-up objects are not walked again;
    what a cycle allocates is still collected, and reference counting still frees a frozen object
    that is dropped later (only a reference cycle among frozen objects would stay).
    """
    gc.collect()
    gc.freeze()
    return trim()


def in_child(fn: Callable[..., T], *args) -> T:
    """``fn(*args)``, computed in a forked child process; its result (or exception) comes back pickled.

    Why: a Python process keeps the pages of every module it imported, and most of the pages
    one-time work dirtied (pymalloc returns an arena only when all of it is free; unloading a
    module frees nothing measurable). The daemon validates its config and patterns once at
    start — jsonschema and ~40 modules it pulls in, the YAML parse — and would carry that for
    weeks; a child takes both with it when it exits, and only the result is copied back.

    Runs ``fn`` in this process instead when other threads exist (a lock one of them holds
    would stay locked in the child), where ``fork`` is unavailable, or when the child died
    without an answer: the result is the same, only the memory differs.
    """
    if threading.active_count() > 1 or not hasattr(os, "fork"):
        return fn(*args)
    import pickle

    try:
        read_end, write_end = os.pipe()
        pid = os.fork()
    except OSError:
        return fn(*args)
    if pid == 0:  # the child: answer, then leave without running the parent's atexit handlers
        status = 1
        try:
            os.close(read_end)
            try:
                answer = (True, fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
                answer = (False, exc)
            try:
                data = pickle.dumps(answer)
            except Exception:  # noqa: BLE001 - an unpicklable answer: the parent computes it itself
                data = b""
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    if not data:
        return fn(*args)
    try:
        ok, value = pickle.loads(data)  # noqa: S301 - written by our own child a moment ago
    except Exception:  # noqa: BLE001 - e.g. an exception class that cannot be rebuilt: compute it here
        return fn(*args)
    if not ok:
        raise value
    return value


#: The modules that map and initialise OpenSSL (libcrypto, libssl) when imported.
OPENSSL_MODULES = ("ssl", "_ssl", "_hashlib")
#: Modules that fix at import time whether they offer HTTPS.
DECIDE_HTTPS_AT_IMPORT = ("http.client", "urllib.request")


@contextlib.contextmanager
def without_openssl() -> Iterator[bool]:
    """Imports made inside run as if OpenSSL were absent; yields True when it was kept out.

    Why: Flask's imports reach OpenSSL only through optional imports — jinja2's bytecode cache
    and werkzeug's ``hashlib`` (OpenSSL's hashes, else Python's built-in ones) and ``http.client``
    (``try: import ssl``, for an HTTPS class the daemon never uses: it listens on loopback in
    plain HTTP, and requests/urllib3 bring their own). Loading and initialising libcrypto costs
    the daemon ~4.7 MiB of RSS it would carry for weeks. After the block, the first module that
    needs TLS (an LLM provider, an HTTPS webhook, SMTP STARTTLS — each imports requests or
    smtplib at send time) imports ``ssl`` as usual.

    ``http.client`` and ``urllib.request`` decide at import whether they offer HTTPS
    (``HTTPSConnection``, ``HTTPSHandler``). When the block imported them, they leave
    ``sys.modules`` with it, so the next module that imports them (requests for a
    webhook or an LLM provider) gets them again, with HTTPS and OpenSSL; the modules
    imported in the block keep the plain-HTTP copies they already hold (werkzeug's dev server,
    http.cookiejar), which never speak TLS. tests/unit/test_memory_openssl.py checks both.

    Does nothing when OpenSSL is already loaded (there is nothing left to save).
    """
    if any(sys.modules.get(name) is not None for name in OPENSSL_MODULES):
        yield False
        return
    already = {name for name in DECIDE_HTTPS_AT_IMPORT if name in sys.modules}
    for name in OPENSSL_MODULES:
        sys.modules[name] = None  # an import of it raises ImportError, as where Python lacks OpenSSL
    try:
        yield True
    finally:
        for name in OPENSSL_MODULES:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]
        for name in DECIDE_HTTPS_AT_IMPORT:
            if name not in already:
                sys.modules.pop(name, None)  # imported without HTTPS: the next importer gets it anew


class _Deferred(types.ModuleType):
    """Stands in for a module until one of its attributes is read, then imports it and hands that on."""

    def __getattr__(self, attr: str) -> Any:
        import importlib

        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attr)


@contextlib.contextmanager
def deferred(name: str) -> Iterator[None]:
    """Modules imported inside the block that ``import name`` get a stand-in, which imports the
    real module the first time one of its attributes is used.

    Why: a dependency may import a library at its top for a function the daemon never calls
    (OMV's ``openmediavault.settings`` imports natsort, ~1 MiB of RSS with the Unicode tables
    it builds, only to sort ``/etc/default/openmediavault`` when saving it). The stand-in
    behaves like the module for its holder, one attribute read later. Only ``import name``
    is deferred: ``from name import x`` in the block reads ``x`` and so imports it at once.
    After the block the stand-in leaves ``sys.modules``: other importers get the real module.
    Does nothing when the module is already imported.
    """
    if name in sys.modules:
        yield
        return
    stand_in = sys.modules[name] = _Deferred(name)
    try:
        yield
    finally:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
