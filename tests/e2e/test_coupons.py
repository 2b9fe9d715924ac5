"""Coupons over HTTP: create, apply to a subscription, see the discount on its invoice (once)."""

from __future__ import annotations

import pytest

from tests.e2e import builders
from tests.e2e.billing_kit import bill, ended_subscription, own_tenant, tenant_of
from tests.e2e.builders import ok

pytestmark = pytest.mark.e2e


def test_a_coupon_applied_to_a_subscription_discounts_its_next_invoice_once(server):
    c = own_tenant(server, "coupons")
    coupon = ok(
        c.post("/v1/coupons", json={"id": "LAUNCH20", "name": "Launch", "percent_off": "20", "duration": "once"}), 201
    )
    assert coupon["id"] == "LAUNCH20" and ok(c.get("/v1/coupons/LAUNCH20"))["percent_off"] == "20"
    assert c.post("/v1/coupons", json={"id": "LAUNCH20", "percent_off": "5"}).status_code == 409
    bad = c.post("/v1/coupons", json={"percent_off": "10", "amount_off": "5", "currency": "USD"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"

    cust = builders.customer(c)
    sub = ended_subscription(c, cust["id"], builders.plan(c, fee="50.00")["id"])
    applied = ok(c.post(f"/v1/subscriptions/{sub['id']}/discount", json={"coupon_id": "LAUNCH20"}))
    assert applied["discount"]["coupon_id"] == "LAUNCH20" and applied["discount"]["periods_left"] == 1
    eur = ok(c.post("/v1/coupons", json={"amount_off": "5", "currency": "EUR"}), 201)
    assert c.post(f"/v1/subscriptions/{sub['id']}/discount", json={"coupon_id": eur["id"]}).status_code == 409

    invoice = ok(c.get(f"/v1/invoices/{bill(tenant_of(c), sub['id']).invoice_id}"))
    (line,) = [ln for ln in invoice["lines"] if ln["kind"] == "discount"]
    assert line["amount"] == "-20.00" and invoice["totals"]["discounts"] == "20.00"
    assert invoice["totals"]["total"] == "80.00"
    assert ok(c.get(f"/v1/subscriptions/{sub['id']}"))["discount"] is None  # used up by that invoice


@pytest.mark.parametrize("amount", ["1e1000000", "1E+125", "-1E+125", "1e999999999", "NaN", "9" * 30])
def test_money_amounts_with_huge_exponents_or_digits_are_a_4xx_problem_and_nothing_is_stored(server, amount):
    """Issue 13 class 1: bounded before any arithmetic -- never decimal.Overflow/InvalidOperation as a 500."""
    c = own_tenant(server, "money bounds")
    problems = [
        c.post("/v1/coupons", json={"amount_off": amount, "currency": "USD"}),
        c.post("/v1/coupons", json={"percent_off": amount}),
        c.post("/v1/wallets", json={"customer_id": builders.customer(c)["id"], "initial_balance": amount}),
    ]
    # A JSON number (not a string) is refused by the schema itself.
    raw = (
        '{"amount_off": '
        + (amount if amount[0].isdigit() or amount[0] == "-" else "1e1000000")
        + ', "currency": "USD"}'
    )
    problems.append(c.post("/v1/coupons", content=raw, headers={"Content-Type": "application/json"}))
    for r in problems:
        assert r.status_code in (400, 422), r.text
        assert r.headers["content-type"] == "application/problem+json" and r.json()["code"]
    assert ok(c.get("/v1/coupons"))["data"] == [] and ok(c.get("/v1/wallets"))["data"] == []
