"""One payment attempt on an invoice, and ``retry-payment`` (every unpaid invoice of a subscription now).

The attempt, the invoice (attempt recorded, PAID or UNCOLLECTIBLE), the subscription (PAST_DUE /
ACTIVE / CANCELLED, attempt count, overdue since) and the outbox events are written in one
transaction, conditional on the revisions read (``tollgate.usecases.payments.settlement``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tollgate.domain.billing.invoices import Invoice, InvoiceStatus
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.customers import Customer
from tollgate.domain.errors import Conflict, NotFound, ServiceUnavailable
from tollgate.domain.money import plain
from tollgate.domain.payment_settings import PaymentSettings
from tollgate.domain.payments import PaymentAttempt, PaymentOutcome, attempts_made
from tollgate.domain.retry import retry_on_conflict
from tollgate.domain.subscriptions import Subscription, SubscriptionStatus
from tollgate.observability import count
from tollgate.ports.payments import ChargeRequest, ChargeResult, PaymentWrite
from tollgate.usecases.payments.repos import PaymentRepos, count_outcome, find_subscription, other_overdue
from tollgate.usecases.payments.settlement import settle


@dataclass(frozen=True)
class AttemptOutcome:
    invoice: Invoice
    subscription: Subscription | None
    attempt: PaymentAttempt | None  # None: nothing was attempted (see ``note``)
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "invoice_id": self.invoice.invoice_id,
            "invoice_status": self.invoice.status.value,
            "amount_due": plain(self.invoice.amount_due),
            "attempt": self.attempt.to_json() if self.attempt else None,
            "payment_attempt_count": attempts_made(self.invoice.payment_attempts),
            "subscription_status": self.subscription.status.value if self.subscription else None,
            "note": self.note,
        }


def _without_method(invoice: Invoice, attempt_no: int, trigger: str, now: datetime) -> PaymentAttempt:
    """No payment method on file: a manual retry is refused (409 naming the fix); a scheduled one declines."""
    if trigger == "manual":
        raise Conflict(
            f"Customer {invoice.customer_id} has no payment method on file: have them add one in the portal "
            f"(PUT /v1/portal/payment-method) or set it (PUT /v1/customers/{invoice.customer_id}/payment-method), "
            "then retry.",
            code="PAYMENT_METHOD_MISSING",
        )
    return PaymentAttempt(
        attempt_no,
        now,
        PaymentOutcome.DECLINED,
        invoice.amount_due,
        trigger,
        decline_code="payment_method_missing",
        message="The customer has no payment method on file.",
    )


def _charge_request(invoice: Invoice, attempt_no: int, customer: Customer, method: str) -> ChargeRequest:
    period = f"{to_rfc3339(invoice.period_start)[:10]} - {to_rfc3339(invoice.period_end)[:10]}"
    return ChargeRequest(
        tenant_id=invoice.tenant_id,
        invoice_id=invoice.invoice_id,
        attempt=attempt_no,
        amount=invoice.amount_due,
        currency=invoice.currency,
        customer_id=invoice.customer_id,
        payment_method=method,
        provider_customer_id=customer.provider_customer_id,
        payment_id=invoice.payment_id,
        customer_email=customer.email,
        description=f"Invoice {invoice.invoice_id} ({period})",
    )


def _charge(
    repos: PaymentRepos, invoice: Invoice, attempt_no: int, trigger: str, settings: PaymentSettings, now: datetime
) -> tuple[PaymentAttempt, str]:
    """Make attempt ``attempt_no`` with the provider (or settle a zero amount / refuse a missing method)."""
    if invoice.amount_due <= 0:
        nothing = PaymentAttempt(
            attempt_no, now, PaymentOutcome.SUCCEEDED, invoice.amount_due, trigger, message="nothing due"
        )
        return nothing, ""
    customer = repos.customers.get(invoice.tenant_id, invoice.customer_id)
    method = customer.payment_method if customer else None
    if customer is None or not method:
        return _without_method(invoice, attempt_no, trigger, now), ""
    try:
        result = repos.providers(settings).charge(_charge_request(invoice, attempt_no, customer, method))
    except Exception as exc:
        result = ChargeResult(PaymentOutcome.ERROR, message=f"{type(exc).__name__}: {exc}")
    if result.provider_customer_id and result.provider_customer_id != customer.provider_customer_id:
        repos.customers.set_provider_customer_id(invoice.tenant_id, invoice.customer_id, result.provider_customer_id)
    attempt = PaymentAttempt(
        attempt_no,
        now,
        result.outcome,
        invoice.amount_due,
        trigger,
        payment_id=result.payment_id,
        payment_method=method,
        decline_code=result.decline_code,
        message=result.message,
    )
    return attempt, result.payment_id


def attempt_payment(
    repos: PaymentRepos, tenant_id: str, invoice_id: str, *, trigger: str, number: int | None = None
) -> AttemptOutcome:
    """Make attempt ``number`` (default: the next one) on the invoice now.

    The attempt number is fixed at the first read, and the provider is called at most once per call:
    after a lost race the same result is written against the invoice as it is now (recorded even if the
    invoice was settled meanwhile, as money to give back), and an attempt someone else recorded under the
    same number is returned as is. The provider's idempotency key (``<invoice>:<number>``) covers a retried
    Lambda."""
    charged: tuple[PaymentAttempt, str] | None = None
    fixed = number

    def step() -> AttemptOutcome:
        nonlocal charged, fixed
        invoice = repos.invoices.get_invoice(tenant_id, invoice_id)
        if invoice is None:
            raise NotFound(f"Invoice not found: {invoice_id}.")
        sub = repos.subscriptions.get(tenant_id, invoice.subscription_id)
        made = attempts_made(invoice.payment_attempts)
        if fixed is None:
            fixed = made + 1
        if made >= fixed:
            done = next(
                (a for a in invoice.payment_attempts if a.number == fixed and a.outcome is not PaymentOutcome.ERROR),
                None,
            )
            return AttemptOutcome(invoice, sub, done, "already attempted")
        if charged is None and invoice.status not in (InvoiceStatus.FINALIZED, InvoiceStatus.UNCOLLECTIBLE):
            return AttemptOutcome(invoice, sub, None, f"the invoice is {invoice.status.value}: nothing to collect")
        settings = repos.payments.get_payment_settings(tenant_id)
        if charged is None:
            charged = _charge(repos, invoice, fixed, trigger, settings, repos.clock())
        attempt, payment_id = charged
        other = (
            attempt.outcome is PaymentOutcome.SUCCEEDED
            and sub is not None
            and sub.status is SubscriptionStatus.PAST_DUE
            and other_overdue(repos, invoice)
        )
        final, save, events = settle(invoice, sub, attempt, settings, payment_id=payment_id, other_overdue=other)
        repos.payments.commit_payment(PaymentWrite(final, invoice.revision, save, events))
        _count_decline(attempt)
        count_outcome(invoice, final)
        return AttemptOutcome(final, save.subscription if save else sub, attempt)

    return retry_on_conflict(step, exhausted=f"Invoice {invoice_id} kept changing; retry.")


def _count_decline(attempt: PaymentAttempt) -> None:
    """Business metric: a declined attempt, by decline code (a low-cardinality set named by the provider)."""
    if attempt.outcome is PaymentOutcome.DECLINED:
        count("PaymentDeclines", decline_code=attempt.decline_code or "unknown")


def retry_payment(repos: PaymentRepos, tenant_id: str, subscription_id: str) -> list[AttemptOutcome]:
    """``POST /v1/subscriptions/{id}/retry-payment``: attempt every unpaid invoice of the subscription now,
    oldest first, with the customer's current payment method."""
    sub = find_subscription(repos, tenant_id, subscription_id)
    unpaid = [
        i
        for i in repos.invoices.list_invoices(tenant_id, customer_id=sub.customer_id, subscription_id=subscription_id)
        if i.status in (InvoiceStatus.FINALIZED, InvoiceStatus.UNCOLLECTIBLE) and i.amount_due > 0
    ]
    if not unpaid:
        raise Conflict(
            f"Subscription {subscription_id} has no unpaid invoice (it is {sub.status.value}): "
            "there is no payment to retry.",
            code="NOTHING_TO_RETRY",
            status_now=sub.status.value,
        )
    outcomes = [
        attempt_payment(repos, tenant_id, i.invoice_id, trigger="manual")
        for i in sorted(unpaid, key=lambda i: i.period_start)
    ]
    for o in outcomes:
        if o.attempt is not None and o.attempt.outcome is PaymentOutcome.DECLINED and o.invoice.owed:
            # The schedule continues from this attempt even if the invoice's dunning had stopped (no payment
            # method at finalization, provider failures); a dunning run still waiting just meets it.
            repos.dunning.start(tenant_id, o.invoice.invoice_id, f"r{o.attempt.number}")
    if all(o.attempt is not None and o.attempt.outcome is PaymentOutcome.ERROR for o in outcomes):
        raise ServiceUnavailable(
            "The payment provider could not be reached; nothing was charged and no attempt was counted. "
            "Retry in a few minutes.",
            code="PAYMENT_PROVIDER_UNAVAILABLE",
        )
    return outcomes
