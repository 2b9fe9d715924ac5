"""Parsing a usage event: the checks that need nothing but the event itself (shape, types, time windows)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from tollgate.domain.clock import parse_rfc3339, to_rfc3339
from tollgate.domain.usage.canonical import canonical_json
from tollgate.domain.usage.events import (
    LATE_AFTER,
    MAX_AGE,
    MAX_ID_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PROPERTIES_BYTES,
    MAX_SKEW,
    Code,
    IncomingEvent,
    Rejection,
    format_ts,
)
from tollgate.domain.usage.numbers import NUMBER_DOMAIN, UnreadableNumber, billable_number

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


class _Names(NamedTuple):
    event_id: Any = None
    event_name: Any = None
    customer: Any = None
    subscription: Any = None


def _names(raw: Mapping[str, Any]) -> _Names:
    """The event's id, name, customer and subscription as sent (the two names of a field must agree)."""
    return _Names(
        _pick(raw, _ALIASES["event_id"])[0],
        _pick(raw, _ALIASES["event_name"])[0],
        _pick(raw, _ALIASES["customer"])[0],
        raw.get("external_subscription_id"),
    )


def unencodable(text: str) -> str | None:
    """Why ``text`` cannot be stored (a lone surrogate is no Unicode character and has no UTF-8), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as bad:
        return f"it holds U+{ord(text[bad.start]):04X} at position {bad.start}, a lone surrogate, which is not text"
    return None


def storable(value: Any) -> str | None:
    """``value`` if it is a string that can be stored (UTF-8), else None: what a rejection may echo."""
    return value if isinstance(value, str) and unencodable(value) is None else None


def _check_names(names: _Names) -> None:
    """Type, length and encoding of the id, name, customer and subscription."""
    fields = (
        ("event_id", names.event_id),
        ("event_name", names.event_name),
        ("external_customer_id", names.customer),
        ("external_subscription_id", names.subscription),
    )
    for label, value in fields:  # ASCII (the common case) is always storable
        why = unencodable(value) if isinstance(value, str) and not value.isascii() else None
        if why:
            raise _Invalid(Code.INVALID_EVENT, f"{label} cannot be stored: {why}. Send valid UTF-8 text.")
    event_id = names.event_id
    if event_id is not None and (not isinstance(event_id, str) or not event_id or len(event_id) > MAX_ID_LENGTH):
        raise _Invalid(
            Code.INVALID_EVENT, f"event_id must be a non-empty string of at most {MAX_ID_LENGTH} characters."
        )
    if names.event_name is None:
        raise _Invalid(
            Code.MISSING_EVENT_NAME,
            'event_name is required: the event name of an active meter, e.g. "model.usage" '
            "(seed payloads may call it metricId).",
        )
    name = names.event_name
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise _Invalid(
            Code.MISSING_EVENT_NAME, f"event_name must be a non-empty string of at most {MAX_NAME_LENGTH} characters."
        )
    for label, value in (("external_customer_id", names.customer), ("external_subscription_id", names.subscription)):
        if value is not None and (not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH):
            raise _Invalid(
                Code.INVALID_EVENT, f"{label} must be a non-empty string of at most {MAX_ID_LENGTH} characters."
            )


def _event_time(sent: Any, now: datetime) -> tuple[datetime, str]:
    """The event's time and the text it is hashed as ("" when it defaults to now)."""
    if sent is None:
        return now, ""
    if not isinstance(sent, str):
        raise _Invalid(
            Code.INVALID_TIMESTAMP,
            f'timestamp must be an RFC 3339 string such as "2026-04-17T10:00:00Z", not {shown(sent)}.',
        )
    try:
        timestamp = parse_rfc3339(sent)
    except ValueError:
        raise _Invalid(
            Code.INVALID_TIMESTAMP,
            f'timestamp {shown(sent)} is not RFC 3339 with a UTC offset; send e.g. "2026-04-17T10:00:00Z".',
        ) from None
    return timestamp, format_ts(timestamp)  # the payload hash is defined over this text


def _quantity(sent: Any) -> tuple[Decimal, str]:
    """The event's quantity and the text it is hashed as ("" when it defaults to 1)."""
    if sent is None:
        return Decimal(1), ""
    number = billable_number(sent)
    if number is None:
        raise _Invalid(Code.INVALID_QUANTITY, f"quantity must be {NUMBER_DOMAIN}, not {shown(sent)}; it defaults to 1.")
    return number, str(sent)


def _properties(sent: Any) -> tuple[Mapping[str, Any], str]:
    properties = {} if sent is None else sent
    if not isinstance(properties, Mapping):
        raise _Invalid(Code.INVALID_EVENT, f"properties must be a JSON object, not {type(properties).__name__}.")
    try:
        properties_json = canonical_json(properties)
    except (TypeError, ValueError):  # not JSON: a number out of range (UnreadableNumber) somewhere in it
        _check_tree(properties, "properties")
        raise _Invalid(Code.INVALID_EVENT, "properties must be JSON.") from None
    except RecursionError:
        raise _Invalid(Code.INVALID_EVENT, "properties nest too deeply; send a flatter object.") from None
    try:
        size = len(properties_json.encode())
    except UnicodeEncodeError:
        raise _Invalid(Code.INVALID_EVENT, f"{_unencodable_path(properties)}. Send valid UTF-8 text.") from None
    if size > MAX_PROPERTIES_BYTES:
        raise _Invalid(
            Code.EVENT_TOO_LARGE,
            f"properties take more than {MAX_PROPERTIES_BYTES} bytes; send only what meters need.",
        )
    return properties, properties_json


