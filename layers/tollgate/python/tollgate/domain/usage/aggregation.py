"""Aggregation: accepted usage events folded into hourly buckets per customer and meter; windows combine hours."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal, localcontext
from enum import StrEnum

from tollgate.domain.catalog.meters import AggregationFunction
from tollgate.domain.usage.distinct import distinct_count


# -- aggregation ---------------------------------------------------------------------------------------
def hour_of(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H")


def seq_key(sequence_number: str) -> str:
    """Stream sequence numbers are decimal strings of 21 to 40 digits: prefixing the length makes
    text order numeric order."""
    return f"{len(sequence_number):02d}{sequence_number}"


@dataclass(frozen=True)
class StreamEvent:
    """What the aggregator needs of one stored event, with its place in the stream."""

    tenant_id: str
    customer_id: str
    meter_id: str
    function: AggregationFunction
    value: Decimal | str
    ts: str  # TS_FORMAT
    event_id: str
    shard: str  # the event's partition key shard, "00".."15": stream order is per partition key
    seq: str  # seq_key() of the stream record

    @property
    def bucket(self) -> tuple[str, str, str, str]:
        return (self.tenant_id, self.customer_id, self.meter_id, self.ts[:13])


# MAX and LATEST are kept by conditional sets (idempotent); everything else adds.
VALUE_SETS = frozenset({AggregationFunction.MAX, AggregationFunction.LATEST})


@dataclass
class BucketDelta:
    """What one stream batch adds to one hourly bucket.

    Counts and sums add, so they are applied only over records beyond the bucket's watermark for each
    event shard (``marks``: shard -> (lowest, highest) sequence key in this delta); the unique values of
    UNIQUE_COUNT are placed in the values' histories (``tollgate.domain.usage.distinct``), idempotent
    by themselves. MAX and LATEST are conditional sets, idempotent, applied besides."""

    tenant_id: str
    customer_id: str
    meter_id: str
    hour: str
    function: AggregationFunction
    count: int = 0
    total: Decimal = Decimal(0)
    maximum: Decimal | None = None
    latest: tuple[str, Decimal] | None = None  # ("<ts>#<event id>", value)
    uniques: set[str] = field(default_factory=set)
    marks: dict[str, tuple[str, str]] = field(default_factory=dict)
    events: list[StreamEvent] = field(default_factory=list)

    @property
    def sets_value(self) -> bool:
        return self.function in VALUE_SETS


#: DynamoDB keeps 38 significant digits: sums are computed with as many (Python's default is 28), so a
#: bucket's total and a range's aggregate are what the raw events add up to.
STORED_DIGITS = Context(prec=38)


def fold(events: Iterable[StreamEvent]) -> list[BucketDelta]:
    """Group a batch's events by (tenant, customer, meter, hour) and sum each group up."""
    with localcontext(STORED_DIGITS):
        return _fold(events)


def _fold(events: Iterable[StreamEvent]) -> list[BucketDelta]:
    deltas: dict[tuple[str, str, str, str, str], BucketDelta] = {}
    for e in events:
        key = (*e.bucket, e.function.value)
        d = deltas.get(key)
        if d is None:
            d = deltas[key] = BucketDelta(e.tenant_id, e.customer_id, e.meter_id, e.ts[:13], e.function)
        d.events.append(e)
        d.count += 1
        if e.function is AggregationFunction.UNIQUE_COUNT:
            d.uniques.add(str(e.value))
        else:
            value = e.value if isinstance(e.value, Decimal) else Decimal(e.value)
            d.total += value
            if d.maximum is None or value > d.maximum:
                d.maximum = value
            stamp = f"{e.ts}#{e.event_id}"
            if d.latest is None or stamp > d.latest[0]:
                d.latest = (stamp, value)
        low, high = d.marks.get(e.shard, (e.seq, e.seq))
        d.marks[e.shard] = (min(low, e.seq), max(high, e.seq))
    return list(deltas.values())


