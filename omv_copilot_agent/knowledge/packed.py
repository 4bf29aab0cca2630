"""Patterns held packed: each one a compressed pickle, unpacked when it is read.

Why: the daemon keeps every pattern for weeks, and most of a pattern (its solutions,
diagnostics, causes, sources: ~90 % of it) is read only when an answer or a page shows that
one pattern. As Python dicts the 231 shipped patterns took ~2.2 MiB of the idle daemon; packed
they take ~0.3 MiB, and unpacking one costs ~0.1 ms. What ranking reads for every pattern (the
title, category and ``findings:``) stays unpacked in the index (matcher.Index).
"""

from __future__ import annotations

import pickle
import zlib
from collections.abc import Iterator, Mapping


def pack(patterns: Mapping[str, dict]) -> dict[str, bytes]:
    """pattern id -> its packed form (what :class:`Packed` holds)."""
    return {pid: zlib.compress(pickle.dumps(p, protocol=pickle.HIGHEST_PROTOCOL)) for pid, p in patterns.items()}


class Packed(Mapping):
    """A read-only mapping pattern id -> pattern dict over packed patterns.

    Each read unpacks a fresh copy: a caller that changes the dict it got changes nothing
    that another reader sees.
    """

    def __init__(self, packed: dict[str, bytes]):
        self._packed = packed

    def __getitem__(self, pattern_id: str) -> dict:
        return pickle.loads(zlib.decompress(self._packed[pattern_id]))  # noqa: S301 - packed by pack() above

    def __contains__(self, pattern_id: object) -> bool:
        return pattern_id in self._packed

    def __iter__(self) -> Iterator[str]:
        return iter(self._packed)

    def __len__(self) -> int:
        return len(self._packed)

    def __repr__(self) -> str:
        return f"Packed({len(self)} patterns)"
