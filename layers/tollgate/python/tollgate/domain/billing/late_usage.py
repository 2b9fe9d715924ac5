"""Late usage: usage that reached an already invoiced period after its invoice was finalized.

Tollgate accepts events up to 90 days old, so a period can gain usage after it was invoiced. When the
next period is billed, each earlier invoiced period still inside that window is compared with what was
billed for it (its invoice's usage line plus the late-usage lines later invoices already carry for it).
The difference is billed on the current invoice as a usage line of its own, labelled with the period it
belongs to and priced with that period's plan version as the INCREMENT of the period's amount::

    amount = price(quantity now aggregated for the period) - price(quantity already billed for it)

so graduated and volume tiers come out as if the usage had arrived on time. The line's windows are the
event windows that grew since the period was billed (the events behind the line, for the attribution).

Billing the same difference twice is impossible: a re-run of a finalized invoice changes nothing, and
the next invoice sees the late line as billed. A period whose usage went DOWN (a bucket corrected) is
not credited here: reconciliation (``tollgate.usecases.reconciliation``) reports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from tollgate.domain.billing.invoices import Invoice, InvoiceLine, InvoiceStatus, LineKind
from tollgate.domain.billing.usage import UsageAggregate, UsageWindow, compact_windows
from tollgate.domain.catalog.meters import AggregationFunction, Meter
from tollgate.domain.catalog.plans import UsagePrice
from tollgate.domain.clock import parse_rfc3339, to_rfc3339
from tollgate.domain.money import plain
from tollgate.domain.pricing import quote

ZERO = Decimal(0)
INGESTION_WINDOW = timedelta(days=90)  # how old an accepted event may be (tollgate.domain.usage.events)
# Invoices whose usage counts as billed (a VOID invoice was cancelled: its period is not billed).
BILLED_STATUSES = frozenset({InvoiceStatus.FINALIZED, InvoiceStatus.PAID, InvoiceStatus.UNCOLLECTIBLE})
ADDITIVE = frozenset({AggregationFunction.COUNT, AggregationFunction.SUM})


@dataclass(frozen=True)
class BilledUsage:
    """What has been billed for one meter of one invoiced period, over all invoices so far."""

    invoice_id: str  # the period's own invoice
    period_start: datetime
    period_end: datetime
    meter_id: str
    usage_from: datetime
    usage_to: datetime
    quantity: Decimal  # the period's aggregated quantity as last billed
    windows: tuple[UsageWindow, ...]  # every event window billed for it (original + late lines)


@dataclass(frozen=True)
class LateUsage:
    """One meter of one earlier period: what was billed, and the usage aggregated for it now."""

    billed: BilledUsage
    usage_price: UsagePrice  # from the period's own plan version
    meter: Meter
    now: UsageAggregate


def open_periods(invoices: Iterable[Invoice], before: datetime, now: datetime) -> list[Invoice]:
    """The subscription's invoiced periods that ended by ``before`` and may still receive events."""
    oldest = now - INGESTION_WINDOW
    return sorted(
        (i for i in invoices if i.status in BILLED_STATUSES and i.period_end <= before and i.period_end > oldest),
        key=lambda i: i.period_start,
    )


def _windows(line: InvoiceLine) -> list[UsageWindow]:
    return [
        UsageWindow(parse_rfc3339(w["from"]), parse_rfc3339(w["to"]), int(w["event_count"]), Decimal(w["quantity"]))
        for w in line.details.get("windows", [])
    ]


def billed_usage(invoice: Invoice, later: Iterable[Invoice]) -> list[BilledUsage]:
    """Per meter of ``invoice``'s usage lines: the quantity billed for its period, counting the late-usage
    lines of ``later`` invoices for it (the latest one carries the period's quantity)."""
    late_lines = [
        ln
        for other in later
        if other.status in BILLED_STATUSES and other.invoice_id != invoice.invoice_id
        for ln in other.lines
        if ln.kind is LineKind.USAGE and ln.details.get("late_for_invoice") == invoice.invoice_id
    ]
    billed = []
    for line in invoice.lines:
        if line.kind is not LineKind.USAGE or "late_for_invoice" in line.details:
            continue
        meter_id = line.details["meter_id"]
        mine = sorted(
            (ln for ln in late_lines if ln.details.get("meter_id") == meter_id),
            key=lambda ln: Decimal(ln.details["period_quantity"]),
        )
        quantity = Decimal(mine[-1].details["period_quantity"]) if mine else Decimal(line.details["quantity"])
        windows = [w for ln in (line, *mine) for w in _windows(ln)]
        billed.append(
            BilledUsage(
                invoice.invoice_id,
                invoice.period_start,
                invoice.period_end,
                meter_id,
                parse_rfc3339(line.details["usage_from"]),
                parse_rfc3339(line.details["usage_to"]),
                quantity,
                tuple(windows),
            )
        )
    return billed


def grown_windows(now: Iterable[UsageWindow], billed: Iterable[UsageWindow]) -> list[UsageWindow]:
    """The windows with more events now than were billed, each with the difference."""
    seen: dict[tuple[datetime, datetime], tuple[int, Decimal]] = {}
    for w in billed:
        count, qty = seen.get((w.start, w.end), (0, ZERO))
        seen[(w.start, w.end)] = (count + w.event_count, qty + w.quantity)
    grown = []
    for w in now:
        count, qty = seen.get((w.start, w.end), (0, ZERO))
        if w.event_count > count:
            grown.append(UsageWindow(w.start, w.end, w.event_count - count, w.quantity - qty))
    return grown


def late_usage_line(late: LateUsage) -> InvoiceLine | None:
    """The line billing what ``late`` adds to its period (None when nothing was added)."""
    billed, meter, price = late.billed, late.meter, late.usage_price.price
    if late.now.quantity <= billed.quantity:
        return None  # nothing new (a decrease is reconciliation's to report, not a credit here)
    after, before = quote(price, late.now.quantity), quote(price, billed.quantity)
    windows = grown_windows(late.now.windows, billed.windows)
    additive = meter.aggregation.function in ADDITIVE
    quantity = late.now.quantity - billed.quantity
    period = f"{to_rfc3339(billed.period_start)[:10]} to {to_rfc3339(billed.period_end)[:10]}"
    details: dict[str, Any] = {
        "meter_id": meter.meter_id,
        "event_name": meter.event_name,
        "aggregation": meter.aggregation.function.value,
        "usage_reset": meter.usage_reset.value,
        "model": price.model,
        "late_for_invoice": billed.invoice_id,
        "late_for_period": {"start": to_rfc3339(billed.period_start), "end": to_rfc3339(billed.period_end)},
        "usage_from": to_rfc3339(billed.usage_from),
        "usage_to": to_rfc3339(billed.usage_to),
        "event_count": sum(w.event_count for w in windows),
        "quantity": plain(quantity) if additive else plain(late.now.quantity),
        "period_quantity": plain(late.now.quantity),
        "billed_quantity_before": plain(billed.quantity),
        "included_units": plain(after.included_units),
        "billable_quantity": plain(after.billable_quantity - before.billable_quantity),
        "unrounded": plain(after.unrounded - before.unrounded),
        "amount_before": plain(before.amount),
        "amount_after": plain(after.amount),
        "breakdown": [line.to_json(after.currency) for line in after.breakdown],
        "windows": [w.to_json() for w in compact_windows(windows)],
    }
    description = f"Late usage for {period}: {meter.name} ({meter.event_name})"
    return InvoiceLine(LineKind.USAGE, description, after.amount - before.amount, details)
