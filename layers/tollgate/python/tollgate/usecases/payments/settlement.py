"""What one payment attempt does to the invoice and its subscription (pure: the use cases write it).

The rules are in ``tollgate.domain.payments``: a success pays the invoice and ends PAST_DUE (unless
another invoice of the subscription is still overdue); a decline makes the subscription PAST_DUE and,
at the last attempt, the invoice UNCOLLECTIBLE and the subscription CANCELLED or left PAST_DUE; a
provider error is recorded and is not an attempt."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from tollgate.domain.billing.invoices import Invoice, InvoiceAction, InvoiceStatus
from tollgate.domain.events import DomainEvent
from tollgate.domain.money import plain
from tollgate.domain.payment_events import invoice_payment_event
from tollgate.domain.payment_settings import FinalStatus, PaymentSettings
from tollgate.domain.payments import PaymentAttempt, PaymentOutcome, attempts_made
from tollgate.domain.subscriptions import Action, Subscription, SubscriptionStatus, Transition, subscription_event
from tollgate.ports.payments import SubscriptionSave

KEY_REVOKED_REASON = "subscription cancelled: payment failed after the last dunning attempt"


@dataclass
class Settlement:
    """The invoice and subscription after an attempt, the subscription's history and the events."""

    invoice: Invoice
    subscription: Subscription | None = None  # None: the subscription does not change
    history: list[Transition] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)
    revoke_keys_reason: str | None = None


def exhausted(
    invoice: Invoice, sub: Subscription | None, settings: PaymentSettings, now: datetime, attempt: PaymentAttempt | None
) -> Settlement:
    """After the last failed attempt: the invoice is UNCOLLECTIBLE; the subscription CANCELLED (keys
    revoked) or left as it is (PAST_DUE), per ``final_subscription_status``."""
    final = replace(
        invoice.moved(InvoiceAction.MARK_UNCOLLECTIBLE, now, uncollectible_at=now), revision=invoice.revision
    )
    result = Settlement(
        final,
        events=[invoice_payment_event("invoice.marked_uncollectible", final, attempt, now, reason="dunning_exhausted")],
    )
    if sub is None or not sub.live or settings.final_subscription_status is not FinalStatus.CANCELLED:
        return result
    cancelled = sub.moved(Action.CANCEL, cancelled_at=now, ended_at=now, cancel_at_period_end=False, pending_plan=None)
    detail = {"invoice_id": invoice.invoice_id, "reason": "dunning_exhausted"}
    result.subscription = cancelled
    result.history.append(Transition(now, Action.CANCEL.value, sub.status, cancelled.status, detail))
    result.events.append(
        subscription_event(
            "subscription.cancelled", cancelled, now, reason="dunning_exhausted", invoice_id=invoice.invoice_id
        )
    )
    result.revoke_keys_reason = KEY_REVOKED_REASON
    return result


def _succeeded(
    invoice: Invoice, recorded: Invoice, sub: Subscription | None, attempt: PaymentAttempt, other_overdue: bool
) -> Settlement:
    now = attempt.at
    paid = invoice.totals.paid + invoice.amount_due
    final = replace(
        recorded.moved(InvoiceAction.PAY, now, paid_at=now, totals=replace(invoice.totals, paid=paid)),
        revision=recorded.revision,
    )
    result = Settlement(final, events=[invoice_payment_event("invoice.paid", final, attempt, now, paid_by="payment")])
    overdue = sub is not None and (sub.status is SubscriptionStatus.PAST_DUE or sub.payment_overdue_since)
    if sub is None or not sub.live or not overdue or other_overdue:
        return result
    after = replace(
        sub.moved(Action.PAYMENT_SUCCEEDED), dunning_attempts=0, payment_overdue_since=None, version=sub.version + 1
    )
    detail = {"invoice_id": invoice.invoice_id, "attempt": attempt.number}
    result.subscription = after
    result.history.append(Transition(now, Action.PAYMENT_SUCCEEDED.value, sub.status, after.status, detail))
    result.events.append(subscription_event("subscription.reactivated", after, now, invoice_id=invoice.invoice_id))
    return result


def _declined(
    invoice: Invoice, recorded: Invoice, sub: Subscription | None, attempt: PaymentAttempt, settings: PaymentSettings
) -> Settlement:
    now = attempt.at
    made = attempts_made(recorded.payment_attempts)
    last = made >= settings.max_attempts and invoice.status is InvoiceStatus.FINALIZED
    result = Settlement(
        recorded, events=[invoice_payment_event("invoice.payment_failed", recorded, attempt, now, final_attempt=last)]
    )
    if sub is not None and sub.live and sub.status is not SubscriptionStatus.TRIALING:
        moved = sub.moved(Action.PAYMENT_FAILED)
        after = replace(moved, dunning_attempts=made, payment_overdue_since=sub.payment_overdue_since or now)
        detail = {"invoice_id": invoice.invoice_id, "attempt": attempt.number}
        result.subscription = after
        result.history.append(Transition(now, Action.PAYMENT_FAILED.value, sub.status, after.status, detail))
        if sub.status is not SubscriptionStatus.PAST_DUE:
            result.events.append(subscription_event("subscription.past_due", after, now, invoice_id=invoice.invoice_id))
    if last:
        end = exhausted(recorded, result.subscription or sub, settings, now, attempt)
        result.invoice = end.invoice
        result.subscription = end.subscription or result.subscription
        result.history += end.history
        result.events += end.events
        result.revoke_keys_reason = end.revoke_keys_reason
    return result


def settle(
    invoice: Invoice,
    sub: Subscription | None,
    attempt: PaymentAttempt,
    settings: PaymentSettings,
    *,
    payment_id: str = "",
    other_overdue: bool = False,
) -> tuple[Invoice, SubscriptionSave | None, list[DomainEvent]]:
    """The invoice, subscription and events after ``attempt`` (see ``tollgate.domain.payments``).
    ``other_overdue``: another invoice of the subscription is still overdue (a success then leaves the
    subscription PAST_DUE)."""
    recorded = replace(
        invoice,
        payment_attempts=(*invoice.payment_attempts, attempt),
        payment_id=payment_id or invoice.payment_id,
        updated_at=attempt.at,
        revision=invoice.revision + 1,
    )
    if invoice.status not in (InvoiceStatus.FINALIZED, InvoiceStatus.UNCOLLECTIBLE):
        # Settled meanwhile (paid elsewhere, voided): the attempt is recorded; a success here is money to give back.
        result = Settlement(recorded)
        if attempt.outcome is PaymentOutcome.SUCCEEDED:
            refund = plain(attempt.amount)
            result.events.append(
                invoice_payment_event(
                    "invoice.payment_after_settlement", recorded, attempt, attempt.at, refund_due=refund
                )
            )
    elif attempt.outcome is PaymentOutcome.SUCCEEDED:
        result = _succeeded(invoice, recorded, sub, attempt, other_overdue)
    elif attempt.outcome is PaymentOutcome.DECLINED:
        result = _declined(invoice, recorded, sub, attempt, settings)
    else:  # provider error: recorded, not an attempt
        result = Settlement(
            recorded, events=[invoice_payment_event("invoice.payment_error", recorded, attempt, attempt.at)]
        )
    save = None
    if result.subscription is not None and sub is not None:
        after = replace(result.subscription, version=sub.version + 1)
        save = SubscriptionSave(after, sub.version, result.history, result.revoke_keys_reason)
    return result.invoice, save, result.events
