"""Usage events: the limits, the codes of rejections, the event as parsed and as stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tollgate.domain.catalog.meters import AggregationFunction
from tollgate.domain.clock import to_rfc3339

MAX_BATCH = 1000
MAX_AGE = timedelta(days=90)
MAX_SKEW = timedelta(minutes=5)
LATE_AFTER = timedelta(hours=24)
MAX_ID_LENGTH = 255
MAX_NAME_LENGTH = 200
MAX_PROPERTIES_BYTES = 16_384  # the properties as compact JSON, UTF-8
# A UNIQUE_COUNT value (a string, or a number's canonical text) takes at most this many UTF-8 bytes: distinct
# values are stored one per item by aggregation (tollgate.domain.usage.aggregation), which relies on it.
MAX_DISTINCT_VALUE_LENGTH = 256
TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # the shape format_ts writes (4-digit year): fixed width, sorts as text


class EventStatus(StrEnum):
    ACCEPTED = "ACCEPTED"
    LATE = "LATE"  # accepted, but its timestamp is 24 h or more in the past
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"


class Code(StrEnum):
    INVALID_EVENT = "INVALID_EVENT"
    MISSING_EVENT_NAME = "MISSING_EVENT_NAME"
    MISSING_CUSTOMER = "MISSING_CUSTOMER"
    INVALID_TIMESTAMP = "INVALID_TIMESTAMP"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    EVENT_TOO_LARGE = "EVENT_TOO_LARGE"
    TIMESTAMP_TOO_OLD = "TIMESTAMP_TOO_OLD"
    TIMESTAMP_IN_FUTURE = "TIMESTAMP_IN_FUTURE"
    METER_NOT_FOUND = "METER_NOT_FOUND"
    METER_ARCHIVED = "METER_ARCHIVED"
    CUSTOMER_NOT_FOUND = "CUSTOMER_NOT_FOUND"
    CUSTOMER_NOT_ALLOWED = "CUSTOMER_NOT_ALLOWED"
    AGGREGATION_FIELD_MISSING = "AGGREGATION_FIELD_MISSING"
    AGGREGATION_FIELD_NOT_NUMERIC = "AGGREGATION_FIELD_NOT_NUMERIC"
    AGGREGATION_FIELD_INVALID = "AGGREGATION_FIELD_INVALID"
    FILTER_NOT_MATCHED = "FILTER_NOT_MATCHED"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    # Not rejections: what the event log says about accepted events and repeats.
    LATE_EVENT = "LATE_EVENT"
    DUPLICATE_EVENT = "DUPLICATE_EVENT"
    EVENT_ID_ASSIGNED = "EVENT_ID_ASSIGNED"


# A single event (not a batch) that breaks one of these answers with this HTTP status instead of 202:
# the request itself is wrong (seed 000: "Events more than 90 days old are rejected with 400").
SINGLE_EVENT_STATUS: dict[Code, int] = {
    Code.INVALID_EVENT: 400,
    Code.MISSING_EVENT_NAME: 400,
    Code.MISSING_CUSTOMER: 400,
    Code.INVALID_TIMESTAMP: 400,
    Code.INVALID_QUANTITY: 400,
    Code.EVENT_TOO_LARGE: 400,
    Code.TIMESTAMP_TOO_OLD: 400,
    Code.TIMESTAMP_IN_FUTURE: 400,
    Code.CUSTOMER_NOT_ALLOWED: 403,
    Code.IDEMPOTENCY_CONFLICT: 409,
}


@dataclass(frozen=True)
class Rejection:
    index: int
    code: Code
    detail: str
    event_id: str | None = None
    external_customer_id: str | None = None
    event_name: str | None = None
    timestamp: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "event_id": self.event_id, "code": self.code.value, "detail": self.detail}


@dataclass(frozen=True)
class IncomingEvent:
    """An event that passed the checks that need nothing but the event itself."""

    index: int
    event_id: str
    id_assigned: bool  # sent without event_id: the server assigned a new id
    external_customer_id: str | None  # None: the customer of the customer key that sent it
    external_subscription_id: str | None
    event_name: str
    timestamp: datetime
    quantity: Decimal
    properties: Mapping[str, Any]
    properties_json: str
    payload_hash: str
    late: bool
    top_level_keys: tuple[str, ...] = ()


def format_ts(value: datetime) -> str:
    """A time as fixed-width RFC 3339 (microseconds always written: "2026-04-17T10:00:00.000000Z"), so that
    text order is time order: the event log's times (sorted as text) and the event store's keys use it.
    Parse it back with ``tollgate.domain.clock.parse_rfc3339``."""
    # isoformat, not strftime: glibc's %Y writes year 50 as "50", which is neither fixed-width nor RFC 3339
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def decimal_text(value: Decimal) -> str:
    """An exact decimal string without exponent or trailing zeros: "12.5", "3", "0"."""
    if value.is_zero():
        return "0"
    return format(value.normalize(), "f")


# -- stored events and the idempotency rule ------------------------------------------------------------
@dataclass(frozen=True)
class StoredEvent:
    """A raw event as stored (one item, keyed by tenant and event id)."""

    tenant_id: str
    event_id: str
    customer_id: str
    external_customer_id: str
    meter_id: str
    event_name: str
    function: AggregationFunction
    value: Decimal | str
    timestamp: datetime
    quantity: Decimal
    properties_json: str
    payload_hash: str
    status: EventStatus  # ACCEPTED or LATE
    received_at: datetime
    key_id: str = ""


def conflict(event: IncomingEvent, existing: StoredEvent) -> Rejection:
    return Rejection(
        event.index,
        Code.IDEMPOTENCY_CONFLICT,
        f"event_id {event.event_id!r} was already used at {to_rfc3339(existing.received_at)} for a different "
        f"payload ({existing.event_name!r} for customer {existing.external_customer_id!r} at "
        f"{to_rfc3339(existing.timestamp)}). "
        "An event_id identifies one event: send a new event_id for a new event; a retry must resend the same payload.",
        event.event_id,
        event.external_customer_id,
        event.event_name,
        event.timestamp,
    )
