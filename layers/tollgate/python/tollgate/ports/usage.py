"""Ports of usage ingestion and aggregation. DynamoDB adapters: ``tollgate.adapters.dynamodb.usage_events``
(raw events, the event log) and ``tollgate.adapters.dynamodb.usage`` (buckets, rate counters, settings)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from tollgate.domain.events import DomainEvent
from tollgate.domain.usage.aggregation import Bucket, BucketDelta
from tollgate.domain.usage.distinct import Placement, ValueHistory
from tollgate.domain.usage.events import StoredEvent


class InsertOutcome(StrEnum):
    INSERTED = "INSERTED"
    EXISTS = "EXISTS"  # an event with this id was stored before (by this request's retried call or earlier)


@dataclass(frozen=True)
class LogEntry:
    """A line of the event log that is not a stored event: a rejection or a repeat (DUPLICATE)."""

    tenant_id: str
    received_at: datetime
    request_id: str
    index: int
    status: str  # REJECTED | DUPLICATE
    code: str
    detail: str
    event_id: str | None
    external_customer_id: str | None
    customer_id: str | None
    event_name: str | None
    meter_id: str | None
    timestamp: datetime | None
    payload: str  # the event as received (compact JSON, truncated)


@dataclass(frozen=True)
class IndexEntry:
    """Which stored events a request stored for one customer and meter (the event log's index)."""

    tenant_id: str
    received_at: datetime
    request_id: str
    customer_id: str
    meter_id: str
    accepted: frozenset[str] = frozenset()
    late: frozenset[str] = frozenset()


@dataclass
class LogQuery:
    tenant_id: str
    hour: str
    customer_id: str | None = None
    external_customer_id: str | None = None
    meter_id: str | None = None
    event_name: str | None = None
    statuses: frozenset[str] = frozenset()


class UsageEventStore(Protocol):
    """Raw usage events (exactly once per tenant and event id) and the event log."""

    def insert(self, events: list[StoredEvent], retention_days: int | None = None) -> list[InsertOutcome]:
        """Store each event unless its (tenant, event id) exists: one conditional insert per event, in
        batches; the outcomes in the order of ``events``. ``retention_days`` (default: the store's) sets
        when they expire. Raises ``StoreUnavailable`` when some outcome stays unknown after retries."""
        ...

    def get(self, tenant_id: str, event_ids: list[str]) -> dict[str, StoredEvent]:
        """The stored events with these ids (strongly consistent)."""
        ...

    def append_log(self, entries: list[LogEntry], index: list[IndexEntry], retention_days: int | None = None) -> None:
        """Write rejections, duplicates and the index of stored events; they expire with the retention."""
        ...

    def index_hour(self, tenant_id: str, hour: str, customer_id: str | None, meter_id: str | None) -> list[IndexEntry]:
        """The index entries of requests received in ``hour`` ("2026-04-17T10"), optionally of one customer/meter."""
        ...

    def log_hour(self, query: LogQuery) -> list[LogEntry]:
        """The log entries of requests received in ``query.hour`` that match the query."""
        ...


class UsageStore(Protocol):
    def apply_guarded(self, delta: BucketDelta) -> dict[str, str] | None:
        """Add the delta's count and sum if none of its records was applied yet (per event
        shard watermark). Returns None when applied, else the watermarks stored on the bucket (so that
        only the rest is applied)."""

    def apply_idempotent(self, delta: BucketDelta) -> None:
        """MAX and LATEST: conditional sets, safe to repeat."""

    def value_histories(
        self, tenant_id: str, customer_id: str, meter_id: str, hour: str, keys: list[str]
    ) -> dict[str, ValueHistory]:
        """UNIQUE_COUNT: the stored history of each value key (strongly consistent; a value never stored
        has version 0), with the hours of ``hour``'s month."""

    def place_values(
        self, tenant_id: str, customer_id: str, meter_id: str, placements: dict[str, tuple[int, Placement]]
    ) -> None:
        """UNIQUE_COUNT: store each placement (value key -> (version read, placement)) with its histogram
        changes, atomically per value; raises ``ConcurrentUpdate`` when a value's version moved."""

    def buckets(self, tenant_id: str, customer_id: str, meter_id: str, first_hour: str, last_hour: str) -> list[Bucket]:
        """Stored hours in [first_hour, last_hour], oldest first, with their distinct-value histograms."""


class RateLimiter(Protocol):
    def take(
        self,
        tenant_id: str,
        key_id: str,
        n: int,
        window_start: int,
        tenant_limit: int,
        key_limit: int,
        window_seconds: int,
    ) -> str | None:
        """Count ``n`` events in the fixed window; returns None, or which limit ("tenant" / "key") would be exceeded
        (then nothing is counted)."""


@dataclass(frozen=True)
class IngestSettings:
    rate_limit_per_second: int
    key_rate_limit_per_second: int
    retention_days: int

    def to_json(self) -> dict[str, int]:
        return {
            "rate_limit_per_second": self.rate_limit_per_second,
            "key_rate_limit_per_second": self.key_rate_limit_per_second,
            "retention_days": self.retention_days,
        }


class IngestSettingsRepository(Protocol):
    def get(self, tenant_id: str) -> dict[str, int]:
        """The tenant's overrides (possibly empty)."""

    def put(self, tenant_id: str, values: dict[str, int]) -> None: ...


class Outbox(Protocol):
    def add(self, events: list[DomainEvent]) -> None:
        """Record domain events for the relay; an event id already recorded is not recorded twice."""


class StoreUnavailable(Exception):
    """A store stayed unavailable (throttled, 5xx) after retries; the client should retry the request."""
