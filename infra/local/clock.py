"""The local stack's clock for EventBridge Scheduler expressions (moto's Scheduler never fires).

Supports ``rate(N minute|minutes|hour|hours|day|days)`` and six-field AWS ``cron(min hour dom month dow year)``
with ``*``, ``?``, lists, ranges and steps (day-of-week 1-7 = SUN-SAT, names allowed).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

_DOW = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MON = {
    m: i for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1)
}


def _field_matches(spec: str, value: int, names: dict[str, int] | None = None) -> bool:
    if spec in ("*", "?"):
        return True
    for part in spec.split(","):
        for name, number in (names or {}).items():
            part = part.replace(name, str(number))
        step = 1
        if "/" in part:
            part, step_text = part.split("/")
            step = int(step_text)
        if part in ("*", ""):
            lo, hi = 0, 10_000
        elif "-" in part:
            lo, hi = (int(x) for x in part.split("-"))
        else:
            lo = hi = int(part)
            if step != 1:
                hi = 10_000
        if lo <= value <= hi and (value - lo) % step == 0:
            return True
    return False


def cron_matches(expression: str, at: datetime) -> bool:
    fields = expression.split()
    if len(fields) != 6:
        raise ValueError(f"AWS cron needs 6 fields, got {expression!r}")
    minute, hour, dom, month, dow, year = fields
    aws_dow = (at.isoweekday() % 7) + 1  # Sunday=1
    return (
        _field_matches(minute, at.minute)
        and _field_matches(hour, at.hour)
        and _field_matches(dom, at.day)
        and _field_matches(month.upper(), at.month, _MON)
        and _field_matches(dow.upper(), aws_dow, _DOW)
        and _field_matches(year, at.year)
    )


def rate_period(expression: str) -> timedelta:
    match = re.fullmatch(r"(\d+)\s+(minute|minutes|hour|hours|day|days)", expression.strip())
    if not match:
        raise ValueError(f"unsupported rate expression {expression!r}")
    n, unit = int(match.group(1)), match.group(2).rstrip("s")
    return {"minute": timedelta(minutes=n), "hour": timedelta(hours=n), "day": timedelta(days=n)}[unit]


def is_due(schedule_expression: str, minute: datetime, started: datetime) -> bool:
    """Whether a schedule fires in the UTC minute ``minute`` (the clock ticks once per minute)."""
    kind, _, body = schedule_expression.partition("(")
    body = body.rstrip(")")
    if kind == "cron":
        return cron_matches(body, minute)
    if kind == "rate":
        period = rate_period(body)
        elapsed = minute - started.replace(second=0, microsecond=0)
        return elapsed > timedelta(0) and elapsed % period == timedelta(0)
    raise ValueError(f"unsupported schedule expression {schedule_expression!r}")
