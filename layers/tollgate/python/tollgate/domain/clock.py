"""Time: RFC 3339 in UTC everywhere. One injectable clock so tests and the local stack can move time."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_rfc3339(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime: Tollgate stores UTC timestamps only")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_rfc3339(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no UTC offset; send RFC 3339, e.g. 2026-04-17T10:00:00Z")
    return parsed.astimezone(UTC)
