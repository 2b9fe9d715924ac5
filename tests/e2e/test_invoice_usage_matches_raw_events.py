"""Issue 6: the raw events behind every usage line of an invoice add up to the line. Usage is ingested
over HTTP, aggregated off the stream, billed by a real bill run, and then each line's event windows are
checked against the raw events in the event log (GET /v1/ingest/events)."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.e2e import billing_kit, builders
from tests.e2e.builders import ok, wait_for
from tests.e2e.ingest_kit import event, fresh_tenant, rfc

pytestmark = pytest.mark.e2e


def when(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_raw_events_behind_every_usage_line_match_the_line(server):
    t = fresh_tenant(server, "usage lines")
    tokens = t.meter(function="SUM", field="properties.credits")
    calls = t.meter(function="COUNT")
    price = {
        "model": "graduated",
        "currency": "USD",
        "tiers": [{"up_to": 10, "unit_amount": "0.50"}, {"up_to": None, "unit_amount": "0.10"}],
    }
    plan = builders.plan(
        t.owner,
        usage_prices=[
            {"meter_id": tokens["id"], "price": price},
            {"meter_id": calls["id"], "price": {"model": "per_unit", "currency": "USD", "unit_amount": "0.01"}},
        ],
    )
    customer = t.customer()
    sub = billing_kit.ended_subscription(t.owner, customer["id"], plan["id"])
    period = billing_kit.first_period(t.tenant_id, sub["id"])
    rng = random.Random(7)
    events, expected_sum = [], Decimal(0)
    for _ in range(40):  # spread over the (ended) first period, and a few after it (next period: not billed)
        at = period.start + timedelta(
            minutes=rng.randrange(int((period.end - period.start).total_seconds() // 60) + 2000)
        )
        credits = rng.randrange(1, 9)
        for name in (tokens["event_name"], calls["event_name"]):
            events.append(event(customer["external_id"], name, credits=credits, timestamp=rfc(at)))
        if at < period.end:
            expected_sum += credits
    for chunk in range(0, len(events), 25):
        body = t.send({"events": events[chunk : chunk + 25]})
        assert body["rejected"] == [], body
    t.settle()
    run_id = ok(t.owner.post("/v1/bill-runs", json={}), 202)["id"]
    run = wait_for(lambda: (r := ok(t.owner.get(f"/v1/bill-runs/{run_id}")))["status"] != "RUNNING" and r, timeout=90)
    result = next(r for r in run["results"] if r["subscription_id"] == sub["id"])
    assert result["status"] == "INVOICED", result
    invoice = ok(t.owner.get(f"/v1/invoices/{result['invoice_id']}"))
    usage_lines = [u for u in invoice["lines"] if u["kind"] == "usage"]
    assert {u["meter_id"] for u in usage_lines} == {tokens["id"], calls["id"]}
    raw = t.log(customer_id=customer["id"], limit=500)  # received in the last 24 hours: all of them
    assert len(raw) == len(events), "the event log shows every ingested event"
    for line in usage_lines:
        meter = tokens if line["meter_id"] == tokens["id"] else calls
        mine = [e for e in raw if e["event_name"] == meter["event_name"] and e["status"] in ("ACCEPTED", "LATE")]
        total = Decimal(0)
        for window in line["windows"]:
            lo, hi = when(window["from"]), when(window["to"])
            inside = [e for e in mine if lo <= when(e["timestamp"]) < hi]
            assert len(inside) == window["event_count"], (window, [e["timestamp"] for e in mine][:3])
            if meter is tokens:
                value = sum((Decimal(str(e["properties"]["credits"])) for e in inside), Decimal(0))
            else:
                value = Decimal(len(inside))
            assert value == Decimal(window["quantity"])
            total += value
        assert total == Decimal(line["quantity"])
    tokens_line = next(u for u in usage_lines if u["meter_id"] == tokens["id"])
    assert Decimal(tokens_line["quantity"]) == expected_sum
