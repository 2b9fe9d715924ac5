"""Issue 6: every stage of the billing pipeline for one subscription and one period, over fakes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.unit.billing.billing_world import FEB, JAN, START, TENANT, World
from tollgate.domain.billing.attribution import STAGES
from tollgate.domain.billing.invoices import InvoiceStatus, LineKind, invoice_id_for
from tollgate.domain.billing.plan_in_effect import plans_for_period
from tollgate.domain.subscriptions import PlanRef, SubscriptionStatus, Transition
from tollgate.usecases.billing import bill_subscription, preview_invoice

D = Decimal
GRADUATED = {
    "model": "graduated",
    "currency": "USD",
    "included_units": "100",
    "tiers": [{"up_to": 1000, "unit_amount": "0.10"}, {"up_to": None, "unit_amount": "0.05"}],
}


def lines(invoice, kind: LineKind):
    return [ln for ln in invoice.lines if ln.kind is kind]


def test_usage_is_aggregated_then_included_units_then_tiers(world: World):
    meter = world.meter()
    version = world.plan(usage_prices=[{"meter_id": meter, "price": GRADUATED}])
    sub = world.subscribe(version)
    world.record(sub, meter, JAN[0] + timedelta(days=3), times=700)
    world.record(sub, meter, JAN[0] + timedelta(days=20), times=900)
    world.record(sub, meter, FEB[0] + timedelta(hours=1), times=50)  # next period: not billed now
    result = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert result.status == "INVOICED", result
    (usage,) = lines(result.invoice, LineKind.USAGE)
    # 1600 events, 100 included -> 1500 billable: 1000 x 0.10 + 500 x 0.05 = 125.00
    assert usage.details["quantity"] == "1600" and usage.details["included_units"] == "100"
    assert usage.details["billable_quantity"] == "1500"
    assert [t["amount"] for t in usage.details["breakdown"]] == ["100.00", "25.00"]
    assert usage.amount == D("125.00")
    assert result.invoice.totals.total == D("125.00") and result.invoice.status is InvoiceStatus.FINALIZED


def test_the_raw_events_behind_every_usage_line_sum_to_the_line(world: World):
    calls, tokens = world.meter(), world.meter("tokens", "SUM", "quantity")
    version = world.plan(
        usage_prices=[
            {"meter_id": calls, "price": {"model": "per_unit", "currency": "USD", "unit_amount": "0.01"}},
            {"meter_id": tokens, "price": {"model": "per_unit", "currency": "USD", "unit_amount": "0.001"}},
        ]
    )
    sub = world.subscribe(version)
    for day in range(31):
        world.record(sub, calls, JAN[0] + timedelta(days=day, hours=5), times=day % 4)
        world.record(sub, tokens, JAN[0] + timedelta(days=day, hours=7), quantity=str(10 * day + 3))
    invoice = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).invoice
    for entry in invoice.attribution["usage"]:
        windows = entry["windows"]
        assert sum(D(w["quantity"]) for w in windows) == D(entry["aggregated_quantity"])
        assert sum(w["event_count"] for w in windows) == entry["event_count"]
        assert all(
            JAN[0].isoformat().replace("+00:00", "Z") <= w["from"] < w["to"] <= "2026-02-01T00:00:00Z" for w in windows
        )
    assert sum(ln.amount for ln in lines(invoice, LineKind.USAGE)) == invoice.totals.subtotal


def test_the_attribution_lists_every_stage_in_pipeline_order(world: World):
    meter = world.meter()
    version = world.plan(
        usage_prices=[{"meter_id": meter, "price": GRADUATED}],
        fees=[{"name": "Base", "amount": "20", "timing": "in_arrears"}],
    )
    sub = world.subscribe(version)
    world.record(sub, meter, JAN[0] + timedelta(days=1), times=150)
    invoice = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).invoice
    stages = invoice.attribution["stages"]
    assert tuple(s["stage"] for s in stages) == STAGES
    by = {s["stage"]: s for s in stages}
    assert by["raw_usage"]["event_count"] == 150
    assert by["aggregated"]["quantities"] == {meter: "150"}
    assert by["included_units"]["billable"] == {meter: "50"}
    assert by["tiers"]["amounts"] == {meter: "5.00"}
    assert by["subtotal"] == {
        "stage": "subtotal",
        "amount": "25.00",
        "usage": "5.00",
        "fees": "20.00",
        "prorations": "0",
        "minimum_commitment": "0",
    }
    assert by["total"]["amount"] == "25.00"


@pytest.mark.parametrize(
    "currency, unit_amount, events, expected",
    [("USD", "0.005", 3, "0.02"), ("JPY", "0.5", 3, "2"), ("KWD", "0.0005", 3, "0.002"), ("USD", "0.125", 1, "0.13")],
)
def test_each_line_is_rounded_once_half_up_to_the_currency_minor_units(
    world: World, currency, unit_amount, events, expected
):
    meter = world.meter()
    version = world.plan(
        currency=currency,
        usage_prices=[
            {"meter_id": meter, "price": {"model": "per_unit", "currency": currency, "unit_amount": unit_amount}}
        ],
    )
    sub = world.subscribe(version)
    world.record(sub, meter, JAN[0] + timedelta(days=2), times=events)
    invoice = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).invoice
    assert str(lines(invoice, LineKind.USAGE)[0].amount) == expected
    assert str(invoice.totals.total) == expected


def test_totals_are_sums_of_rounded_lines(world: World):
    a, b = world.meter(), world.meter()
    price = {"model": "per_unit", "currency": "USD", "unit_amount": "0.005"}
    version = world.plan(usage_prices=[{"meter_id": a, "price": price}, {"meter_id": b, "price": price}])
    sub = world.subscribe(version)
    world.record(sub, a, JAN[0] + timedelta(days=1))  # 0.005 -> 0.01
    world.record(sub, b, JAN[0] + timedelta(days=1))  # 0.005 -> 0.01
    invoice = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).invoice
    assert invoice.totals.total == D("0.02")  # not round(0.010) = 0.01


# -- fees ---------------------------------------------------------------------------------------------------


def test_first_invoice_carries_the_first_and_the_next_in_advance_fee_and_the_in_arrears_fee(world: World):
    version = world.plan(
        fees=[
            {"name": "Seat", "amount": "10", "timing": "in_advance"},
            {"name": "Support", "amount": "5", "timing": "in_arrears"},
        ]
    )
    sub = world.subscribe(version)
    invoice = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).invoice
    fees = [
        (ln.details["fee"], ln.details["timing"], ln.details["covers"]["start"][:10])
        for ln in lines(invoice, LineKind.FEE)
    ]
    assert sorted(fees) == [
        ("Seat", "in_advance", "2026-01-01"),
        ("Seat", "in_advance", "2026-02-01"),
        ("Support", "in_arrears", "2026-01-01"),
    ]
    assert invoice.totals.total == D("25.00")


def test_later_invoices_carry_the_next_period_in_advance_and_this_period_in_arrears(world: World):
    version = world.plan(
        fees=[
            {"name": "Seat", "amount": "10", "timing": "in_advance"},
            {"name": "Support", "amount": "5", "timing": "in_arrears"},
        ]
    )
    sub = world.subscribe(version)
    world.now = FEB[1] + timedelta(hours=1)
    invoice = bill_subscription(world.repos, TENANT, sub.subscription_id, *FEB).invoice
    fees = sorted((ln.details["fee"], ln.details["covers"]["start"][:10]) for ln in lines(invoice, LineKind.FEE))
    assert fees == [("Seat", "2026-03-01"), ("Support", "2026-02-01")]
    assert invoice.totals.total == D("15.00")


@pytest.mark.parametrize("ending", ["cancel_at_period_end", "cancelled"])
def test_a_subscription_ending_with_the_period_is_not_billed_in_advance(world: World, ending):
    version = world.plan(fees=[{"name": "Seat", "amount": "10", "timing": "in_advance"}])
    if ending == "cancel_at_period_end":
        sub = world.subscribe(version, cancel_at_period_end=True)
    else:
        at = FEB[0] + timedelta(minutes=3)  # the clock cancelled it just after the period end
        sub = world.subscribe(version, status=SubscriptionStatus.CANCELLED, cancelled_at=at, ended_at=at)
    world.now = FEB[0] + timedelta(hours=1)
    invoice = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).invoice
    assert [ln.details["covers"]["start"][:10] for ln in lines(invoice, LineKind.FEE)] == ["2026-01-01"]


def test_fees_are_prorated_by_the_second_to_the_part_of_a_period_after_the_trial(world: World):
    version = world.plan(fees=[{"name": "Seat", "amount": "31", "timing": "in_advance"}])
    sub = world.subscribe(version, trial_end=JAN[0] + timedelta(days=10))
    invoice = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).invoice
    amounts = {ln.details["covers"]["start"][:10]: ln.amount for ln in lines(invoice, LineKind.FEE)}
    assert amounts == {"2026-01-01": D("21.00"), "2026-02-01": D("31.00")}  # 21 of January's 31 days paid


def test_a_downgrade_waiting_for_the_period_end_bills_the_next_period_at_the_new_price(world: World):
    v1 = world.plan(fees=[{"name": "Seat", "amount": "50", "timing": "in_advance"}])
    v2 = world.version(v1.plan_id, 2, fees=[{"name": "Seat", "amount": "20", "timing": "in_advance"}])
    sub = world.subscribe(v1, pending_plan=PlanRef(v2.plan_id, 2))
    invoice = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).invoice
    amounts = {ln.details["covers"]["start"][:10]: ln.amount for ln in lines(invoice, LineKind.FEE)}
    assert amounts == {"2026-01-01": D("50.00"), "2026-02-01": D("20.00")}


def test_usage_of_a_period_is_rated_at_the_version_in_effect_then_even_after_the_clock_moved_the_pin(world: World):
    meter = world.meter()

    def per_unit(amount: str) -> dict:
        return {"model": "per_unit", "currency": "USD", "unit_amount": amount}

    v1 = world.plan(usage_prices=[{"meter_id": meter, "price": per_unit("1.00")}])
    world.version(v1.plan_id, 2, usage_prices=[{"meter_id": meter, "price": per_unit("0.10")}])
    sub = world.subscribe(v1)
    world.record(sub, meter, JAN[0] + timedelta(days=5), times=10)
    # the subscription clock applied a scheduled downgrade at 00:04 after the period end
    applied = FEB[0] + timedelta(minutes=4)
    moved = replace(sub, plan=PlanRef(v1.plan_id, 2), version=2)
    world.subscriptions.put(
        moved,
        [
            Transition(
                applied,
                "PLAN_CHANGED_AT_PERIOD_END",
                SubscriptionStatus.ACTIVE,
                SubscriptionStatus.ACTIVE,
                {"to_plan": v1.plan_id, "to_version": 2},
            )
        ],
    )
    invoice = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).invoice
    assert invoice.plan_version == 1
    assert lines(invoice, LineKind.USAGE)[0].amount == D("10.00")
    during, after = plans_for_period(moved, world.subscriptions.history(TENANT, sub.subscription_id), JAN[1])
    assert (during.version, after.version) == (1, 2)


def test_a_new_plan_version_does_not_change_what_a_pinned_subscription_is_billed(world: World):
    v1 = world.plan(fees=[{"name": "Seat", "amount": "10", "timing": "in_arrears"}])
    world.version(v1.plan_id, 2, fees=[{"name": "Seat", "amount": "99", "timing": "in_arrears"}])
    sub = world.subscribe(v1)
    invoice = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).invoice
    assert invoice.totals.total == D("10.00") and invoice.plan_version == 1


# -- prorations and minimum commitment -------------------------------------------------------------------


def test_prorations_are_billed_once_and_later_ones_wait_for_their_period(world: World):
    version = world.plan(fees=[{"name": "Seat", "amount": "10", "timing": "in_arrears"}])
    charges = (
        ("Proration v1 -> v2", "3.3333333333333333333333333", "2026-01-20T00:00:00Z"),
        ("Proration v2 -> v3", "1.00", "2026-02-03T00:00:00Z"),
    )
    sub = world.subscribe(version, pending_charges=charges)
    first = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    (proration,) = lines(first.invoice, LineKind.PRORATION)
    assert proration.amount == D("3.33")
    after = world.subscriptions.get(TENANT, sub.subscription_id)
    assert after.pending_charges == (charges[1],) and after.version == sub.version + 1
    again = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert again.status == "ALREADY_INVOICED"
    world.now = FEB[1] + timedelta(hours=1)
    second = bill_subscription(world.repos, TENANT, sub.subscription_id, *FEB)
    assert [ln.amount for ln in lines(second.invoice, LineKind.PRORATION)] == [D("1.00")]
    assert world.subscriptions.get(TENANT, sub.subscription_id).pending_charges == ()


def test_minimum_commitment_tops_the_period_up_to_the_minimum(world: World):
    meter = world.meter()
    version = world.plan(
        usage_prices=[{"meter_id": meter, "price": {"model": "per_unit", "currency": "USD", "unit_amount": "1"}}],
        fees=[{"name": "Base", "amount": "10", "timing": "in_arrears"}],
        minimum_commitment="50",
    )
    sub = world.subscribe(version)
    world.record(sub, meter, JAN[0] + timedelta(days=2), times=15)
    invoice = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).invoice
    (true_up,) = lines(invoice, LineKind.MINIMUM_COMMITMENT)
    assert true_up.amount == D("25.00")  # 50 - (15 usage + 10 fee)
    assert invoice.totals.subtotal == D("50.00")


def test_no_true_up_when_the_period_reached_the_minimum(world: World):
    meter = world.meter()
    version = world.plan(
        usage_prices=[{"meter_id": meter, "price": {"model": "per_unit", "currency": "USD", "unit_amount": "1"}}],
        minimum_commitment="10",
    )
    sub = world.subscribe(version)
    world.record(sub, meter, JAN[0] + timedelta(days=2), times=12)
    invoice = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).invoice
    assert lines(invoice, LineKind.MINIMUM_COMMITMENT) == [] and invoice.totals.total == D("12.00")


def test_a_cumulative_meter_counts_every_event_since_the_subscription_started(world: World):
    meter = world.meter("storage", "SUM", "quantity", reset="CUMULATIVE")
    version = world.plan(
        usage_prices=[{"meter_id": meter, "price": {"model": "per_unit", "currency": "USD", "unit_amount": "1"}}]
    )
    sub = world.subscribe(version)
    world.record(sub, meter, JAN[0] + timedelta(days=2), quantity=5)
    world.record(sub, meter, FEB[0] + timedelta(days=2), quantity=3)
    world.now = FEB[1] + timedelta(hours=1)
    invoice = bill_subscription(world.repos, TENANT, sub.subscription_id, *FEB).invoice
    (usage,) = lines(invoice, LineKind.USAGE)
    assert usage.details["quantity"] == "8" and usage.details["usage_from"] == "2026-01-01T00:00:00Z"


def test_the_upcoming_invoice_previews_the_current_period_without_writing(world: World):
    meter = world.meter()
    version = world.plan(
        usage_prices=[{"meter_id": meter, "price": {"model": "per_unit", "currency": "USD", "unit_amount": "2"}}],
        fees=[{"name": "Seat", "amount": "10", "timing": "in_advance"}],
    )
    sub = world.subscribe(version, pending_charges=(("Proration", "4", "2026-01-10T00:00:00Z"),))
    world.now = JAN[0] + timedelta(days=15)
    world.record(sub, meter, JAN[0] + timedelta(days=3), times=4)
    world.record(sub, meter, JAN[0] + timedelta(days=20), times=100)  # in the future of "now": not yet
    preview = preview_invoice(world.repos, TENANT, sub.subscription_id)
    assert preview.status is InvoiceStatus.DRAFT and preview.invoice_id == invoice_id_for(
        TENANT, sub.subscription_id, JAN[0]
    )
    assert lines(preview, LineKind.USAGE)[0].amount == D("8.00")
    assert preview.totals.total == D("32.00")  # 2 seats (Jan + Feb in advance) + 8 usage + 4 proration
    assert world.billing.invoices == {} and world.billing.commits == 0
    assert world.subscriptions.get(TENANT, sub.subscription_id).pending_charges  # untouched


def test_the_upcoming_invoice_counts_the_current_open_hour_but_not_the_next(world: World):
    """Issue 18 item 4: usage sent a minute ago shows in the preview (read-your-writes)."""
    meter = world.meter()
    version = world.plan(
        usage_prices=[{"meter_id": meter, "price": {"model": "per_unit", "currency": "USD", "unit_amount": "1"}}]
    )
    sub = world.subscribe(version)
    world.now = JAN[0] + timedelta(days=15, hours=10, minutes=30)
    world.record(sub, meter, world.now - timedelta(minutes=1), times=3)  # this hour, still open
    world.record(sub, meter, world.now - timedelta(hours=2), times=2)
    world.record(sub, meter, world.now + timedelta(hours=1), times=50)  # a later hour: not yet
    (usage,) = lines(preview_invoice(world.repos, TENANT, sub.subscription_id), LineKind.USAGE)
    assert usage.details["quantity"] == "5" and usage.details["usage_to"] == "2026-01-16T10:30:00Z"


def test_a_period_that_is_not_one_of_the_subscriptions_periods_fails_without_writing(world: World):
    version = world.plan(fees=[{"name": "Seat", "amount": "10"}])
    sub = world.subscribe(version)
    result = bill_subscription(world.repos, TENANT, sub.subscription_id, JAN[0], JAN[0] + timedelta(days=7))
    assert result.status == "FAILED" and result.error_code == "PERIOD_NOT_BILLABLE"
    not_ended = bill_subscription(world.repos, TENANT, sub.subscription_id, *FEB)
    assert not_ended.error_code == "PERIOD_NOT_BILLABLE" and "once it has ended" in not_ended.detail
    assert world.billing.invoices == {}


def test_an_anniversary_subscription_is_billed_for_its_own_periods(world: World):
    version = world.plan(fees=[{"name": "Seat", "amount": "10", "timing": "in_arrears"}])
    from tollgate.domain.periods import Anchor

    start = datetime(2026, 1, 15, 12, tzinfo=UTC)
    sub = world.subscribe(version, start=start, anchor=Anchor.ANNIVERSARY)
    world.now = datetime(2026, 2, 16, tzinfo=UTC)
    result = bill_subscription(world.repos, TENANT, sub.subscription_id, start, datetime(2026, 2, 15, 12, tzinfo=UTC))
    assert result.status == "INVOICED" and result.invoice.totals.total == D("10.00")
    assert result.invoice.period_start > START


def test_the_last_period_of_a_cancelled_subscription_is_billed_up_to_its_end(world: World):
    meter = world.meter()
    version = world.plan(
        usage_prices=[{"meter_id": meter, "price": {"model": "per_unit", "currency": "USD", "unit_amount": "1"}}],
        fees=[
            {"name": "Seat", "amount": "10", "timing": "in_advance"},
            {"name": "Ops", "amount": "5", "timing": "in_arrears"},
        ],
    )
    ended = JAN[0] + timedelta(days=10)
    sub = world.subscribe(version, status=SubscriptionStatus.CANCELLED, cancelled_at=ended, ended_at=ended)
    world.record(sub, meter, JAN[0] + timedelta(days=2), times=3)
    world.record(sub, meter, JAN[0] + timedelta(days=12), times=100)  # after the end: not billed
    world.now = ended + timedelta(hours=1)
    result = bill_subscription(world.repos, TENANT, sub.subscription_id, JAN[0], ended)
    assert result.status == "INVOICED", result
    assert lines(result.invoice, LineKind.USAGE)[0].amount == D("3.00")
    # the first period's in-advance fee, the in-arrears fee, nothing in advance for a period it will not have
    assert sorted(ln.details["fee"] for ln in lines(result.invoice, LineKind.FEE)) == ["Ops", "Seat"]
    assert result.invoice.totals.total == D("18.00")


def test_a_cancellation_requested_in_the_next_period_does_not_cancel_its_in_advance_fee(world: World):
    version = world.plan(fees=[{"name": "Seat", "amount": "10", "timing": "in_advance"}])
    sub = world.subscribe(version)
    asked = FEB[0] + timedelta(days=9)  # cancel at the end of February, asked on Feb 10; January is billed late
    world.subscriptions.put(
        replace(sub, cancel_at_period_end=True, version=2),
        [Transition(asked, "CANCEL_AT_PERIOD_END", SubscriptionStatus.ACTIVE, SubscriptionStatus.ACTIVE)],
    )
    world.now = asked + timedelta(days=1)
    invoice = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).invoice
    assert sorted(ln.details["covers"]["start"][:10] for ln in lines(invoice, LineKind.FEE)) == [
        "2026-01-01",
        "2026-02-01",
    ]
