"""Ingest usage events: validate, store exactly once, log what happened, announce it.

One request (a single event or a batch of up to 1000) goes through, in order:

1. the rate limit of the tenant and of the key (429 with Retry-After when exceeded);
2. each event's own checks (``tollgate.domain.usage.parsing.parse_event``);
3. the customer (external id, a subscription's external id, or the customer key's own customer) and the
   meter (exact event name of an active meter), looked up once per distinct value in the request;
4. the meter's rules for the event (filters, aggregation field, numeric value);
5. one conditional insert per event (the write is the deduplication); for ids that existed, the stored
   payload hash says DUPLICATE (same payload: nothing changes) or IDEMPOTENCY_CONFLICT;
6. the event log (rejections, duplicates, and an index of what was stored) and, through the outbox, one
   ``usage.batch_accepted`` and one ``usage.events_rejected`` domain event per request.

A request that fails half-way (503) can be retried as it is: the events it stored come back as its
own duplicates and count once.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from tollgate.domain.access import Caller, KeyKind
from tollgate.domain.catalog.meters import Meter, MeterStatus
from tollgate.domain.customers import Customer
from tollgate.domain.errors import BadRequest, Conflict, Forbidden, InvalidInput, PayloadTooLarge, TooManyRequests
from tollgate.domain.events import DomainEvent
from tollgate.domain.usage.events import (
    MAX_BATCH,
    SINGLE_EVENT_STATUS,
    Code,
    EventStatus,
    IncomingEvent,
    Rejection,
    StoredEvent,
    conflict,
    format_ts,
)
from tollgate.domain.usage.measure import measure, meter_archived, meter_not_found
from tollgate.domain.usage.parsing import canonical_json, parse_event
from tollgate.ports.catalog import CatalogRepository
from tollgate.ports.customers import CustomerRepository, SubscriptionRepository
from tollgate.ports.usage import (
    IndexEntry,
    IngestSettings,
    IngestSettingsRepository,
    InsertOutcome,
    LogEntry,
    Outbox,
    RateLimiter,
    UsageEventStore,
)

RATE_WINDOW_SECONDS = 1
MAX_REJECTIONS_IN_DOMAIN_EVENT = 50


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
    overrides = deps.settings.get(tenant_id)
    return IngestSettings(**{**deps.defaults.to_json(), **overrides})


SETTING_RANGES = {
    "rate_limit_per_second": (1, 1_000_000),
    "key_rate_limit_per_second": (1, 1_000_000),
    "retention_days": (1, 3650),
}


def update_settings(deps: IngestDeps, tenant_id: str, changes: Mapping[str, Any]) -> IngestSettings:
    values = {}
    for name, value in changes.items():
        if value is None:
            continue
        low, high = SETTING_RANGES[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(f"{name} must be a whole number from {low} to {high}.", field=name)
        values[name] = value
    deps.settings.put(tenant_id, {**deps.settings.get(tenant_id), **values})
    return effective_settings(deps, tenant_id)


def _rate_limit(deps: IngestDeps, caller: Caller, settings: IngestSettings, n: int, at: datetime) -> None:
    limit = min(settings.rate_limit_per_second, settings.key_rate_limit_per_second)
    if n > limit:
        raise TooManyRequests(
            f"This request holds {n} events, more than this key may send per second ({limit}): send smaller "
            "batches, or ask an OWNER/ADMIN to raise the limit (PUT /v1/ingest/settings).",
            retry_after=RATE_WINDOW_SECONDS,
            code="RATE_LIMITED",
        )
    window = int(at.timestamp()) // RATE_WINDOW_SECONDS * RATE_WINDOW_SECONDS
    exceeded = deps.limiter.take(
        caller.tenant_id,
        caller.key_id,
        n,
        window,
        settings.rate_limit_per_second,
        settings.key_rate_limit_per_second,
        RATE_WINDOW_SECONDS,
    )
    if exceeded:
        which = (
            f"the tenant's ingestion rate limit ({settings.rate_limit_per_second} events per second)"
            if exceeded == "tenant"
            else f"this key's ingestion rate limit ({settings.key_rate_limit_per_second} events per second)"
        )
        raise TooManyRequests(
            f"Too many events: {which} is used up for this second. Retry after the Retry-After delay with "
            "exponential backoff, and send events in bulk (up to 1000 per request) rather than one by one.",
            retry_after=RATE_WINDOW_SECONDS,
            code="RATE_LIMITED",
            limit=exceeded,
        )


class _Lookups:
    """Customers and meters of one request, each looked up once."""

    def __init__(self, deps: IngestDeps, caller: Caller) -> None:
        self.deps, self.caller = deps, caller
        self._customers: dict[str, Customer | None] = {}
        self._subscriptions: dict[str, Any] = {}
        self._meters: dict[str, tuple[Meter | None, list[Meter]]] = {}
        self._own: tuple[Customer | None] | None = None

    def own_customer(self) -> Customer | None:
        if self._own is None:
            self._own = (self.deps.customers.get(self.caller.tenant_id, self.caller.customer_id or ""),)
        return self._own[0]

    def customer_by_external_id(self, external_id: str) -> Customer | None:
        if external_id not in self._customers:
            self._customers[external_id] = self.deps.customers.get_by_external_id(self.caller.tenant_id, external_id)
        return self._customers[external_id]

    def customer_by_id(self, customer_id: str) -> Customer | None:
        key = "\x00" + customer_id
        if key not in self._customers:
            self._customers[key] = self.deps.customers.get(self.caller.tenant_id, customer_id)
        return self._customers[key]

    def subscription(self, external_id: str):
        if external_id not in self._subscriptions:
            self._subscriptions[external_id] = self.deps.subscriptions.get_by_external_id(
                self.caller.tenant_id, external_id
            )
        return self._subscriptions[external_id]

    def meter(self, event_name: str) -> tuple[Meter | None, list[Meter]]:
        if event_name not in self._meters:
            meter = self.deps.catalog.find_meter_by_event_name(self.caller.tenant_id, event_name)
            similar: list[Meter] = []
            if meter is None or meter.status is not MeterStatus.ACTIVE:
                similar = [
                    m
                    for m in self.deps.catalog.find_meters_by_event_name_ignoring_case(
                        self.caller.tenant_id, event_name
                    )
                    if m.status is MeterStatus.ACTIVE
                ]
            self._meters[event_name] = (meter, similar)
        return self._meters[event_name]

    def customer_of(self, event: IncomingEvent) -> Customer | Rejection:
        def reject(code: Code, detail: str) -> Rejection:
            return Rejection(
                event.index, code, detail, event.event_id, event.external_customer_id, event.event_name, event.timestamp
            )

        via_subscription = None
        if event.external_subscription_id:
            sub = self.subscription(event.external_subscription_id)
            if sub is None:
                return reject(
                    Code.CUSTOMER_NOT_FOUND,
                    f"No subscription has external_subscription_id {event.external_subscription_id!r}: set it on the "
                    "subscription (external_id) or send external_customer_id.",
                )
            via_subscription = self.customer_by_id(sub.customer_id)
        if self.caller.kind is KeyKind.CUSTOMER:
            own = self.own_customer()
            if own is None:
                return reject(
                    Code.CUSTOMER_NOT_FOUND,
                    f"The customer of this API key ({self.caller.customer_id}) does not exist any more; create a key "
                    "for an existing customer.",
                )
            named = event.external_customer_id
            if (named is not None and named != own.external_id) or (
                via_subscription is not None and via_subscription.customer_id != own.customer_id
            ):
                return reject(
                    Code.CUSTOMER_NOT_ALLOWED,
                    f"This customer API key sends usage for customer {own.external_id!r} only; the event names "
                    f"{named or event.external_subscription_id!r}. Use that customer's key, or an operator key with usage:ingest.",
                )
            return own
        if event.external_customer_id is None:
            if via_subscription is not None:
                return via_subscription
            return reject(
                Code.MISSING_CUSTOMER,
                "external_customer_id is required (your id of the customer; seed payloads call it customerId). "
                "Only a customer API key may leave it out.",
            )
        customer = self.customer_by_external_id(event.external_customer_id)
        if customer is None:
            return reject(
                Code.CUSTOMER_NOT_FOUND,
                f"No customer has external_customer_id {event.external_customer_id!r}. Create the customer first "
                "(POST /v1/customers) or send the external_id of an existing one.",
            )
        if via_subscription is not None and via_subscription.customer_id != customer.customer_id:
            return reject(
                Code.INVALID_EVENT,
                f"Subscription {event.external_subscription_id!r} belongs to another customer than "
                f"{event.external_customer_id!r}; send one of them, or matching ones.",
            )
        return customer


def ingest(
    deps: IngestDeps,
    caller: Caller,
    raw_events: list[Any],
    *,
    single: bool,
    received_at: datetime,
    request_id: str,
) -> IngestResult:
    if len(raw_events) > MAX_BATCH:
        raise PayloadTooLarge(
            f"A batch holds at most {MAX_BATCH} events; this one has {len(raw_events)}. Split it into several requests.",
            code="BATCH_TOO_LARGE",
        )
    settings = effective_settings(deps, caller.tenant_id)
    _rate_limit(deps, caller, settings, len(raw_events), received_at)
    tenant = caller.tenant_id
    nonce = secrets.token_hex(6)
    lookups = _Lookups(deps, caller)
    result = IngestResult()
    rejections: dict[int, Rejection] = {}
    context: dict[int, tuple[Customer | None, Meter | None]] = {}
    to_store: list[tuple[IncomingEvent, StoredEvent]] = []
    first_of_id: dict[str, StoredEvent] = {}
    repeats: list[tuple[IncomingEvent, StoredEvent]] = []

    for index, raw in enumerate(raw_events):
        parsed = parse_event(raw, index, received_at)
        if isinstance(parsed, Rejection):
            rejections[index] = parsed
            continue
        customer = lookups.customer_of(parsed)
        if isinstance(customer, Rejection):
            rejections[index] = customer
            continue
        meter, similar = lookups.meter(parsed.event_name)
        context[index] = (customer, meter)
        if meter is None or (meter.status is not MeterStatus.ACTIVE and similar):
            rejections[index] = meter_not_found(parsed, similar)
            continue
        if meter.status is not MeterStatus.ACTIVE:
            rejections[index] = meter_archived(parsed, meter)
            continue
        value = measure(parsed, meter)
        if isinstance(value, Rejection):
            rejections[index] = value
            continue
        stored = StoredEvent(
            tenant_id=tenant,
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
        earlier = first_of_id.get(parsed.event_id)
        if earlier is not None:  # the same id twice in one request: the first one is the one stored
            repeats.append((parsed, earlier))
            continue
        first_of_id[parsed.event_id] = stored
        to_store.append((parsed, stored))

    outcomes = deps.events.insert([s for _, s in to_store], settings.retention_days) if to_store else []
    existing_ids = [s.event_id for (_, s), o in zip(to_store, outcomes, strict=True) if o is InsertOutcome.EXISTS]
    existing = deps.events.get(tenant, existing_ids) if existing_ids else {}

    stored_now: list[StoredEvent] = []  # every event the tenant now has from this request (new or earlier)
    statuses: dict[int, tuple[EventStatus, StoredEvent | None, str]] = {}
    for (event, stored), outcome in zip(to_store, outcomes, strict=True):
        if outcome is InsertOutcome.INSERTED:
            statuses[event.index] = (stored.status, stored, "")
            stored_now.append(stored)
            continue
        before = existing.get(stored.event_id)
        if before is None or before.payload_hash == stored.payload_hash:
            before = before or stored
            # Stored by this very request (a retried call whose first answer was lost): accepted.
            if before.received_at == received_at:
                statuses[event.index] = (before.status, before, "")
            else:
                statuses[event.index] = (EventStatus.DUPLICATE, before, _duplicate_detail(event, before))
            stored_now.append(before)
        else:
            rejections[event.index] = conflict(event, before)
    for event, earlier in repeats:
        if earlier.payload_hash == event.payload_hash:
            statuses[event.index] = (
                EventStatus.DUPLICATE,
                earlier,
                _duplicate_detail(event, earlier, same_request=True),
            )
        else:
            rejections[event.index] = conflict(event, earlier)

    log: list[LogEntry] = []
    for index in range(len(raw_events)):
        if index in rejections:
            r = rejections[index]
            result.rejected.append(r)
            customer, meter = context.get(index, (None, None))
            log.append(_log_entry(tenant, received_at, nonce, raw_events[index], r, customer, meter))
            result.outcomes.append({"index": index, "status": EventStatus.REJECTED.value, "event_id": r.event_id})
            continue
        status, stored, detail = statuses[index]
        result.outcomes.append({"index": index, "status": status.value, "event_id": stored.event_id, "stored": stored})
        if status is EventStatus.DUPLICATE:
            result.duplicates += 1
            log.append(
                LogEntry(
                    tenant_id=tenant,
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
                    payload=_payload(raw_events[index]),
                )
            )
            continue
        result.accepted += 1
        if status is EventStatus.LATE:
            result.warnings.append(
                {
                    "index": index,
                    "event_id": stored.event_id,
                    "code": Code.LATE_EVENT.value,
                    "detail": f"timestamp {format_ts(stored.timestamp)} is 24 hours or more in the past: accepted and "
                    "flagged as a late arrival. Many late arrivals usually mean a wrong server clock (check NTP) "
                    "or a delayed queue.",
                }
            )

    index_entries = _index(tenant, received_at, nonce, stored_now)
    if log or index_entries:
        deps.events.append_log(log, index_entries, settings.retention_days)
    deps.outbox.add(_domain_events(tenant, received_at, request_id, stored_now, result))

    if single and result.rejected:
        _raise_single(result.rejected[0])
    return result


def _duplicate_detail(event: IncomingEvent, before: StoredEvent, *, same_request: bool = False) -> str:
    where = "earlier in this request" if same_request else f"at {format_ts(before.received_at)}"
    detail = f"event_id {event.event_id!r} was received {where} with the same payload: not counted again."
    if event.id_derived:
        detail += (
            " This event had no event_id, so Tollgate derived one from its payload: identical payloads count once. "
            "Send a unique event_id per event to count identical usage more than once."
        )
    return detail


def _payload(raw: Any) -> str:
    try:
        return canonical_json(raw)
    except (TypeError, ValueError):
        return json.dumps(str(raw))


def _log_entry(
    tenant: str, at: datetime, nonce: str, raw: Any, r: Rejection, customer: Customer | None, meter: Meter | None
) -> LogEntry:
    return LogEntry(
        tenant_id=tenant,
        received_at=at,
        request_id=nonce,
        index=r.index,
        status=EventStatus.REJECTED.value,
        code=r.code.value,
        detail=r.detail,
        event_id=r.event_id,
        external_customer_id=customer.external_id if customer else r.external_customer_id,
        customer_id=customer.customer_id if customer else None,
        event_name=r.event_name,
        meter_id=meter.meter_id if meter else None,
        timestamp=r.timestamp,
        payload=_payload(raw),
    )


def _index(tenant: str, at: datetime, nonce: str, stored: list[StoredEvent]) -> list[IndexEntry]:
    groups: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
    for s in stored:
        accepted, late = groups.setdefault((s.customer_id, s.meter_id), (set(), set()))
        (late if s.status is EventStatus.LATE else accepted).add(s.event_id)
    return [
        IndexEntry(tenant, at, nonce, customer_id, meter_id, frozenset(a), frozenset(l))
        for (customer_id, meter_id), (a, l) in groups.items()
    ]


def _domain_events(
    tenant: str, at: datetime, request_id: str, stored: list[StoredEvent], result: IngestResult
) -> list[DomainEvent]:
    events = []
    if stored:
        ids = sorted(s.event_id for s in stored)
        digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()
        by_meter: dict[str, int] = {}
        for s in stored:
            by_meter[s.event_name] = by_meter.get(s.event_name, 0) + 1
        customers = sorted({s.external_customer_id for s in stored})
        # Time and id come from the stored events, so a retried request announces the same batch once.
        events.append(
            DomainEvent(
                "usage.batch_accepted",
                tenant,
                max(s.received_at for s in stored),
                {
                    "events": len(stored),
                    "late": sum(1 for s in stored if s.status is EventStatus.LATE),
                    "by_event_name": dict(sorted(by_meter.items())[:50]),
                    "customers": customers[:50],
                    "customer_count": len(customers),
                },
            ).with_id("batch", digest)
        )
    if result.rejected:
        events.append(
            DomainEvent(
                "usage.events_rejected",
                tenant,
                at,
                {
                    "request_id": request_id,
                    "count": len(result.rejected),
                    "rejected": [
                        {**r.to_json(), "external_customer_id": r.external_customer_id, "event_name": r.event_name}
                        for r in result.rejected[:MAX_REJECTIONS_IN_DOMAIN_EVENT]
                    ],
                    "truncated": len(result.rejected) > MAX_REJECTIONS_IN_DOMAIN_EVENT,
                },
            ).with_id("rejected", request_id, format_ts(at))
        )
    return events


def _raise_single(r: Rejection) -> None:
    status = SINGLE_EVENT_STATUS.get(r.code)
    if status is None:
        return
    error = {400: BadRequest, 403: Forbidden, 409: Conflict}[status]
    raise error(r.detail, code=r.code.value, event_id=r.event_id)


def plain_number(value: Decimal) -> int | str:
    return int(value) if value == value.to_integral_value() else str(value)
