"""Time: RFC 3339 in UTC everywhere. One injectable clock so tests and the local stack can move time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# How far this process's clock is ahead of the wall clock. Always zero on AWS; only the local stack moves it
# (``POST /local/clock/advance``), so that handlers, schedules, state machine waits, trials, grace periods
# and dunning all read one clock.
_offset = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(UTC) + _offset


def clock_offset() -> timedelta:
    return _offset


def set_clock_offset(offset: timedelta) -> None:
    """Move this process's clock (the local stack's time travel); never called on AWS."""
    global _offset
    if offset < timedelta(0):
        raise ValueError("the clock only moves forward")
    _offset = offset


def to_rfc3339(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime: Tollgate stores UTC timestamps only")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_rfc3339(value: str) -> datetime:
    """The UTC time of an RFC 3339 timestamp. Anything else (not a timestamp, no offset, or a time whose
    UTC equivalent falls outside years 1..9999) is a ValueError naming the value and the expected form."""
    example = "send RFC 3339 with an offset, e.g. 2026-04-17T10:00:00Z"
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"timestamp {value!r} is not RFC 3339; {example}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no UTC offset; {example}")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 is before year 1 in UTC
        raise ValueError(f"timestamp {value!r} is out of range in UTC (years 1 to 9999); {example}") from None
