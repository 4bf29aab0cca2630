"""The Changes tab inside OMV's real web UI (the test bed, as tests/system/test_webui_omv.py
installs it): a real pending change made through OMV's RPC is explained in the panel, and the
panel's Undo — after its confirmation — has OMV revert it. Run it under the test bed's session
lock (flock /run/omv-testbed.session.lock); it holds the same install locks as test_webui_omv.py.
"""

from __future__ import annotations

import json

from tests import webui_browser as wb
from tests.system import test_webui_omv as omv
from tests.testbed import omv_rpc

# The module-scoped fixtures of the in-OMV tests: the plugin installed with a daemon behind it, and the browser.
omv_panel = omv.omv_panel
driver = omv.driver


def _pending_text(driver) -> str:
    return omv._js(driver, f"var c = {omv._q('#pendingView')}; return c && c.body ? c.body.dom.textContent : '';") or ""


def test_a_real_pending_change_is_explained_and_undone_from_the_panel(omv_panel, driver):
    omv._need_daemon_behind_engine()
    ssh = json.loads(omv_rpc("SSH", "get", {}).stdout)
    new_port = 2222 if ssh["port"] != 2222 else 2223
    try:
        assert omv_rpc("SSH", "set", {**ssh, "port": new_port}).returncode == 0
        omv._open_panel(driver, omv_panel)
        omv._js(driver, f"var t = {omv._q('#copilotRoot')}; t.setActiveTab(t.child('#changes'));")
        omv._js(driver, f"{omv._q('#changes')}.setActiveTab({omv._q('#pendingView')});")
        text = wb.wait(driver, lambda d: "SSH settings" in _pending_text(d) and _pending_text(d), timeout=120,
                       message="the pending SSH change did not show in the panel")
        assert f"SSH settings: port '{ssh['port']}' → '{new_port}'" in text and "omv-salt deploy run ssh" in text
        omv._shot_file(driver, "webui-omv-changes-pending.png")
        omv._js(driver, f"{omv._q('#pendingView #revertBtn')}.el.dom.click();")
        wb.wait(driver, lambda d: omv._js(d, "return Ext6.Msg.isVisible();"), message="no confirmation before the revert")
        omv._js(driver, "Ext6.Msg.down('#yes').el.dom.click();")
        wb.wait(driver, lambda d: "No configuration changes are waiting" in _pending_text(d), timeout=120,
                message="the panel did not show the reverted state")
        assert json.loads(omv_rpc("SSH", "get", {}).stdout)["port"] == ssh["port"]
        assert omv._panel_errors(driver) == []
    finally:
        if json.loads(omv_rpc("SSH", "get", {}).stdout)["port"] != ssh["port"]:
            omv_rpc("Config", "revertChanges", {"filename": ""})
