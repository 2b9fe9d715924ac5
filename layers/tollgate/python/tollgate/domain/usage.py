"""Usage events: what ingestion accepts, rejects and flags, and how accepted events become usage
(seed 000 "Usage Ingestion", seed 001 "Troubleshooting event ingestion"). Pure: no I/O, Decimal only.

An event names a customer (your external id), a meter (by its event name), a time and a quantity:

    {"event_id": "...", "external_customer_id": "cust_123", "event_name": "model.usage",
     "timestamp": "2026-04-17T10:00:00Z", "quantity": 1, "properties": {"credits": 2}}

Seed 000's field names are accepted as they are shown there: ``customerId`` for the customer and
``metricId`` for the meter's event name. A customer API key may leave the customer out: the event is
then the key's own customer's.

Rules, each with its own code (``Code``) and a detail a person can act on:

- ``event_name`` (or ``metricId``) must be the event name of an ACTIVE meter, exactly, case included
  (``METER_NOT_FOUND``: "metric not found", with "did you mean" when only the case differs;
  ``METER_ARCHIVED``);
- the customer must exist (``CUSTOMER_NOT_FOUND``); a customer key sends for its own customer only
  (``CUSTOMER_NOT_ALLOWED``);
- the meter's aggregation field must be present (``AGGREGATION_FIELD_MISSING``) and, for SUM, MAX,
  AVG and LATEST, a JSON number: the string "2" is not 2 (``AGGREGATION_FIELD_NOT_NUMERIC``);
  UNIQUE_COUNT takes strings or numbers (``AGGREGATION_FIELD_INVALID`` otherwise);
- an event whose properties do not match the meter's filters is rejected (``FILTER_NOT_MATCHED``): an
  event name belongs to one active meter, so no other meter would count it, and a silent drop would be
  an unexplained loss;
- ``timestamp``: RFC 3339 with an offset; more than 90 days old is rejected (``TIMESTAMP_TOO_OLD``),
  more than 5 minutes in the future is rejected for clock skew (``TIMESTAMP_IN_FUTURE``), 24 hours or
  more in the past is accepted and flagged LATE;
- ``event_id`` is the idempotency key (per tenant): the same id with the same payload is a DUPLICATE
  and changes nothing; the same id with another payload is rejected (``IDEMPOTENCY_CONFLICT``).
  Without an ``event_id``, the id is derived from the payload as sent (customer, event name,
  timestamp, quantity, properties): the very same payload sent twice counts once. Send an event_id to
  count identical usage more than once.

Accepted events are folded into hourly buckets per customer and meter (``fold``); day and month
windows combine hours (``combine``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from tollgate.domain.catalog.meters import AggregationFunction, Meter, MeterStatus

MAX_BATCH = 1000
MAX_AGE = timedelta(days=90)
MAX_SKEW = timedelta(minutes=5)
LATE_AFTER = timedelta(hours=24)
# Raw events of a tenant are spread over this many partition keys by a hash of the event id: one
# customer sending 10k events/s writes to all of them (DynamoDB takes ~1000 write units/s per key).
EVENT_SHARDS = 16
MAX_ID_LENGTH = 255
MAX_NAME_LENGTH = 200
MAX_PROPERTIES_BYTES = 16_384
TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width: sorts as text


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
    id_derived: bool
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


# -- parsing ---------------------------------------------------------------------------------------
_ALIASES = {
    "event_id": ("event_id", "eventId"),
    "customer": ("external_customer_id", "customerId"),
    "event_name": ("event_name", "metricId"),
}


def _pick(raw: Mapping[str, Any], names: tuple[str, ...]) -> tuple[Any, str | None]:
    found = [(n, raw[n]) for n in names if raw.get(n) is not None]
    if len(found) > 1 and found[0][1] != found[1][1]:
        raise _Invalid(
            Code.INVALID_EVENT,
            f"{found[0][0]} and {found[1][0]} are two names of the same field and disagree "
            f"({found[0][1]!r} vs {found[1][1]!r}); send one of them.",
        )
    return (found[0][1], found[0][0]) if found else (None, None)


class _Invalid(Exception):
    def __init__(self, code: Code, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


_DEC_MARK = "\x00dec:"
_DEC_RE = re.compile(r'"\\u0000dec:([^"]*)"')


def _mark_decimal(value: Any) -> str:
    if isinstance(value, Decimal):
        return _DEC_MARK + str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def canonical_json(value: Any, *, sort_keys: bool = True) -> str:
    """Compact JSON (sorted keys by default); Decimals (numbers with a fraction, parsed exactly) are
    written as the number they were, never through a float."""
    text = json.dumps(value, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False, default=_mark_decimal)
    return _DEC_RE.sub(r"\1", text) if "\\u0000dec:" in text else text


def format_ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime(TS_FORMAT)


def parse_ts(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("no UTC offset")
    return parsed.astimezone(UTC)


def is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def storable_number(value: int | Decimal) -> Decimal | None:
    """The value as a Decimal DynamoDB can store exactly (38 significant digits, |exponent| <= 125)."""
    try:
        d = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    if not d.is_finite():
        return None
    if d.is_zero():
        return Decimal(0)
    digits = len(d.normalize().as_tuple().digits)
    if digits > 38 or not -129 <= d.adjusted() <= 125:
        return None
    return d


def shard_of(tenant_id: str, event_id: str) -> int:
    """Which of the tenant's EVENT_SHARDS partition keys holds the event (a function of the id only,
    so a retry lands on the same item)."""
    digest = hashlib.blake2b(f"{tenant_id}\x1f{event_id}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % EVENT_SHARDS


def parse_event(raw: Any, index: int, now: datetime) -> IncomingEvent | Rejection:
    """Check what can be checked without the catalog: shape, types, the timestamp windows."""
    if not isinstance(raw, Mapping):
        return Rejection(index, Code.INVALID_EVENT, f"event {index} must be a JSON object, not {type(raw).__name__}.")
    event_id = name = customer = None
    timestamp: datetime | None = None
    try:
        event_id, _ = _pick(raw, _ALIASES["event_id"])
        name, _ = _pick(raw, _ALIASES["event_name"])
        customer, _ = _pick(raw, _ALIASES["customer"])
        subscription = raw.get("external_subscription_id")
        if event_id is not None and (not isinstance(event_id, str) or not event_id or len(event_id) > MAX_ID_LENGTH):
            raise _Invalid(
                Code.INVALID_EVENT, f"event_id must be a non-empty string of at most {MAX_ID_LENGTH} characters."
            )
        if name is None:
            raise _Invalid(
                Code.MISSING_EVENT_NAME,
                'event_name is required: the event name of an active meter, e.g. "model.usage" '
                "(seed payloads may call it metricId).",
            )
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
            raise _Invalid(
                Code.MISSING_EVENT_NAME,
                f"event_name must be a non-empty string of at most {MAX_NAME_LENGTH} characters.",
            )
        for label, value in (("external_customer_id", customer), ("external_subscription_id", subscription)):
            if value is not None and (not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH):
                raise _Invalid(
                    Code.INVALID_EVENT, f"{label} must be a non-empty string of at most {MAX_ID_LENGTH} characters."
                )
        sent_ts = raw.get("timestamp")
        if sent_ts is None:
            timestamp, ts_text = now, ""
        else:
            if not isinstance(sent_ts, str):
                raise _Invalid(
                    Code.INVALID_TIMESTAMP,
                    f'timestamp must be an RFC 3339 string such as "2026-04-17T10:00:00Z", not {sent_ts!r}.',
                )
            try:
                timestamp = parse_ts(sent_ts)
            except ValueError:
                raise _Invalid(
                    Code.INVALID_TIMESTAMP,
                    f'timestamp {sent_ts!r} is not RFC 3339 with a UTC offset; send e.g. "2026-04-17T10:00:00Z".',
                ) from None
            ts_text = format_ts(timestamp)
        sent_quantity = raw.get("quantity")
        if sent_quantity is None:
            quantity, q_text = Decimal(1), ""
        else:
            number = storable_number(sent_quantity) if is_number(sent_quantity) else None
            if number is None:
                raise _Invalid(
                    Code.INVALID_QUANTITY,
                    f"quantity must be a JSON number (at most 38 significant digits), not {sent_quantity!r}; it defaults to 1.",
                )
            quantity, q_text = number, str(sent_quantity)
        properties = raw.get("properties")
        if properties is None:
            properties = {}
        if not isinstance(properties, Mapping):
            raise _Invalid(Code.INVALID_EVENT, f"properties must be a JSON object, not {type(properties).__name__}.")
        properties_json = canonical_json(properties)
        if len(properties_json.encode()) > MAX_PROPERTIES_BYTES:
            raise _Invalid(
                Code.EVENT_TOO_LARGE,
                f"properties take more than {MAX_PROPERTIES_BYTES} bytes; send only what meters need.",
            )
    except _Invalid as bad:
        return Rejection(
            index,
            bad.code,
            bad.detail,
            event_id if isinstance(event_id, str) else None,
            customer if isinstance(customer, str) else None,
            name if isinstance(name, str) else None,
            timestamp,
        )
    who = customer if customer is not None else ("sub:" + subscription if subscription else "")
    digest = hashlib.sha256(f"{who}\x1f{name}\x1f{ts_text}\x1f{q_text}\x1f{properties_json}".encode()).hexdigest()[:32]
    derived = event_id is None
    event_id = event_id if event_id is not None else f"evt_{digest}"
    age = now - timestamp
    window_error = None
    if age > MAX_AGE:
        window_error = Rejection(
            index,
            Code.TIMESTAMP_TOO_OLD,
            f"timestamp {format_ts(timestamp)} is more than 90 days old: events older than 90 days are rejected. "
            "Usage that old cannot be billed any more; check the timestamp your client sends.",
            event_id,
            customer,
            name,
            timestamp,
        )
    elif -age > MAX_SKEW:
        window_error = Rejection(
            index,
            Code.TIMESTAMP_IN_FUTURE,
            f"timestamp {format_ts(timestamp)} is {_duration(-age)} in the future (server time {format_ts(now)}): "
            "events more than 5 minutes in the future are rejected for clock skew. Sync your server clock (NTP).",
            event_id,
            customer,
            name,
            timestamp,
        )
    if window_error:
        return window_error
    return IncomingEvent(
        index=index,
        event_id=event_id,
        id_derived=derived,
        external_customer_id=customer,
        external_subscription_id=subscription,
        event_name=name,
        timestamp=timestamp,
        quantity=quantity,
        properties=properties,
        properties_json=properties_json,
        payload_hash=digest,
        late=age >= LATE_AFTER,
        top_level_keys=tuple(k for k in raw if isinstance(k, str)),
    )


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


# -- the meter -------------------------------------------------------------------------------------
def meter_not_found(event: IncomingEvent, similar: Iterable[Meter]) -> Rejection:
    candidates = sorted({m.event_name for m in similar if m.event_name != event.event_name})
    hint = (
        f" Did you mean {' or '.join(repr(c) for c in candidates)}? Event names are case-sensitive."
        if candidates
        else (" Check the meter's exact event name (GET /v1/meters) or create the meter (POST /v1/meters).")
    )
    return Rejection(
        event.index,
        Code.METER_NOT_FOUND,
        f"metric not found: no active meter (billable unit) has the event name {event.event_name!r}.{hint}",
        event.event_id,
        event.external_customer_id,
        event.event_name,
        event.timestamp,
    )


def meter_archived(event: IncomingEvent, meter: Meter) -> Rejection:
    return Rejection(
        event.index,
        Code.METER_ARCHIVED,
        f"meter {meter.meter_id} ({meter.event_name!r}) is archived, so its events are not counted. Activate it "
        f"(POST /v1/meters/{meter.meter_id}/activate) and send the event again.",
        event.event_id,
        event.external_customer_id,
        event.event_name,
        event.timestamp,
    )


def _lookup(properties: Mapping[str, Any], dotted: str) -> tuple[bool, Any]:
    value: Any = properties
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value


def unique_key(value: Any) -> str:
    """The text a UNIQUE_COUNT value is counted by: a string as is, a number in canonical form (2 == 2.0)."""
    return value if isinstance(value, str) else decimal_text(Decimal(value))


def measure(event: IncomingEvent, meter: Meter) -> Decimal | str | Rejection:
    """What the event adds to ``meter``: the number to aggregate (the unique value for UNIQUE_COUNT),
    or why it cannot count."""

    def reject(code: Code, detail: str) -> Rejection:
        return Rejection(
            event.index, code, detail, event.event_id, event.external_customer_id, event.event_name, event.timestamp
        )

    if not meter.matches(event.event_name, event.properties):
        wanted = ", ".join(f"{k}={v!r}" for k, v in sorted(meter.filters.items()))
        actual = ", ".join(f"{k}={_lookup(event.properties, k)[1]!r}" for k in sorted(meter.filters))
        return reject(
            Code.FILTER_NOT_MATCHED,
            f"meter {meter.meter_id} ({meter.event_name!r}) only counts events whose properties have {wanted}; "
            f"this event has {actual}. Fix the properties, or change the meter's filters.",
        )
    function, agg_field = meter.aggregation.function, meter.aggregation.field
    if function is AggregationFunction.COUNT:
        return Decimal(1)
    if agg_field == "quantity":
        value: Any = event.quantity
    else:
        path = agg_field.removeprefix("properties.")
        present, value = _lookup(event.properties, path)
        if not present:
            have = sorted(event.properties)
            top = path.split(".")[0]
            where = f"its properties have {', '.join(repr(k) for k in have)}" if have else "it has no properties"
            hint = (
                f" ({top!r} was sent at the top level: move it into properties)" if top in event.top_level_keys else ""
            )
            return reject(
                Code.AGGREGATION_FIELD_MISSING,
                f"meter {meter.meter_id} ({meter.event_name!r}) aggregates {function.value} of {agg_field}, but {where}{hint}. "
                f'Send it, e.g. "properties": {{"{top}": 2}}.',
            )
    if function is AggregationFunction.UNIQUE_COUNT:
        if isinstance(value, str) or is_number(value):
            return unique_key(value)
        return reject(
            Code.AGGREGATION_FIELD_INVALID,
            f"meter {meter.meter_id} counts unique values of {agg_field}: send a string or a number, not {_json_kind(value)}.",
        )
    number = storable_number(value) if is_number(value) else None
    if number is None:
        example = f"{value}" if isinstance(value, str) and _looks_numeric(value) else "2"
        return reject(
            Code.AGGREGATION_FIELD_NOT_NUMERIC,
            f"meter {meter.meter_id} ({meter.event_name!r}) aggregates {function.value} of {agg_field}, which must be a JSON number; "
            f"this event sends {_json_kind(value)} {value!r}. Send {agg_field.split('.')[-1]}: {example} (no quotes).",
        )
    return number


def _looks_numeric(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except (InvalidOperation, ValueError):
        return False


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "the string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "a number"


def check_active(meter: Meter | None) -> bool:
    return meter is not None and meter.status is MeterStatus.ACTIVE


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

    @property
    def shard(self) -> int:
        return shard_of(self.tenant_id, self.event_id)


def conflict(event: IncomingEvent, existing: StoredEvent) -> Rejection:
    return Rejection(
        event.index,
        Code.IDEMPOTENCY_CONFLICT,
        f"event_id {event.event_id!r} was already used at {format_ts(existing.received_at)} for a different payload "
        f"({existing.event_name!r} for customer {existing.external_customer_id!r} at {format_ts(existing.timestamp)}). "
        "An event_id identifies one event: send a new event_id for a new event; a retry must resend the same payload.",
        event.event_id,
        event.external_customer_id,
        event.event_name,
        event.timestamp,
    )


# -- aggregation ---------------------------------------------------------------------------------------
def hour_of(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H")


def seq_key(sequence_number: str) -> str:
    """Stream sequence numbers are decimal strings of 21 to 40 digits: prefixing the length makes
    text order numeric order."""
    return f"{len(sequence_number):02d}{sequence_number}"


@dataclass(frozen=True)
class StreamEvent:
    """What the aggregator needs of one stored event, with its place in the stream."""

    tenant_id: str
    customer_id: str
    meter_id: str
    function: AggregationFunction
    value: Decimal | str
    ts: str  # TS_FORMAT
    event_id: str
    shard: str  # the event's partition key shard, "00".."15": stream order is per partition key
    seq: str  # seq_key() of the stream record

    @property
    def bucket(self) -> tuple[str, str, str, str]:
        return (self.tenant_id, self.customer_id, self.meter_id, self.ts[:13])


# MAX and LATEST are kept by conditional sets (idempotent); everything else adds.
VALUE_SETS = frozenset({AggregationFunction.MAX, AggregationFunction.LATEST})


@dataclass
class BucketDelta:
    """What one stream batch adds to one hourly bucket.

    Counts and sums add, so they are applied only over records beyond the bucket's watermark for each
    event shard (``marks``: shard -> (lowest, highest) sequence key in this delta); the unique values of
    UNIQUE_COUNT are a set union. MAX and LATEST are conditional sets, idempotent, applied besides."""

    tenant_id: str
    customer_id: str
    meter_id: str
    hour: str
    function: AggregationFunction
    count: int = 0
    total: Decimal = Decimal(0)
    maximum: Decimal | None = None
    latest: tuple[str, Decimal] | None = None  # ("<ts>#<event id>", value)
    uniques: set[str] = field(default_factory=set)
    marks: dict[str, tuple[str, str]] = field(default_factory=dict)
    events: list[StreamEvent] = field(default_factory=list)

    @property
    def sets_value(self) -> bool:
        return self.function in VALUE_SETS


def fold(events: Iterable[StreamEvent]) -> list[BucketDelta]:
    """Group a batch's events by (tenant, customer, meter, hour) and sum each group up."""
    deltas: dict[tuple[str, str, str, str, str], BucketDelta] = {}
    for e in events:
        key = (*e.bucket, e.function.value)
        d = deltas.get(key)
        if d is None:
            d = deltas[key] = BucketDelta(e.tenant_id, e.customer_id, e.meter_id, e.ts[:13], e.function)
        d.events.append(e)
        d.count += 1
        if e.function is AggregationFunction.UNIQUE_COUNT:
            d.uniques.add(str(e.value))
        else:
            value = e.value if isinstance(e.value, Decimal) else Decimal(e.value)
            d.total += value
            if d.maximum is None or value > d.maximum:
                d.maximum = value
            stamp = f"{e.ts}#{e.event_id}"
            if d.latest is None or stamp > d.latest[0]:
                d.latest = (stamp, value)
        low, high = d.marks.get(e.shard, (e.seq, e.seq))
        d.marks[e.shard] = (min(low, e.seq), max(high, e.seq))
    return list(deltas.values())


