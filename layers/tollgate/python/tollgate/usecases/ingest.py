"""Ingest usage events: validate, store exactly once, log what happened, announce it.

One request (a single event or a batch of up to 1000) goes through, in order:

1. the rate limit of the tenant and of the key (429 with Retry-After when exceeded;
   ``ingest_settings``);
2. each event's own checks (``tollgate.domain.usage.parsing.parse_event``);
3. the customer (external id, a subscription's external id, or the customer key's own customer) and the
   meter (exact event name of an active meter), looked up once per distinct value in the request
   (``ingest_lookups``);
4. the meter's rules for the event (filters, aggregation field, numeric value);
5. one conditional insert per event (the write is the deduplication); for ids that existed, the stored
   payload hash says DUPLICATE (same payload: nothing changes) or IDEMPOTENCY_CONFLICT;
6. the event log (rejections, duplicates, and an index of what was stored) and, through the outbox, one
   ``usage.batch_accepted`` and one ``usage.events_rejected`` domain event per request (``ingest_log``).

Every event is judged before anything of the request is written, so an event that cannot be stored
never leaves the others half-written. A request that fails half-way (503) can be retried as it is: the
events it stored come back as its own duplicates and count once.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tollgate.domain.access import Caller
from tollgate.domain.catalog.meters import Meter, MeterStatus
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.customers import Customer
from tollgate.domain.errors import PayloadTooLarge
from tollgate.domain.usage.events import (
    MAX_BATCH,
    Code,
    EventStatus,
    IncomingEvent,
    Rejection,
    StoredEvent,
    conflict,
)
from tollgate.domain.usage.measure import measure, meter_archived, meter_not_found
from tollgate.domain.usage.parsing import parse_event
from tollgate.observability import count
from tollgate.ports.catalog import CatalogRepository
from tollgate.ports.customers import CustomerRepository, SubscriptionRepository
from tollgate.ports.usage import (
    IngestSettings,
    IngestSettingsRepository,
    InsertOutcome,
    LogEntry,
    Outbox,
    RateLimiter,
    UsageEventStore,
)
from tollgate.usecases import ingest_settings
from tollgate.usecases.ingest_log import (
    domain_events,
    duplicate_detail,
    index_entries,
    payload_text,
    raise_single_event_error,
    rejection_entry,
)
from tollgate.usecases.ingest_lookups import RequestLookups


@dataclass
class IngestDeps:
    events: UsageEventStore
    customers: CustomerRepository
    subscriptions: SubscriptionRepository
    catalog: CatalogRepository
    limiter: RateLimiter
    settings: IngestSettingsRepository
    outbox: Outbox
    defaults: IngestSettings


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    # Per event, in request order: (event_id, status, meter/customer context) for the compatibility APIs.
    outcomes: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [r.to_json() for r in self.rejected],
            "warnings": self.warnings,
        }


def effective_settings(deps: IngestDeps, tenant_id: str) -> IngestSettings:
    return ingest_settings.effective_settings(deps.settings, deps.defaults, tenant_id)


def update_settings(deps: IngestDeps, tenant_id: str, changes: Mapping[str, Any]) -> IngestSettings:
    return ingest_settings.update_settings(deps.settings, deps.defaults, tenant_id, changes)


@dataclass
class _Judged:
    """Every event of a request judged before anything is written."""

    rejections: dict[int, Rejection] = field(default_factory=dict)
    context: dict[int, tuple[Customer | None, Meter | None]] = field(default_factory=dict)
    to_store: list[tuple[IncomingEvent, StoredEvent]] = field(default_factory=list)
    repeats: list[tuple[IncomingEvent, StoredEvent]] = field(default_factory=list)  # same id twice in the request


@dataclass
class _Stored:
    """What the store answered: each stored event's status (and detail), what the tenant now holds."""

    statuses: dict[int, tuple[EventStatus, StoredEvent, str]] = field(default_factory=dict)
    stored_now: list[StoredEvent] = field(default_factory=list)


