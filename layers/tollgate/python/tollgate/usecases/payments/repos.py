"""What the payment use cases depend on (their ports, the clock) and what they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from tollgate.domain.billing.invoices import Invoice, InvoiceStatus
from tollgate.domain.clock import utcnow
from tollgate.domain.errors import NotFound
from tollgate.domain.payments import PaymentOutcome
from tollgate.domain.subscriptions import Subscription
from tollgate.observability import count
from tollgate.ports.billing import InvoiceRepository
from tollgate.ports.catalog import CatalogRepository
from tollgate.ports.customers import CustomerRepository, SubscriptionRepository
from tollgate.ports.payments import DunningStarter, PaymentRepository, ProviderFactory


class TransientError(Exception):
    """A lost race the dunning state machine retries (its Retry names this error)."""


class WebhookVerifier(Protocol):
    def __call__(self, payload: str, signature: str | None, secret: str) -> dict[str, Any]:
        """The verified event (JSON), or ``BadRequest`` for a bad signature (stripe's own check)."""
        ...


@dataclass(frozen=True)
class PaymentRepos:
    invoices: InvoiceRepository
    subscriptions: SubscriptionRepository
    customers: CustomerRepository
    catalog: CatalogRepository
    payments: PaymentRepository
    providers: ProviderFactory
    dunning: DunningStarter
    verify_webhook: WebhookVerifier
    clock: Callable[[], datetime] = utcnow


def find_subscription(repos: PaymentRepos, tenant_id: str, subscription_id: str) -> Subscription:
    sub = repos.subscriptions.get(tenant_id, subscription_id)
    if sub is None:
        raise NotFound(
            f"Subscription not found: {subscription_id}. Check the id, and that X-Tenant-Id is the tenant that owns it."
        )
    return sub


def overdue_invoices(
    invoices: InvoiceRepository, tenant_id: str, customer_id: str, subscription_id: str
) -> list[Invoice]:
    """The subscription's invoices still unpaid after a failed attempt."""
    return [
        i
        for i in invoices.list_invoices(tenant_id, customer_id=customer_id, subscription_id=subscription_id)
        if i.status in (InvoiceStatus.FINALIZED, InvoiceStatus.UNCOLLECTIBLE)
        and i.amount_due > 0
        and any(a.outcome is PaymentOutcome.DECLINED for a in i.payment_attempts)
    ]


def other_overdue(repos: PaymentRepos, invoice: Invoice) -> bool:
    """Whether another invoice of the subscription is unpaid after a failed attempt."""
    overdue = overdue_invoices(repos.invoices, invoice.tenant_id, invoice.customer_id, invoice.subscription_id)
    return any(i.invoice_id != invoice.invoice_id for i in overdue)


def count_outcome(before: Invoice, after: Invoice) -> None:
    """Business metric ``DunningOutcomes`` when a write settles the invoice's collection: ``paid`` (at
    the first attempt), ``recovered`` (paid after a failed attempt) or ``uncollectible``."""
    if before.status is after.status:
        return
    if after.status is InvoiceStatus.PAID:
        declined = any(a.outcome is PaymentOutcome.DECLINED for a in before.payment_attempts)
        count("DunningOutcomes", outcome="recovered" if declined else "paid")
    elif after.status is InvoiceStatus.UNCOLLECTIBLE:
        count("DunningOutcomes", outcome="uncollectible")
