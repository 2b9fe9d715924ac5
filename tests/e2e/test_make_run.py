"""`make run`: the local stack in the foreground, /health within 60 s, a working OWNER key on disk."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import free_port

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def test_make_run_serves_health_and_writes_a_working_owner_key(tmp_path):
    port = free_port()
    bootstrap = tmp_path / "bootstrap.json"
    env = {**os.environ, "PORT": str(port), "TOLLGATE_BOOTSTRAP_FILE": str(bootstrap), "TOLLGATE_DEMO": "0"}
    # The same command `make run` executes once the virtualenv exists.
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.local"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        started = time.monotonic()
        while True:
            assert proc.poll() is None, proc.stdout.read().decode()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() - started < 60, "no healthy API within 60 s"
            time.sleep(0.2)
        info = json.loads(bootstrap.read_text())
        assert set(info) >= {"api_url", "tenant_id", "operator_key"}
        assert info["api_url"] == f"http://127.0.0.1:{port}" and info["operator_key"].startswith("afo_")
        r = httpx.get(
            f"{info['api_url']}/v1/api-keys",
            headers={"Authorization": f"Bearer {info['operator_key']}", "X-Tenant-Id": info["tenant_id"]},
        )
        assert r.status_code == 200
        assert "OWNER" in {k.get("role") for k in r.json()["data"]}
        # The demo API answers a customer key of the seeded free plan (allow / 403 / 429: README "Protecting an API").
        demo = httpx.get(
            f"{info['api_url']}/demo-api/widgets", headers={"Authorization": f"Bearer {info['demo_free_key']}"}
        )
        assert demo.status_code == 200, demo.text
        # moto as an AWS endpoint: boto3 pointed at the printed URL sees the stack's own tables.
        import boto3

        ddb = boto3.client(
            "dynamodb",
            endpoint_url=info["aws_endpoint_url"],
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        assert {"tollgate-main", "tollgate-events", "tollgate-usage"} <= set(ddb.list_tables()["TableNames"])
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C
        proc.wait(timeout=20)
    out = proc.stdout.read().decode()
    assert info["operator_key"] in out and info["tenant_id"] in out and info["aws_endpoint_url"] in out


def test_make_run_target_uses_port_and_the_module():
    makefile = (REPO / "Makefile").read_text()
    assert "PORT ?= 8000" in makefile and "-m infra.local" in makefile
