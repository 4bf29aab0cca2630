"""The apt source on a stock (uncompressed) list layout: lists read only when they change, streamed.

A stock Debian/OMV box keeps ~50 MB of uncompressed ``*_Packages`` lists; the tests build a
synthetic one (thousands of stanzas, a few installed) in a tmp dir and count the opens of list
files with an audit hook, and measure the Python memory a recomputation peaks at.
"""

from __future__ import annotations

import gzip
import os
import sys
import time
import tracemalloc
from types import SimpleNamespace

import pytest

_OPENS: list[str] = []
_WATCH: dict = {"dir": None}


def _audit(event, args):
    if event == "open" and _WATCH["dir"] and isinstance(args[0], str) and args[0].startswith(_WATCH["dir"]):
        _OPENS.append(args[0])


sys.addaudithook(_audit)

DESCRIPTION = "Description: a package\n" + "".join(f" line {i} of a long description that apt keeps\n" for i in range(20))


def _stanza(name: str, version: str) -> str:
    return (f"Package: {name}\nVersion: {version}\nArchitecture: amd64\nMaintainer: Someone <a@example.org>\n"
            f"Installed-Size: 123\nDepends: libc6 (>= 2.36)\nFilename: pool/main/{name[0]}/{name}/{name}_{version}_amd64.deb\n"
            f"Size: 4567\nSHA256: {'0' * 64}\n{DESCRIPTION}\n")


@pytest.fixture
def stock_lists(tmp_path, monkeypatch):
    """A stock layout: one 20k-stanza main list (~20 MB), a security list, dpkg status with 3 packages."""
    from omv_copilot_agent.collect import apt

    lists = tmp_path / "lists"
    lists.mkdir()
    with open(lists / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages", "w") as fh:
        for i in range(20000):
            fh.write(_stanza(f"pkg{i:05d}", "1.0-1"))
        fh.write(_stanza("bash", "5.2.15-2+b7") + _stanza("openssl", "3.0.11-1~deb12u1"))
    (lists / "deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages").write_text(
        _stanza("openssl", "3.0.13-1~deb12u1"))
    (lists / "lock").write_text("")
    status = tmp_path / "status"
    status.write_text("".join(
        f"Package: {n}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {v}\n{DESCRIPTION}\n"
        for n, v in (("bash", "5.2.15-2+b2"), ("openssl", "3.0.11-1~deb12u1"), ("pkg00007", "1.0-1"))))
    monkeypatch.setattr(apt, "LISTS", str(lists))
    monkeypatch.setattr(apt, "STATUS", str(status))
    _WATCH["dir"] = str(tmp_path)
    _OPENS.clear()
    yield SimpleNamespace(lists=lists, status=status)
    _WATCH["dir"] = None


def _list_reads() -> int:
    return sum(1 for p in _OPENS if p.endswith("_Packages"))


def test_lists_are_read_again_only_when_they_or_dpkg_status_change(stock_lists):
    from omv_copilot_agent.collect import apt

    ctx = SimpleNamespace(config=None, cache={})
    first = apt.collect(ctx)
    assert {p["name"]: p["security"] for p in first["pending"]} == {"bash": False, "openssl": True}
    assert _list_reads() == 2
    for _ in range(10):  # ten more cycles, nothing changed: no list is opened, the same reading but the age
        again = apt.collect(ctx)
        assert again == {**first, "lists_age_s": again["lists_age_s"]}
    assert _list_reads() == 2
    # dpkg installs the new bash: dpkg's status changes, the lists are read once more
    text = stock_lists.status.read_text().replace("5.2.15-2+b2", "5.2.15-2+b7")
    stock_lists.status.write_text(text)
    os.utime(stock_lists.status, ns=(time.time_ns(), time.time_ns() + 10**9))
    again = apt.collect(ctx)
    assert _list_reads() == 4 and [p["name"] for p in again["pending"]] == ["openssl"]
    # apt update replaces a list
    sec = next(stock_lists.lists.glob("*security*"))
    sec.write_text(sec.read_text().replace("3.0.13", "3.0.14"))
    os.utime(sec, ns=(time.time_ns(), time.time_ns() + 2 * 10**9))
    _OPENS.clear()
    assert apt.collect(ctx)["pending"][0]["version"] == "3.0.14-1~deb12u1" and _list_reads() == 2


def test_a_recomputation_streams_the_lists(stock_lists):
    """20 MB of lists: the recomputation must not hold a list (or its stanzas) in memory."""
    from omv_copilot_agent.collect import apt

    size = sum(p.stat().st_size for p in stock_lists.lists.glob("*_Packages"))
    assert size > 15 * 2**20
    tracemalloc.start()
    try:
        items, _ = apt.pending()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [p["name"] for p in items] == ["bash", "openssl"]
    assert peak < 2 * 2**20, f"recomputing pending updates peaked at {peak / 2**20:.1f} MiB of Python objects"


def test_gzip_compressed_lists_are_read_too(stock_lists):
    from omv_copilot_agent.collect import apt

    for path in list(stock_lists.lists.glob("*_Packages")):
        with open(path, "rb") as src, gzip.open(f"{path}.gz", "wb") as dst:
            dst.write(src.read())
        path.unlink()
    items, newest = apt.pending()
    assert {p["name"]: p["security"] for p in items} == {"bash": False, "openssl": True} and newest