def beyond(delta: BucketDelta, applied: Mapping[str, str]) -> BucketDelta | None:
    """The part of ``delta`` not yet applied, given the watermarks stored on the bucket (shard -> highest
    sequence key applied). None when everything was applied already (a redelivered batch)."""
    rest = [e for e in delta.events if e.seq > applied.get(e.shard, "")]
    if not rest:
        return None
    (again,) = fold(rest)
    return again


@dataclass(frozen=True)
class Bucket:
    """One stored hour of usage of one customer and meter."""

    hour: str  # "2026-04-17T10"
    count: int = 0
    total: Decimal = Decimal(0)
    maximum: Decimal | None = None
    latest: tuple[str, Decimal] | None = None
    uniques: frozenset[str] = frozenset()

    @property
    def start(self) -> datetime:
        return datetime.strptime(self.hour, "%Y-%m-%dT%H").replace(tzinfo=UTC)


class Window(StrEnum):
    HOUR = "HOUR"
    DAY = "DAY"
    MONTH = "MONTH"


def floor_to(ts: datetime, window: Window) -> datetime:
    ts = ts.astimezone(UTC)
    if window is Window.HOUR:
        return ts.replace(minute=0, second=0, microsecond=0)
    if window is Window.DAY:
        return ts.replace(hour=0, minute=0, second=0, microsecond=0)
    return ts.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_start(start: datetime, window: Window) -> datetime:
    if window is Window.HOUR:
        return start + timedelta(hours=1)
    if window is Window.DAY:
        return start + timedelta(days=1)
    return start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)


