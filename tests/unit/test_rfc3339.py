"""RFC 3339 is THE timestamp format (tollgate.domain.clock): parse_rfc3339 gives a UTC time, and any
string it cannot turn into one is a ValueError that says what to send, so callers map one exception to
a 4xx (never an OverflowError that would answer 500)."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tollgate.domain.clock import parse_rfc3339, to_rfc3339


def test_an_offset_time_is_read_as_its_utc_instant_and_written_back_with_z():
    parsed = parse_rfc3339("2026-04-17T12:00:00+02:00")
    assert parsed == datetime(2026, 4, 17, 10, tzinfo=UTC) and to_rfc3339(parsed) == "2026-04-17T10:00:00Z"


@pytest.mark.parametrize(
    "value",
    ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00", "not a time", "2026-02-30T00:00:00Z", ""],
)
def test_a_time_outside_utc_years_1_to_9999_or_not_a_time_is_a_value_error_naming_the_form(value):
    with pytest.raises(ValueError, match=r"RFC 3339 with an offset, e\.g\. 2026-04-17T10:00:00Z"):
        parse_rfc3339(value)


def test_a_time_without_offset_is_refused_as_such():
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_rfc3339("2026-04-17T10:00:00")


@given(st.text(max_size=40))
def test_any_string_parses_to_a_utc_time_or_raises_value_error_only(value):
    try:
        parsed = parse_rfc3339(value)
    except ValueError:
        return
    assert parsed.tzinfo is UTC


@given(st.datetimes(timezones=st.timezones()))
def test_any_time_with_an_offset_parses_to_the_same_instant_or_raises_value_error_only(value):
    try:
        parsed = parse_rfc3339(value.isoformat())
    except ValueError:
        return  # its UTC time is outside years 1..9999
    assert parsed == value
