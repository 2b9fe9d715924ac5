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
