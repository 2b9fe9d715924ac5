"""Issue 14: an event accepted after its period was invoiced is billed on the next invoice, once.

A subscription two periods old: its first period ("October") is invoiced with 1 event, then an event
timestamped in October arrives (accepted as LATE) and is aggregated; November's invoice carries a line
for October's late usage with its event in the attribution. Re-running both bills and redelivering the
event change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.e2e import builders
from tests.e2e.builders import ok
from tests.e2e.ingest_kit import event, fresh_tenant, rfc

pytestmark = pytest.mark.e2e


def two_periods_ago() -> datetime:
    """A start two monthly periods before yesterday: both periods have ended."""
    day = datetime.now(UTC) - timedelta(days=1)
    year, month = (day.year, day.month - 2) if day.month > 2 else (day.year - 1, day.month + 10)
    return datetime(year, month, min(day.day, 28), tzinfo=UTC)


def bill(tenant_id: str, subscription_id: str, period):
    from infra.local import lambda_dispatch
    from tollgate import wiring
    from tollgate.usecases.billing import bill_subscription

    with lambda_dispatch.LOCK:
        return bill_subscription(wiring.billing_repos(), tenant_id, subscription_id, period.start, period.end)


def periods(tenant_id: str, subscription_id: str):
    from tollgate import wiring

    sub = wiring.subscription_repository().get(tenant_id, subscription_id)
    first = sub.period(sub.started_at)
    return first, sub.period(first.end)


def late_lines(invoice: dict) -> list[dict]:
    return [ln for ln in invoice["lines"] if ln["kind"] == "usage" and ln.get("late_for_invoice")]


def test_a_late_event_is_billed_once_on_the_next_invoice_for_its_own_period(server):
    t = fresh_tenant(server, "late usage")
    calls = t.meter(function="COUNT")
    price = {
        "model": "graduated",
        "currency": "USD",
        "tiers": [{"up_to": 1, "unit_amount": "1.00"}, {"up_to": None, "unit_amount": "0.25"}],
    }
    plan = builders.plan(t.owner, fees=[], usage_prices=[{"meter_id": calls["id"], "price": price}])
    customer = t.customer()
    sub = builders.subscribe(t.owner, customer["id"], plan["id"], anchor="ANNIVERSARY", start_at=two_periods_ago())
    october, november = periods(t.tenant_id, sub["id"])
    on_time = event(customer["external_id"], calls["event_name"], timestamp=rfc(october.start + timedelta(days=2)))
    assert t.send({"events": [on_time]})["rejected"] == []
    t.settle()
    first = bill(t.tenant_id, sub["id"], october)
    assert first.status == "INVOICED" and first.invoice.totals.total == Decimal("1.00"), first

    late = event(customer["external_id"], calls["event_name"], timestamp=rfc(october.start + timedelta(days=5)))
    assert t.send({"events": [late]})["rejected"] == []
    t.settle()
    second = bill(t.tenant_id, sub["id"], november)
    assert second.status == "INVOICED", second
    invoice = ok(t.owner.get(f"/v1/invoices/{second.invoice_id}"))
    (line,) = late_lines(invoice)
    assert Decimal(line["amount"]) == Decimal("0.25")  # the second unit of October: the second tier
    assert line["late_for_invoice"] == first.invoice_id
    assert line["late_for_period"] == {"start": rfc(october.start), "end": rfc(october.end)}
    late_hour = (october.start + timedelta(days=5)).replace(minute=0, second=0, microsecond=0)
    attributed = next(u for u in invoice["attribution"]["usage"] if u.get("late_for_invoice"))
    assert attributed["event_count"] == 1
    assert attributed["windows"] == [{"from": rfc(late_hour), "to": rfc(late_hour + timedelta(hours=1)),
                                      "event_count": 1, "quantity": "1"}]  # fmt: skip
    assert Decimal(invoice["totals"]["total"]) == Decimal("0.25")

    # Re-running both bills and redelivering the late event change nothing.
    assert t.send({"events": [late]})["rejected"] == []
    t.settle()
    assert bill(t.tenant_id, sub["id"], october).status == "ALREADY_INVOICED"
    assert bill(t.tenant_id, sub["id"], november).status == "ALREADY_INVOICED"
    assert ok(t.owner.get(f"/v1/invoices/{second.invoice_id}"))["lines"] == invoice["lines"]
    assert ok(t.owner.get(f"/v1/invoices/{first.invoice_id}"))["totals"]["total"] == "1.00"

    # Reconciliation: every event is billed exactly once.
    body = ok(t.owner.get("/v1/reconciliation", params={"from": rfc(october.start), "to": rfc(november.end)}))
    assert body["checked"] == 2 and body["differences"] == [], body


def test_reconciliation_finds_a_usage_bucket_altered_behind_tollgates_back(server):
    from tollgate import wiring
    from tollgate.adapters import aws
    from tollgate.adapters.dynamodb.keys import usage_bucket_pk, usage_bucket_sk

    t = fresh_tenant(server, "reconciliation")
    calls = t.meter(function="COUNT")
    price = {"model": "per_unit", "currency": "USD", "unit_amount": "0.10"}
    plan = builders.plan(t.owner, fees=[], usage_prices=[{"meter_id": calls["id"], "price": price}])
    customer = t.customer()
    sub = builders.subscribe(t.owner, customer["id"], plan["id"], anchor="ANNIVERSARY", start_at=two_periods_ago())
    october, _ = periods(t.tenant_id, sub["id"])
    at = october.start + timedelta(days=3, minutes=7)
    sent = [event(customer["external_id"], calls["event_name"], timestamp=rfc(at)) for _ in range(3)]
    assert t.send({"events": sent})["rejected"] == []
    t.settle()
    assert bill(t.tenant_id, sub["id"], october).status == "INVOICED"
    window = {"from": rfc(october.start), "to": rfc(october.end)}
    assert ok(t.owner.get("/v1/reconciliation", params=window))["differences"] == []

    hour = at.strftime("%Y-%m-%dT%H")
    aws.client("dynamodb").update_item(
        TableName=wiring.get_settings().usage_table,
        Key={
            "pk": {"S": usage_bucket_pk(t.tenant_id, customer["id"], calls["id"])},
            "sk": {"S": usage_bucket_sk(hour)},
        },
        UpdateExpression="ADD c :two",
        ExpressionAttributeValues={":two": {"N": "2"}},
    )
    (difference,) = ok(t.owner.get("/v1/reconciliation", params=window))["differences"]
    assert difference["kind"] == "AGGREGATION_MISMATCH"
    assert (difference["raw_quantity"], difference["aggregated_quantity"], difference["billed_quantity"]) == (
        "3",
        "5",
        "3",
    )
    assert difference["subscription_id"] == sub["id"] and difference["meter_id"] == calls["id"]
