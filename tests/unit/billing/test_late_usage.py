"""Issue 14: usage that reaches an invoiced period after its invoice was finalized is billed on the
next invoice, once, as the increment of that period's amount (graduated tiers as if on time)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tests.unit.billing.billing_world import FEB, JAN, MAR, TENANT, World
from tollgate.domain.billing.invoices import LineKind
from tollgate.usecases.billing import bill_subscription

D = Decimal
GRADUATED = {
    "model": "graduated",
    "currency": "USD",
    "tiers": [{"up_to": 10, "unit_amount": "1.00"}, {"up_to": None, "unit_amount": "0.10"}],
}


def late_lines(invoice):
    return [ln for ln in invoice.lines if ln.kind is LineKind.USAGE and "late_for_invoice" in ln.details]


def on_time_lines(invoice):
    return [ln for ln in invoice.lines if ln.kind is LineKind.USAGE and "late_for_invoice" not in ln.details]


def _january_billed_with(world: World, events: int):
    meter = world.meter()
    version = world.plan(usage_prices=[{"meter_id": meter, "price": GRADUATED}])
    sub = world.subscribe(version)
    world.record(sub, meter, JAN[0] + timedelta(days=3), times=events)
    january = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert january.status == "INVOICED", january
    return meter, sub, january.invoice


def test_late_usage_is_billed_on_the_next_invoice_as_a_line_for_its_own_period(world: World):
    meter, sub, january = _january_billed_with(world, 1)
    assert january.totals.total == D("1.00")
    world.later(days=10)
    world.record(sub, meter, JAN[0] + timedelta(days=20))  # arrives in February, timestamped January
    world.now = FEB[1] + timedelta(minutes=30)
    february = bill_subscription(world.repos, TENANT, sub.subscription_id, *FEB).invoice
    (late,) = late_lines(february)
    assert late.amount == D("1.00")
    assert late.details["late_for_invoice"] == january.invoice_id
    assert late.details["late_for_period"] == {"start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z"}
    assert "2026-01-01 to 2026-02-01" in late.description
    assert late.details["quantity"] == "1" and late.details["period_quantity"] == "2"
    assert late.details["event_count"] == 1
    (window,) = late.details["windows"]
    assert window["from"] == "2026-01-21T00:00:00Z" and window["event_count"] == 1
    (feb_usage,) = on_time_lines(february)
    assert feb_usage.amount == 0  # February's own usage: none
    attributed = [u for u in february.attribution["usage"] if u.get("late_for_invoice")]
    assert attributed and attributed[0]["windows"] == late.details["windows"]


def test_a_graduated_price_across_a_late_line_charges_as_if_the_usage_had_been_on_time(world: World):
    meter, sub, january = _january_billed_with(world, 8)  # 8 x 1.00
    world.record(sub, meter, JAN[0] + timedelta(days=25), times=5)  # 2 more at 1.00, 3 at 0.10
    world.now = FEB[1] + timedelta(minutes=30)
    february = bill_subscription(world.repos, TENANT, sub.subscription_id, *FEB).invoice
    (late,) = late_lines(february)
    on_time_13 = D("10.00") + D("0.30")
    assert january.totals.total + late.amount == on_time_13
    assert late.amount == D("2.30")


def test_late_usage_is_never_billed_twice(world: World):
    meter, sub, _ = _january_billed_with(world, 1)
    world.record(sub, meter, JAN[0] + timedelta(days=20))
    world.now = FEB[1] + timedelta(minutes=30)
    first = bill_subscription(world.repos, TENANT, sub.subscription_id, *FEB)
    again = bill_subscription(world.repos, TENANT, sub.subscription_id, *FEB)
    assert again.status == "ALREADY_INVOICED"
    assert again.invoice.lines == first.invoice.lines
    world.now = MAR[1] + timedelta(minutes=30)
    march = bill_subscription(world.repos, TENANT, sub.subscription_id, *MAR).invoice
    assert late_lines(march) == []  # January's late event is already on February's invoice
    world.record(sub, meter, JAN[0] + timedelta(days=21), times=2)  # more late usage: only the new part
    april_start = MAR[1]
    world.now = april_start + timedelta(days=30, hours=1)
    april = bill_subscription(world.repos, TENANT, sub.subscription_id, april_start, april_start + timedelta(days=30))
    (late,) = late_lines(april.invoice)
    assert late.details["quantity"] == "2" and late.amount == D("2.00")


def test_a_draft_period_is_not_billed_as_late_usage_and_a_period_outside_the_window_is_left(world: World):
    meter, sub, _ = _january_billed_with(world, 1)
    world.record(sub, meter, JAN[0] + timedelta(days=20))
    world.now = JAN[1] + timedelta(days=95)  # January is past the 90-day ingestion window
    may = bill_subscription(world.repos, TENANT, sub.subscription_id, *FEB)
    assert late_lines(may.invoice) == []


def test_an_ended_subscriptions_late_usage_gets_a_final_adjustment_invoice_once(world: World):
    from tollgate.domain.billing.invoices import InvoiceStatus
    from tollgate.domain.subscriptions import SubscriptionStatus
    from tollgate.usecases.billing.adjustment import bill_late_usage_adjustment

    meter = world.meter()
    version = world.plan(usage_prices=[{"meter_id": meter, "price": GRADUATED}])
    sub = world.subscribe(version, status=SubscriptionStatus.CANCELLED, ended_at=JAN[1])
    world.record(sub, meter, JAN[0] + timedelta(days=3), times=9)
    january = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert january.invoice.totals.total == D("9.00")
    assert bill_late_usage_adjustment(world.repos, TENANT, sub.subscription_id) is None  # nothing late
    world.record(sub, meter, JAN[0] + timedelta(days=30), times=3)  # 1 more at 1.00, 2 at 0.10
    world.later(days=5)
    adjustment = bill_late_usage_adjustment(world.repos, TENANT, sub.subscription_id)
    assert adjustment.status == "INVOICED" and adjustment.invoice.status is InvoiceStatus.FINALIZED
    (late,) = late_lines(adjustment.invoice)
    assert late.amount == D("1.20") and adjustment.invoice.totals.total == D("1.20")
    assert late.details["late_for_invoice"] == january.invoice_id
    again = bill_late_usage_adjustment(world.repos, TENANT, sub.subscription_id)
    assert again is None  # billed: nothing late any more
    world.record(sub, meter, JAN[0] + timedelta(days=30))
    (more,) = late_lines(bill_late_usage_adjustment(world.repos, TENANT, sub.subscription_id).invoice)
    assert more.amount == D("0.10") and more.details["quantity"] == "1"


def test_late_usage_the_pricing_engine_refuses_fails_the_bill_with_usage_invalid(world: World):
    meter = world.meter(function="SUM", field_="properties.n")
    sub = world.subscribe(world.plan(usage_prices=[{"meter_id": meter, "price": GRADUATED}]))
    world.record(sub, meter, JAN[0] + timedelta(days=3), quantity=2)
    assert bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).status == "INVOICED"
    world.record(sub, meter, JAN[0] + timedelta(days=20), quantity=10**19)  # past the engine's 18 digits
    world.now = FEB[1] + timedelta(minutes=30)
    february = bill_subscription(world.repos, TENANT, sub.subscription_id, *FEB)
    assert (february.status, february.error_code) == ("FAILED", "USAGE_INVALID")
    assert "late usage" in february.detail
