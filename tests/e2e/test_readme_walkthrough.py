"""Issue 18: the README's "Your first invoice" is executed as written: its shell blocks run in bash, in
order, against a fresh ``make run`` (``python -m infra.local``), and must reach a FINALIZED invoice with
the total the README states. A README that goes stale fails here."""

from __future__ import annotations

import re
import subprocess

import httpx
import pytest

from infra.definitions import REPO_ROOT
from tests.e2e.builders import ok, wait_for
from tests.local_server import local_server

pytestmark = pytest.mark.e2e

SECTION = "## Your first invoice"


def walkthrough_blocks() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text()
    start = readme.index(SECTION)
    end = readme.find("\n## ", start + len(SECTION))
    section = readme[start : end if end != -1 else None]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("readme")


@pytest.fixture(scope="module")
def boot(workdir):
    with local_server(workdir) as info:  # exactly what make run starts, the Demo tenant included
        yield info


def client(boot: dict, tenant: dict) -> httpx.Client:
    headers = {"Authorization": f"Bearer {tenant['operator_key']}", "X-Tenant-Id": tenant["tenant_id"]}
    return httpx.Client(base_url=boot["api_url"], headers=headers, timeout=60)


def test_make_run_creates_a_demo_tenant_with_data_at_once(boot):  # first: before the clock moves
    """Issue 18 item 2: the Demo tenant's key is in .local/bootstrap.json; usage, the event log and the
    upcoming invoice show data before anything else is done; the empty tenant stays empty."""
    with client(boot, boot["demo"]) as demo:
        subs = {s["status"] for s in ok(demo.get("/v1/subscriptions"))["data"]}
        assert {"ACTIVE", "TRIALING"} <= subs
        customers = {c["external_id"]: c for c in ok(demo.get("/v1/customers"))["data"]}
        acme = customers["demo-acme"]
        assert ok(demo.get("/v1/ingest/events", params={"external_customer_id": "demo-acme"}))["data"]
        sub = next(s for s in ok(demo.get("/v1/subscriptions"))["data"] if s["customer_id"] == acme["id"])
        upcoming = wait_for(
            lambda: (
                (u := ok(demo.get(f"/v1/subscriptions/{sub['id']}/upcoming-invoice")))
                and any(ln["kind"] == "usage" and ln["quantity"] != "0" for ln in u["lines"])
                and u
            ),
            timeout=30,
        )
        assert upcoming["totals"]["total"] != "0.00"
        usage = ok(demo.get("/v1/usage", params={"external_customer_id": "demo-acme", "event_name": "api.calls"}))
        assert usage["value"] != "0"
    with client(boot, boot) as empty:
        assert ok(empty.get("/v1/customers"))["data"] == []


def test_the_readme_walkthrough_reaches_a_finalized_invoice_with_the_stated_total(boot, workdir):
    blocks = walkthrough_blocks()
    assert len(blocks) >= 5, "the walkthrough's shell blocks were not found"
    stated = re.search(r"FINALIZED` with a total of `([0-9.]+)`", (REPO_ROOT / "README.md").read_text())
    assert stated, "the README states the invoice's total"
    script = "set -euo pipefail\n" + "\n".join(blocks)
    run = subprocess.run(["bash", "-c", script], cwd=workdir, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    lines = run.stdout.strip().splitlines()
    assert sum('"code":"EVENT_ID_ASSIGNED"' in line for line in lines) == 3, run.stdout  # three id-less events
    assert lines[-3] == stated.group(1), run.stdout  # the upcoming invoice already counted the four calls
    assert lines[-1].split() == ["FINALIZED", stated.group(1)], run.stdout