def ingest(
    deps: IngestDeps,
    caller: Caller,
    raw_events: list[Any],
    *,
    single: bool,
    received_at: datetime,
    request_id: str,
) -> IngestResult:
    """Judge every event, store the accepted ones exactly once, log and announce the request."""
    if len(raw_events) > MAX_BATCH:
        raise PayloadTooLarge(
            f"A batch holds at most {MAX_BATCH} events; this one has {len(raw_events)}. "
            "Split it into several requests.",
            code="BATCH_TOO_LARGE",
        )
    settings = effective_settings(deps, caller.tenant_id)
    ingest_settings.take_rate_limit(deps.limiter, caller, settings, len(raw_events), received_at)
    judged = _judge(deps, caller, raw_events, received_at)
    stored = _store(deps, caller.tenant_id, judged, settings, received_at)
    nonce = secrets.token_hex(6)
    result, log = _report(caller.tenant_id, raw_events, judged, stored, received_at, nonce)
    entries = index_entries(caller.tenant_id, received_at, nonce, stored.stored_now)
    if log or entries:
        deps.events.append_log(log, entries, settings.retention_days)
    deps.outbox.add(domain_events(caller.tenant_id, received_at, request_id, stored.stored_now, result.rejected))
    _count(result)
    if single and result.rejected:
        raise_single_event_error(result.rejected[0])
    return result


def _judge(deps: IngestDeps, caller: Caller, raw_events: list[Any], received_at: datetime) -> _Judged:
    lookups = RequestLookups(deps.customers, deps.subscriptions, deps.catalog, caller)
    judged = _Judged()
    first_of_id: dict[str, StoredEvent] = {}
    for index, raw in enumerate(raw_events):
        outcome = _judge_one(lookups, caller, raw, index, received_at, judged)
        if isinstance(outcome, Rejection):
            judged.rejections[index] = outcome
            continue
        event, stored = outcome
        earlier = first_of_id.get(event.event_id)
        if earlier is not None:  # the same id twice in one request: the first one is the one stored
            judged.repeats.append((event, earlier))
            continue
        first_of_id[event.event_id] = stored
        judged.to_store.append((event, stored))
    return judged


def _judge_one(
    lookups: RequestLookups, caller: Caller, raw: Any, index: int, received_at: datetime, judged: _Judged
) -> tuple[IncomingEvent, StoredEvent] | Rejection:
    """One event: its own checks, its customer, its meter and the meter's rules; the event to store."""
    parsed = parse_event(raw, index, received_at)
    if isinstance(parsed, Rejection):
        return parsed
    customer = lookups.customer_of(parsed)
    if isinstance(customer, Rejection):
        return customer
    meter, similar = lookups.meter(parsed.event_name)
    judged.context[index] = (customer, meter)
    if meter is None or (meter.status is not MeterStatus.ACTIVE and similar):
        return meter_not_found(parsed, similar)
    if meter.status is not MeterStatus.ACTIVE:
        return meter_archived(parsed, meter)
    value = measure(parsed, meter)
    if isinstance(value, Rejection):
        return value
    return parsed, StoredEvent(
        tenant_id=caller.tenant_id,
        event_id=parsed.event_id,
        customer_id=customer.customer_id,
        external_customer_id=customer.external_id,
        meter_id=meter.meter_id,
        event_name=meter.event_name,
        function=meter.aggregation.function,
        value=value,
        timestamp=parsed.timestamp,
        quantity=parsed.quantity,
        properties_json=parsed.properties_json,
        payload_hash=parsed.payload_hash,
        status=EventStatus.LATE if parsed.late else EventStatus.ACCEPTED,
        received_at=received_at,
        key_id=caller.key_id,
    )


