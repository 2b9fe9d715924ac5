"""Stripe webhooks under hostile and concurrent input (issue 13 class 6): a payment is applied only
when Stripe says how much was received and it covers the invoice; a malformed event is a 400 that
changes nothing; two deliveries of one event at once apply it once; ``applied`` tells the truth."""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

import pytest
import stripe

from tests.unit.billing.billing_world import TENANT
from tests.unit.billing.test_payments_dunning import SECRET, PayWorld, _signed, _succeeded
from tollgate.domain.billing.invoices import InvoiceStatus
from tollgate.domain.errors import BadRequest
from tollgate.domain.payments import PaymentOutcome
from tollgate.domain.subscriptions import SubscriptionStatus
from tollgate.usecases import payments


def _deliver(pw: PayWorld, event: dict, **kwargs: Any) -> payments.WebhookResult:
    payload, header = _signed(event)
    return payments.handle_stripe_webhook(pw.repos, TENANT, payload, header, **kwargs)


@pytest.mark.parametrize("amount", [None, "absent"])
def test_a_succeeded_event_without_amount_received_leaves_the_invoice_unpaid(amount):
    pw = PayWorld([PaymentOutcome.DECLINED], webhook_secret=SECRET)
    invoice, sub = pw.invoice()
    payments.attempt_payment(pw.repos, TENANT, invoice.invoice_id, trigger="automatic", number=1)
    event = _succeeded(invoice.invoice_id, amount_received=amount)
    if amount == "absent":
        del event["data"]["object"]["amount_received"]
    result = _deliver(pw, event)
    assert not result.applied and "no amount_received" in result.detail
    assert pw.inv(invoice).status is InvoiceStatus.FINALIZED
    assert pw.sub(sub).status is SubscriptionStatus.PAST_DUE


def test_a_payment_short_of_the_amount_due_or_in_another_currency_changes_nothing():
    pw = PayWorld(webhook_secret=SECRET)
    invoice, _ = pw.invoice()  # 49.00 USD
    short = _deliver(pw, _succeeded(invoice.invoice_id, "evt_short", amount_received=4899))
    euros = _succeeded(invoice.invoice_id, "evt_eur")
    euros["data"]["object"]["currency"] = "eur"
    other = _deliver(pw, euros)
    assert not short.applied and "does not cover" in short.detail
    assert not other.applied and "EUR" in other.detail
    assert pw.inv(invoice).status is InvoiceStatus.FINALIZED


