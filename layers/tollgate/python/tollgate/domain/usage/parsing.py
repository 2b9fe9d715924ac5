"""Parsing a usage event: the checks that need nothing but the event itself (shape, types, time windows)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

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
    is_number,
    parse_ts,
    storable_number,
)

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