def beyond(delta: BucketDelta, applied: Mapping[str, str]) -> BucketDelta | None:
    """The part of ``delta`` not yet applied, given the watermarks stored on the bucket (shard -> highest
    sequence key applied). None when everything was applied already (a redelivered batch)."""
    rest = [e for e in delta.events if e.seq > applied.get(e.shard, "")]
    if not rest:
        return None
    (again,) = fold(rest)
    return again


@dataclass(frozen=True)
class Bucket:
    """One stored hour of usage of one customer and meter. ``previous`` (UNIQUE_COUNT): previous hour ->
    how many of the hour's distinct values occurred last in that hour before ("" = never before)."""

    hour: str  # "2026-04-17T10"
    count: int = 0
    total: Decimal = Decimal(0)
    maximum: Decimal | None = None
    latest: tuple[str, Decimal] | None = None
    previous: Mapping[str, int] = field(default_factory=dict)

    @property
    def start(self) -> datetime:
        return datetime.strptime(self.hour, "%Y-%m-%dT%H").replace(tzinfo=UTC)


class Window(StrEnum):
    HOUR = "HOUR"
    DAY = "DAY"
    MONTH = "MONTH"


def floor_to(ts: datetime, window: Window) -> datetime:
    ts = ts.astimezone(UTC)
    if window is Window.HOUR:
        return ts.replace(minute=0, second=0, microsecond=0)
    if window is Window.DAY:
        return ts.replace(hour=0, minute=0, second=0, microsecond=0)
    return ts.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_start(start: datetime, window: Window) -> datetime:
    if window is Window.HOUR:
        return start + timedelta(hours=1)
    if window is Window.DAY:
        return start + timedelta(days=1)
    return start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)


def combine(function: AggregationFunction, buckets: Iterable[Bucket], since: str | None = None) -> Decimal:
    """The meter's aggregation over the stored hours of a range: sums add, MAX is the largest, LATEST the
    value of the latest event, AVG = total / count, UNIQUE_COUNT counts distinct values across the hours.

    ``since`` is the range's first hour (default: the first stored hour given, which counts the same
    when ``buckets`` are all the stored hours of the range)."""
    with localcontext(STORED_DIGITS):
        return _combine(function, list(buckets), since)


def _combine(function: AggregationFunction, buckets: list[Bucket], since: str | None) -> Decimal:
    if function is AggregationFunction.COUNT:
        return Decimal(sum(b.count for b in buckets))
    if function is AggregationFunction.SUM:
        return sum((b.total for b in buckets), Decimal(0))
    if function is AggregationFunction.AVG:
        count = sum(b.count for b in buckets)
        return sum((b.total for b in buckets), Decimal(0)) / count if count else Decimal(0)
    if function is AggregationFunction.MAX:
        values = [b.maximum for b in buckets if b.maximum is not None]
        return max(values) if values else Decimal(0)
    if function is AggregationFunction.LATEST:
        latest = [b.latest for b in buckets if b.latest is not None]
        return max(latest)[1] if latest else Decimal(0)
    if since is None:
        since = min((b.hour for b in buckets), default="")
    return Decimal(distinct_count((b.previous for b in buckets), since))


@dataclass(frozen=True)
class WindowValue:
    start: datetime
    end: datetime
    value: Decimal


def windows(
    function: AggregationFunction, buckets: Iterable[Bucket], start: datetime, end: datetime, window: Window
) -> list[WindowValue]:
    """Every window from the one holding ``start`` up to ``end`` (exclusive), empty ones included."""
    by_window: dict[datetime, list[Bucket]] = {}
    for b in buckets:
        by_window.setdefault(floor_to(b.start, window), []).append(b)
    out = []
    cursor, first_hour = floor_to(start, window), floor_to(start, Window.HOUR)
    while cursor < end:
        nxt = next_start(cursor, window)
        since = hour_of(max(cursor, first_hour))  # the first window may start before the range
        out.append(WindowValue(cursor, nxt, combine(function, by_window.get(cursor, []), since)))
        cursor = nxt
    return out
