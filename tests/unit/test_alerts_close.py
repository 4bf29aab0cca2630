"""AlertService and its Notifier are freed by reference counting alone once closed and dropped.

Why: the daemon freezes what start-up built (memory.settle: gc.freeze), so a reference cycle
(service -> notifier -> a bound method of the service) waits for a cycle collection that may
never come; with a real store and knowledge base that is about a thousand objects.
"""

from __future__ import annotations

import weakref

import pytest

from omv_copilot_agent import config as config_mod
from omv_copilot_agent.alerts import AlertService
from omv_copilot_agent.collect import udev
from omv_copilot_agent.store import Store
from tests.unit.test_agent_close import no_cycle_collector  # noqa: F401  (a fixture: gc collected, then off)


@pytest.fixture
def service(tmp_path):
    cfg = config_mod.from_dict({"data_dir": str(tmp_path), "alerts": {"udev_monitor": False, "rrd_import": False}})
    store = Store(tmp_path)
    yield lambda: AlertService(cfg, store, lambda: None)
    store.close()


def _refs(svc):
    return weakref.ref(svc), weakref.ref(svc.notifier), weakref.ref(svc.notifier.dispatcher)


@pytest.mark.usefixtures("no_cycle_collector")
def test_close_and_del_free_the_service_and_its_notifier_without_the_cycle_collector(service):
    svc = service()
    assert svc.config()["enabled"] in (True, False) and svc.notifier.channels() == []  # both ways used
    refs = _refs(svc)
    svc.close()
    del svc
    assert [r() is None for r in refs] == [True, True, True]  # service, notifier, dispatcher


@pytest.mark.usefixtures("no_cycle_collector")
def test_a_disk_watcher_is_let_go_by_close(service, monkeypatch):
    monkeypatch.setattr(udev.DeviceWatcher, "start", lambda self: False)  # no netlink needed
    svc = service()
    svc.start_watcher()
    watcher = weakref.ref(svc.watcher)
    refs = _refs(svc)
    svc.close()
    assert svc.watcher is None
    del svc
    assert [r() is None for r in (*refs, watcher)] == [True, True, True, True]


def test_the_notifier_reads_the_live_config_and_the_newest_snapshot(tmp_path):
    """The narrower callables still see what the service sees: settings changes, the latest snapshot."""
    from tests.alerts_support import snapshot

    cfg = config_mod.from_dict({"data_dir": str(tmp_path), "alerts": {"udev_monitor": False, "rrd_import": False}})
    store = Store(tmp_path)
    latest = [None]
    try:
        svc = AlertService(cfg, store, lambda: latest[0])
        assert svc.notifier._host()  # no snapshot: the machine's name
        cfg["notifications"] = {**(cfg.get("notifications") or {}), "email": True}  # a settings change, live
        assert svc.config()["email"] is True and svc.notifier.email_on() is True
        latest[0] = snapshot(1.0, system={"hostname": "nas-7"},
                             omv={"notifications": {"topics": [{"id": "copilot", "enable": False}]}})
        assert svc.notifier._host() == "nas-7" and svc.notifier.email_on() is False
    finally:
        store.close()
