"""Payments and dunning over in-memory fakes: the retry schedule, the states an attempt moves the invoice
and the subscription to, idempotency of attempts, retry-payment, the payment state and Stripe webhooks."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal as D

import pytest
import stripe

from tests.fakes.payments import (
    InMemoryPayments,
    RecordingDunning,
    ScriptedProvider,
    UpdatableCustomers,
    with_payment_method,
)
from tests.unit.billing.billing_world import FEB, JAN, TENANT, World
from tollgate.adapters.payments.stripe import verify_webhook
from tollgate.domain.billing.invoices import InvoiceStatus
from tollgate.domain.errors import BadRequest, Conflict, InvalidInput, ServiceUnavailable
from tollgate.domain.payment_settings import FinalStatus, PaymentSettings, parse_duration, parse_payment_settings
from tollgate.domain.payments import PaymentOutcome, PaymentState
from tollgate.domain.subscriptions import SubscriptionStatus
from tollgate.usecases import payments
from tollgate.usecases.billing import bill_subscription

D_, S_ = PaymentOutcome.DECLINED, PaymentOutcome.SUCCEEDED
SECRET = "whsec_unit_test_secret"


class PayWorld:
    def __init__(self, script: list[PaymentOutcome] | None = None, **settings) -> None:
        self.w = World(customers=UpdatableCustomers())
        self.payments = InMemoryPayments(self.w.billing)
        self.provider = ScriptedProvider(script)
        self.dunning = RecordingDunning()
        if settings:
            self.payments.settings[TENANT] = replace(PaymentSettings(TENANT), **settings)

    @property
    def repos(self) -> payments.PaymentRepos:
        return payments.PaymentRepos(
            invoices=self.w.billing,
            subscriptions=self.w.subscriptions,
            customers=self.w.customers,
            catalog=self.w.catalog,
            payments=self.payments,
            providers=lambda settings: self.provider,
            dunning=self.dunning,
            verify_webhook=verify_webhook,
            clock=lambda: self.w.now,
        )

    def invoice(self, amount: str = "49.00", method: str | None = "pm_card_visa", **customer_meta):
        version = self.w.plan(fees=[{"name": "Base", "amount": amount, "timing": "in_arrears"}])
        customer = self.w.customer(**customer_meta)
        sub = self.w.subscribe(version, customer)
        if method:
            with_payment_method(self.w.customers, TENANT, customer.customer_id, method)
        result = bill_subscription(self.w.repos, TENANT, sub.subscription_id, *JAN)
        return result.invoice, sub

    def sub(self, sub):
        return self.w.subscriptions.get(TENANT, sub.subscription_id)

    def inv(self, invoice):
        return self.w.billing.get_invoice(TENANT, invoice.invoice_id)

    def run_dunning(self, invoice, max_steps: int = 20) -> list[int]:
        """What the state machine does: plan, wait (move the clock), attempt; the waits it asked for."""
        waits = []
        for _ in range(max_steps):
            step = payments.plan_dunning(self.repos, TENANT, invoice.invoice_id)
            if step.done:
                return waits
            waits.append(step.wait_seconds)
            self.w.later(seconds=step.wait_seconds)
            payments.attempt_payment(self.repos, TENANT, invoice.invoice_id, trigger="dunning", number=step.number)
        raise AssertionError("dunning did not finish")


# -- settings -----------------------------------------------------------------------------------------------


def test_default_schedule_is_3_5_7_days_four_attempts_and_cancel():
    s = PaymentSettings(TENANT)
    assert s.retry_schedule == (timedelta(days=3), timedelta(days=5), timedelta(days=7))
    assert s.max_attempts == 4 and s.final_subscription_status is FinalStatus.CANCELLED and s.grace_period_days == 3


@pytest.mark.parametrize(
    "raw,expected",
    [
        (3, timedelta(days=3)),
        ("P5D", timedelta(days=5)),
        ("PT2S", timedelta(seconds=2)),
        ("P1DT2H", timedelta(days=1, hours=2)),
    ],
)
def test_retry_intervals_are_days_or_iso_durations(raw, expected):
    assert parse_duration(raw, "x") == expected


@pytest.mark.parametrize("raw", [0, -1, "3 days", "P", "PT0S", True])
def test_bad_retry_intervals_are_refused(raw):
    with pytest.raises(InvalidInput):
        parse_duration(raw, "x")


def test_a_stripe_key_of_the_other_mode_is_refused():
    current = PaymentSettings(TENANT)
    with pytest.raises(InvalidInput, match="test-mode key but livemode is true"):
        parse_payment_settings(
            TENANT,
            {"provider": "stripe", "livemode": True, "stripe_secret_key": "sk_test_123"},
            current=current,
            at=JAN[0],
        )
    with pytest.raises(InvalidInput, match="whsec_"):
        parse_payment_settings(TENANT, {"webhook_secret": "nope"}, current=current, at=JAN[0])
    ok = parse_payment_settings(
        TENANT, {"provider": "stripe", "livemode": True, "stripe_secret_key": "sk_live_123"}, current=current, at=JAN[0]
    )
    assert ok.to_json(reveal=False)["stripe_secret_key"] == "sk_liv…_123"


# -- dunning ------------------------------------------------------------------------------------------------


def test_first_attempt_is_immediate_and_retries_follow_the_schedule_until_uncollectible_and_cancelled():
    pw = PayWorld([D_, D_, D_, D_])
    invoice, sub = pw.invoice()
    waits = pw.run_dunning(invoice)
    assert waits == [0, 3 * 86400, 5 * 86400, 7 * 86400]
    after = pw.inv(invoice)
    assert after.status is InvoiceStatus.UNCOLLECTIBLE and len(after.payment_attempts) == 4
    assert [a.number for a in after.payment_attempts] == [1, 2, 3, 4]
    s = pw.sub(sub)
    assert s.status is SubscriptionStatus.CANCELLED and s.dunning_attempts == 4
    types = [e.type for e in pw.payments.events]
    assert (
        types.count("invoice.payment_failed") == 4
        and "invoice.marked_uncollectible" in types
        and "subscription.cancelled" in types
    )


def test_the_final_state_can_be_past_due_instead():
    pw = PayWorld([D_, D_, D_, D_], final_subscription_status=FinalStatus.PAST_DUE)
    invoice, sub = pw.invoice()
    pw.run_dunning(invoice)
    assert pw.inv(invoice).status is InvoiceStatus.UNCOLLECTIBLE
    assert pw.sub(sub).status is SubscriptionStatus.PAST_DUE


def test_two_declines_then_success_is_paid_and_active_with_three_attempts():
    pw = PayWorld([D_, D_, S_])
    invoice, sub = pw.invoice()
    pw.run_dunning(invoice)
    after = pw.inv(invoice)
    assert after.status is InvoiceStatus.PAID and after.amount_due == 0 and after.totals.paid == D("49.00")
    assert [a.outcome for a in after.payment_attempts] == [D_, D_, S_]
    s = pw.sub(sub)
    assert s.status is SubscriptionStatus.ACTIVE and s.dunning_attempts == 0 and s.payment_overdue_since is None
    history = [h.action for h in pw.w.subscriptions.history(TENANT, sub.subscription_id)]
    assert history[-3:] == ["PAYMENT_FAILED", "PAYMENT_FAILED", "PAYMENT_SUCCEEDED"]


def test_a_decline_makes_the_subscription_past_due_and_counts_the_attempt():
    pw = PayWorld([D_])
    invoice, sub = pw.invoice()
    out = payments.attempt_payment(pw.repos, TENANT, invoice.invoice_id, trigger="automatic", number=1)
    assert out.attempt.outcome is D_
    s = pw.sub(sub)
    assert s.status is SubscriptionStatus.PAST_DUE and s.dunning_attempts == 1 and s.payment_overdue_since == pw.w.now
    assert pw.inv(invoice).status is InvoiceStatus.FINALIZED


def test_a_provider_error_is_not_an_attempt_and_is_tried_again_an_hour_later():
    pw = PayWorld([PaymentOutcome.ERROR, S_])
    invoice, sub = pw.invoice()
    payments.attempt_payment(pw.repos, TENANT, invoice.invoice_id, trigger="automatic", number=1)
    after = pw.inv(invoice)
    assert after.payment_attempts[0].outcome is PaymentOutcome.ERROR and pw.sub(sub).status is SubscriptionStatus.ACTIVE
    step = payments.plan_dunning(pw.repos, TENANT, invoice.invoice_id)
    assert not step.done and step.number == 1 and step.wait_seconds == 3600
    pw.run_dunning(invoice)
    assert pw.inv(invoice).status is InvoiceStatus.PAID


def test_nothing_due_is_paid_without_a_charge():
    pw = PayWorld()
    invoice, _ = pw.invoice(amount="0")  # billing settles a zero invoice at finalization
    assert pw.run_dunning(invoice) == []
    assert pw.inv(invoice).status is InvoiceStatus.PAID and pw.provider.requests == []


def test_without_a_payment_method_the_invoice_waits_and_nothing_is_past_due():
    pw = PayWorld()
    invoice, sub = pw.invoice(method=None)
    assert pw.run_dunning(invoice) == []
    assert pw.inv(invoice).status is InvoiceStatus.FINALIZED and pw.sub(sub).status is SubscriptionStatus.ACTIVE


def test_an_attempt_already_made_is_not_made_again():
    pw = PayWorld([D_, S_])
    invoice, _ = pw.invoice()
    payments.attempt_payment(pw.repos, TENANT, invoice.invoice_id, trigger="automatic", number=1)
    again = payments.attempt_payment(pw.repos, TENANT, invoice.invoice_id, trigger="automatic", number=1)
    assert again.note == "already attempted" and len(pw.provider.requests) == 1
    assert len(pw.inv(invoice).payment_attempts) == 1


def test_a_lost_race_writes_the_same_result_so_the_provider_charges_once():
    pw = PayWorld([S_])
    invoice, _ = pw.invoice()
    pw.payments.fail_next_commit = 1
    payments.attempt_payment(pw.repos, TENANT, invoice.invoice_id, trigger="automatic", number=1)
    keys = [r.idempotency_key for r in pw.provider.requests]
    assert keys == [f"{invoice.invoice_id}:1"]  # the result is written again, the provider is not asked again
    assert len(pw.inv(invoice).payment_attempts) == 1 and pw.inv(invoice).status is InvoiceStatus.PAID


# -- retry-payment ------------------------------------------------------------------------------------------


def test_retry_payment_after_updating_the_payment_method_reactivates():
    pw = PayWorld([D_, S_])
    invoice, sub = pw.invoice(method="pm_card_chargeDeclined")
    payments.attempt_payment(pw.repos, TENANT, invoice.invoice_id, trigger="automatic", number=1)
    assert pw.sub(sub).status is SubscriptionStatus.PAST_DUE
    payments.set_payment_method(pw.repos, TENANT, sub.customer_id, {"payment_method": "pm_card_visa"})
    (out,) = payments.retry_payment(pw.repos, TENANT, sub.subscription_id)
    assert out.attempt.number == 2 and out.attempt.trigger == "manual" and out.attempt.payment_method == "pm_card_visa"
    assert pw.sub(sub).status is SubscriptionStatus.ACTIVE and pw.inv(invoice).status is InvoiceStatus.PAID
    # the dunning execution waiting for attempt 2 finds it made and stops
    assert payments.plan_dunning(pw.repos, TENANT, invoice.invoice_id).done


def test_retry_payment_with_nothing_unpaid_is_a_conflict():
    pw = PayWorld()
    invoice, sub = pw.invoice()
    pw.run_dunning(invoice)
    with pytest.raises(Conflict) as exc:
        payments.retry_payment(pw.repos, TENANT, sub.subscription_id)
    assert exc.value.code == "NOTHING_TO_RETRY"


def test_retry_payment_without_a_payment_method_says_where_to_add_one():
    pw = PayWorld()
    _, sub = pw.invoice(method=None)
    with pytest.raises(Conflict) as exc:
        payments.retry_payment(pw.repos, TENANT, sub.subscription_id)
    assert exc.value.code == "PAYMENT_METHOD_MISSING" and "/v1/portal/payment-method" in exc.value.detail


def test_retry_payment_when_the_provider_is_down_is_503_and_counts_nothing():
    pw = PayWorld([PaymentOutcome.ERROR])
    invoice, sub = pw.invoice()
    with pytest.raises(ServiceUnavailable):
        payments.retry_payment(pw.repos, TENANT, sub.subscription_id)
    assert pw.sub(sub).dunning_attempts == 0 and pw.inv(invoice).status is InvoiceStatus.FINALIZED


# -- payment state (the gateway's input) ----------------------------------------------------------------------


def test_payment_state_is_pending_within_the_grace_period_then_failed():
    pw = PayWorld([D_])
    invoice, sub = pw.invoice()
    assert payments.subscription_payment_status(pw.repos, pw.sub(sub)).state is PaymentState.PAID
    payments.attempt_payment(pw.repos, TENANT, invoice.invoice_id, trigger="automatic", number=1)
    status = payments.subscription_payment_status(pw.repos, pw.sub(sub))
    assert status.state is PaymentState.PENDING and status.grace_period_days == 3
    pw.w.later(days=3)
    assert payments.subscription_payment_status(pw.repos, pw.sub(sub)).state is PaymentState.FAILED


def test_the_customers_grace_period_overrides_the_plans_and_the_tenants():
    pw = PayWorld([D_], grace_period_days=1)
    invoice, sub = pw.invoice(max_payment_overdue_days="10")
    payments.attempt_payment(pw.repos, TENANT, invoice.invoice_id, trigger="automatic", number=1)
    pw.w.later(days=5)
    status = payments.subscription_payment_status(pw.repos, pw.sub(sub))
    assert status.grace_period_days == 10 and status.state is PaymentState.PENDING


# -- webhooks -------------------------------------------------------------------------------------------------


def _signed(event: dict, secret: str = SECRET) -> tuple[str, str]:
    payload = json.dumps(event)
    return payload, stripe.WebhookSignature.generate_signature_header(payload, secret)


def _succeeded(invoice_id: str, event_id: str = "evt_1", livemode: bool = False, amount_received=4900) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": "payment_intent.succeeded",
        "livemode": livemode,
        "data": {
            "object": {
                "id": "pi_1",
                "object": "payment_intent",
                "amount_received": amount_received,
                "currency": "usd",
                "metadata": {"tenant_id": TENANT, "invoice_id": invoice_id},
            }
        },
    }


def test_a_signed_payment_succeeded_event_pays_the_invoice_once():
    pw = PayWorld([D_], webhook_secret=SECRET)
    invoice, sub = pw.invoice()
    payments.attempt_payment(pw.repos, TENANT, invoice.invoice_id, trigger="automatic", number=1)
    payload, header = _signed(_succeeded(invoice.invoice_id))
    first = payments.handle_stripe_webhook(pw.repos, TENANT, payload, header)
    second = payments.handle_stripe_webhook(pw.repos, TENANT, payload, header)
    assert first.applied and not first.duplicate and second.duplicate and not second.applied
    after = pw.inv(invoice)
    assert after.status is InvoiceStatus.PAID and len(after.payment_attempts) == 2
    assert pw.sub(sub).status is SubscriptionStatus.ACTIVE


def test_a_tampered_event_is_400_and_changes_nothing():
    pw = PayWorld(webhook_secret=SECRET)
    invoice, _ = pw.invoice()
    payload, header = _signed(_succeeded(invoice.invoice_id))
    with pytest.raises(BadRequest) as exc:
        payments.handle_stripe_webhook(pw.repos, TENANT, payload.replace("pi_1", "pi_2"), header)
    assert exc.value.code == "INVALID_SIGNATURE"
    with pytest.raises(BadRequest):
        payments.handle_stripe_webhook(pw.repos, TENANT, payload, header.replace("v1=", "v1=0"))
    assert pw.inv(invoice).status is InvoiceStatus.FINALIZED and pw.payments.webhooks == {}


def test_a_live_event_for_a_test_mode_tenant_is_refused():
    pw = PayWorld(webhook_secret=SECRET)
    invoice, _ = pw.invoice()
    payload, header = _signed(_succeeded(invoice.invoice_id, livemode=True))
    with pytest.raises(BadRequest) as exc:
        payments.handle_stripe_webhook(pw.repos, TENANT, payload, header)
    assert exc.value.code == "LIVEMODE_MISMATCH" and pw.inv(invoice).status is InvoiceStatus.FINALIZED


def test_checkout_completed_saves_the_payment_method_and_subscribes_once():
    pw = PayWorld(webhook_secret=SECRET)
    customer = pw.w.customer()
    calls = []
    event = {
        "id": "evt_cs",
        "type": "checkout.session.completed",
        "livemode": False,
        "data": {
            "object": {
                "id": "cs_1",
                "customer": "cus_9",
                "metadata": {
                    "customer_id": customer.customer_id,
                    "plan_id": "plan_x",
                    "payment_method": "pm_card_visa",
                },
            }
        },
    }
    payload, header = _signed(event)
    for _ in range(2):
        payments.handle_stripe_webhook(pw.repos, TENANT, payload, header, subscribe=lambda t, d: calls.append(d))
    saved = pw.w.customers.get(TENANT, customer.customer_id)
    assert saved.payment_method == "pm_card_visa" and saved.provider_customer_id == "cus_9"
    assert len(calls) == 1 and calls[0]["external_id"] == "checkout_cs_1"


# -- races and stops (review findings) ----------------------------------------------------------------------


def test_a_charge_that_lands_after_the_invoice_was_settled_is_recorded_as_money_to_give_back():
    from tollgate.usecases import invoicing

    pw = PayWorld([S_])
    invoice, _ = pw.invoice()
    original = pw.payments.commit_payment

    def paid_elsewhere_first(write):
        pw.payments.commit_payment = original
        invoicing.mark_paid(pw.w.repos, TENANT, invoice.invoice_id)  # an operator marks it paid during the charge
        return original(write)

    pw.payments.commit_payment = paid_elsewhere_first
    out = payments.attempt_payment(pw.repos, TENANT, invoice.invoice_id, trigger="automatic", number=1)
    after = pw.inv(invoice)
    assert out.attempt.outcome is S_ and after.status is InvoiceStatus.PAID and len(after.payment_attempts) == 1
    assert "invoice.payment_after_settlement" in [e.type for e in pw.payments.events] and len(pw.provider.requests) == 1


def test_a_manual_retry_losing_to_the_scheduled_attempt_returns_that_attempt():
    pw = PayWorld([D_, D_])
    invoice, sub = pw.invoice()
    payments.attempt_payment(pw.repos, TENANT, invoice.invoice_id, trigger="automatic", number=1)
    original = pw.payments.commit_payment

    def scheduled_wins(write):
        pw.payments.commit_payment = original
        payments.attempt_payment(pw.repos, TENANT, invoice.invoice_id, trigger="dunning", number=2)
        return original(write)

    pw.payments.commit_payment = scheduled_wins
    (out,) = payments.retry_payment(pw.repos, TENANT, sub.subscription_id)
    assert out.attempt.number == 2 and out.attempt.trigger == "dunning"  # not a third attempt
    assert len(pw.inv(invoice).payment_attempts) == 2 and pw.sub(sub).dunning_attempts == 2


def test_mark_paid_outside_the_payment_flow_ends_past_due():
    from tollgate.usecases import invoicing

    pw = PayWorld([D_])
    invoice, sub = pw.invoice()
    payments.attempt_payment(pw.repos, TENANT, invoice.invoice_id, trigger="automatic", number=1)
    invoicing.mark_paid(pw.w.repos, TENANT, invoice.invoice_id)
    s = pw.sub(sub)
    assert s.status is SubscriptionStatus.ACTIVE and s.payment_overdue_since is None and s.dunning_attempts == 0


def test_paying_one_invoice_keeps_past_due_while_another_is_overdue():
    pw = PayWorld([D_, D_, S_])
    invoice, sub = pw.invoice()
    payments.attempt_payment(pw.repos, TENANT, invoice.invoice_id, trigger="automatic", number=1)
    pw.w.now = FEB[1] + timedelta(minutes=30)
    second = bill_subscription(pw.w.repos, TENANT, sub.subscription_id, *FEB).invoice
    payments.attempt_payment(pw.repos, TENANT, second.invoice_id, trigger="automatic", number=1)
    payments.attempt_payment(pw.repos, TENANT, second.invoice_id, trigger="dunning", number=2)  # succeeds
    assert pw.inv(second).status is InvoiceStatus.PAID and pw.sub(sub).status is SubscriptionStatus.PAST_DUE


def test_a_schedule_shortened_after_the_last_attempt_still_applies_the_final_state():
    pw = PayWorld([D_, D_])
    invoice, sub = pw.invoice()
    for n in (1, 2):
        payments.attempt_payment(pw.repos, TENANT, invoice.invoice_id, trigger="dunning", number=n)
    pw.payments.settings[TENANT] = replace(PaymentSettings(TENANT), retry_schedule=(timedelta(days=1),))
    step = payments.plan_dunning(pw.repos, TENANT, invoice.invoice_id)
    assert (
        step.done
        and pw.inv(invoice).status is InvoiceStatus.UNCOLLECTIBLE
        and pw.sub(sub).status is SubscriptionStatus.CANCELLED
    )


def test_dunning_stops_after_24_provider_errors_in_a_row():
    pw = PayWorld([PaymentOutcome.ERROR] * 30)
    invoice, sub = pw.invoice()
    for _ in range(24):
        step = payments.plan_dunning(pw.repos, TENANT, invoice.invoice_id)
        assert not step.done
        pw.w.later(seconds=step.wait_seconds)
        payments.attempt_payment(pw.repos, TENANT, invoice.invoice_id, trigger="dunning", number=step.number)
    step = payments.plan_dunning(pw.repos, TENANT, invoice.invoice_id)
    assert step.done and "24 times" in step.reason and pw.sub(sub).status is SubscriptionStatus.ACTIVE


def test_a_declined_manual_retry_restarts_the_schedule_and_a_new_method_collects_waiting_invoices():
    pw = PayWorld([D_, S_])
    invoice, sub = pw.invoice(method=None)
    assert pw.run_dunning(invoice) == []  # no method: nothing attempted, the run ends
    payments.set_payment_method(pw.repos, TENANT, sub.customer_id, {"payment_method": "pm_card_chargeDeclined"})
    assert (TENANT, invoice.invoice_id, "m1") in pw.dunning.started
    (out,) = payments.retry_payment(pw.repos, TENANT, sub.subscription_id)
    assert out.attempt.outcome is D_ and (TENANT, invoice.invoice_id, "r1") in pw.dunning.started


def test_a_payment_intent_for_less_than_the_amount_due_pays_nothing():
    pw = PayWorld(webhook_secret=SECRET)
    invoice, _ = pw.invoice()
    event = _succeeded(invoice.invoice_id)
    event["data"]["object"].update(amount_received=100, currency="usd")  # 1.00 of 49.00
    payload, header = _signed(event)
    result = payments.handle_stripe_webhook(pw.repos, TENANT, payload, header)
    assert not result.applied and pw.inv(invoice).status is InvoiceStatus.FINALIZED
