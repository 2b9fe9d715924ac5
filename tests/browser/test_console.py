"""The operator console in headless Chromium (the done-when walk of issue 21)."""

from __future__ import annotations

import pytest

from tests.browser.artifacts import screenshot

pytestmark = pytest.mark.browser


def test_the_console_page_is_served(page, web_server):
    page.goto(f"{web_server.url}/console/")
    page.get_by_role("heading", name="Tollgate console").wait_for()
    screenshot(page, "console-start")