def combine(function: AggregationFunction, buckets: Iterable[Bucket]) -> Decimal:
    """The meter's aggregation over a set of hours: sums add, MAX is the largest, LATEST the value of the
    latest event, AVG = total / count, UNIQUE_COUNT counts distinct values across the hours."""
    buckets = list(buckets)
    if function is AggregationFunction.COUNT:
        return Decimal(sum(b.count for b in buckets))
    if function is AggregationFunction.SUM:
        return sum((b.total for b in buckets), Decimal(0))
    if function is AggregationFunction.AVG:
        count = sum(b.count for b in buckets)
        return sum((b.total for b in buckets), Decimal(0)) / count if count else Decimal(0)
    if function is AggregationFunction.MAX:
        values = [b.maximum for b in buckets if b.maximum is not None]
        return max(values) if values else Decimal(0)
    if function is AggregationFunction.LATEST:
        latest = [b.latest for b in buckets if b.latest is not None]
        return max(latest)[1] if latest else Decimal(0)
    unique: set[str] = set()
    for b in buckets:
        unique |= b.uniques
    return Decimal(len(unique))


@dataclass(frozen=True)
class WindowValue:
    start: datetime
    end: datetime
    value: Decimal


def windows(
    function: AggregationFunction, buckets: Iterable[Bucket], start: datetime, end: datetime, window: Window
) -> list[WindowValue]:
    """Every window from the one holding ``start`` up to ``end`` (exclusive), empty ones included."""
    by_window: dict[datetime, list[Bucket]] = {}
    for b in buckets:
        by_window.setdefault(floor_to(b.start, window), []).append(b)
    out = []
    cursor = floor_to(start, window)
    while cursor < end:
        nxt = next_start(cursor, window)
        out.append(WindowValue(cursor, nxt, combine(function, by_window.get(cursor, []))))
        cursor = nxt
    return out


def decimal_text(value: Decimal) -> str:
    """An exact decimal string without exponent or trailing zeros: "12.5", "3", "0"."""
    if value.is_zero():
        return "0"
    text = format(value.normalize(), "f")
    return text
