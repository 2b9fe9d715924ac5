"""Issue 13 class 1 for payments: every retry interval and grace period a client sends is bounded before
any date arithmetic. Whatever number or string arrives, the answer is a parsed interval within bounds
or a 4xx (InvalidInput, 422) naming the field, never OverflowError or ValueError (a 500)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tollgate.api.routers.payments import PaymentSettingsIn
from tollgate.domain.errors import InvalidInput
from tollgate.domain.payment_settings import (
    MAX_RETRY_WAIT,
    PaymentSettings,
    parse_duration,
    parse_payment_settings,
)
from tollgate.domain.payments import PaymentAttempt, PaymentOutcome, grace_period_days, next_attempt, payment_status

TENANT = "ten_bounds"
NOW = datetime(2026, 11, 29, tzinfo=UTC)


def _put(schedule: list) -> PaymentSettings:
    return parse_payment_settings(TENANT, {"retry_schedule": schedule}, current=PaymentSettings(TENANT), at=NOW)


@pytest.mark.parametrize(
    "interval", ["P999999999D", "P99999999999999999999D", "PT99999999999999999999S", 999999999, 10**400, "P366D", 366]
)
def test_a_retry_interval_past_a_year_is_refused_naming_the_bound(interval):
    with pytest.raises(InvalidInput) as exc:
        _put([interval])
    assert exc.value.status == 422 and "at most 365 days" in exc.value.detail
    assert exc.value.extra["field"] == "retry_schedule[0]"


@pytest.mark.parametrize(
    "interval", ["P٣D", "P3D\n", "p3d", "P" + "9" * 5000 + "D", "P", "PT", "P0D", 0, -3, True, 3.5]
)
def test_a_malformed_retry_interval_is_refused(interval):
    with pytest.raises(InvalidInput):
        _put([interval])


def test_a_schedule_whose_waits_add_up_past_360_days_is_refused_naming_the_total():
    """A dunning run is one Step Functions execution, and an execution ends after a year."""
    assert _put(["P120D", "P120D", "P120D"]).retry_schedule == (timedelta(days=120),) * 3
    with pytest.raises(InvalidInput) as exc:
        _put(["P120D", "P120D", "P120D", "PT1S"])
    assert exc.value.status == 422 and exc.value.extra["field"] == "retry_schedule"
    assert "P360DT1S" in exc.value.detail and "at most 360 days" in exc.value.detail


def test_the_longest_stored_schedule_still_plans_its_last_retry():
    s = PaymentSettings(TENANT, retry_schedule=(MAX_RETRY_WAIT,) * 10)  # stored before the total was bounded
    last = PaymentAttempt(10, NOW, PaymentOutcome.DECLINED, Decimal("1"), "dunning")
    step = next_attempt(
        owed=True, amount_due=Decimal("1"), has_payment_method=True, attempts=(last,) * 10, settings=s, now=NOW
    )
    assert step.number == 11 and step.at == NOW + MAX_RETRY_WAIT


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.decimals(allow_nan=True, allow_infinity=True),
        st.text(max_size=60),
        st.from_regex(r"P[0-9]{1,30}DT[0-9]{1,30}H[0-9]{1,30}M[0-9]{1,30}S", fullmatch=True),
        st.builds(lambda n: f"1e{n}", st.integers(0, 10**7)),
        st.none(),
        st.booleans(),
        st.lists(st.integers(), max_size=2),
    )
)
def test_any_retry_interval_is_a_bounded_duration_or_a_422(value):
    try:
        delta = parse_duration(value, "retry_schedule[0]")
    except InvalidInput as exc:
        assert exc.status == 422
        return
    assert timedelta(0) < delta <= MAX_RETRY_WAIT
    assert NOW + delta > NOW  # the arithmetic the dunning plan does cannot overflow


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.integers(), st.text(max_size=12), st.floats(), st.booleans(), st.none()))
def test_any_grace_period_in_metadata_gives_a_payment_state(value):
    days = grace_period_days({"max_payment_overdue_days": value}, {}, 3, "max_payment_overdue_days")
    assert 0 <= days <= 365
    assert payment_status(NOW, days, NOW).grace_ends_at is not None


@pytest.mark.parametrize("body", [{"retry_schedule": [float("inf")]}, {"retry_schedule": [1e300]}])
def test_the_api_model_refuses_non_finite_and_fractional_days(body):
    with pytest.raises(ValidationError):
        PaymentSettingsIn(**body)