def _check_tree(value: Any, path: str) -> None:
    """Every number in the properties readable (walked, without recursion, only when they could not be
    written as JSON)."""
    pending = [(path, value)]
    while pending:
        where, item = pending.pop()
        if isinstance(item, UnreadableNumber):
            raise _Invalid(Code.INVALID_EVENT, f"{where} is a number out of range: {item}.")
        if isinstance(item, Mapping):
            pending.extend((f"{where}.{key}", child) for key, child in item.items())
        elif isinstance(item, list):
            pending.extend((f"{where}[{n}]", child) for n, child in enumerate(item))


def _unencodable_path(properties: Mapping[str, Any]) -> str:
    """Where in the properties a string (a key or a value) cannot be stored, and why."""
    pending: list[tuple[str, Any]] = [("properties", properties)]
    while pending:
        where, item = pending.pop()
        if isinstance(item, str) and (why := unencodable(item)):
            return f"{where} cannot be stored: {why}"
        if isinstance(item, Mapping):
            for key, child in item.items():
                if why := unencodable(key):
                    return f"a property key in {where} ({key!r}) cannot be stored: {why}"
                pending.append((f"{where}.{key}", child))
        elif isinstance(item, list):
            pending.extend((f"{where}[{n}]", child) for n, child in enumerate(item))
    return "the properties cannot be stored"


MAX_SHOWN = 60


def shown(value: Any) -> str:
    """A client's value as echoed in a detail: its repr, cut to MAX_SHOWN characters."""
    text = str(value) if isinstance(value, UnreadableNumber) else repr(value)
    return text if len(text) <= MAX_SHOWN else f"{text[:MAX_SHOWN]}… ({len(text)} characters)"


def parse_event(raw: Any, index: int, now: datetime) -> IncomingEvent | Rejection:
    """Check what can be checked without the catalog: shape, types, the timestamp windows."""
    if not isinstance(raw, Mapping):
        return Rejection(index, Code.INVALID_EVENT, f"event {index} must be a JSON object, not {type(raw).__name__}.")
    names, timestamp = _Names(), None
    try:
        names = _names(raw)
        _check_names(names)
        timestamp, ts_text = _event_time(raw.get("timestamp"), now)
        quantity, q_text = _quantity(raw.get("quantity"))
        properties, properties_json = _properties(raw.get("properties"))
    except _Invalid as bad:
        return Rejection(
            index,
            bad.code,
            bad.detail,
            storable(names.event_id),
            storable(names.customer),
            storable(names.event_name),
            timestamp,
        )
    customer, subscription = names.customer, names.subscription
    who = customer if customer is not None else ("sub:" + subscription if subscription else "")
    payload = f"{who}\x1f{names.event_name}\x1f{ts_text}\x1f{q_text}\x1f{properties_json}"
    digest = hashlib.sha256(payload.encode()).hexdigest()[:32]
    event = IncomingEvent(
        index=index,
        # No event_id: a new event with a server-assigned id (a retry of the request counts it again).
        event_id=names.event_id if names.event_id is not None else f"evt_{secrets.token_hex(16)}",
        id_assigned=names.event_id is None,
        external_customer_id=customer,
        external_subscription_id=subscription,
        event_name=names.event_name,
        timestamp=timestamp,
        quantity=quantity,
        properties=properties,
        properties_json=properties_json,
        payload_hash=digest,
        late=now - timestamp >= LATE_AFTER,
        top_level_keys=tuple(k for k in raw if isinstance(k, str)),
    )
    age = now - timestamp
    return _outside_window(event, now) if age > MAX_AGE or -age > MAX_SKEW else event


def _outside_window(event: IncomingEvent, now: datetime) -> Rejection:
    """TIMESTAMP_TOO_OLD (more than 90 days) or else TIMESTAMP_IN_FUTURE (more than 5 minutes ahead)."""
    age = now - event.timestamp
    when = to_rfc3339(event.timestamp)
    if age > MAX_AGE:
        code = Code.TIMESTAMP_TOO_OLD
        detail = (
            f"timestamp {when} is more than 90 days old: events older than 90 days are rejected. "
            "Usage that old cannot be billed any more; check the timestamp your client sends."
        )
    else:
        code = Code.TIMESTAMP_IN_FUTURE
        detail = (
            f"timestamp {when} is {_duration(-age)} in the future (server time {to_rfc3339(now)}): events more "
            f"than {_duration(MAX_SKEW)} in the future are rejected for clock skew. Sync your server clock (NTP)."
        )
    return Rejection(
        event.index, code, detail, event.event_id, event.external_customer_id, event.event_name, event.timestamp
    )


def _duration(delta: timedelta) -> str:
    """A duration as a person reads it, exact to the second below two days: "6 min 30 s", "2 h 5 min"."""
    seconds = int(delta.total_seconds())
    if seconds >= 172800:
        return f"{seconds // 86400} days"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "", f"{secs} s" if secs else ""]
    return " ".join(p for p in parts if p) or "0 s"
