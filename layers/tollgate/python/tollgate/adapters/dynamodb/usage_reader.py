"""Billing's view of usage (``tollgate.ports.billing.UsageReader``) over the hourly usage buckets the
usage aggregator maintains.

Usage is attributed to billing periods by the hour: an event belongs to the period that contains the
start of its hour (hours [floor(start), floor(end)) belong to the period [start, end)). Consecutive
periods therefore never count an hour twice nor lose one, and an invoice line's windows are exactly the
stored hours behind it.

UNIQUE_COUNT is exact for any period (calendar or anniversary, in any time zone, cumulative): the
distinct values of the period's hours come from the hours' previous-occurrence histograms
(``tollgate.domain.usage.distinct``), read with the buckets by the same Query.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tollgate.domain.billing.errors import UsageDataUnavailable
from tollgate.domain.billing.usage import UsageAggregate, UsageWindow
from tollgate.domain.catalog import Meter
from tollgate.domain.catalog.meters import AggregationFunction
from tollgate.domain.money import within_digits
from tollgate.domain.usage.aggregation import Window, combine, floor_to, hour_of


class BucketUsageReader:
    def __init__(self, store) -> None:
        self.store = store

    def aggregate(
        self, tenant_id: str, customer_id: str, meter: Meter, start: datetime, end: datetime
    ) -> UsageAggregate:
        first, last = floor_to(start, Window.HOUR), floor_to(end, Window.HOUR) - timedelta(hours=1)
        if last < first:
            return UsageAggregate(combine(meter.aggregation.function, []), [])
        try:
            buckets = self.store.buckets(tenant_id, customer_id, meter.meter_id, hour_of(first), hour_of(last))
        except Exception as exc:  # the usage store could not be read: the bill run records it
            raise UsageDataUnavailable(f"usage of meter {meter.meter_id} could not be read: {exc}") from exc
        function = meter.aggregation.function
        additive = function in (AggregationFunction.COUNT, AggregationFunction.SUM)
        windows = [
            UsageWindow(
                b.start,
                b.start + timedelta(hours=1),
                b.count,
                combine(function, [b]) if additive else b.total,
            )
            for b in sorted(buckets, key=lambda b: b.hour)
            if b.count
        ]
        # Billing prices at most 18 digits written out (an AVG or a long sum may have more): rounded once, here.
        return UsageAggregate(within_digits(combine(function, buckets, hour_of(first))), windows)
