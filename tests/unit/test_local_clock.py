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


# -- local time travel (issue 18) ------------------------------------------------------------------------


def test_a_catch_up_fires_a_schedule_that_was_due_in_the_skipped_time_only():
    from datetime import timedelta

    from infra.local.time_travel import was_due

    start = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    assert was_due("cron(15 0 * * ? *)", start, start + timedelta(days=31), start)
    assert not was_due("cron(15 0 * * ? *)", start, start + timedelta(hours=13), start)  # 10:00 to 23:00
    assert was_due("rate(5 minutes)", start, start + timedelta(hours=1), start)
    assert not was_due("rate(5 minutes)", start, start + timedelta(minutes=3), start)


def test_an_advance_body_is_days_hours_minutes_or_to_and_nothing_else():
    from datetime import timedelta

    import pytest

    from infra.local.time_travel import _advance_body

    assert _advance_body(b'{"days": 31}') == (timedelta(days=31), None)
    assert _advance_body(b'{"hours": 1, "minutes": 30}') == (timedelta(hours=1, minutes=30), None)
    assert _advance_body(b'{"to": "2027-01-01T00:00:00Z"}') == (None, datetime(2027, 1, 1, tzinfo=UTC))
    for bad in (b'{"days": -1}', b"{}", b'{"weeks": 1}', b'{"days": true}', b"[1]", b"nope", b'{"to": 5}'):
        with pytest.raises(ValueError):
            _advance_body(bad)


def test_the_local_clock_is_not_part_of_the_deployed_api():
    import json

    from tollgate.api.grouped import GroupedApi

    response = (
        GroupedApi()
        .app_for("*")
        .resolve({"path": "/openapi.json", "httpMethod": "GET", "headers": {}, "requestContext": {}}, None)
    )
    assert not [p for p in json.loads(response["body"])["paths"] if p.startswith("/local")]
    from infra import definitions

    assert not [r for r in definitions.api().routes if r.path.startswith("/local")]
