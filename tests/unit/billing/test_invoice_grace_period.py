"""Issue 14: an invoice grace period per tenant (Lago's ``invoice_grace_period``): an invoice of a closed
period stays DRAFT for N days, late usage lands on it meanwhile, and it is finalized at the end (the same
idempotent write as without a grace period)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.unit.billing.billing_world import FEB, JAN, TENANT, World
from tollgate.domain.billing.invoices import InvoiceStatus, LineKind
from tollgate.domain.errors import InvalidInput
from tollgate.usecases.billing import bill_subscription
from tollgate.usecases.invoicing import put_billing_settings

PER_UNIT = {"model": "per_unit", "currency": "USD", "unit_amount": "1.00"}


def usage_quantity(invoice) -> Decimal:
    (line,) = [ln for ln in invoice.lines if ln.kind is LineKind.USAGE]
    return Decimal(line.details["quantity"])


def test_an_invoice_stays_draft_in_its_grace_period_collects_late_usage_then_is_finalized(world: World):
    put_billing_settings(world.repos, TENANT, {"invoice_grace_period_days": 3})
    meter = world.meter()
    sub = world.subscribe(world.plan(usage_prices=[{"meter_id": meter, "price": PER_UNIT}]))
    world.record(sub, meter, JAN[0] + timedelta(days=2))
    first = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert first.invoice.status is InvoiceStatus.DRAFT and "grace period" in first.detail
    assert world.mailer.sent == []  # a draft is not sent
    world.record(sub, meter, JAN[0] + timedelta(days=20))  # late, within the grace period
    world.later(days=1)
    second = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert second.invoice.status is InvoiceStatus.DRAFT and usage_quantity(second.invoice) == 2
    world.now = JAN[1] + timedelta(days=3, minutes=15)
    final = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert final.invoice.status is InvoiceStatus.FINALIZED and usage_quantity(final.invoice) == 2
    assert final.invoice.totals.total == Decimal("2.00")
    assert bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).status == "ALREADY_INVOICED"
    world.now = FEB[1] + timedelta(minutes=30)
    february = bill_subscription(world.repos, TENANT, sub.subscription_id, *FEB).invoice
    assert [ln for ln in february.lines if "late_for_invoice" in ln.details] == []  # nothing billed twice


def test_no_grace_period_finalizes_at_once(world: World):
    meter = world.meter()
    sub = world.subscribe(world.plan(usage_prices=[{"meter_id": meter, "price": PER_UNIT}]))
    assert world.repos.settings.get_settings(TENANT).invoice_grace_period_days == 0
    result = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert result.invoice.status in (InvoiceStatus.FINALIZED, InvoiceStatus.PAID)


@pytest.mark.parametrize("days", [-1, 366, "3", 1.5, True])
def test_the_grace_period_is_a_whole_number_of_days_up_to_a_year(world: World, days):
    with pytest.raises(InvalidInput) as caught:
        put_billing_settings(world.repos, TENANT, {"invoice_grace_period_days": days})
    assert caught.value.extra["field"] == "invoice_grace_period_days"


def test_the_setting_round_trips(world: World):
    saved = put_billing_settings(world.repos, TENANT, {"invoice_grace_period_days": 7})
    assert saved.to_json()["invoice_grace_period_days"] == 7
    assert type(saved).from_json(TENANT, saved.to_json()).invoice_grace_period_days == 7
