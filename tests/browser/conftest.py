"""The browser tier: the console and portal (web/dist) in headless Chromium against the local stack.

Chromium is Debian's package (``/usr/bin/chromium``): when it is missing, the setup installs it once with
``apt-get install -y chromium`` (as root, as CI runs). Playwright for Python drives it through
``executable_path`` -- Playwright's own browser downloads are never used. ``web_server`` serves the
session's shared local stack (like tests/e2e's ``server``) with the pages on the same origin;
``clock_server`` is a stack process of its own (``make run``), for walks that move the local clock.
Screenshots: ``tests.browser.artifacts.screenshot(page, name)``."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.definitions import REPO_ROOT
from tests.local_server import local_server, serving

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("TOLLGATE_CHROMIUM", "/usr/bin/chromium")
DIST = REPO_ROOT / "web" / "dist"


@dataclass
class WebServer:
    url: str
    tenant_id: str
    owner_key: str
    platform_key: str


def ensure_chromium() -> str:
    """Debian's Chromium, installed once when missing (the tier's only system dependency)."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        # One installer at a time: pytest-xdist workers (the console's and the portal's files) may both get here.
        with open("/tmp/tollgate-chromium-install.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not Path(CHROMIUM).exists():
                env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
                subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, timeout=600)
                subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env, timeout=1200)
    if not Path(CHROMIUM).exists():
        pytest.fail(f"No Chromium at {CHROMIUM}: run `apt-get install -y chromium` as root (Debian's package).")
    return CHROMIUM


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator:
    if not (DIST / "console" / "index.html").is_file():
        pytest.fail("web/dist is not built: run `make web` (make test builds it first).")
    from playwright.sync_api import expect, sync_playwright

    # The local stack shares 2 cores with the rest of the suite: wait up to 20 s for what a user waits for.
    expect.set_options(timeout=20_000)

    executable = ensure_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium_browser) -> Iterator:
    """A fresh browser context (its own sessionStorage) per test, 1280x900, failing fast on a stuck page."""
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(20_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(scope="session")
def web_server(local_stack) -> Iterator[WebServer]:
    """The session's local stack over HTTP (API + /console + /portal on one origin)."""
    boot = local_stack.bootstrap_tenant("Browser tenant")
    with serving(local_stack) as (url, _gateway):
        yield WebServer(url, boot.tenant_id, boot.operator_key, boot.platform_key)


@pytest.fixture(scope="module")
def clock_server(tmp_path_factory) -> Iterator[WebServer]:
    """A local stack process of its own (as ``make run`` starts it, without the demo tenant): its clock can
    move (``POST /local/clock/advance``) without moving the clock the session's other tests read."""
    with local_server(tmp_path_factory.mktemp("clock-stack"), TOLLGATE_DEMO="0") as boot:
        yield WebServer(boot["api_url"], boot["tenant_id"], boot["operator_key"], boot["platform_key"])
