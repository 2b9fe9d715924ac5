"""Issue 18: the local clock moves everything. One advance at a time across a trial end, a month end and
a dunning schedule, on a fresh ``make run``: the subscription clock converts the trial, the daily bill run
bills the ended period, and dunning's waits end and retry the payment -- on their own, as on AWS."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e import builders
from tests.e2e.builders import ok, wait_for
from tests.local_server import local_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def boot(tmp_path_factory):
    with local_server(tmp_path_factory.mktemp("time-travel"), TOLLGATE_DEMO="0") as info:
        yield info


def client(boot: dict, tenant: dict) -> httpx.Client:
    headers = {"Authorization": f"Bearer {tenant['operator_key']}", "X-Tenant-Id": tenant["tenant_id"]}
    return httpx.Client(base_url=boot["api_url"], headers=headers, timeout=300)


@pytest.fixture(scope="module")
def api(boot):
    with client(boot, boot) as c:
        yield c


def advance(c: httpx.Client, **body) -> dict:
    return ok(c.post("/local/clock/advance", json=body))


def test_an_advance_converts_the_trial_bills_the_month_and_runs_dunning(api):
    ok(api.put("/v1/settings/payments", json={"retry_schedule": ["P1D", "P2D"]}))
    cust = builders.customer(api)
    ok(api.put(f"/v1/customers/{cust['id']}/payment-method", json={"payment_method": "pm_card_chargeDeclined"}))
    plan = builders.plan(api, fee="30.00", trial_days=7)
    sub = builders.subscribe(api, cust["id"], plan["id"])
    assert sub["status"] == "TRIALING"

    fired = advance(api, days=8)["fired"]
    assert {f["schedule"] for f in fired} >= {"subscription-clock", "daily-bill-run"}
    assert ok(api.get(f"/v1/subscriptions/{sub['id']}"))["status"] in ("ACTIVE", "PAST_DUE")  # the trial converted

    advance(api, days=31)  # past the first month's end: the daily bill run bills it
    invoices = ok(api.get("/v1/invoices", params={"customer_id": cust["id"]}))["data"]
    assert invoices and all(i["status"] == "FINALIZED" for i in invoices), invoices
    got = wait_for(lambda: (s := ok(api.get(f"/v1/subscriptions/{sub['id']}")))["status"] == "PAST_DUE" and s)
    attempts = got["dunning_attempts"]
    assert attempts >= 1

    advance(api, days=1)  # dunning's first wait (P1D) ends: attempt 2
    wait_for(lambda: ok(api.get(f"/v1/subscriptions/{sub['id']}"))["dunning_attempts"] > attempts, timeout=30)
    clock = ok(api.get("/local/clock"))
    assert clock["offset_seconds"] >= 40 * 86400
