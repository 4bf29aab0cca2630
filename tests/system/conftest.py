"""The system tier's shared browser: one headless Chromium per test module (skips without one)."""

from __future__ import annotations

import pytest

from tests import webui_browser as wb


@pytest.fixture(scope="module")
def driver():
    drv = wb.make_driver()
    yield drv
    drv.quit()
