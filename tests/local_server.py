"""A fresh ``make run`` (``python -m infra.local``) in a subprocess, for tests that move the local clock.

The session's shared local stack must keep the wall clock (every other test reads it), so tests that
advance time (``POST /local/clock/advance``) run against their own stack process, started exactly as
``make run`` starts it, with its bootstrap file in a temporary directory."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from infra.definitions import REPO_ROOT

STARTUP_TIMEOUT = 120.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def local_server(workdir: Path, **env: str) -> Iterator[dict]:
    """Start the local stack as ``make run`` does; yield its bootstrap (``workdir/.local/bootstrap.json``)."""
    boot = workdir / ".local" / "bootstrap.json"
    environ = {
        **os.environ,
        "PORT": str(_free_port()),
        "TOLLGATE_BOOTSTRAP_FILE": str(boot),
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        **env,
    }
    log = (workdir / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.local"], cwd=REPO_ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _up(boot):
            assert proc.poll() is None, (workdir / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the local stack did not come up"
            time.sleep(0.3)
        yield json.loads(boot.read_text())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _up(boot: Path) -> bool:
    if not boot.exists():
        return False
    try:
        url = json.loads(boot.read_text())["api_url"]
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except (ValueError, KeyError, httpx.HTTPError):
        return False


@contextlib.contextmanager
def serving(stack, ready_timeout: float = 30.0) -> Iterator[tuple[str, object]]:
    """The in-process local ``stack`` served over HTTP on a free port by uvicorn in a thread (the e2e and
    browser tiers' server): yields its URL and the ``LocalApiGateway`` answering it."""
    import threading

    import uvicorn

    from infra.local.http import LocalApiGateway, asgi_app

    gateway = LocalApiGateway(stack)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(asgi_app(gateway), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    try:
        yield url, gateway
    finally:
        server.should_exit = True
        thread.join(timeout=10)
