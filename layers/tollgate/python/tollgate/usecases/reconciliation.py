"""Reconciliation (``GET /v1/reconciliation`` and the scheduled job): per subscription, meter and invoiced
period, the raw events' aggregated quantity against what the buckets hold and what invoices carry
(``tollgate.domain.billing.reconciliation``). An empty list of differences means every event was billed
exactly once."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from tollgate.domain.billing.late_usage import BILLED_STATUSES, BilledUsage, billed_usage
from tollgate.domain.billing.reconciliation import (
    MAX_RANGE,
    DifferenceKind,
    PeriodUsage,
    RawEvent,
    aggregate_raw,
    differences,
    events_in,
)
from tollgate.domain.catalog.meters import Meter
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.errors import InvalidInput
from tollgate.observability import count
from tollgate.ports.billing import InvoiceRepository, UsageReader
from tollgate.ports.catalog import CatalogRepository
from tollgate.usecases.billing.adjustment import bill_late_usage_adjustment
from tollgate.usecases.billing.repos import BillingRepos

_log = logging.getLogger(__name__)

MAX_INVOICES = 100_000  # a tenant's invoices read for one reconciliation


class RawUsageSource(Protocol):
    def raw_events(self, tenant_id: str, start: datetime, end: datetime) -> list[RawEvent]:
        """The tenant's stored events with ``start <= timestamp < end`` (still retained)."""
        ...


@dataclass(frozen=True)
class ReconciliationRepos:
    invoices: InvoiceRepository
    usage: UsageReader
    catalog: CatalogRepository
    raw: RawUsageSource
    # To bill the final adjustment invoice of an ended subscription's late usage (the job does).
    billing: BillingRepos | None = None


def check_range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise InvalidInput("to must be after from.", field="to")
    if end - start > MAX_RANGE:
        raise InvalidInput(f"from and to may be at most {MAX_RANGE.days} days apart; split the range.", field="to")


def reconcile(repos: ReconciliationRepos, tenant_id: str, start: datetime, end: datetime) -> list[PeriodUsage]:
    """Every meter of every invoiced period overlapping [start, end), its three quantities side by side."""
    check_range(start, end)
    invoices = repos.invoices.list_invoices(tenant_id, limit=MAX_INVOICES)
    billed: list[tuple[str, str, BilledUsage]] = []
    for invoice in invoices:
        if invoice.status in BILLED_STATUSES and invoice.period_start < end and invoice.period_end > start:
            billed.extend((invoice.subscription_id, invoice.customer_id, b) for b in billed_usage(invoice, invoices))
    if not billed:
        return []
    raw = repos.raw.raw_events(
        tenant_id, min(b.usage_from for _, _, b in billed), max(b.usage_to for _, _, b in billed)
    )
    meter = _meters(repos, tenant_id)
    rows = []
    for subscription_id, customer_id, b in billed:
        m = meter(b.meter_id)
        if m is None:
            continue  # a meter that no longer exists: nothing to aggregate with
        mine = events_in(raw, customer_id, b.meter_id, b.usage_from, b.usage_to)
        aggregated = repos.usage.aggregate(tenant_id, customer_id, m, b.usage_from, b.usage_to).quantity
        rows.append(
            PeriodUsage(
                subscription_id,
                customer_id,
                b.meter_id,
                b.invoice_id,
                b.period_start,
                b.period_end,
                aggregate_raw(m.aggregation.function, mine),
                aggregated,
                b.quantity,
            )
        )
    return rows


def _meters(repos: ReconciliationRepos, tenant_id: str) -> Callable[[str], Meter | None]:
    cache: dict[str, Meter | None] = {}

    def meter(meter_id: str) -> Meter | None:
        if meter_id not in cache:
            cache[meter_id] = repos.catalog.get_meter(tenant_id, meter_id)
        return cache[meter_id]

    return meter


def reconciliation_report(repos: ReconciliationRepos, tenant_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    """The API's body: the range, how many period-meters were checked, and every difference."""
    rows = reconcile(repos, tenant_id, start, end)
    return {
        "from": to_rfc3339(start),
        "to": to_rfc3339(end),
        "checked": len(rows),
        "differences": [r.to_json() for r in differences(rows)],
    }


SCHEDULED_RANGE = timedelta(days=120)  # the job checks the periods that may still change: 90-day window + one period


def reconcile_tenants(
    repos: ReconciliationRepos, tenant_ids: Iterable[str], now: datetime
) -> dict[str, list[PeriodUsage]]:
    """The scheduled job: every tenant's differences over the last ``SCHEDULED_RANGE``; one metric per
    kind (``ReconciliationDifferences``, the alarm's), one error log per difference. A tenant whose
    reconciliation fails is logged and counted (``ReconciliationFailures``), never fails the others."""
    found: dict[str, list[PeriodUsage]] = {}
    for tenant_id in tenant_ids:
        try:
            found[tenant_id] = differences(reconcile(repos, tenant_id, now - SCHEDULED_RANGE, now))
        except Exception:
            _log.exception("reconciling tenant %s failed", tenant_id)
            count("ReconciliationFailures")
            continue
        for row in found[tenant_id]:
            _log.error("reconciliation difference in tenant %s: %s", tenant_id, row.to_json())
        _adjust_ended(repos, tenant_id, found[tenant_id])
    kinds = Counter(row.kind.value for rows in found.values() for row in rows if row.kind)
    for kind in DifferenceKind:
        count("ReconciliationDifferences", kinds.get(kind.value, 0), kind=kind.value)
    return found


def _adjust_ended(repos: ReconciliationRepos, tenant_id: str, rows: list[PeriodUsage]) -> None:
    """Late usage of a subscription that has ended has no next invoice: bill its adjustment invoice
    (``tollgate.usecases.billing.adjustment``); a live subscription's next invoice carries it."""
    if repos.billing is None:
        return
    pending = sorted({r.subscription_id for r in rows if r.kind is DifferenceKind.UNBILLED_LATE_USAGE})
    for subscription_id in pending:
        try:
            result = bill_late_usage_adjustment(repos.billing, tenant_id, subscription_id)
        except Exception:  # one subscription's failure (a tax engine down...) never stops the others
            _log.exception("the adjustment invoice of subscription %s failed", subscription_id)
            count("LateUsageAdjustmentFailures")
            continue
        if result is not None:
            count("LateUsageAdjustments")
