"""Issue 7 over HTTP: every item of seed 000's "Subscription stuck in PAST_DUE", and the Stripe webhook
endpoint (signed with the stripe library's own signing code) on the local stack.

The symptom is reproduced as it happens: a customer whose card declines has an invoice finalized; the
invoice.finalized event starts the invoice's dunning workflow; attempt 1 declines; the subscription is
PAST_DUE while dunning waits for its next attempt."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
import stripe

from tests.e2e import builders
from tests.e2e.billing_kit import bill, ended_subscription, own_tenant, tenant_of
from tests.e2e.builders import ok, wait_for
from tests.e2e.conftest import client

pytestmark = pytest.mark.e2e


def problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


def past_due(server, c, *, method: str = "pm_card_chargeDeclined", schedule: list[str] | None = None):
    """A subscription stuck in PAST_DUE: its invoice's first payment attempt was declined."""
    ok(c.put("/v1/settings/payments", json={"retry_schedule": schedule or ["P3D", "P5D", "P7D"]}))
    cust = builders.customer(c)
    ok(c.put(f"/v1/customers/{cust['id']}/payment-method", json={"payment_method": method}))
    p = builders.plan(c, fee="30.00")
    sub = ended_subscription(c, cust["id"], p["id"])
    invoice_id = bill(tenant_of(c), sub["id"]).invoice_id
    wait_for(lambda: ok(c.get(f"/v1/subscriptions/{sub['id']}"))["status"] == "PAST_DUE", timeout=30)
    return cust, sub, invoice_id


@pytest.fixture
def tenant(server):
    return own_tenant(server, f"past due {uuid.uuid4().hex[:6]}")


def test_symptom_and_step_1_the_subscription_shows_its_dunning_attempt_count(server, tenant):
    _, sub, invoice_id = past_due(server, tenant)
    got = ok(tenant.get(f"/v1/subscriptions/{sub['id']}"))
    assert got["status"] == "PAST_DUE" and got["dunning_attempts"] == 1
    assert got["payment"]["state"] == "pending" and got["payment"]["grace_period_days"] == 3  # seed 002: 3-day grace
    invoice = ok(tenant.get(f"/v1/invoices/{invoice_id}"))
    assert invoice["status"] == "FINALIZED" and invoice["payment_attempt_count"] == 1
    assert invoice["payment_attempts"][0]["decline_code"] == "generic_decline"
    history = ok(tenant.get(f"/v1/subscriptions/{sub['id']}/history"))["data"]
    assert (history[-1]["action"], history[-1]["to_status"]) == ("PAYMENT_FAILED", "PAST_DUE")


def test_step_2_retry_payment_now_counts_another_attempt(server, tenant):
    _, sub, invoice_id = past_due(server, tenant)
    r = ok(tenant.post(f"/v1/subscriptions/{sub['id']}/retry-payment"))
    (attempt,) = r["attempts"]
    assert (
        attempt["invoice_id"] == invoice_id
        and attempt["attempt"]["outcome"] == "declined"
        and attempt["attempt"]["trigger"] == "manual"
    )
    assert r["subscription"]["status"] == "PAST_DUE" and r["subscription"]["dunning_attempts"] == 2
    # a retry with nothing unpaid, or for another tenant's subscription
    assert problem(tenant.post("/v1/subscriptions/sub_nope/retry-payment"), 404)["detail"].startswith(
        "Subscription not found"
    )


def test_step_3_the_customer_updates_an_outdated_payment_method_in_the_portal_then_retry_pays(server, tenant):
    _, sub, invoice_id = past_due(server, tenant, method="pm_card_chargeDeclinedExpiredCard")
    key = ok(tenant.post(f"/v1/subscriptions/{sub['id']}/keys", json={}), 201)["secret"]
    portal = client(server, key, tenant_of(tenant))
    ok(portal.put("/v1/portal/payment-method", json={"payment_method": "pm_card_visa"}))
    r = ok(tenant.post(f"/v1/subscriptions/{sub['id']}/retry-payment"))
    assert r["attempts"][0]["attempt"]["outcome"] == "succeeded" and r["attempts"][0]["invoice_status"] == "PAID"
    got = ok(tenant.get(f"/v1/subscriptions/{sub['id']}"))
    assert got["status"] == "ACTIVE" and got["dunning_attempts"] == 0 and got["payment"]["state"] == "paid"
    assert ok(tenant.get(f"/v1/invoices/{invoice_id}"))["status"] == "PAID"
    # nothing left to retry
    assert problem(tenant.post(f"/v1/subscriptions/{sub['id']}/retry-payment"), 409)["code"] == "NOTHING_TO_RETRY"


def test_step_4_after_the_payment_method_is_fixed_the_next_dunning_cycle_reactivates(server, tenant):
    _, sub, invoice_id = past_due(server, tenant, schedule=["PT3S", "PT3S", "PT3S"])
    ok(tenant.put(f"/v1/customers/{sub['customer_id']}/payment-method", json={"payment_method": "pm_card_visa"}))
    wait_for(lambda: ok(tenant.get(f"/v1/subscriptions/{sub['id']}"))["status"] == "ACTIVE", timeout=30)
    invoice = ok(tenant.get(f"/v1/invoices/{invoice_id}"))
    assert invoice["status"] == "PAID" and [a["trigger"] for a in invoice["payment_attempts"]] == [
        "automatic",
        "dunning",
    ]


def test_retry_payment_without_a_payment_method_says_where_to_add_one(server, tenant):
    cust = builders.customer(tenant)
    sub = ended_subscription(tenant, cust["id"], builders.plan(tenant, fee="5.00")["id"])
    bill(tenant_of(tenant), sub["id"])
    body = problem(tenant.post(f"/v1/subscriptions/{sub['id']}/retry-payment"), 409)
    assert body["code"] == "PAYMENT_METHOD_MISSING" and "/v1/portal/payment-method" in body["detail"]
    assert ok(tenant.get(f"/v1/subscriptions/{sub['id']}"))["status"] == "ACTIVE"  # no method: waits, not PAST_DUE


