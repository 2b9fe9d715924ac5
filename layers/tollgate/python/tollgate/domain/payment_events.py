"""The domain events of collecting an invoice: what the payment use cases publish through the outbox.

Public builders (the payment use cases used to import the billing and subscription use cases'
private helpers); ``subscription.*`` events come from ``tollgate.domain.subscriptions.subscription_event``.
Each event takes its time from the caller's clock, and its id from what it reports, so a retried write
yields the same event id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tollgate.domain.billing.events import invoice_event
from tollgate.domain.billing.invoices import Invoice
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.events import DomainEvent
from tollgate.domain.payments import PaymentAttempt, attempts_made


def invoice_payment_event(
    type_: str, invoice: Invoice, attempt: PaymentAttempt | None, at: datetime, **extra: Any
) -> DomainEvent:
    """An invoice event about a payment attempt; its id is derived from the attempt (number and time)."""
    number, when = (str(attempt.number), to_rfc3339(attempt.at)) if attempt else ("0", "")
    payment = {
        "payment_attempt_count": attempts_made(invoice.payment_attempts),
        **({"attempt": attempt.to_json()} if attempt else {}),
    }
    return invoice_event(type_, invoice, attempt.at if attempt else at, number, when, **payment, **extra)