def _store(deps: IngestDeps, tenant: str, judged: _Judged, settings: IngestSettings, received_at: datetime) -> _Stored:
    """Insert the accepted events; an id that existed is a DUPLICATE (same payload) or IDEMPOTENCY_CONFLICT."""
    to_store = judged.to_store
    outcomes = deps.events.insert([s for _, s in to_store], settings.retention_days) if to_store else []
    existing_ids = [s.event_id for (_, s), o in zip(to_store, outcomes, strict=True) if o is InsertOutcome.EXISTS]
    existing = deps.events.get(tenant, existing_ids) if existing_ids else {}
    out = _Stored()
    for (event, stored), outcome in zip(to_store, outcomes, strict=True):
        if outcome is InsertOutcome.INSERTED:
            out.statuses[event.index] = (stored.status, stored, "")
            out.stored_now.append(stored)
            continue
        before = existing.get(stored.event_id)
        if before is not None and before.payload_hash != stored.payload_hash:
            judged.rejections[event.index] = conflict(event, before)
            continue
        before = before or stored
        if before.received_at == received_at:  # stored by this very request (a retried call): accepted
            out.statuses[event.index] = (before.status, before, "")
        else:
            out.statuses[event.index] = (EventStatus.DUPLICATE, before, duplicate_detail(event, before))
        out.stored_now.append(before)
    for event, earlier in judged.repeats:
        if earlier.payload_hash == event.payload_hash:
            detail = duplicate_detail(event, earlier, same_request=True)
            out.statuses[event.index] = (EventStatus.DUPLICATE, earlier, detail)
        else:
            judged.rejections[event.index] = conflict(event, earlier)
    return out


def _report(
    tenant: str, raw_events: list[Any], judged: _Judged, stored: _Stored, received_at: datetime, nonce: str
) -> tuple[IngestResult, list[LogEntry]]:
    """The answer, in request order, and the event log's lines for rejections and duplicates."""
    result = IngestResult()
    log: list[LogEntry] = []
    assigned = {event.index for event, _ in judged.to_store if event.id_assigned}
    for index, raw in enumerate(raw_events):
        if index in judged.rejections:
            r = judged.rejections[index]
            result.rejected.append(r)
            customer, meter = judged.context.get(index, (None, None))
            log.append(rejection_entry(tenant, received_at, nonce, raw, r, customer, meter))
            result.outcomes.append({"index": index, "status": EventStatus.REJECTED.value, "event_id": r.event_id})
            continue
        status, event, detail = stored.statuses[index]
        result.outcomes.append({"index": index, "status": status.value, "event_id": event.event_id, "stored": event})
        if status is EventStatus.DUPLICATE:
            result.duplicates += 1
            log.append(_duplicate_entry(event, index, detail, raw, received_at, nonce))
            continue
        result.accepted += 1
        if index in assigned:
            result.warnings.append(_assigned_id_warning(index, event))
        if status is EventStatus.LATE:
            result.warnings.append(_late_warning(index, event))
    return result, log


def _duplicate_entry(
    stored: StoredEvent, index: int, detail: str, raw: Any, received_at: datetime, nonce: str
) -> LogEntry:
    return LogEntry(
        tenant_id=stored.tenant_id,
        received_at=received_at,
        request_id=nonce,
        index=index,
        status=EventStatus.DUPLICATE.value,
        code=Code.DUPLICATE_EVENT.value,
        detail=detail,
        event_id=stored.event_id,
        external_customer_id=stored.external_customer_id,
        customer_id=stored.customer_id,
        event_name=stored.event_name,
        meter_id=stored.meter_id,
        timestamp=stored.timestamp,
        payload=payload_text(raw),
    )


def _assigned_id_warning(index: int, stored: StoredEvent) -> dict[str, Any]:
    return {
        "index": index,
        "event_id": stored.event_id,
        "code": Code.EVENT_ID_ASSIGNED.value,
        "detail": f"the event had no event_id: it was counted as a new event with the id {stored.event_id}. "
        "A retry of this request would count it again; send your own event_id to make retries safe.",
    }


def _late_warning(index: int, stored: StoredEvent) -> dict[str, Any]:
    return {
        "index": index,
        "event_id": stored.event_id,
        "code": Code.LATE_EVENT.value,
        "detail": f"timestamp {to_rfc3339(stored.timestamp)} is 24 hours or more in the past: accepted and "
        "flagged as a late arrival. Many late arrivals usually mean a wrong server clock (check NTP) "
        "or a delayed queue.",
    }


def _count(result: IngestResult) -> None:
    """Business metrics: events accepted, duplicates, and rejections by code."""
    if result.accepted:
        count("EventsAccepted", result.accepted)
    if result.duplicates:
        count("EventsDuplicate", result.duplicates)
    by_code: dict[str, int] = {}
    for r in result.rejected:
        by_code[r.code.value] = by_code.get(r.code.value, 0) + 1
    for code, n in sorted(by_code.items()):
        count("EventsRejected", n, code=code)
