"""UNIQUE_COUNT on DynamoDB (moto) past the old 400 KB wall: 20,000 distinct user ids of ~60 characters in
one hour of one customer and meter (about 1.2 MB of values: the old single item failed from about 6,500
of them on) count exactly 20,000; the same values seen again in other hours count once in every day,
month and total window and in a billing period in a customer's time zone; a redelivered or bisected
stream batch changes nothing."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from tollgate import wiring
from tollgate.adapters.dynamodb.usage_reader import BucketUsageReader
from tollgate.domain.catalog.meters import Aggregation, AggregationFunction, Meter
from tollgate.domain.usage.aggregation import StreamEvent, Window, combine, hour_of, seq_key, windows
from tollgate.usecases.usage import aggregate

VALUES = 20_000
BATCH = 500  # the aggregator's stream batch size (infra/definitions/functions.json)
BIG_HOUR, SAME_DAY, OTHER_DAY, NEXT_MONTH = "2026-11-03T10", "2026-11-03T15", "2026-11-20T08", "2026-12-01T00"


def user(n: int) -> str:
    return f"user-{n:06d}-{uuid.UUID(int=n)}-{'x' * 16}"  # 65 characters


class Stream:
    """Stream records in order, each with its shard and sequence number."""

    def __init__(self, tenant_id: str, customer_id: str) -> None:
        self.tenant_id, self.customer_id, self.n = tenant_id, customer_id, 0

    def events(self, values: list[str], hour: str) -> list[StreamEvent]:
        out = []
        for value in values:
            self.n += 1
            out.append(
                StreamEvent(
                    self.tenant_id,
                    self.customer_id,
                    "mtr_distinct",
                    AggregationFunction.UNIQUE_COUNT,
                    value,
                    f"{hour}:{self.n % 60:02d}:00.000000Z",
                    f"e{self.n}",
                    f"{self.n % 16:02d}",
                    seq_key(str(10**21 + self.n)),
                )
            )
        return out


@pytest.fixture(scope="module")
def counted(local_stack):
    """Aggregates the events once for every test of the module (moto is slow); returns what was sent."""
    tenant_id, customer_id = f"ten_distinct_{uuid.uuid4().hex[:8]}", "cus_distinct"
    stream = Stream(tenant_id, customer_id)
    sent = {
        BIG_HOUR: [user(i) for i in range(VALUES)],
        SAME_DAY: [user(i) for i in range(0, VALUES, 10)],  # 2,000 of them again, 5 hours later
        OTHER_DAY: [user(i) for i in range(0, VALUES, 20)],  # 1,000 again, another day of the month
        NEXT_MONTH: [user(i) for i in range(0, 600, 2)] + [user(VALUES + i) for i in range(200)],  # 300 old, 200 new
    }
    batches = [batch for hour, values in sent.items() for batch in _batches(stream.events(values, hour))]
    store = wiring.usage_store()
    calls: Counter[str] = Counter()

    def count(model, **kwargs):
        calls[model.name] += 1

    from tollgate.adapters import aws

    client = aws.client("dynamodb")
    client.meta.events.register("before-call.dynamodb", count)
    started = time.monotonic()
    with local_stack.exclusive():
        for batch in batches:
            aggregate(batch, store)
    seconds = time.monotonic() - started
    print(f"\naggregated {sum(map(len, batches))} events in {seconds:.1f} s on moto; DynamoDB calls: {dict(calls)}")
    yield tenant_id, customer_id, sent, batches, calls
    client.meta.events.unregister("before-call.dynamodb", count)


def _batches(events: list[StreamEvent]) -> list[list[StreamEvent]]:
    return [events[i : i + BATCH] for i in range(0, len(events), BATCH)]


def _buckets(local_stack, tenant_id: str, customer_id: str, first: str, last: str):
    with local_stack.exclusive():
        return wiring.usage_store().buckets(tenant_id, customer_id, "mtr_distinct", first, last)


def _expected(sent: dict[str, list[str]], first: str, last: str) -> int:
    return len({v for hour, values in sent.items() if first <= hour <= last for v in values})


def test_twenty_thousand_distinct_values_in_one_hour_count_exactly(local_stack, counted):
    tenant_id, customer_id, _, _, calls = counted
    (bucket,) = _buckets(local_stack, tenant_id, customer_id, BIG_HOUR, BIG_HOUR)
    assert bucket.count == VALUES and combine(AggregationFunction.UNIQUE_COUNT, [bucket]) == VALUES
    placed = VALUES + 2_000 + 1_000 + 500  # a value placed once per hour it occurs in
    assert calls["TransactWriteItems"] <= placed / 40  # up to 42 values placed per transaction


def test_day_month_and_total_windows_count_each_value_once(local_stack, counted):
    tenant_id, customer_id, sent, _, _ = counted
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    buckets = _buckets(local_stack, tenant_id, customer_id, hour_of(start), hour_of(end - timedelta(hours=1)))
    f = AggregationFunction.UNIQUE_COUNT
    days = {w.start.strftime("%Y-%m-%d"): w.value for w in windows(f, buckets, start, end, Window.DAY) if w.value}
    assert days == {"2026-11-03": VALUES, "2026-11-20": 1_000, "2026-12-01": 500}
    months = [w.value for w in windows(f, buckets, start, end, Window.MONTH)]
    assert months == [VALUES, 500]
    assert combine(f, buckets, hour_of(start)) == VALUES + 200 == _expected(sent, "2026-11", "2026-12-31T23")
    hours = {w.start.strftime("%dT%H"): w.value for w in windows(f, buckets, start, end, Window.HOUR) if w.value}
    assert hours == {"03T10": VALUES, "03T15": 2_000, "20T08": 1_000, "01T00": 500}


def test_billing_reads_the_exact_distinct_count_of_a_period(local_stack, counted):
    """A monthly period in New York (05:00 UTC to 05:00 UTC) and one starting mid-month (anniversary)."""
    tenant_id, customer_id, sent, _, _ = counted
    now = datetime(2026, 11, 1, tzinfo=UTC)
    meter = Meter(
        "mtr_distinct",
        tenant_id,
        "Active users",
        "active.users",
        Aggregation(AggregationFunction.UNIQUE_COUNT, "properties.user"),
        now,
        now,
    )
    reader = BucketUsageReader(wiring.usage_store())
    periods = [
        (datetime(2026, 11, 1, 5, tzinfo=UTC), datetime(2026, 12, 1, 5, tzinfo=UTC)),
        (datetime(2026, 11, 3, 12, tzinfo=UTC), datetime(2026, 12, 3, 12, tzinfo=UTC)),
        (datetime(2026, 11, 15, tzinfo=UTC), datetime(2026, 12, 15, tzinfo=UTC)),
    ]
    for start, end in periods:
        with local_stack.exclusive():
            usage = reader.aggregate(tenant_id, customer_id, meter, start, end)
        expected = _expected(sent, hour_of(start), hour_of(end - timedelta(hours=1)))
        assert usage.quantity == expected, (start, end)
        assert [w.event_count for w in usage.windows] == [len(sent[h]) for h in sorted(sent) if h >= hour_of(start)]
    # New York: everything (20,000 + 200 new in December); from Nov 3 12:00: 2,000 + 1,000 of them (already
    # among the 2,000) + December's 300 old (60 of them among the 2,000) and 200 new; from Nov 15: 1,000 +
    # December's 300 old (30 among the 1,000) and 200 new.
    assert [_expected(sent, hour_of(s), hour_of(e - timedelta(hours=1))) for s, e in periods] == [20_200, 2_440, 1_470]


def test_a_redelivered_or_bisected_batch_changes_nothing(local_stack, counted):
    tenant_id, customer_id, _, batches, _ = counted
    before = _buckets(local_stack, tenant_id, customer_id, "2026-11-01T00", "2026-12-31T23")
    with local_stack.exclusive():
        for batch in (batches[0], batches[-1][: BATCH // 2], batches[-1][BATCH // 2 :], batches[len(batches) // 2]):
            aggregate(batch, wiring.usage_store())
    assert _buckets(local_stack, tenant_id, customer_id, "2026-11-01T00", "2026-12-31T23") == before
