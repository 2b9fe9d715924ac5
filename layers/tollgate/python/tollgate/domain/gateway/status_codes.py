"""``meter_on_status_codes`` in Zuplo's syntax: ``"200-299"``, ``"200, 201, 300-304"`` or a list of
such strings and integers. ``"*"`` is refused: metering every status (4xx and 5xx included) must be
spelled out, e.g. ``"100-599"``."""

from __future__ import annotations

from typing import Any

from tollgate.domain.errors import InvalidInput

FIELD = "meter_on_status_codes"
DEFAULT = "200-299"
MAX_PARTS = 50
MAX_TEXT = 300
LOWEST, HIGHEST = 100, 599

Ranges = tuple[tuple[int, int], ...]


def _code(text: str, whole: str) -> int:
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) == 3):
        raise InvalidInput(
            f'{FIELD}: \'{whole[:40]}\' is not a status code or range; use e.g. "200-299" or "200, 201, 300-304"',
            field=FIELD,
        )
    code = int(text)
    if not LOWEST <= code <= HIGHEST:
        raise InvalidInput(f"{FIELD}: {code} is not an HTTP status (100 to 599)", field=FIELD)
    return code


def _part(part: str) -> tuple[int, int]:
    low, sep, high = part.partition("-")
    first = _code(low, part)
    last = _code(high, part) if sep else first
    if last < first:
        raise InvalidInput(f"{FIELD}: the range '{part.strip()}' ends before it starts", field=FIELD)
    return first, last


def parse(value: Any) -> Ranges:
    """The ranges of ``value`` (sorted, overlaps kept), or InvalidInput naming the field."""
    if value is None:
        value = DEFAULT
    items = value if isinstance(value, list) else [value]
    parts: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise InvalidInput(f'{FIELD} must be a string such as "200-299" or a list of them', field=FIELD)
        text = str(item)
        if len(text) > MAX_TEXT:
            raise InvalidInput(f"{FIELD} is too long (at most {MAX_TEXT} characters)", field=FIELD)
        if text.strip() == "*":
            raise InvalidInput(
                f'{FIELD}: "*" is not accepted. List the statuses to meter explicitly, e.g. "200-299" '
                '(successes only, the default) or "100-599" to meter every response including errors.',
                field=FIELD,
                code="STATUS_WILDCARD_REFUSED",
            )
        parts.extend(p for p in text.split(",") if p.strip())
    if not parts:
        raise InvalidInput(f"{FIELD} must name at least one status code", field=FIELD)
    if len(parts) > MAX_PARTS:
        raise InvalidInput(f"{FIELD} has more than {MAX_PARTS} codes or ranges", field=FIELD)
    return tuple(sorted(_part(p) for p in parts))


def text(ranges: Ranges) -> str:
    """The canonical spelling: ``"200-299"`` or ``"200, 201, 300-304"``."""
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


def covers(ranges: Ranges, status: int) -> bool:
    return any(a <= status <= b for a, b in ranges)
