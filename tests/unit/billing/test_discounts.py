"""Coupons and discounts: validation, the discount line (after the subtotal, before credit notes and
tax), and how many invoices a once / repeating / forever discount covers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest

from tests.unit.billing.billing_world import FEB, JAN, MAR, START, TENANT, World
from tollgate.domain.billing.discounts import Duration, discount_of, parse_coupon
from tollgate.domain.billing.invoices import LineKind
from tollgate.domain.billing.settings import BillingSettings
from tollgate.domain.billing.tax import TaxMode, TaxRate
from tollgate.domain.errors import InvalidInput
from tollgate.usecases.billing import bill_subscription


def coupon(**data):
    return parse_coupon("C1", TENANT, {"name": "Launch", **data}, START)


@pytest.mark.parametrize(
    "data",
    [
        {},  # neither
        {"percent_off": "10", "amount_off": "5", "currency": "USD"},  # both
        {"percent_off": "0"},
        {"percent_off": "100.5"},
        {"amount_off": "5"},  # no currency
        {"amount_off": "5.001", "currency": "USD"},  # finer than cents
        {"percent_off": "10", "duration": "repeating"},  # no duration_in_periods
        {"percent_off": "10", "duration": "once", "duration_in_periods": 2},
    ],
)
def test_bad_coupons_are_refused(data):
    with pytest.raises(InvalidInput):
        coupon(**data)


def _discounted(world: World, fee: str, **coupon_data):
    version = world.plan(fees=[{"name": "Base", "amount": fee, "timing": "in_arrears"}])
    return world.subscribe(version, discount=discount_of(coupon(**coupon_data), START))


def _lines(invoice, kind):
    return [ln for ln in invoice.lines if ln.kind is kind]


def test_a_percent_discount_comes_after_the_subtotal_and_before_tax(world: World):
    world.billing.settings[TENANT] = BillingSettings(
        TENANT, tax_mode=TaxMode.EXCLUSIVE, tax_rates=(TaxRate("VAT", D(20)),)
    )
    sub = _discounted(world, "100.00", percent_off="15")
    invoice = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).invoice
    (line,) = _lines(invoice, LineKind.DISCOUNT)
    assert line.amount == D("-15.00") and line.details["coupon_id"] == "C1"
    assert invoice.totals.subtotal == D("100.00") and invoice.totals.discounts == D("15.00")
    assert invoice.totals.tax == D("17.00") and invoice.totals.total == D("102.00")  # 20% of 85
    stages = [s["stage"] for s in invoice.attribution["stages"]]
    assert stages.index("subtotal") < stages.index("discounts") < stages.index("credit_notes") < stages.index("tax")


def test_an_amount_discount_never_exceeds_the_subtotal(world: World):
    sub = _discounted(world, "10.00", amount_off="25.00", currency="USD")
    invoice = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).invoice
    assert _lines(invoice, LineKind.DISCOUNT)[0].amount == D("-10.00") and invoice.totals.total == 0


@pytest.mark.parametrize(
    "data,discounted",
    [
        ({"duration": "once"}, [True, False, False]),
        ({"duration": "repeating", "duration_in_periods": 2}, [True, True, False]),
        ({"duration": "forever"}, [True, True, True]),
    ],
)
def test_each_invoice_uses_one_period_of_the_discount(world: World, data, discounted):
    sub = _discounted(world, "40.00", percent_off="50", **data)
    got = []
    for period in (JAN, FEB, MAR):
        world.now = period[1] + timedelta(minutes=30)
        invoice = bill_subscription(world.repos, TENANT, sub.subscription_id, *period).invoice
        got.append(bool(_lines(invoice, LineKind.DISCOUNT)))
    assert got == discounted
    left = world.subscriptions.get(TENANT, sub.subscription_id).discount
    assert (left is not None) == (data["duration"] == "forever")
    if left is not None:
        assert left.duration is Duration.FOREVER and left.periods_left is None
