"""Building an event at ``ingest()``: checks that refuse early, its id, its JSON.

The checks mirror the API's (``layers/tollgate/python/tollgate/domain/usage/parsing.py``) for what can be
known without the catalog, so a bad event fails in the caller's code with a clear message instead of
being rejected seconds later on a background thread.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tollgate_sdk.errors import EventTooLarge, InvalidEvent

MAX_BATCH_EVENTS = 1000  # the API answers 413 above this
MAX_PROPERTIES_BYTES = 16_384  # EVENT_TOO_LARGE above this
MAX_BATCH_BYTES = 5_000_000  # well below API Gateway's 10 MB payload limit
MAX_ID_LENGTH = 255
MAX_NAME_LENGTH = 200

Event = dict[str, Any]

# Event ids: a random prefix per process and a counter. Cheaper than uuid4 on the hot path; the prefix is
# drawn again in a forked child (``reseed_ids``) so parent and child never share an id.
_id_lock = threading.Lock()
_id_prefix = ""
_id_counter: itertools.count[int] = itertools.count()


def reseed_ids() -> None:
    global _id_prefix, _id_counter
    _id_prefix = "evt_" + os.urandom(12).hex() + "_"
    _id_counter = itertools.count()


reseed_ids()


def new_event_id() -> str:
    return f"{_id_prefix}{next(_id_counter):x}"  # next() on itertools.count is atomic under the GIL


def _check_string(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidEvent(f"{name} must be a non-empty string of at most {limit} characters, not {value!r}.")
    return value


def _timestamp(value: datetime | str | None) -> str:
    if value is None:
        return datetime.now(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidEvent("timestamp must be timezone-aware (e.g. datetime.now(UTC)), not a naive datetime.")
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, str) and value:
        return value
    raise InvalidEvent(f"timestamp must be a datetime or an RFC 3339 string, not {value!r}.")


def build_event(
    *,
    event_name: str,
    external_customer_id: str | None,
    quantity: int | float | Decimal | None,
    properties: dict[str, Any] | None,
    timestamp: datetime | str | None,
    event_id: str | None,
) -> Event:
    event: Event = {
        "event_id": _check_string(event_id, "event_id", MAX_ID_LENGTH) if event_id is not None else new_event_id(),
        "event_name": _check_string(event_name, "event_name", MAX_NAME_LENGTH),
        "timestamp": _timestamp(timestamp),
    }
    if external_customer_id is not None:
        event["external_customer_id"] = _check_string(external_customer_id, "external_customer_id", MAX_ID_LENGTH)
    if quantity is not None:
        if isinstance(quantity, bool) or not isinstance(quantity, int | float | Decimal):
            raise InvalidEvent(f"quantity must be a number (int, float or Decimal), not {quantity!r}.")
        if isinstance(quantity, float | Decimal) and not _finite(quantity):
            raise InvalidEvent(f"quantity must be a finite number, not {quantity!r}.")
        event["quantity"] = quantity
    if properties:
        if not isinstance(properties, dict):
            raise InvalidEvent(f"properties must be a dict, not {type(properties).__name__}.")
        size = len(dumps(properties).encode())
        if size > MAX_PROPERTIES_BYTES:
            raise EventTooLarge(
                f"properties take {size} bytes as JSON; the API refuses more than {MAX_PROPERTIES_BYTES} "
                "(EVENT_TOO_LARGE). Send only what meters need."
            )
        event["properties"] = properties
    return event


def _finite(value: float | Decimal) -> bool:
    return value == value and value not in (float("inf"), float("-inf"))


_DEC = "\u0000dec:"
_DEC_RE = re.compile(r'"\\u0000dec:([^"]*)"')


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _DEC + str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> str:
    """Compact JSON; a Decimal is written as the exact number it is, never through a float."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_default)
    return _DEC_RE.sub(r"\1", text) if "\\u0000dec:" in text else text


def pack(events: list[Event]) -> tuple[bytes, int]:
    """The body of one request for the first events of ``events`` (at most 1,000 and 5 MB) and how many
    it holds."""
    parts: list[str] = []
    size = 12
    for event in events[:MAX_BATCH_EVENTS]:
        part = dumps(event)
        if parts and size + len(part) + 1 > MAX_BATCH_BYTES:
            break
        parts.append(part)
        size += len(part) + 1
    return ('{"events":[' + ",".join(parts) + "]}").encode(), len(parts)
