"""Usage lines: a meter's aggregated quantity for a period, rated with the pinned plan version's price.

Stages per usage price (each kept on the line for the invoice's usage attribution):

raw usage (the event windows: from, to, event count, quantity) -> aggregated quantity (the meter's
aggregation over the window, computed by the ``UsageReader``) -> included units subtracted -> tiers
(the pricing engine's breakdown) -> line amount (rounded once, by the engine).

Which events count (``usage_window``): a PERIODIC meter counts the period's events only,
[period start, period end); a CUMULATIVE meter keeps growing, so it counts every event since the
subscription started, [subscription start, period end). A subscription that ended within the period
counts events up to its end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from tollgate.domain.billing.invoices import InvoiceLine, LineKind
from tollgate.domain.catalog.meters import Meter, UsageReset
from tollgate.domain.catalog.plans import UsagePrice
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.money import plain
from tollgate.domain.pricing import quote


class UsageWindow(NamedTuple):
    """A slice of raw usage behind an aggregate: [start, end), how many events, their quantity."""

    start: datetime
    end: datetime
    event_count: int
    quantity: Decimal

    def to_json(self) -> dict[str, Any]:
        return {
            "from": to_rfc3339(self.start),
            "to": to_rfc3339(self.end),
            "event_count": self.event_count,
            "quantity": plain(self.quantity),
        }


@dataclass(frozen=True)
class UsageAggregate:
    """The meter's aggregated ``quantity`` over a range, and the raw windows it was computed from.

    For additive aggregations (COUNT, SUM) ``quantity`` is the sum of the windows' quantities; for
    the others (MAX, UNIQUE_COUNT, LATEST, AVG) the windows still show the events behind it."""

    quantity: Decimal
    windows: list[UsageWindow] = field(default_factory=list)

    @property
    def event_count(self) -> int:
        return sum(w.event_count for w in self.windows)


MAX_WINDOWS = 100  # windows kept on an invoice line (an item must stay well under DynamoDB's 400 KB)


def compact_windows(windows: list[UsageWindow], limit: int = MAX_WINDOWS) -> list[UsageWindow]:
    """At most ``limit`` windows: consecutive windows are merged (event counts and quantities added),
    so the sum over the windows is unchanged."""
    ordered = sorted(windows, key=lambda w: (w.start, w.end))
    if len(ordered) <= limit:
        return ordered
    size = -(-len(ordered) // limit)
    merged = []
    for i in range(0, len(ordered), size):
        group = ordered[i : i + size]
        merged.append(
            UsageWindow(
                group[0].start,
                group[-1].end,
                sum(w.event_count for w in group),
                sum((w.quantity for w in group), Decimal(0)),
            )
        )
    return merged


def usage_window(
    meter: Meter,
    subscription_start: datetime,
    period_start: datetime,
    period_end: datetime,
    ended_at: datetime | None = None,
) -> tuple[datetime, datetime]:
    """The range of events a meter bills for this period (see the module docstring)."""
    start = subscription_start if meter.usage_reset is UsageReset.CUMULATIVE else period_start
    end = min(period_end, ended_at) if ended_at else period_end
    return max(start, subscription_start), max(end, start)


def usage_line(
    usage_price: UsagePrice, meter: Meter, aggregate: UsageAggregate, start: datetime, end: datetime
) -> InvoiceLine:
    """Rate ``aggregate`` with the usage price (the pricing engine rounds the amount once)."""
    q = quote(usage_price.price, aggregate.quantity)
    return InvoiceLine(
        LineKind.USAGE,
        f"{meter.name} ({meter.event_name})",
        q.amount,
        {
            "meter_id": meter.meter_id,
            "event_name": meter.event_name,
            "aggregation": meter.aggregation.function.value,
            "usage_reset": meter.usage_reset.value,
            "model": usage_price.price.model,
            "usage_from": to_rfc3339(start),
            "usage_to": to_rfc3339(end),
            "event_count": aggregate.event_count,
            "quantity": plain(q.quantity),
            "included_units": plain(q.included_units),
            "billable_quantity": plain(q.billable_quantity),
            "unrounded": plain(q.unrounded),
            "breakdown": [line.to_json(q.currency) for line in q.breakdown],
            "windows": [w.to_json() for w in compact_windows(aggregate.windows)],
        },
    )
