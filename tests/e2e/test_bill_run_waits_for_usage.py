"""Issue 14: the bill run waits for the data. Events accepted a moment before a bill run are all on the
invoice: the run's pages wait until the aggregator's watermark of every event partition has passed the
run's cutoff (or fail the subscription with USAGE_DATA_UNAVAILABLE, and the re-run bills it whole)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.e2e import billing_kit, builders
from tests.e2e.builders import ok, wait_for
from tests.e2e.ingest_kit import event, fresh_tenant, rfc

pytestmark = pytest.mark.e2e


def finished(t, run_id: str) -> dict:
    return wait_for(lambda: (r := ok(t.owner.get(f"/v1/bill-runs/{run_id}")))["status"] != "RUNNING" and r, timeout=90)


def test_events_accepted_a_moment_before_a_bill_run_are_all_on_the_invoice(server):
    from tollgate import wiring
    from tollgate.domain.billing.usage_readiness import caught_up
    from tollgate.domain.clock import parse_rfc3339

    t = fresh_tenant(server, "bill run waits")
    calls = t.meter(function="COUNT")
    price = {"model": "per_unit", "currency": "USD", "unit_amount": "1.00"}
    plan = builders.plan(t.owner, fees=[], usage_prices=[{"meter_id": calls["id"], "price": price}])
    customer = t.customer()
    sub = billing_kit.ended_subscription(t.owner, customer["id"], plan["id"])
    period = billing_kit.first_period(t.tenant_id, sub["id"])
    sent = [
        event(customer["external_id"], calls["event_name"], timestamp=rfc(period.start + timedelta(hours=n)))
        for n in range(40)
    ]
    for chunk in range(0, len(sent), 20):
        assert t.send({"events": sent[chunk : chunk + 20]})["rejected"] == []
    run = finished(t, ok(t.owner.post("/v1/bill-runs", json={}), 202)["id"])  # no settle: straight away
    result = next(r for r in run["results"] if r["subscription_id"] == sub["id"])
    if result["status"] == "FAILED":  # the aggregator was behind for too long: nothing billed short
        assert result["error_code"] == "USAGE_DATA_UNAVAILABLE", result
        run = finished(t, ok(t.owner.post(f"/v1/bill-runs/{run['id']}/rerun"), 202)["id"])
        result = next(r for r in run["results"] if r["subscription_id"] == sub["id"])
    assert result["status"] == "INVOICED", result
    invoice = ok(t.owner.get(f"/v1/invoices/{result['invoice_id']}"))
    (line,) = [ln for ln in invoice["lines"] if ln["kind"] == "usage"]
    assert Decimal(line["quantity"]) == len(sent) and Decimal(invoice["totals"]["total"]) == Decimal("40.00")
    with server.stack.exclusive():
        marks = wiring.usage_watermarks().watermarks(t.tenant_id)
        partitions = wiring.usage_watermarks().partitions()
    assert caught_up(marks, parse_rfc3339(run["as_of"]), partitions), marks
    window = {"from": rfc(period.start), "to": rfc(period.end)}
    assert ok(t.owner.get("/v1/reconciliation", params=window))["differences"] == [], "every event billed once"
