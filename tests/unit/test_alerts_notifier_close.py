"""Notifier.close() ends its worker thread at once, and what was queued before is not silently lost.

Why: the worker waited on its queue for 30 s, so after close (a daemon restart, a test) the thread
and its SMTP/webhook config lived on; a notification queued just before a restart (the array went
degraded) must still go out, or at least be counted and logged as dropped.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest

from omv_copilot_agent.alerts.notify import Notifier

ALERT = {"id": 1, "rule": "fs_full", "subject": "/srv/a", "severity": "critical", "title": "t", "message": "m",
         "first_seen": 1.0}


def _notifier(post, **cfg):
    config = {"webhooks": [{"url": "http://127.0.0.1:9/hook"}], "notify_backoff_s": 0, **cfg}
    n = Notifier(lambda: config, lambda: {"hostname": "nas"})
    n._post = post  # the transport, replaced: nothing leaves the machine
    return n


def _workers():
    return [t for t in threading.enumerate() if t.name == "alert-notifier"]


@pytest.fixture(autouse=True)
def _no_leftover_workers():
    before = set(_workers())
    yield
    deadline = time.time() + 5
    while set(_workers()) - before and time.time() < deadline:
        time.sleep(0.01)


def test_close_sends_what_was_queued_and_the_worker_is_gone_within_a_second():
    sent, gate = [], threading.Event()
    n = _notifier(lambda hook, request: (gate.wait(5), sent.append(request)))
    assert n.submit("test", ALERT, force=True) and n.submit("test", dict(ALERT, id=2), force=True)
    thread = n._thread
    assert thread is not None and thread.is_alive()
    gate.set()
    started = time.monotonic()
    assert n.close() == 0
    thread.join(1.0)
    assert not thread.is_alive() and time.monotonic() - started < 1.0  # old code: alive for 30 s more
    assert len(sent) == 2 and [d["ok"] for d in n.deliveries] == [True, True]  # queued before close: sent


def test_an_idle_worker_ends_at_close_not_30_s_later():
    n = _notifier(lambda hook, request: None)
    assert n.submit("test", ALERT, force=True) and n.flush(5)
    thread = n._thread
    assert thread is not None and thread.is_alive()  # waiting on the queue
    n.close()
    thread.join(1.0)
    assert not thread.is_alive()


def test_a_retry_wait_is_cut_short_by_close():
    tried = threading.Event()

    def fail(hook, request):
        tried.set()
        raise OSError("connection refused")

    n = _notifier(fail, notify_backoff_s=60, notify_retries=4)  # old code: 60+120+240+480 s of retries
    assert n.submit("test", ALERT, force=True)
    assert tried.wait(5)
    time.sleep(0.1)  # the first attempt failed, the worker waits before the second
    thread, started = n._thread, time.monotonic()
    n.close()
    thread.join(1.0)
    assert not thread.is_alive() and time.monotonic() - started < 1.0
    assert [(d["ok"], d["attempts"]) for d in n.deliveries] == [(False, 1)]  # given up, and recorded


def test_what_a_hung_send_keeps_from_going_out_is_counted_and_logged_not_lost_silently(caplog):
    gate, sent = threading.Event(), []
    n = _notifier(lambda hook, request: (gate.wait(10), sent.append(request)))
    for i in range(3):
        assert n.submit("test", dict(ALERT, id=i), force=True)
    time.sleep(0.05)  # the worker is in the first send, two wait behind it
    thread, started = n._thread, time.monotonic()
    with caplog.at_level(logging.WARNING, logger="omv_copilot_agent.alerts.notify"):
        assert n.close(timeout=0.2) == 2
    assert time.monotonic() - started < 2.0  # close does not wait for the hung receiver
    assert "2 queued notification(s) dropped" in caplog.text
    gate.set()  # the receiver answers at last: the send in progress completes, nothing after it
    thread.join(1.0)
    assert not thread.is_alive() and len(sent) == 1 and n.flush(1)


def test_after_close_nothing_is_queued_and_no_worker_starts(caplog):
    n = _notifier(lambda hook, request: None)
    n.close()
    with caplog.at_level(logging.WARNING, logger="omv_copilot_agent.alerts.notify"):
        n.submit("test", ALERT, force=True)
    assert n._thread is None and n.dropped == 1 and "dropped unsent" in caplog.text
    assert n.close() == 0  # idempotent
