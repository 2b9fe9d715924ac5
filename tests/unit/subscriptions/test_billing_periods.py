"""Issue 5: billing periods, calendar or anniversary, in the customer's time zone."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tollgate.domain.periods import Anchor, Interval, Period, period_at
from tollgate.domain.subscriptions import prorate


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_anniversary_on_the_31st_falls_on_month_end_and_returns_to_the_31st():
    start = utc(2026, 1, 31, 15)
    assert period_at(start, utc(2026, 2, 10), Interval.MONTH, Anchor.ANNIVERSARY, "UTC") == Period(
        utc(2026, 1, 31, 15), utc(2026, 2, 28, 15)
    )
    assert period_at(start, utc(2026, 3, 5), Interval.MONTH, Anchor.ANNIVERSARY, "UTC") == Period(
        utc(2026, 2, 28, 15), utc(2026, 3, 31, 15)
    )


def test_calendar_months_start_at_local_midnight_in_the_customers_time_zone():
    start = utc(2026, 1, 10)
    # Paris is UTC+1 in February: the period starts at 23:00 UTC the day before.
    assert period_at(start, utc(2026, 2, 10), Interval.MONTH, Anchor.CALENDAR, "Europe/Paris") == Period(
        utc(2026, 1, 31, 23), utc(2026, 2, 28, 23)
    )


def test_the_first_calendar_period_runs_from_the_start_to_the_next_boundary():
    start = utc(2026, 1, 10, 12)
    assert period_at(start, utc(2026, 1, 20), Interval.MONTH, Anchor.CALENDAR, "UTC") == Period(start, utc(2026, 2, 1))


@pytest.mark.parametrize(
    "interval, at, expected",
    [
        (Interval.QUARTER, utc(2026, 5, 10), Period(utc(2026, 4, 1), utc(2026, 7, 1))),
        (Interval.YEAR, utc(2027, 3, 1), Period(utc(2027, 1, 1), utc(2028, 1, 1))),
    ],
)
def test_quarterly_and_yearly_calendar_periods(interval, at, expected):
    assert period_at(utc(2026, 1, 1), at, interval, Anchor.CALENDAR, "UTC") == expected


def test_yearly_anniversary_on_29_february():
    start = utc(2028, 2, 29)
    assert period_at(start, utc(2029, 6, 1), Interval.YEAR, Anchor.ANNIVERSARY, "UTC") == Period(
        utc(2029, 2, 28), utc(2030, 2, 28)
    )


def test_proration_is_exact_by_the_second():
    period = Period(utc(2026, 4, 1), utc(2026, 5, 1))  # 30 days
    # Upgrade from 30 to 60 with 10 days left: 30 x 10/30 = 10 charged now.
    assert prorate(Decimal("30"), Decimal("60"), period, utc(2026, 4, 21)) == Decimal("10")
    # Downgrade applied immediately with 15 days left: -20 x 1/2 = -10 credited.
    assert prorate(Decimal("50"), Decimal("30"), period, utc(2026, 4, 16)) == Decimal("-10")
    assert prorate(Decimal("10"), Decimal("20"), period, utc(2026, 5, 1)) == 0
