"""Aggregation of stored events into hourly buckets, the usage query (seed 001's "Query Tool") and the
event log (seed 001's "Event Debugger")."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from tollgate.domain.access import Caller, KeyKind
from tollgate.domain.catalog.meters import Meter
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.customers import Customer
from tollgate.domain.errors import InvalidInput, NotFound, ServiceUnavailable
from tollgate.domain.retry import retry_on_conflict
from tollgate.domain.usage.aggregation import (
    BucketDelta,
    StreamEvent,
    Window,
    beyond,
    combine,
    floor_to,
    fold,
    hour_of,
    windows,
)
from tollgate.domain.usage.distinct import Placement, ValueHistory, key_shard, place, value_key
from tollgate.domain.usage.events import Code, EventStatus, StoredEvent, decimal_text, format_ts
from tollgate.ports.catalog import CatalogRepository
from tollgate.ports.customers import CustomerRepository
from tollgate.ports.usage import LogQuery, UsageEventStore, UsageStore
from tollgate.usecases.event_log_pages import log_page, resume_point, resumed_end

MAX_GUARD_ROUNDS = 5
# Values read (two items each: one BatchGetItem) and placed together (one transaction: two items each and up to
# one histogram entry per shard for first occurrences: 2 * 42 + 16 = 100, DynamoDB's transaction limit).
VALUES_PER_PLACEMENT = 42
PLACEMENT_ATTEMPTS = 6


# -- aggregation (the stream consumer) ----------------------------------------------------------------
def aggregate(events: Iterable[StreamEvent], store: UsageStore) -> int:
    """Fold one stream batch into its buckets: one UpdateItem per bucket (two for MAX and LATEST). Safe to
    run again on the same records (Lambda redelivers a failed batch, possibly bisected or extended): the
    additive part only takes the records beyond the bucket's watermarks; MAX/LATEST are conditional sets;
    UNIQUE_COUNT values are placed in their histories (``place_distinct``), a no-op for an hour placed.
    Returns the number of buckets written."""
    written = 0
    for delta in fold(events):
        current = delta
        for _ in range(MAX_GUARD_ROUNDS):
            applied = store.apply_guarded(current)
            if applied is None:
                written += 1
                break
            rest = beyond(current, applied)
            if rest is None:  # all of it was applied by an earlier delivery
                break
            current = rest
        else:
            raise RuntimeError(
                f"bucket {delta.customer_id}/{delta.meter_id}/{delta.hour} kept changing under the aggregator"
            )
        if delta.sets_value:
            store.apply_idempotent(delta)
        if delta.uniques:
            place_distinct(delta, store)
    return written


def place_distinct(delta: BucketDelta, store: UsageStore) -> int:
    """Place the delta's distinct values in its hour (``tollgate.domain.usage.distinct``): read their
    histories, then write the values new to the hour with their histogram changes. A value whose history
    changed meanwhile (another shard's batch) is read again. Returns the values newly placed."""
    keys = sorted({value_key(v) for v in delta.uniques}, key=lambda k: (key_shard(k), k))  # a shard per placement
    placed = 0
    for start in range(0, len(keys), VALUES_PER_PLACEMENT):
        chunk = keys[start : start + VALUES_PER_PLACEMENT]
        placed += retry_on_conflict(
            partial(_place_chunk, delta, chunk, store),
            exhausted=f"distinct values of {delta.customer_id}/{delta.meter_id}/{delta.hour} kept changing",
            attempts=PLACEMENT_ATTEMPTS,
        )
    return placed


def _place_chunk(delta: BucketDelta, keys: list[str], store: UsageStore) -> int:
    histories = store.value_histories(delta.tenant_id, delta.customer_id, delta.meter_id, delta.hour, keys)
    placements: dict[str, tuple[int, Placement]] = {}
    for key in keys:
        history = histories.get(key, ValueHistory())
        placement = place(history, delta.hour)
        if placement is not None:
            placements[key] = (history.version, placement)
    if placements:
        store.place_values(delta.tenant_id, delta.customer_id, delta.meter_id, placements)
    return len(placements)


# -- who and what a query is about ------------------------------------------------------------------
def _customer(
    customers: CustomerRepository, caller: Caller, customer_id: str | None, external_id: str | None, *, required: bool
) -> Customer | None:
    if caller.kind is KeyKind.CUSTOMER:
        own = customers.get(caller.tenant_id, caller.customer_id or "")
        if own is None:
            raise NotFound(f"The customer of this API key ({caller.customer_id}) does not exist.")
        if (customer_id and customer_id != own.customer_id) or (external_id and external_id != own.external_id):
            raise NotFound("A customer API key reads its own customer's usage only: leave the customer out.")
        return own
    if customer_id:
        c = customers.get(caller.tenant_id, customer_id)
        if c is None:
            raise NotFound(f"Customer not found: {customer_id}.")
        return c
    if external_id:
        c = customers.get_by_external_id(caller.tenant_id, external_id)
        if c is None:
            raise NotFound(f"No customer has external_customer_id {external_id!r}.")
        return c
    if required:
        raise InvalidInput("Name the customer: customer_id or external_customer_id.", field="customer_id")
    return None


def _meter(
    catalog: CatalogRepository, tenant_id: str, meter_id: str | None, event_name: str | None, *, required: bool
) -> Meter | None:
    if meter_id:
        m = catalog.get_meter(tenant_id, meter_id)
        if m is None:
            raise NotFound(f"Meter not found: {meter_id}.")
        return m
    if event_name:
        m = catalog.find_meter_by_event_name(tenant_id, event_name)
        if m is None:
            similar = [x.event_name for x in catalog.find_meters_by_event_name_ignoring_case(tenant_id, event_name)]
            hint = f" Did you mean {' or '.join(repr(s) for s in sorted(set(similar)))}?" if similar else ""
            raise NotFound(f"No meter has the event name {event_name!r}.{hint}")
        return m
    if required:
        raise InvalidInput("Name the meter: meter_id or event_name.", field="meter_id")
    return None


def _range(
    start: datetime | None, end: datetime | None, default_span: timedelta | None, now: datetime
) -> tuple[datetime, datetime]:
    end = end or now
    if start is None:
        start = end - default_span if default_span else floor_to(end, Window.MONTH)
    if start >= end:
        raise InvalidInput("from must be before to.", field="from")
    return start, end


MAX_WINDOWS = {Window.HOUR: 24 * 31, Window.DAY: 400, Window.MONTH: 36}


def usage_report(
    customers: CustomerRepository,
    catalog: CatalogRepository,
    store: UsageStore,
    caller: Caller,
    *,
    customer_id: str | None,
    external_customer_id: str | None,
    meter_id: str | None,
    event_name: str | None,
    start: datetime | None,
    end: datetime | None,
    window: Window | None,
    now: datetime,
) -> dict[str, Any]:
    customer = _customer(customers, caller, customer_id, external_customer_id, required=True)
    meter = _meter(catalog, caller.tenant_id, meter_id, event_name, required=True)
    assert customer is not None and meter is not None
    start, end = _range(start, end, None, now)
    span_windows = window or Window.DAY
    count = 0
    cursor = floor_to(start, span_windows)
    from tollgate.domain.usage.aggregation import next_start

    while cursor < end and count <= MAX_WINDOWS[span_windows]:
        cursor, count = next_start(cursor, span_windows), count + 1
    if count > MAX_WINDOWS[span_windows]:
        raise InvalidInput(
            f"At most {MAX_WINDOWS[span_windows]} {span_windows.value.lower()} windows per query; "
            "narrow from/to or use a larger window.",
            field="window",
        )
    first, last = hour_of(start), hour_of(end - timedelta(microseconds=1))
    buckets = [b for b in store.buckets(caller.tenant_id, customer.customer_id, meter.meter_id, first, last)]
    function = meter.aggregation.function
    body: dict[str, Any] = {
        "customer_id": customer.customer_id,
        "external_customer_id": customer.external_id,
        "meter_id": meter.meter_id,
        "event_name": meter.event_name,
        "aggregation": meter.aggregation.to_json(),
        "from": to_rfc3339(floor_to(start, Window.HOUR)),
        "to": to_rfc3339(end),
        "window": window.value if window else None,
        "value": decimal_text(combine(function, buckets, first)),
    }
    if window:
        body["data"] = [
            {"from": to_rfc3339(w.start), "to": to_rfc3339(w.end), "value": decimal_text(w.value)}
            for w in windows(function, buckets, start, end, window)
        ]
    return body


# -- the event log ------------------------------------------------------------------------------------
STORED = frozenset({EventStatus.ACCEPTED.value, EventStatus.LATE.value})
LOGGED = frozenset({EventStatus.DUPLICATE.value, EventStatus.REJECTED.value})
MAX_LOG_SPAN = timedelta(days=31)


@dataclass
class EventLogQuery:
    customer_id: str | None = None
    external_customer_id: str | None = None
    meter_id: str | None = None
    event_name: str | None = None
    status: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    limit: int = 100
    cursor: str | None = None  # the next_cursor of the previous page


def list_event_log(
    events: UsageEventStore,
    customers: CustomerRepository,
    catalog: CatalogRepository,
    caller: Caller,
    q: EventLogQuery,
    *,
    now: datetime,
) -> dict[str, Any]:
    """What ingestion did, newest first: stored events (ACCEPTED, LATE) and the submissions it did not
    store (REJECTED with the reason, DUPLICATE). ``from``/``to`` bound the time Tollgate received them
    (default: the 24 hours before ``now``; at most 31 days)."""
    tenant = caller.tenant_id
    try:
        customer = _customer(customers, caller, q.customer_id, None, required=False)
    except NotFound:
        customer = None
        if q.customer_id:
            raise
    external = q.external_customer_id
    if customer is None and external:
        customer = customers.get_by_external_id(tenant, external)
    if caller.kind is KeyKind.CUSTOMER and customer is not None:
        if external and external != customer.external_id:
            raise NotFound("A customer API key reads its own customer's events only.")
        external = customer.external_id
    meter = None
    if q.meter_id or q.event_name:
        try:
            meter = _meter(catalog, tenant, q.meter_id, q.event_name, required=False)
        except NotFound:
            if q.meter_id:
                raise
    statuses = {q.status} if q.status else set(STORED | LOGGED)
    start, end = _range(q.start, q.end, timedelta(hours=24), now)
    if end - start > MAX_LOG_SPAN:
        raise InvalidInput("from and to may be at most 31 days apart.", field="from")
    resume = resume_point(q.cursor, tenant)
    end, wanted = resumed_end(end, resume), q.limit + (resume[1] if resume else 0)
    entries: list[dict[str, Any]] = []
    wanted_ids: dict[str, str] = {}  # event id -> status from the index
    hour = floor_to(end - timedelta(microseconds=1), Window.HOUR)
    customer_unknown = customer is None and bool(external)
    while hour >= floor_to(start, Window.HOUR) and len(entries) + len(wanted_ids) <= wanted:
        key = hour_of(hour)
        if statuses & STORED and not customer_unknown and not (q.event_name and meter is None):
            for entry in events.index_hour(
                tenant, key, customer.customer_id if customer else None, meter.meter_id if meter else None
            ):
                if not start <= entry.received_at < end:
                    continue
                if EventStatus.ACCEPTED.value in statuses:
                    for event_id in entry.accepted:
                        wanted_ids.setdefault(event_id, EventStatus.ACCEPTED.value)
                if EventStatus.LATE.value in statuses:
                    for event_id in entry.late:
                        wanted_ids.setdefault(event_id, EventStatus.LATE.value)
        if statuses & LOGGED:
            query = LogQuery(
                tenant_id=tenant,
                hour=key,
                external_customer_id=external,
                meter_id=None,
                event_name=q.event_name if q.event_name else (meter.event_name if meter else None),
                statuses=frozenset(statuses & LOGGED),
            )
            for line in events.log_hour(query):
                if start <= line.received_at < end:
                    entries.append(_log_json(line))
        hour -= timedelta(hours=1)
    stored = events.get(tenant, list(wanted_ids)) if wanted_ids else {}
    entries.extend(_stored_json(event) for event in stored.values())
    page, next_cursor = log_page(entries, q.limit, resume, tenant)
    return {
        "data": page,
        "from": to_rfc3339(start),
        "to": to_rfc3339(q.end or now),
        "has_more": next_cursor is not None,
        "next_cursor": next_cursor,
    }


def _stored_json(event: StoredEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "status": event.status.value,
        "code": Code.LATE_EVENT.value if event.status is EventStatus.LATE else None,
        "reason": (
            "accepted; flagged as a late arrival (timestamp 24 hours or more before it was received)"
            if event.status is EventStatus.LATE
            else "accepted"
        ),
        "external_customer_id": event.external_customer_id,
        "customer_id": event.customer_id,
        "event_name": event.event_name,
        "meter_id": event.meter_id,
        "timestamp": format_ts(event.timestamp),
        "received_at": format_ts(event.received_at),
        "quantity": decimal_text(event.quantity),
        "properties": json.loads(event.properties_json, parse_float=Decimal),
    }


def _log_json(line) -> dict[str, Any]:
    try:
        payload: Any = json.loads(line.payload, parse_float=Decimal)
    except ValueError:
        payload = line.payload
    return {
        "event_id": line.event_id,
        "status": line.status,
        "code": line.code,
        "reason": line.detail,
        "external_customer_id": line.external_customer_id,
        "customer_id": line.customer_id,
        "event_name": line.event_name,
        "meter_id": line.meter_id,
        "timestamp": format_ts(line.timestamp) if line.timestamp else None,
        "received_at": format_ts(line.received_at),
        "payload": payload,
        "_index": line.index,
    }


def unavailable(detail: str) -> ServiceUnavailable:
    """503 with Retry-After: a store stayed unavailable; the request is safe to retry as it is."""
    return ServiceUnavailable(detail, code="STORE_UNAVAILABLE", retry_after=1)  # rendered as the Retry-After header
