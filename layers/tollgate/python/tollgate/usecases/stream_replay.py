"""Replay what a stream consumer gave up on (issue 16: no silent loss).

A DynamoDB stream batch that fails past its retries leaves only metadata in the source's failure queue
(Lambda's on-failure record: stream ARN, shard, first and last sequence numbers, arrival times). An
operator invokes the ``stream_replay`` function; for each failure record it:

- **usage aggregator**: finds the affected hourly buckets (from the records, re-read from the stream while
  it still holds them, 24 h; otherwise from the ingestion index of every tenant over the batch's arrival
  window) and **rebuilds each bucket from the raw events**. Re-driving the records would not do: the
  bucket's watermarks may already be past them (a later batch of the same partition was folded), so the
  aggregator would take them as applied. The rebuild reads the bucket's watermarks, counts its raw
  events, then waits until the aggregator has folded everything written before (a probe in each of the
  tenant's event partitions, as the bill run does) and overwrites count and sum only if the watermarks
  are unchanged (else it starts over): an event stored after the count is folded on top, never twice.
  MAX/LATEST are conditional sets and UNIQUE_COUNT values are placed idempotently, so both are re-applied.
- **outbox relay**: publishes the batch's domain events again, from the records or, once the stream no longer
  holds them, from every tenant's outbox items of the batch's arrival window (kept 7 days); the consumers
  (event log, payment collection) are idempotent by event and invoice, so an event published twice is one.

A record is deleted from the queue only once replayed; what cannot be replayed stays, and is reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from tollgate.domain.clock import parse_rfc3339, utcnow
from tollgate.domain.usage.aggregation import BucketDelta, StreamEvent, fold

Bucket = tuple[str, str, str, str]  # tenant, customer, meter, hour
REBUILD_ATTEMPTS = 5


class Rebuilder(Protocol):
    def raw_bucket_events(self, tenant_id: str, customer_id: str, meter_id: str, hour: str) -> list[StreamEvent]: ...

    def bucket_marks(self, tenant_id: str, customer_id: str, meter_id: str, hour: str) -> dict[str, str] | None: ...

    def set_bucket(self, bucket: Bucket, function: str, count: int, total: Any, marks: dict | None) -> bool: ...


@dataclass
class ReplayDeps:
    rebuilder: Rebuilder
    usage_store: Any  # UsageStore: apply_idempotent, place_values...
    watermarks: Any  # DynamoUsageWatermarks: probe, watermarks, record
    read_stream: Callable[[str, str, str, str], list[dict] | None]
    decode: Callable[[dict], StreamEvent | None]
    buckets_received_between: Callable[[datetime, datetime], set[Bucket]]
    publish_records: Callable[[list[dict]], int]
    publish_outbox_between: Callable[[datetime, datetime], int]
    wait_seconds: float = 300.0
    clock: Callable[[], datetime] = utcnow


@dataclass
class ReplayOutcome:
    function: str
    source: str  # "stream" or "raw events"
    buckets: list[str] = field(default_factory=list)
    events_published: int = 0


def replay_failure(deps: ReplayDeps, record: dict[str, Any]) -> ReplayOutcome:
    """Replay one on-failure record of a stream event source."""
    info = record["DDBStreamBatchInfo"]
    function = record["requestContext"]["functionArn"].rsplit(":function:", 1)[-1]
    records = deps.read_stream(
        info["streamArn"], info["shardId"], info["startSequenceNumber"], info["endSequenceNumber"]
    )
    if "outbox" in function:
        if records is not None:
            return ReplayOutcome(function, "stream", events_published=deps.publish_records(records))
        first, last = _window(info, before=timedelta(minutes=5))
        return ReplayOutcome(function, "outbox items", events_published=deps.publish_outbox_between(first, last))
    if records is not None:
        buckets = {e.bucket for e in map(deps.decode, records) if e is not None}
        deps.watermarks.record(records)  # a probe in the batch: raise its partition's watermark
        source = "stream"
    else:
        buckets, source = deps.buckets_received_between(*_window(info)), "raw events"
    for bucket in sorted(buckets):
        rebuild_bucket(deps, bucket)
    return ReplayOutcome(function, source, buckets=["/".join(b) for b in sorted(buckets)])


def _window(info: dict[str, Any], before: timedelta = timedelta(minutes=1)) -> tuple[datetime, datetime]:
    """The batch's arrival window, widened: a record's item was written a little before it arrived."""
    first = parse_rfc3339(info["approximateArrivalOfFirstRecord"]) - before
    return first, parse_rfc3339(info["approximateArrivalOfLastRecord"]) + timedelta(minutes=1)


def rebuild_bucket(deps: ReplayDeps, bucket: Bucket) -> None:
    """Set the bucket to what its raw events add up to (see the module docstring for why it is exact)."""
    for _ in range(REBUILD_ATTEMPTS):
        marks = deps.rebuilder.bucket_marks(*bucket)
        deltas = fold(deps.rebuilder.raw_bucket_events(*bucket))
        wait_until_folded(deps, bucket[0])
        if not deltas:
            return
        delta = deltas[0]  # one aggregation function per meter
        additive = delta.function.value not in ("COUNT", "UNIQUE_COUNT")
        if deps.rebuilder.set_bucket(
            bucket, delta.function.value, delta.count, delta.total if additive else None, marks
        ):
            _apply_sets(deps, delta)
            return
    raise RuntimeError(f"bucket {'/'.join(bucket)} kept changing while it was rebuilt; run the replay again")


def _apply_sets(deps: ReplayDeps, delta: BucketDelta) -> None:
    from tollgate.usecases.usage import place_distinct

    if delta.sets_value:
        deps.usage_store.apply_idempotent(delta)
    if delta.uniques:
        place_distinct(delta, deps.usage_store)


def wait_until_folded(deps: ReplayDeps, tenant_id: str) -> None:
    """Probe every event partition of the tenant and wait until the aggregator has folded the probes."""
    cutoff = deps.clock()
    deps.watermarks.probe(tenant_id, cutoff, cutoff)
    deadline = time.monotonic() + deps.wait_seconds
    while True:
        marks = deps.watermarks.watermarks(tenant_id)
        if len(marks) >= len(deps.watermarks.partitions()) and all(m >= cutoff for m in marks.values()):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the usage aggregator did not catch up on tenant {tenant_id}; run the replay again")
        time.sleep(0.2)


def replay_queue(
    receive: Callable[[], Iterable[tuple[dict[str, Any], Callable[[], None]]]], deps: ReplayDeps
) -> dict[str, Any]:
    """Replay every failure record ``receive`` yields (each with its delete); a failed replay stays queued."""
    done: list[dict[str, Any]] = []
    failed: list[dict[str, str]] = []
    for record, delete in receive():
        try:
            outcome = replay_failure(deps, record)
        except Exception as exc:  # kept in the queue for the next run, and reported
            failed.append({"error": f"{type(exc).__name__}: {exc}"})
            continue
        delete()
        done.append(outcome.__dict__)
    return {"replayed": done, "failed": failed}


def buckets_received_between(tenant_ids: Iterable[str], events: Any, first: datetime, last: datetime) -> set[Bucket]:
    """The buckets of the events stored between ``first`` and ``last`` (the ingestion index, by hour received)."""
    from tollgate.domain.usage.aggregation import hour_of
    from tollgate.domain.usage.events import format_ts

    buckets: set[Bucket] = set()
    for tenant_id in tenant_ids:
        hour = first.replace(minute=0, second=0, microsecond=0)
        while hour <= last:
            ids = {
                event_id
                for entry in events.index_hour(tenant_id, hour_of(hour), None, None)
                if first <= entry.received_at <= last
                for event_id in entry.accepted | entry.late
            }
            for stored in (events.get(tenant_id, sorted(ids)) if ids else {}).values():
                buckets.add((tenant_id, stored.customer_id, stored.meter_id, format_ts(stored.timestamp)[:13]))
            hour += timedelta(hours=1)
    return buckets
