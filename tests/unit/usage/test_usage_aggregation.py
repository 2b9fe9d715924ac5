"""Aggregation without AWS: folding a stream batch into hourly buckets, exactly once however the stream
redelivers (the same batch, a bisected one, a batch extended with new records, records of many partition
keys interleaved), and combining hours into windows with each aggregation function."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.fakes.usage import InMemoryUsageStore
from tollgate.domain.catalog.meters import AggregationFunction as F
from tollgate.domain.usage.aggregation import Bucket, StreamEvent, Window, beyond, combine, fold, seq_key, windows
from tollgate.domain.usage.events import decimal_text
from tollgate.usecases.usage import aggregate


def ev(n: int, value="1", *, shard="00", hour="2026-11-21T10", customer="cus_1", function=F.SUM) -> StreamEvent:
    v = value if function is F.UNIQUE_COUNT else Decimal(value)
    return StreamEvent(
        "ten_1",
        customer,
        "mtr_1",
        function,
        v,
        f"{hour}:00:{n % 60:02d}.000000Z",
        f"e{n}",
        shard,
        seq_key(str(1100000000017454423009 + n)),
    )


def totals(store: InMemoryUsageStore) -> tuple[int, Decimal]:
    return sum(i["c"] for i in store.items.values()), sum((i["s"] for i in store.items.values()), Decimal(0))


def test_sequence_keys_sort_as_numbers():
    assert seq_key("9" * 21) < seq_key("1" + "0" * 21) < seq_key("1" + "0" * 39)


def test_one_update_per_bucket():
    events = [ev(i, shard=f"{i % 16:02d}") for i in range(100)] + [
        ev(200, hour="2026-11-21T11"),
        ev(201, customer="cus_2"),
    ]
    deltas = fold(events)
    assert len(deltas) == 3
    big = next(d for d in deltas if d.count == 100)
    assert big.total == 100 and len(big.marks) == 16
    store = InMemoryUsageStore()
    assert aggregate(events, store) == 3 and store.writes == 3


def test_a_redelivered_batch_changes_nothing():
    events = [ev(i, str(i), shard=f"{i % 3:02d}") for i in range(50)]
    store = InMemoryUsageStore()
    aggregate(events, store)
    before = totals(store)
    for _ in range(3):
        aggregate(events, store)
    assert totals(store) == before == (50, Decimal(sum(range(50))))


def test_a_bisected_redelivery_changes_nothing():
    events = [ev(i, shard=f"{i % 4:02d}") for i in range(40)]
    store = InMemoryUsageStore()
    aggregate(events, store)
    aggregate(events[:20], store)
    aggregate(events[20:], store)
    assert totals(store) == (40, Decimal(40))


def test_a_redelivery_extended_with_new_records_adds_only_the_new_ones():
    events = [ev(i, shard=f"{i % 4:02d}") for i in range(60)]
    store = InMemoryUsageStore()
    aggregate(events[:30], store)  # applied, but Lambda did not see the success
    aggregate(events[10:60], store)  # retried from record 10, with 30 more records
    assert totals(store) == (60, Decimal(60))


def test_interleaved_partition_keys_in_any_batch_split_count_exactly_once():
    rng = random.Random(7)
    events = [
        ev(i, str(rng.randint(1, 9)), shard=f"{rng.randrange(16):02d}", hour=f"2026-11-21T1{rng.randrange(3)}")
        for i in range(500)
    ]
    expected = (500, sum((Decimal(e.value) for e in events), Decimal(0)))
    store = InMemoryUsageStore()
    position = 0
    while position < len(events):  # random batches, each delivered 1..3 times, some redeliveries overlapping
        size = rng.randint(1, 80)
        start = max(0, position - rng.randint(0, 30))
        for _ in range(rng.randint(1, 3)):
            aggregate(events[start : position + size], store)
        position += size
    assert totals(store) == expected


def test_beyond_keeps_only_records_above_the_watermarks():
    (delta,) = fold([ev(1, shard="00"), ev(2, shard="01"), ev(3, shard="00")])
    rest = beyond(delta, {"00": ev(1).seq})
    assert rest is not None
    assert [e.event_id for e in rest.events] == ["e2", "e3"] and rest.count == 2
    assert beyond(delta, {"00": ev(3).seq, "01": ev(2).seq}) is None


def test_max_latest_and_unique_count_are_idempotent():
    store = InMemoryUsageStore()
    maxes = [ev(i, v, function=F.MAX) for i, v in enumerate(["3", "9", "4"])]
    latest = [ev(10 + i, v, function=F.LATEST) for i, v in enumerate(["3", "9", "4"])]
    uniques = [ev(20 + i, u, function=F.UNIQUE_COUNT) for i, u in enumerate(["a", "b", "a"])]
    for _ in range(2):
        aggregate(maxes, store)
        aggregate(latest, store)
        aggregate(uniques, store)
    rows = {k: v for k, v in store.items.items()}
    assert len(rows) == 1  # one bucket (same customer, meter, hour)
    (item,) = rows.values()
    assert item["mx"] == 9 and item["lt"][1] == 4 and item["c"] == 9
    (bucket,) = store.buckets("ten_1", "cus_1", "mtr_1", "2026-11-21T10", "2026-11-21T10")
    assert combine(F.UNIQUE_COUNT, [bucket]) == 2  # a and b


# -- combining hours -------------------------------------------------------------------------------------------


# Distinct values: x in 20T23 and 21T00, y in 21T00, z in 21T05 (histograms: previous hour -> values).
H = [
    Bucket("2026-11-20T23", 2, Decimal(5), Decimal(4), ("2026-11-20T23:10:00.000000Z#a", Decimal(4)), {"": 1}),
    Bucket(
        "2026-11-21T00",
        1,
        Decimal(1),
        Decimal(1),
        ("2026-11-21T00:10:00.000000Z#b", Decimal(1)),
        {"2026-11-20T23": 1, "": 1},
    ),
    Bucket("2026-11-21T05", 3, Decimal(9), Decimal(7), ("2026-11-21T05:10:00.000000Z#c", Decimal(2)), {"": 1}),
]


@pytest.mark.parametrize(
    ("function", "expected"),
    [(F.COUNT, "6"), (F.SUM, "15"), (F.AVG, "2.5"), (F.MAX, "7"), (F.LATEST, "2"), (F.UNIQUE_COUNT, "3")],
)
def test_combine_applies_each_aggregation(function, expected):
    assert decimal_text(combine(function, H)) == expected


def test_day_and_month_windows_sum_their_hours_and_empty_windows_are_zero():
    start, end = datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC)
    days = windows(F.SUM, H, start, end, Window.DAY)
    assert [(w.start.day, w.value) for w in days] == [(20, 5), (21, 10), (22, 0)]
    (month,) = windows(F.SUM, H, start, end, Window.MONTH)
    assert (
        month.value == 15
        and month.start == datetime(2026, 11, 1, tzinfo=UTC)
        and month.end == datetime(2026, 12, 1, tzinfo=UTC)
    )
    hours = windows(F.MAX, H, datetime(2026, 11, 21, tzinfo=UTC), datetime(2026, 11, 21, 6, tzinfo=UTC), Window.HOUR)
    assert [w.value for w in hours] == [1, 0, 0, 0, 0, 7]
    assert windows(F.UNIQUE_COUNT, H, start, end, Window.DAY)[1].value == 3  # x, y, z: a value counted once per window


def test_decimal_text_is_exact_without_exponent():
    assert [decimal_text(Decimal(x)) for x in ("1E+3", "2.50", "0.000", "-0.1")] == ["1000", "2.5", "0", "-0.1"]


def test_sums_keep_the_38_significant_digits_dynamodb_stores():
    """Python's default context keeps 28 digits; a bucket and a range must add up exactly as stored."""
    big, small = Decimal("999999999999999999"), Decimal("0.000000000000000001")
    buckets = [Bucket("2026-11-20T23", 1, big), Bucket("2026-11-21T00", 1, small)]
    assert combine(F.SUM, buckets) == Decimal("999999999999999999.000000000000000001")


def test_billing_prices_an_aggregate_rounded_to_the_pricing_engines_digits():
    from tollgate.domain.money import within_digits

    assert within_digits(Decimal(4) / Decimal(3)) == Decimal("1.33333333333333333")
    assert within_digits(Decimal("999999999999999999.5")) == Decimal("1000000000000000000")
    assert within_digits(Decimal("12.5")) == Decimal("12.5")
