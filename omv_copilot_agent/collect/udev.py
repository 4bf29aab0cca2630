"""Live disk add/remove events from udev (pyudev), fed to the disk_change rule."""

from __future__ import annotations

import logging
from typing import Callable

log = logging.getLogger(__name__)

IGNORED_PREFIXES = ("loop", "ram", "zram", "dm-", "md", "nbd", "sr")


def interesting(sys_name: str, ignore: tuple[str, ...] = IGNORED_PREFIXES) -> bool:
    return not sys_name.startswith(ignore)


class DeviceWatcher:
    """A pyudev MonitorObserver on block disks; ``callback(action, devnode, model, serial)``."""

    def __init__(self, callback: Callable[[str, str, str | None, str | None], None], source: str = "udev",
                 ignore: tuple[str, ...] = IGNORED_PREFIXES):
        self.callback = callback
        self.source = source
        self.ignore = ignore
        self.observer = None
        self.error: str | None = None

    def start(self) -> bool:
        try:
            import pyudev

            monitor = pyudev.Monitor.from_netlink(pyudev.Context(), source=self.source)
            monitor.filter_by("block", device_type="disk")
            self.observer = pyudev.MonitorObserver(monitor, callback=self._on_event, name="udev-disks")
            self.observer.daemon = True
            self.observer.start()
            return True
        except Exception as exc:  # no netlink in this container, no permission, no pyudev
            self.error = f"{exc.__class__.__name__}: {exc}"
            log.info("disk hot-plug monitoring unavailable: %s", self.error)
            return False

    def _on_event(self, device) -> None:
        action = device.action
        if action not in ("add", "remove") or not interesting(device.sys_name, self.ignore):
            return
        try:
            self.callback(action, device.device_node or f"/dev/{device.sys_name}",
                          device.properties.get("ID_MODEL"),
                          device.properties.get("ID_SERIAL_SHORT") or device.properties.get("ID_SERIAL"))
        except Exception:
            log.exception("disk event handler failed")

    def stop(self) -> None:
        if self.observer is not None:
            try:
                self.observer.send_stop()
            except Exception:
                pass
            self.observer = None