MALFORMED = {
    "amount_received is a string": lambda e: e["data"]["object"].update(amount_received="4900"),
    "amount_received is a float": lambda e: e["data"]["object"].update(amount_received=4900.5),
    "amount_received is a boolean": lambda e: e["data"]["object"].update(amount_received=True),
    "amount_received is negative": lambda e: e["data"]["object"].update(amount_received=-1),
    "amount_received is astronomical": lambda e: e["data"]["object"].update(amount_received=10**40),
    "amount_received is an object": lambda e: e["data"]["object"].update(amount_received={"v": 1}),
    "currency is a number": lambda e: e["data"]["object"].update(currency=840),
    "data is a list": lambda e: e.update(data=[1, 2]),
    "data is a string": lambda e: e.update(data="x"),
    "data.object is null": lambda e: e.update(data={"object": None}),
    "metadata is a list": lambda e: e["data"]["object"].update(metadata=["invoice_id"]),
    "livemode is a string": lambda e: e.update(livemode="false"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_malformed_signed_event_is_400_invalid_webhook_payload_and_changes_nothing(name):
    pw = PayWorld(webhook_secret=SECRET)
    invoice, _ = pw.invoice()
    event = copy.deepcopy(_succeeded(invoice.invoice_id))
    MALFORMED[name](event)
    with pytest.raises(BadRequest) as exc:
        _deliver(pw, event)
    assert exc.value.code == "INVALID_WEBHOOK_PAYLOAD" and "Nothing was changed" in exc.value.detail
    assert pw.inv(invoice).status is InvoiceStatus.FINALIZED and pw.payments.webhooks == {}


def test_a_signed_body_that_is_not_json_tollgate_can_read_is_400():
    pw = PayWorld(webhook_secret=SECRET)
    for payload in ("[" * 5000 + "]" * 5000, '{"id": "evt_1", "n": ' + "9" * 5000 + "}", "not json"):
        header = stripe.WebhookSignature.generate_signature_header(payload, SECRET)
        with pytest.raises(BadRequest) as exc:
            payments.handle_stripe_webhook(pw.repos, TENANT, payload, header)
        assert exc.value.code == "INVALID_WEBHOOK_PAYLOAD"


def _at_once(n: int, deliver) -> list:
    """Run ``deliver`` on ``n`` threads released together; their results."""
    barrier, results, errors = threading.Barrier(n), [], []

    def run() -> None:
        barrier.wait()
        try:
            results.append(deliver())
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def _checkout_event(customer_id: str, plan_id: str | None = "plan_x") -> dict:
    metadata = {"customer_id": customer_id, "payment_method": "pm_card_visa"}
    if plan_id:
        metadata["plan_id"] = plan_id
    return {
        "id": "evt_cs_race",
        "type": "checkout.session.completed",
        "livemode": False,
        "data": {"object": {"id": "cs_race", "customer": "cus_9", "metadata": metadata}},
    }


def test_two_concurrent_deliveries_of_a_checkout_event_apply_it_once():
    pw = PayWorld(webhook_secret=SECRET)
    customer = pw.w.customer()
    subscribed, updates = [], []
    customers_update = pw.w.customers.update

    def slow_update(before, after, events):  # widen the window in which the old code applied twice
        updates.append(after.payment_method)
        threading.Event().wait(0.05)
        customers_update(before, after, events)

    pw.w.customers.update = slow_update
    payload, header = _signed(_checkout_event(customer.customer_id))

    def deliver():
        return payments.handle_stripe_webhook(
            pw.repos, TENANT, payload, header, subscribe=lambda t, d: subscribed.append(d)
        )

    results = _at_once(2, deliver)
    assert sorted((r.applied, r.duplicate) for r in results) == [(False, True), (True, False)]
    assert len(subscribed) == 1 and len(updates) == 1


def test_two_concurrent_deliveries_of_a_payment_event_pay_the_invoice_once():
    pw = PayWorld(webhook_secret=SECRET)
    invoice, _ = pw.invoice()
    payload, header = _signed(_succeeded(invoice.invoice_id, "evt_pay_race"))
    results = _at_once(2, lambda: payments.handle_stripe_webhook(pw.repos, TENANT, payload, header))
    assert sorted((r.applied, r.duplicate) for r in results) == [(False, True), (True, False)]
    after = pw.inv(invoice)
    assert after.status is InvoiceStatus.PAID and len(after.payment_attempts) == 1
    assert [e.type for e in pw.payments.events].count("invoice.paid") == 1


def test_a_checkout_event_that_changes_nothing_answers_applied_false():
    pw = PayWorld(webhook_secret=SECRET)
    customer = pw.w.customer()
    first = _checkout_event(customer.customer_id, plan_id=None)
    assert _deliver(pw, first).applied
    again = json.loads(json.dumps(first))
    again["id"] = "evt_cs_again"  # a second session with the same payment method
    result = _deliver(pw, again)
    assert not result.applied and not result.duplicate and "nothing changed" in result.detail


def test_a_checkout_event_whose_effect_fails_is_not_marked_so_the_redelivery_applies_it():
    pw = PayWorld(webhook_secret=SECRET)
    customer = pw.w.customer()
    event = _checkout_event(customer.customer_id)

    def failing(tenant, data):
        raise RuntimeError("subscriptions table unavailable")

    with pytest.raises(RuntimeError):
        _deliver(pw, event, subscribe=failing)
    assert pw.payments.webhooks == {}
    subscribed = []
    result = _deliver(pw, event, subscribe=lambda t, d: subscribed.append(d))
    assert result.applied and len(subscribed) == 1
