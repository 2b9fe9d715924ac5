"""Reconciliation: does every invoiced period carry exactly the usage of the raw events behind it?

Per subscription, meter and invoiced period, three quantities are compared:

- ``raw_quantity``: the meter's aggregation recomputed from the raw events (the source of truth);
- ``aggregated_quantity``: what the hourly usage buckets hold now (what billing reads);
- ``billed_quantity``: what the invoices carry for the period (its usage line, then the late-usage lines
  of later invoices: ``tollgate.domain.billing.late_usage``).

Every period where they do not all agree is a ``Difference``, with a ``kind`` saying where to look:

- ``AGGREGATION_MISMATCH``: the buckets differ from the raw events (the aggregator lost or double-counted
  an event, or a bucket was changed behind Tollgate's back);
- ``UNBILLED_LATE_USAGE``: late usage is aggregated but not billed yet (the next invoice bills it);
- ``BILLED_MORE_THAN_USED``: the invoices carry more than the raw events and the buckets agree on.

Events are attributed to periods by the hour, as the usage reader does: an event belongs to the period
holding the start of its hour.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Context, Decimal, localcontext
from enum import StrEnum
from typing import Any

from tollgate.domain.catalog.meters import AggregationFunction
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.money import plain, within_digits

ZERO = Decimal(0)
MAX_RANGE = timedelta(days=400)  # a reconciliation covers at most this much (bounded reads)


@dataclass(frozen=True)
class RawEvent:
    """A stored usage event, as much of it as aggregation reads."""

    event_id: str
    customer_id: str
    meter_id: str
    function: AggregationFunction
    value: Decimal | str  # a str for UNIQUE_COUNT
    timestamp: datetime


def floor_hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def aggregate_raw(function: AggregationFunction, events: Iterable[RawEvent]) -> Decimal:
    """The meter's aggregation over raw events (as ``tollgate.domain.usage.aggregation.combine`` over
    buckets): COUNT, SUM, MAX, AVG, LATEST (the value of the latest event), UNIQUE_COUNT. Computed with
    38 significant digits, what ingestion accepts and DynamoDB stores (not Python's default 28)."""
    with localcontext(Context(prec=38)):
        return _aggregate(function, list(events))


def _aggregate(function: AggregationFunction, events: list[RawEvent]) -> Decimal:
    numbers = [e.value for e in events if isinstance(e.value, Decimal)]
    if function is AggregationFunction.COUNT:
        return Decimal(len(events))
    if function is AggregationFunction.SUM:
        return sum(numbers, ZERO)
    if function is AggregationFunction.AVG:
        return sum(numbers, ZERO) / len(numbers) if numbers else ZERO
    if function is AggregationFunction.MAX:
        return max(numbers) if numbers else ZERO
    if function is AggregationFunction.LATEST:
        latest = max(((e.timestamp, e.event_id, e.value) for e in events if isinstance(e.value, Decimal)), default=None)
        return latest[2] if latest else ZERO
    return Decimal(len({str(e.value) for e in events}))


def events_in(events: Iterable[RawEvent], customer_id: str, meter_id: str, start: datetime, end: datetime):
    """The customer's events of the meter attributed to [start, end) (by the hour, as the usage reader)."""
    first, stop = floor_hour(start), floor_hour(end)
    return [
        e
        for e in events
        if e.customer_id == customer_id and e.meter_id == meter_id and first <= floor_hour(e.timestamp) < stop
    ]


class DifferenceKind(StrEnum):
    AGGREGATION_MISMATCH = "AGGREGATION_MISMATCH"
    UNBILLED_LATE_USAGE = "UNBILLED_LATE_USAGE"
    BILLED_MORE_THAN_USED = "BILLED_MORE_THAN_USED"


@dataclass(frozen=True)
class PeriodUsage:
    """One meter of one invoiced period, the three quantities side by side."""

    subscription_id: str
    customer_id: str
    meter_id: str
    invoice_id: str
    period_start: datetime
    period_end: datetime
    raw_quantity: Decimal
    aggregated_quantity: Decimal
    billed_quantity: Decimal

    @property
    def kind(self) -> DifferenceKind | None:
        """None when they all agree; else what disagrees (see the module docstring)."""
        raw, aggregated, billed = self.raw_quantity, self.aggregated_quantity, self.billed_quantity
        if raw != aggregated:
            return DifferenceKind.AGGREGATION_MISMATCH
        priced = within_digits(raw)  # billing prices the quantity rounded to the pricing engine's digits
        if billed == priced:
            return None
        if billed < priced:
            return DifferenceKind.UNBILLED_LATE_USAGE
        return DifferenceKind.BILLED_MORE_THAN_USED

    def to_json(self) -> dict[str, Any]:
        kind = self.kind
        return {
            "subscription_id": self.subscription_id,
            "customer_id": self.customer_id,
            "meter_id": self.meter_id,
            "invoice_id": self.invoice_id,
            "period": {"start": to_rfc3339(self.period_start), "end": to_rfc3339(self.period_end)},
            "raw_quantity": plain(self.raw_quantity),
            "aggregated_quantity": plain(self.aggregated_quantity),
            "billed_quantity": plain(self.billed_quantity),
            "difference": plain(self.raw_quantity - self.billed_quantity),
            "kind": kind.value if kind else None,
        }


def differences(rows: Iterable[PeriodUsage]) -> list[PeriodUsage]:
    return [r for r in rows if r.kind is not None]