# -- Stripe webhooks --------------------------------------------------------------------------------------

SECRET = "whsec_e2e_" + uuid.uuid4().hex


def _post(anonymous, tenant_id: str, event: dict, *, secret: str = SECRET, tamper: bool = False):
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret)
    body = payload.replace('"pi_', '"pi_x') if tamper else payload
    return anonymous.post(
        f"/v1/webhooks/stripe/{tenant_id}",
        content=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def _paid_event(tenant_id: str, invoice_id: str, *, livemode: bool = False, amount_received: int | None = None) -> dict:
    """A PaymentIntent that received ``amount_received`` minor units (Stripe's integer amount)."""
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "livemode": livemode,
        "data": {
            "object": {
                "id": "pi_e2e",
                "object": "payment_intent",
                "amount_received": amount_received,
                "metadata": {"tenant_id": tenant_id, "invoice_id": invoice_id},
            }
        },
    }


def test_a_signed_webhook_applies_once_a_tampered_one_is_400_and_changes_nothing(server, tenant, anonymous):
    _, sub, invoice_id = past_due(server, tenant)
    ok(tenant.put("/v1/settings/payments", json={"webhook_secret": SECRET}))
    tenant_id = tenant_of(tenant)
    due = ok(tenant.get(f"/v1/invoices/{invoice_id}"))
    cents = int(Decimal(due["amount_due"]) * 10 ** {"JPY": 0}.get(due["currency"], 2))  # minor units
    event = _paid_event(tenant_id, invoice_id, amount_received=cents)

    tampered = problem(_post(anonymous, tenant_id, event, tamper=True), 400)
    assert tampered["code"] == "INVALID_SIGNATURE"
    assert problem(_post(anonymous, tenant_id, event, secret="whsec_wrong"), 400)["code"] == "INVALID_SIGNATURE"
    assert ok(tenant.get(f"/v1/invoices/{invoice_id}"))["status"] == "FINALIZED"

    first, second = ok(_post(anonymous, tenant_id, event)), ok(_post(anonymous, tenant_id, event))
    assert first["applied"] and not first["duplicate"] and second["duplicate"] and not second["applied"]
    invoice = ok(tenant.get(f"/v1/invoices/{invoice_id}"))
    assert invoice["status"] == "PAID" and [a["trigger"] for a in invoice["payment_attempts"]] == [
        "automatic",
        "webhook",
    ]
    assert ok(tenant.get(f"/v1/subscriptions/{sub['id']}"))["status"] == "ACTIVE"


def test_a_live_mode_event_for_a_test_mode_tenant_is_refused(server, tenant, anonymous):
    _, _, invoice_id = past_due(server, tenant)
    ok(tenant.put("/v1/settings/payments", json={"webhook_secret": SECRET, "livemode": False}))
    body = problem(_post(anonymous, tenant_of(tenant), _paid_event(tenant_of(tenant), invoice_id, livemode=True)), 400)
    assert body["code"] == "LIVEMODE_MISMATCH" and "test-mode tenant" in body["detail"]
    assert ok(tenant.get(f"/v1/invoices/{invoice_id}"))["status"] == "FINALIZED"


def test_payment_settings_keep_secrets_write_only(tenant):
    saved = ok(tenant.put("/v1/settings/payments", json={"webhook_secret": SECRET, "grace_period_days": 5}))
    assert saved["webhook_secret"] != SECRET and saved["webhook_secret"].endswith(SECRET[-4:])
    assert saved["webhook_url_path"] == f"/v1/webhooks/stripe/{tenant_of(tenant)}" and saved["max_attempts"] == 4
    again = ok(tenant.put("/v1/settings/payments", json={"grace_period_days": 2}))  # secret omitted: kept
    assert again["webhook_secret"] == saved["webhook_secret"] and again["grace_period_days"] == 2


def test_checkout_completed_creates_the_subscription_once(server, tenant, anonymous):
    """Seed 002, "Stripe Checkout redirects but subscription isn't created": the checkout.session.completed
    webhook (right mode, right secret) saves the payment method and subscribes the customer, once."""
    ok(tenant.put("/v1/settings/payments", json={"webhook_secret": SECRET}))
    cust = builders.customer(tenant)
    p = builders.plan(tenant, fee="12.00")
    session = ok(
        tenant.post(
            f"/v1/customers/{cust['id']}/checkout-sessions",
            json={"success_url": "https://app.example/ok", "cancel_url": "https://app.example/no", "plan_id": p["id"]},
        ),
        201,
    )
    assert session["id"].startswith("cs_") and session["url"].startswith("https://")
    event = {
        "id": f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": "checkout.session.completed",
        "livemode": False,
        "data": {
            "object": {
                "id": session["id"],
                "object": "checkout.session",
                "customer": session["provider_customer_id"],
                "metadata": {
                    "tenant_id": tenant_of(tenant),
                    "customer_id": cust["id"],
                    "plan_id": p["id"],
                    "payment_method": "pm_card_visa",
                },
            }
        },
    }
    for _ in range(2):
        ok(_post(anonymous, tenant_of(tenant), event))
    subs = ok(tenant.get("/v1/subscriptions", params={"customer_id": cust["id"]}))["data"]
    assert [(s["plan_id"], s["status"], s["external_id"]) for s in subs] == [
        (p["id"], "ACTIVE", f"checkout_{session['id']}")
    ]
    assert ok(tenant.get(f"/v1/customers/{cust['id']}"))["payment_method"] == "pm_card_visa"
