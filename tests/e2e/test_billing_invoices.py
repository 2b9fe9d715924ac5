"""Issue 6 over HTTP: invoices, credit notes, wallets, tax and invoice email on the local stack.

Every item of seed 000's "Customer not receiving invoices" and "Invoice amount looks wrong" is
reproduced with its symptom and its fix. Usage is seeded through a stub usage reader injected into
``tollgate.wiring`` (the stack runs in this process); invoices are billed in-process through the same
use case the bill run's task calls.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.e2e import builders
from tests.e2e.billing_kit import bill, ended_subscription, first_period, invoiced, own_tenant, tenant_of
from tests.e2e.builders import ok, wait_for
from tests.e2e.conftest import client
from tests.fakes.billing import InMemoryUsageReader, SlowTaxProvider

pytestmark = pytest.mark.e2e
D = Decimal


def problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


def events(server, c, type_: str, invoice_id: str) -> list[dict]:
    server.stack.drain()
    return [
        e
        for e in ok(c.get("/v1/billing-events", params={"type": type_}))["data"]
        if e["data"].get("invoice_id") == invoice_id
    ]


def ses_messages(to: str) -> list:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [
        m
        for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
        if to in str(getattr(m, "destinations", ""))
    ]


@pytest.fixture
def t(server):
    return own_tenant(server)


@pytest.fixture
def usage(monkeypatch):
    """A stub usage reader behind wiring.usage_reader() for the duration of one test."""
    from tollgate import wiring

    reader = InMemoryUsageReader()
    monkeypatch.setattr(wiring, "usage_reader", lambda: reader)
    return reader


# -- seed 000: Customer not receiving invoices ---------------------------------------------------------------


def test_invoice_not_received_because_the_customer_has_no_email_then_fixed_and_resent(server, t):
    ok(t.put("/v1/settings/billing", json={"sender_email": "billing@vendor.example", "sender_name": "Vendor"}))
    cust, _, invoice_id = invoiced(t, email=None)
    # 1. the customer's email address: there is none
    assert ok(t.get(f"/v1/customers/{cust['id']}"))["email"] is None
    # 3. the billing event log has invoice.send_failed, saying why
    failed = wait_for(lambda: events(server, t, "invoice.send_failed", invoice_id))
    assert (
        failed[0]["data"]["reason_code"] == "CUSTOMER_EMAIL_MISSING"
        and f"/v1/customers/{cust['id']}" in failed[0]["data"]["reason"]
    )
    assert ok(t.get(f"/v1/invoices/{invoice_id}"))["delivery"]["status"] == "FAILED"
    # 4. a manual resend answers what is wrong (and logs another send_failed)
    body = problem(t.post(f"/v1/invoices/{invoice_id}/send"), 409)
    assert body["code"] == "CUSTOMER_EMAIL_MISSING"
    # the fix: set the email, resend
    address = f"ada-{uuid.uuid4().hex[:6]}@customer.example"
    ok(t.patch(f"/v1/customers/{cust['id']}", json={"email": address}))
    sent = ok(t.post(f"/v1/invoices/{invoice_id}/send"))
    assert sent["status"] == "SENT" and sent["to"] == address and sent["attempts"] == 3
    assert len(ses_messages(address)) == 1
    assert wait_for(lambda: events(server, t, "invoice.sent", invoice_id))


def test_invoice_not_received_because_no_email_provider_sender_is_configured_then_fixed(server, t):
    address = f"bob-{uuid.uuid4().hex[:6]}@customer.example"
    _, _, invoice_id = invoiced(t, email=address)
    # 2. Settings -> Finance: no sender configured
    assert ok(t.get("/v1/settings/billing"))["sender_email"] is None
    failed = wait_for(lambda: events(server, t, "invoice.send_failed", invoice_id))
    assert (
        failed[0]["data"]["reason_code"] == "SENDER_NOT_CONFIGURED"
        and "PUT /v1/settings/billing" in failed[0]["data"]["reason"]
    )
    assert ses_messages(address) == []
    # the fix: configure the sender (verified with the email provider), resend
    ok(t.put("/v1/settings/billing", json={"sender_email": "invoices@vendor.example"}))
    from infra.local.stack import LocalStack

    assert "invoices@vendor.example" in LocalStack.client("ses").list_identities()["Identities"]
    assert ok(t.post(f"/v1/invoices/{invoice_id}/send"))["status"] == "SENT"
    assert len(ses_messages(address)) == 1


def test_invoice_not_received_because_the_email_provider_rejected_the_sender(server, t):
    from infra.local.stack import LocalStack

    sender = f"ar-{uuid.uuid4().hex[:6]}@vendor.example"
    ok(t.put("/v1/settings/billing", json={"sender_email": sender}))
    LocalStack.client("ses").delete_identity(Identity=sender)  # the sender's verification was lost
    address = f"cy-{uuid.uuid4().hex[:6]}@customer.example"
    _, _, invoice_id = invoiced(t, email=address)
    failed = wait_for(lambda: events(server, t, "invoice.send_failed", invoice_id))
    assert failed[0]["data"]["reason_code"] == "EMAIL_REJECTED" and "not verified" in failed[0]["data"]["reason"]
    body = problem(t.post(f"/v1/invoices/{invoice_id}/send"), 502)
    assert body["code"] == "EMAIL_REJECTED"
    ok(t.put("/v1/settings/billing", json={"sender_email": sender}))  # saving submits it for verification again
    assert ok(t.post(f"/v1/invoices/{invoice_id}/send"))["status"] == "SENT"
    assert len(ses_messages(address)) == 1


def test_a_finalized_invoice_is_emailed_and_logged(server, t):
    ok(t.put("/v1/settings/billing", json={"sender_email": "billing@vendor.example"}))
    address = f"dee-{uuid.uuid4().hex[:6]}@customer.example"
    _, _, invoice_id = invoiced(t, email=address)
    (mail,) = ses_messages(address)
    assert invoice_id in mail.subject and "20.00 USD" in mail.body
    assert wait_for(lambda: events(server, t, "invoice.finalized", invoice_id))
    assert wait_for(lambda: events(server, t, "invoice.sent", invoice_id))


# -- seed 000: Invoice amount looks wrong -------------------------------------------------------------------


def test_amount_wrong_check_the_plan_version_pinned_to_the_subscription(t):
    cust = builders.customer(t)
    plan = builders.plan(t, fee="10.00")
    sub = ended_subscription(t, cust["id"], plan["id"])
    builders.new_version(t, plan["id"], fee="25.00")  # "the price went up" -- not for this subscription
    invoice_id = bill(tenant_of(t), sub["id"]).invoice_id
    invoice = ok(t.get(f"/v1/invoices/{invoice_id}"))
    assert ok(t.get(f"/v1/subscriptions/{sub['id']}"))["plan_version"] == 1 == invoice["plan_version"]
    fees = [ln for ln in invoice["lines"] if ln["kind"] == "fee"]
    assert {ln["unit_amount"] for ln in fees} == {"10.00"} and {ln["plan_version"] for ln in fees} == {1}
    assert invoice["totals"]["total"] == "20.00"  # this period's and next period's in-advance fee at v1


def test_amount_wrong_check_the_pipeline_stage_breakdown_in_the_usage_attribution(t, usage):
    meter = ok(
        t.post(
            "/v1/meters", json={"event_name": f"api.call.{uuid.uuid4().hex[:6]}", "aggregation": {"function": "COUNT"}}
        ),
        201,
    )
    price = {
        "model": "graduated",
        "currency": "USD",
        "included_units": "100",
        "tiers": [{"up_to": 1000, "unit_amount": "0.10"}, {"up_to": None, "unit_amount": "0.05"}],
    }
    plan = builders.plan(t, fee="0", usage_prices=[{"meter_id": meter["id"], "price": price}])
    cust = builders.customer(t)
    sub = ended_subscription(t, cust["id"], plan["id"])
    period = first_period(tenant_of(t), sub["id"])
    raw = [(period.start + timedelta(days=d, hours=3), n) for d, n in ((0, 400), (4, 700), (9, 500))]
    for at, n in raw:
        for _ in range(n):
            usage.record(tenant_of(t), cust["id"], meter["id"], at)
    invoice = ok(t.get(f"/v1/invoices/{bill(tenant_of(t), sub['id']).invoice_id}"))
    stages = {s["stage"]: s for s in invoice["attribution"]["stages"]}
    assert [s["stage"] for s in invoice["attribution"]["stages"]] == [
        "raw_usage",
        "aggregated",
        "included_units",
        "tiers",
        "subtotal",
        "discounts",
        "credit_notes",
        "tax",
        "wallet",
        "total",
    ]
    assert stages["raw_usage"]["event_count"] == 1600
    assert stages["aggregated"]["quantities"] == {meter["id"]: "1600"}
    assert stages["included_units"]["billable"] == {meter["id"]: "1500"}
    assert stages["tiers"]["amounts"] == {meter["id"]: "125.00"}
    # the raw events behind the usage line sum to the line
    (line,) = [ln for ln in invoice["lines"] if ln["kind"] == "usage"]
    (behind,) = invoice["attribution"]["usage"]
    assert sum(w["event_count"] for w in behind["windows"]) == sum(n for _, n in raw) == int(line["quantity"])
    assert sum(D(w["quantity"]) for w in behind["windows"]) == D(line["quantity"])
    assert (
        ok(t.post("/v1/prices/quote", json={"price": price, "quantity": line["quantity"]}))["amount"]
        == line["amount"]
        == "125.00"
    )


def test_amount_wrong_check_for_applied_credit_notes_that_reduced_the_total(server, t):
    _, _, invoice_id = invoiced(t, fee="50.00")  # 100.00: this period's and next period's fee
    note = ok(
        t.post("/v1/credit-notes", json={"invoice_id": invoice_id, "amount": "30.00", "reason": "SLA breach"}), 201
    )
    invoice = ok(t.get(f"/v1/invoices/{invoice_id}"))
    assert (invoice["totals"]["total"], invoice["totals"]["credited"], invoice["amount_due"]) == (
        "100.00",
        "30.00",
        "70.00",
    )
    listed = ok(t.get("/v1/credit-notes", params={"invoice_id": invoice_id}))["data"]
    assert [n["id"] for n in listed] == [note["id"]] and listed[0]["reason"] == "SLA breach"
    # a credit note bringing the amount due to zero pays the invoice
    ok(t.post("/v1/credit-notes", json={"invoice_id": invoice_id, "amount": "70.00"}), 201)
    assert ok(t.get(f"/v1/invoices/{invoice_id}"))["status"] == "PAID"
    body = problem(t.post("/v1/credit-notes", json={"invoice_id": invoice_id, "amount": "0.01"}), 422)
    assert "can still be credited" in body["detail"]
    assert wait_for(lambda: events(server, t, "invoice.paid", invoice_id))


def test_amount_wrong_confirm_the_billing_period(t):
    _, sub, invoice_id = invoiced(t)
    period = first_period(tenant_of(t), sub["id"])
    invoice = ok(t.get(f"/v1/invoices/{invoice_id}"))
    assert invoice["period"] == {
        "start": period.start.isoformat().replace("+00:00", "Z"),
        "end": period.end.isoformat().replace("+00:00", "Z"),
    }
    assert invoice["attribution"]["period"] == invoice["period"]
    covered = sorted(ln["covers"]["start"] for ln in invoice["lines"] if ln["kind"] == "fee")
    assert (
        covered[0] == invoice["period"]["start"] and covered[1] == invoice["period"]["end"]
    )  # this period, and the next in advance
    listed = ok(t.get("/v1/invoices", params={"subscription_id": sub["id"]}))["data"]
    assert [i["id"] for i in listed] == [invoice_id]


# -- idempotency, failures, retry -------------------------------------------------------------------------


def test_billing_a_period_twice_keeps_one_invoice(t):
    cust, sub, invoice_id = invoiced(t)
    again = bill(tenant_of(t), sub["id"])
    assert again.status == "ALREADY_INVOICED" and again.invoice_id == invoice_id
    assert len(ok(t.get("/v1/invoices", params={"customer_id": cust["id"]}))["data"]) == 1


def test_prepaid_wallet_short_fails_with_nothing_billed_then_top_up_and_retry(server, t):
    cust = builders.customer(t, metadata={"billing_mode": "prepaid"})
    plan = builders.plan(t, fee="15.00")
    sub = ended_subscription(t, cust["id"], plan["id"])
    wallet = ok(t.post("/v1/wallets", json={"customer_id": cust["id"], "initial_balance": "10.00"}), 201)
    result = bill(tenant_of(t), sub["id"])
    assert (result.status, result.error_code) == ("FAILED", "WALLET_INSUFFICIENT_FUNDS")
    failed = ok(t.get(f"/v1/invoices/{result.invoice_id}"))
    assert (
        failed["status"] == "FAILED" and failed["error_code"] == "WALLET_INSUFFICIENT_FUNDS" and failed["lines"] == []
    )
    assert ok(t.get(f"/v1/wallets/{wallet['id']}"))["balance"] == "10.00"
    assert ok(t.get("/v1/wallets", params={"customer_id": cust["id"]}))["data"][0]["id"] == wallet["id"]
    ok(t.post(f"/v1/wallets/{wallet['id']}/top-up", json={"amount": "20.00"}))
    retried = ok(t.post(f"/v1/invoices/{result.invoice_id}/retry"))
    assert retried["status"] == "INVOICED" and retried["invoice"]["status"] == "PAID"
    assert ok(t.get(f"/v1/wallets/{wallet['id']}"))["balance"] == "0.00"
    assert problem(t.post(f"/v1/invoices/{result.invoice_id}/retry"), 409)["detail"].startswith(
        f"Invoice {result.invoice_id} is PAID"
    )


def test_tax_engine_timeout_fails_with_tax_calculation_failed_and_the_invoice_is_retried(t):
    from tollgate import wiring

    slow = SlowTaxProvider(delay=2.0, name=f"slow-{uuid.uuid4().hex[:6]}")
    wiring.tax_providers()[slow.name] = slow
    try:
        ok(
            t.put(
                "/v1/settings/billing",
                json={"tax": {"mode": "EXCLUSIVE", "provider": slow.name, "timeout_seconds": "0.2"}},
            )
        )
        cust = builders.customer(t)
        sub = ended_subscription(t, cust["id"], builders.plan(t, fee="50.00")["id"])
        result = bill(tenant_of(t), sub["id"])
        assert (result.status, result.error_code) == ("FAILED", "TAX_CALCULATION_FAILED")
        slow.delay = 0
        retried = ok(t.post(f"/v1/invoices/{result.invoice_id}/retry"))
        assert retried["status"] == "INVOICED"
        assert (retried["invoice"]["totals"]["tax"], retried["invoice"]["totals"]["total"]) == ("10.00", "110.00")
    finally:
        wiring.tax_providers().pop(slow.name, None)


def test_builtin_inclusive_tax_over_http(t):
    ok(
        t.put(
            "/v1/settings/billing",
            json={"tax": {"mode": "INCLUSIVE", "rates": [{"name": "VAT", "rate_percent": "20"}]}},
        )
    )
    _, _, invoice_id = invoiced(t, fee="60.00")
    invoice = ok(t.get(f"/v1/invoices/{invoice_id}"))
    (tax,) = [ln for ln in invoice["lines"] if ln["kind"] == "tax"]
    assert (tax["amount"], invoice["totals"]["total"], invoice["totals"]["tax_inclusive"]) == ("20.00", "120.00", True)


def test_void_and_uncollectible_follow_the_lifecycle(t):
    _, _, first = invoiced(t)
    assert ok(t.post(f"/v1/invoices/{first}/void"))["status"] == "VOID"
    body = problem(t.post(f"/v1/invoices/{first}/void"), 409)
    assert "VOID" in body["detail"]
    _, _, second = invoiced(t)
    assert ok(t.post(f"/v1/invoices/{second}/mark-uncollectible"))["status"] == "UNCOLLECTIBLE"
    assert ok(t.post(f"/v1/invoices/{second}/mark-paid"))["status"] == "PAID"
    assert [i["id"] for i in ok(t.get("/v1/invoices", params={"status": "PAID"}))["data"]] == [second]


def test_a_customer_key_reads_its_own_invoices_only(server, t):
    mine, _, my_invoice = invoiced(t)
    _, _, their_invoice = invoiced(t)
    key = ok(t.post("/v1/api-keys", json={"kind": "customer", "customer_id": mine["id"]}), 201)["secret"]
    me = client(server, key, tenant_of(t))
    assert [i["id"] for i in ok(me.get("/v1/invoices"))["data"]] == [my_invoice]
    assert ok(me.get(f"/v1/invoices/{my_invoice}"))["id"] == my_invoice
    assert problem(me.get(f"/v1/invoices/{their_invoice}"), 404)
    assert problem(me.post(f"/v1/invoices/{my_invoice}/send"), 401)  # customer keys only read


def test_a_customer_with_an_open_invoice_cannot_be_deleted(t):
    cust, sub, invoice_id = invoiced(t)
    ok(t.delete(f"/v1/subscriptions/{sub['id']}"))
    body = problem(t.delete(f"/v1/customers/{cust['id']}"), 409)
    assert invoice_id in body["detail"]
    ok(t.post(f"/v1/invoices/{invoice_id}/void"))
    ok(t.delete(f"/v1/customers/{cust['id']}"))
