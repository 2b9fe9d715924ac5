"""The local clock fires EventBridge Scheduler expressions the way AWS would."""

from datetime import UTC, datetime

from infra.local.clock import cron_matches, is_due


def test_the_daily_bill_run_cron_fires_at_00_15_utc_only():
    assert cron_matches("15 0 * * ? *", datetime(2026, 11, 21, 0, 15, tzinfo=UTC))
    assert not cron_matches("15 0 * * ? *", datetime(2026, 11, 21, 0, 16, tzinfo=UTC))


def test_day_of_week_uses_aws_numbering_sunday_is_1():
    sunday = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    assert cron_matches("0 9 ? * 1 *", sunday)
    assert cron_matches("0 9 ? * SUN *", sunday)
    assert not cron_matches("0 9 ? * MON-FRI *", sunday)


def test_rate_expressions_fire_every_period_after_start():
    start = datetime(2026, 11, 21, 10, 0, 30, tzinfo=UTC)
    assert is_due("rate(5 minutes)", datetime(2026, 11, 21, 10, 5, tzinfo=UTC), start)
    assert not is_due("rate(5 minutes)", datetime(2026, 11, 21, 10, 6, tzinfo=UTC), start)
