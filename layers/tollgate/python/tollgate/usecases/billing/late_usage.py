"""Gathering late usage (``tollgate.domain.billing.late_usage``) for the invoice of one period: the
subscription's earlier invoiced periods still inside the ingestion window, what was billed for each
meter of them, and the usage aggregated for them now (read with the same window as their invoice)."""

from __future__ import annotations

from datetime import datetime

from tollgate.domain.billing.invoices import Invoice
from tollgate.domain.billing.late_usage import LateUsage, billed_usage, open_periods
from tollgate.domain.catalog.plans import UsagePrice
from tollgate.domain.periods import Period
from tollgate.domain.subscriptions import PlanRef, Subscription
from tollgate.usecases.billing.snapshot import PageSnapshot

MAX_INVOICES = 200  # a subscription's invoices read (newest first): far more than 90 days of periods


def gather_late_usage(
    snapshot: PageSnapshot, sub: Subscription, period: Period, now: datetime, read_usage
) -> tuple[LateUsage, ...]:
    """The late usage candidates of billing ``sub`` for ``period``; ``read_usage(meter, start, end)``
    reads an aggregate (raising ``UsageDataUnavailable`` when it cannot)."""
    if sub.billed_through is None:
        return ()  # never invoiced (every finalized invoice moves billed_through): no earlier period to re-read
    invoices = snapshot.repos.invoices.list_invoices(
        snapshot.tenant_id, customer_id=sub.customer_id, subscription_id=sub.subscription_id, limit=MAX_INVOICES
    )
    late: list[LateUsage] = []
    for earlier in open_periods(invoices, period.start, now):
        late.extend(_period_late_usage(snapshot, earlier, invoices, read_usage))
    return tuple(late)


def _usage_price(snapshot: PageSnapshot, invoice: Invoice, meter_id: str) -> UsagePrice | None:
    version = snapshot.version(PlanRef(invoice.plan_id, invoice.plan_version))
    if version is None:
        return None
    return next((u for u in version.content.usage_prices if u.meter_id == meter_id), None)


def _period_late_usage(
    snapshot: PageSnapshot, invoice: Invoice, invoices: list[Invoice], read_usage
) -> list[LateUsage]:
    found = []
    for billed in billed_usage(invoice, invoices):
        usage_price = _usage_price(snapshot, invoice, billed.meter_id)
        meter = snapshot.meter(billed.meter_id)
        if usage_price is None or meter is None:
            continue  # the catalog item is gone: reconciliation reports the period's difference
        aggregate = read_usage(meter, billed.usage_from, billed.usage_to)
        if aggregate.quantity != billed.quantity:
            found.append(LateUsage(billed, usage_price, meter, aggregate))
    return found
