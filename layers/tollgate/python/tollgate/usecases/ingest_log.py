"""What an ingestion request leaves behind: the event log (rejections, duplicates, the index of stored
events), the domain events announcing the batch, and the HTTP error of a single rejected event."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

from tollgate.domain.catalog.meters import Meter
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.customers import Customer
from tollgate.domain.errors import BadRequest, Conflict, Forbidden
from tollgate.domain.event_types import UsageBatchData, UsageRejectedData
from tollgate.domain.events import DomainEvent
from tollgate.domain.usage.canonical import canonical_json
from tollgate.domain.usage.events import SINGLE_EVENT_STATUS, EventStatus, IncomingEvent, Rejection, StoredEvent
from tollgate.ports.usage import IndexEntry, LogEntry

MAX_REJECTIONS_IN_DOMAIN_EVENT = 50
MAX_PAYLOAD_TEXT = 4000
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def duplicate_detail(event: IncomingEvent, before: StoredEvent, *, same_request: bool = False) -> str:
    where = "earlier in this request" if same_request else f"at {to_rfc3339(before.received_at)}"
    return f"event_id {event.event_id!r} was received {where} with the same payload: not counted again."


def payload_text(raw: Any) -> str:
    """The event as received, for the event log: compact JSON, or its repr as a JSON string when it holds
    what JSON cannot (a number out of range); lone surrogates replaced by U+FFFD, so it is always storable."""
    try:
        text = canonical_json(raw)
    except (TypeError, ValueError, RecursionError):
        text = json.dumps(repr(raw)[:MAX_PAYLOAD_TEXT], ensure_ascii=False)
    return _LONE_SURROGATE.sub("\ufffd", text)


def rejection_entry(
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
        payload=payload_text(raw),
    )


def index_entries(tenant: str, at: datetime, nonce: str, stored: list[StoredEvent]) -> list[IndexEntry]:
    groups: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
    for s in stored:
        accepted, late = groups.setdefault((s.customer_id, s.meter_id), (set(), set()))
        (late if s.status is EventStatus.LATE else accepted).add(s.event_id)
    return [
        IndexEntry(tenant, at, nonce, customer_id, meter_id, frozenset(accepted), frozenset(late))
        for (customer_id, meter_id), (accepted, late) in groups.items()
    ]


def domain_events(
    tenant: str, at: datetime, request_id: str, stored: list[StoredEvent], rejected: list[Rejection]
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
                    **UsageBatchData(
                        events=len(stored),
                        late=sum(1 for s in stored if s.status is EventStatus.LATE),
                        by_event_name=dict(sorted(by_meter.items())[:50]),
                        customers=customers[:50],
                        customer_count=len(customers),
                    )
                },
            ).with_id("batch", digest)
        )
    if rejected:
        events.append(
            DomainEvent(
                "usage.events_rejected",
                tenant,
                at,
                {
                    **UsageRejectedData(
                        request_id=request_id,
                        count=len(rejected),
                        rejected=[
                            {**r.to_json(), "external_customer_id": r.external_customer_id, "event_name": r.event_name}
                            for r in rejected[:MAX_REJECTIONS_IN_DOMAIN_EVENT]
                        ],
                        truncated=len(rejected) > MAX_REJECTIONS_IN_DOMAIN_EVENT,
                    )
                },
            ).with_id("rejected", request_id, to_rfc3339(at))
        )
    return events


def raise_single_event_error(r: Rejection) -> None:
    status = SINGLE_EVENT_STATUS.get(r.code)
    if status is None:
        return
    error = {400: BadRequest, 403: Forbidden, 409: Conflict}[status]
    raise error(r.detail, code=r.code.value, event_id=r.event_id)
