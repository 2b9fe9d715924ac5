"""UNIQUE_COUNT without a set in one item: every distinct value is placed once per hour in its history,
and any range of hours (an hour, a UTC day, a month, a billing period in any time zone, a cumulative
range) counts its distinct values exactly from the hours' previous-occurrence histograms, however the
stream delivers the events (late, out of order, redelivered, bisected, concurrently)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.usage import InMemoryUsageStore
from tollgate.domain.catalog.meters import AggregationFunction as F
from tollgate.domain.errors import ConcurrentUpdate
from tollgate.domain.usage.aggregation import StreamEvent, Window, combine, hour_of, seq_key, windows
from tollgate.domain.usage.distinct import ValueHistory, place, value_key
from tollgate.usecases.usage import aggregate, place_distinct

BASE = datetime(2026, 10, 28, tzinfo=UTC)


def uev(n: int, value: str, hour: str, *, shard: str = "00") -> StreamEvent:
    return StreamEvent(
        "ten_1",
        "cus_1",
        "mtr_1",
        F.UNIQUE_COUNT,
        value,
        f"{hour}:00:00.000000Z",
        f"e{n}",
        shard,
        seq_key(str(10**21 + n)),
    )


def distinct(store: InMemoryUsageStore, first: str, last: str) -> int:
    return int(combine(F.UNIQUE_COUNT, store.buckets("ten_1", "cus_1", "mtr_1", first, last), first))


def test_twenty_thousand_values_in_one_hour_count_exactly_and_a_redelivery_changes_nothing():
    events = [uev(i, f"user-{i:06d}-" + "x" * 40, "2026-11-21T10", shard=f"{i % 16:02d}") for i in range(20_000)]
    store = InMemoryUsageStore()
    for start in range(0, len(events), 500):
        aggregate(events[start : start + 500], store)
    assert distinct(store, "2026-11-21T10", "2026-11-21T10") == 20_000
    writes = store.value_writes
    for start in range(0, len(events), 500):  # redelivered, and bisected
        aggregate(events[start : start + 250], store)
        aggregate(events[start : start + 500], store)
    assert distinct(store, "2026-11-21T10", "2026-11-21T10") == 20_000 and store.value_writes == writes
    assert sum(i["c"] for i in store.items.values()) == 20_000  # the events, counted once


def test_a_value_seen_again_in_another_hour_counts_once_in_the_day_and_once_in_each_hour():
    store = InMemoryUsageStore()
    aggregate([uev(1, "a", "2026-11-21T10"), uev(2, "b", "2026-11-21T10")], store)
    aggregate([uev(3, "a", "2026-11-21T11"), uev(4, "c", "2026-11-21T11")], store)
    assert distinct(store, "2026-11-21T10", "2026-11-21T10") == 2
    assert distinct(store, "2026-11-21T11", "2026-11-21T11") == 2
    assert distinct(store, "2026-11-21T00", "2026-11-21T23") == 3


def test_a_late_event_before_a_later_occurrence_moves_that_occurrence_out_of_the_count():
    store = InMemoryUsageStore()
    aggregate([uev(1, "a", "2026-11-21T12")], store)
    aggregate([uev(2, "a", "2026-11-21T08")], store)  # late: placed before the 12:00 occurrence
    assert distinct(store, "2026-11-21T00", "2026-11-21T23") == 1
    assert distinct(store, "2026-11-21T09", "2026-11-21T23") == 1
    assert distinct(store, "2026-11-21T08", "2026-11-21T08") == 1


def test_long_values_are_keyed_by_their_hash_and_short_ones_as_they_are():
    assert value_key("user-1") == "=user-1"
    long_a, long_b = "u" * 300, "u" * 299 + "v"
    assert value_key(long_a).startswith("#") and len(value_key(long_a)) == 65
    assert value_key(long_a) != value_key(long_b)
    assert value_key("#" + "0" * 64) != value_key(long_a)  # a literal never looks like a hash key


def test_placing_an_hour_twice_is_a_no_op():
    history = ValueHistory(1, {"2026-11": ("2026-11-21T10", "2026-11-21T10")}, frozenset({"2026-11-21T10"}))
    assert place(history, "2026-11-21T10") is None
    later = place(history, "2026-11-21T12")
    assert later is not None and later.previous == "2026-11-21T10" and later.following is None


def test_a_value_changed_by_another_writer_is_read_again():
    store = InMemoryUsageStore()
    other = InMemoryUsageStore()
    aggregate([uev(1, "a", "2026-11-21T10")], store)

    def race():  # another shard's batch places "a" in 09:00 between our read and our write
        place_distinct(fold_one(uev(2, "a", "2026-11-21T09")), other)
        store.histories, store.histogram = other.histories, other.histogram

    other.histories, other.histogram = store.histories, store.histogram
    store.before_place = race
    aggregate([uev(3, "a", "2026-11-21T11")], store)
    assert distinct(store, "2026-11-21T00", "2026-11-21T23") == 1
    assert distinct(store, "2026-11-21T10", "2026-11-21T11") == 1
    assert distinct(store, "2026-11-21T11", "2026-11-21T11") == 1
    assert distinct(store, "2026-11-21T09", "2026-11-21T09") == 1  # the other writer's placement stands


def test_a_value_that_keeps_changing_fails_the_batch_for_a_redelivery():
    store = InMemoryUsageStore()

    class Racing(InMemoryUsageStore):
        def place_values(self, *args):
            raise ConcurrentUpdate("always")

    with pytest.raises(ConcurrentUpdate):
        aggregate([uev(1, "a", "2026-11-21T10")], Racing())
    assert store.buckets("ten_1", "cus_1", "mtr_1", "2026-11-21T10", "2026-11-21T10") == []


def fold_one(event: StreamEvent):
    from tollgate.domain.usage.aggregation import fold

    (delta,) = fold([event])
    return delta


def test_every_range_counts_exactly_whatever_the_delivery_order():
    """A brute-force check: 3,000 events of 150 values over 5 weeks (across a month boundary), delivered
    in a shuffled order (late events), in random batches, some redelivered; every range of hours (random
    ones, UTC days, months, a time-zone month) counts the distinct values of its events."""
    rng = random.Random(13)
    hours = [hour_of(BASE + timedelta(hours=h)) for h in range(24 * 35)]
    truth = [(f"v{rng.randrange(150)}", rng.choice(hours)) for _ in range(3_000)]
    events = [uev(i, v, h, shard=f"{rng.randrange(16):02d}") for i, (v, h) in enumerate(truth)]
    rng.shuffle(events)
    events = [replace(e, seq=seq_key(str(10**21 + i))) for i, e in enumerate(events)]  # stream order: shuffled
    store = InMemoryUsageStore()
    position = 0
    while position < len(events):
        size = rng.randint(1, 300)
        start = max(0, position - rng.randint(0, 50))
        for _ in range(rng.randint(1, 2)):
            aggregate(events[start : position + size], store)
        position += size

    def expected(first: str, last: str) -> int:
        return len({v for v, h in truth if first <= h <= last})

    ranges: list[tuple[str, str]] = []
    for _ in range(300):
        a, b = sorted(rng.sample(hours, 2))
        ranges.append((a, b))
    ranges += [
        ("2026-11-01T00", "2026-11-30T23"),
        ("2026-10-28T00", "2026-10-31T23"),
        ("2026-10-31T05", "2026-11-30T04"),
    ]
    for first, last in ranges:
        assert distinct(store, first, last) == expected(first, last), (first, last)
    since, end = BASE + timedelta(hours=7), BASE + timedelta(days=35)
    all_buckets = store.buckets("ten_1", "cus_1", "mtr_1", hour_of(since), hours[-1])
    for window in Window:
        for w in windows(F.UNIQUE_COUNT, all_buckets, since, end, window):
            first = hour_of(max(w.start, since))
            last = hour_of(w.end - timedelta(hours=1))
            assert w.value == expected(first, last), (window, w.start)


def test_histogram_sort_keys_sort_right_after_their_hour_and_read_back():
    from tollgate.adapters.dynamodb.usage_distinct import histogram_sk, read_histogram_sk

    first, later = histogram_sk("2026-11-21T10", "", "a"), histogram_sk("2026-11-21T10", "2026-11-20T09", "0")
    assert "H#2026-11-21T10" < first < "H#2026-11-21T10~" < "H#2026-11-21T11"
    assert "H#2026-11-21T10" < later < "H#2026-11-21T10~"
    assert read_histogram_sk(first) == ("2026-11-21T10", "")
    assert read_histogram_sk(later) == ("2026-11-21T10", "2026-11-20T09")
    assert read_histogram_sk("H#2026-11-21T10") is None
