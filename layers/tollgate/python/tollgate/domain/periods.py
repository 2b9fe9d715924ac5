"""Billing periods: monthly, quarterly or yearly, anchored to the calendar or to the subscription's
start (anniversary), in the customer's time zone. Periods are half-open: [start, end).

- calendar: periods start at local midnight on the 1st of the month (quarters: Jan, Apr, Jul, Oct;
  years: Jan 1). The first period runs from the subscription start to the next boundary.
- anniversary: periods start on the start date's day of month at the start's local time; a day the
  month lacks (the 31st in February) falls on that month's last day, and later months go back to it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo


class Interval(StrEnum):
    MONTH = "MONTH"
    QUARTER = "QUARTER"
    YEAR = "YEAR"

    @property
    def months(self) -> int:
        return {"MONTH": 1, "QUARTER": 3, "YEAR": 12}[self.value]


class Anchor(StrEnum):
    CALENDAR = "CALENDAR"
    ANNIVERSARY = "ANNIVERSARY"


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


def _add_months(local: datetime, months: int, day: int) -> datetime:
    total = local.month - 1 + months
    year, month = local.year + total // 12, total % 12 + 1
    return local.replace(year=year, month=month, day=min(day, calendar.monthrange(year, month)[1]))


def _to_utc(local: datetime) -> datetime:
    return local.astimezone(UTC)


def period_at(start: datetime, at: datetime, interval: Interval, anchor: Anchor, timezone: str) -> Period:
    """The billing period containing ``at`` for a subscription that started at ``start`` (both UTC)."""
    tz = ZoneInfo(timezone)
    if at < start:
        raise ValueError("at is before the subscription start")
    local_start = start.astimezone(tz)
    if anchor is Anchor.ANNIVERSARY:
        day = local_start.day
        n = 0
        # Step from the start; a subscription has at most a few hundred periods, so this stays cheap.
        while True:
            begin = _add_months(local_start, n * interval.months, day)
            end = _add_months(local_start, (n + 1) * interval.months, day)
            if _to_utc(begin) <= at < _to_utc(end):
                return Period(_to_utc(begin), _to_utc(end))
            n += 1
    local_at = at.astimezone(tz)
    first_month = ((local_at.month - 1) // interval.months) * interval.months + 1
    boundary = datetime(local_at.year, first_month, 1, tzinfo=tz)
    begin = max(boundary, local_start) if _to_utc(boundary) <= start else boundary
    end = _add_months(boundary, interval.months, 1)
    return Period(_to_utc(begin) if begin is not local_start else start, _to_utc(end))


def next_period(start: datetime, current: Period, interval: Interval, anchor: Anchor, timezone: str) -> Period:
    return period_at(start, current.end, interval, anchor, timezone)
