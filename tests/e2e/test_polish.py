"""Issue 18 item 7, as a user sees it: a bill run with a future as_of is refused before anything runs, a zero
invoice total reads "0.00", and an event 6.5 minutes ahead is described with its real skew and the limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e import builders
from tests.e2e.billing_kit import bill, ended_subscription, tenant_of
from tests.e2e.builders import ok

pytestmark = pytest.mark.e2e


def test_a_bill_run_as_of_in_the_future_is_422_and_starts_nothing(owner):
    before = ok(owner.get("/v1/bill-runs"))["data"]
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    r = owner.post("/v1/bill-runs", json={"as_of": future})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    body = r.json()
    assert body["code"] == "AS_OF_IN_FUTURE" and "/local/clock/advance" in body["detail"]
    assert ok(owner.get("/v1/bill-runs"))["data"] == before


def test_a_zero_invoice_shows_every_amount_with_the_currencys_minor_units(owner):
    cust = builders.customer(owner)
    sub = ended_subscription(owner, cust["id"], builders.plan(owner, fee="0")["id"])
    invoice = ok(owner.get(f"/v1/invoices/{bill(tenant_of(owner), sub['id']).invoice_id}"))
    assert invoice["totals"]["total"] == "0.00" and invoice["amount_due"] == "0.00"
    assert {v for k, v in invoice["totals"].items() if k != "tax_inclusive"} == {"0.00"}


def test_an_event_six_and_a_half_minutes_ahead_says_its_real_skew_and_the_limit(owner):
    meter = ok(
        owner.post("/v1/meters", json={"event_name": f"polish.{id(owner)}", "aggregation": {"function": "COUNT"}}), 201
    )
    cust = builders.customer(owner)
    ahead = datetime.now(UTC) + timedelta(minutes=6, seconds=30)
    event = {
        "event_name": meter["event_name"],
        "external_customer_id": cust["external_id"],
        "timestamp": ahead.isoformat(),
    }
    r = owner.post("/v1/ingest/events", json=event)
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert "is 6 min 2" in detail or "is 6 min 3" in detail, detail  # 6 min 29/30 s, whatever the latency
    assert "more than 5 min in the future" in detail
