"""Loose types refused as a class (issue 13, class 8): whatever string, number or time a client sends
for a catalog, customer or subscription field is either stored as it is or refused with a 422 that
names the field, never coerced (``true`` is not 1) and never an error of another kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tollgate.api.routers.customers import CustomerIn
from tollgate.api.routers.migrations import BulkMigrationIn
from tollgate.api.routers.plans import EntitlementIn, PlanIn
from tollgate.api.routers.subscriptions import MigrateIn, PlanChangeIn, SubscriptionIn
from tollgate.domain.catalog.common import (
    EXTERNAL_ID_RULE,
    MAX_EXTERNAL_ID,
    external_id,
    has_lone_surrogate,
    metadata,
    string_metadata,
    text,
)
from tollgate.domain.catalog.plans import MAX_VERSION, version_number
from tollgate.domain.customers import validate_customer_fields
from tollgate.domain.errors import InvalidInput
from tollgate.domain.subscriptions import MAX_BACKDATE, MAX_START_AHEAD, start_time

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
# Every code point, with surrogates, control characters and spaces drawn often.
any_text = st.text(
    alphabet=st.one_of(st.characters(exclude_categories=()), st.characters(categories=["Cs", "Cc", "Cf", "Zs"])),
    max_size=300,
)
json_scalars = st.one_of(st.booleans(), st.floats(allow_nan=True, allow_infinity=True), st.none(), st.text())


# -- external ids ---------------------------------------------------------------------------------


@given(any_text)
def test_an_external_id_is_stored_exactly_as_sent_or_refused_naming_the_field_and_the_rule(value):
    try:
        kept = external_id(value)
    except InvalidInput as error:
        assert error.extra["field"] == "external_id" and EXTERNAL_ID_RULE in error.detail
        return
    assert kept == value and kept == kept.strip() and kept.isprintable() and 1 <= len(kept) <= MAX_EXTERNAL_ID


@pytest.mark.parametrize(
    "value", ["a\x00b", "tab\there", "line\n", "\x7f", "   ", "", " padded", "padded ", "x" * 256, "a\udc00", "\u200b"]
)
def test_external_ids_with_control_characters_surrogates_or_only_whitespace_are_refused(value):
    with pytest.raises(InvalidInput) as caught:
        validate_customer_fields(external_id=value, email=None, currency="USD", timezone="UTC", metadata={})
    assert caught.value.extra["field"] == "external_id"


@pytest.mark.parametrize("value", ["cus-42", "Kunde Müller", "ユーザー1", "a" * 255, "x@y.z"])
def test_printable_trimmed_external_ids_are_kept(value):
    assert external_id(value) == value


# -- every stored string --------------------------------------------------------------------------


@given(any_text)
def test_a_name_is_storable_text_or_a_422_naming_it(value):
    try:
        kept = text(value, "name", max_length=300)
    except InvalidInput as error:
        assert error.extra["field"] == "name"
        return
    kept.encode("utf-8")  # what DynamoDB needs: never raises for a kept value
    assert kept == value and not has_lone_surrogate(kept)


@given(st.dictionaries(any_text, st.one_of(any_text, st.integers(), st.booleans()), max_size=60))
@settings(max_examples=200)
def test_customer_and_subscription_metadata_is_strings_or_a_422(value):
    try:
        kept = string_metadata(value)
    except InvalidInput as error:
        assert error.extra["field"].startswith("metadata")
        return
    assert all(isinstance(v, str) for v in kept.values())
    assert not any(isinstance(v, bool) for v in value.values())  # a boolean is never stored as "True" or "1"
    for key, item in kept.items():
        (key + item).encode("utf-8")


@given(st.dictionaries(st.text(max_size=5), any_text, max_size=5))
def test_catalog_metadata_values_are_storable_or_a_422(value):
    try:
        kept = metadata(value)
    except InvalidInput:
        return
    for key, item in kept.items():
        (key + str(item)).encode("utf-8")


# -- numbers --------------------------------------------------------------------------------------


@given(json_scalars)
def test_a_number_field_never_takes_a_boolean_a_float_or_a_string(value):
    """``trial_days: true`` used to be stored as 1 day, ``version: true`` as version 1."""
    for model, field in [
        (PlanIn, "trial_days"),
        (SubscriptionIn, "trial_days"),
        (SubscriptionIn, "version"),
        (PlanChangeIn, "version"),
        (MigrateIn, "version"),
        (BulkMigrationIn, "from_version"),
        (BulkMigrationIn, "to_version"),
    ]:
        body = {"name": "p", "currency": "USD", "plan_id": "plan_1", "from_plan_id": "a", "to_plan_id": "b"}
        allowed = set(model.model_fields)
        data = {k: v for k, v in body.items() if k in allowed} | {field: value}
        if value is None:
            continue  # "not sent"
        with pytest.raises(ValidationError):
            model.model_validate(data)


@given(st.one_of(st.integers(), st.floats(), st.text(max_size=3)))
def test_a_flag_is_only_true_or_false(value):
    with pytest.raises(ValidationError):
        EntitlementIn.model_validate({"meter_id": "mtr_1", "limit": "1", "hard": value})
    with pytest.raises(ValidationError):
        MigrateIn.model_validate({"plan_id": "plan_1", "at_period_end": value})


@given(st.integers())
def test_version_numbers_from_a_client_are_bounded(value):
    ok = 1 <= value <= MAX_VERSION
    try:
        SubscriptionIn.model_validate({"plan_id": "plan_1", "version": value})
    except ValidationError:
        assert not ok
    else:
        assert ok


def test_customer_metadata_takes_strings_and_integers_but_not_booleans():
    assert CustomerIn.model_validate({"external_id": "c1", "metadata": {"seats": 3}}).metadata == {"seats": 3}
    with pytest.raises(ValidationError):
        CustomerIn.model_validate({"external_id": "c1", "metadata": {"vip": True}})


# -- the plan version path segment ----------------------------------------------------------------


@given(any_text)
def test_a_version_path_segment_names_a_version_only_with_ascii_digits_in_range(segment):
    number = version_number(segment)
    if number is None:
        return
    assert segment.isascii() and segment.isdigit() and 1 <= number <= MAX_VERSION


@pytest.mark.parametrize("segment", ["\u0661", "\u00b9", "\uff11", "0", "-1", "1.0", "100001", "9" * 40, " 1"])
def test_arabic_indic_superscript_and_out_of_range_versions_name_nothing(segment):
    assert version_number(segment) is None


def test_plain_version_numbers_are_read():
    assert version_number("1") == 1 and version_number("007") == 7 and version_number("100000") == 100000


# -- a subscription's start ------------------------------------------------------------------------


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)))
def test_start_at_is_accepted_only_within_a_year_either_side_of_now(at):
    within = NOW - MAX_BACKDATE <= at <= NOW + MAX_START_AHEAD
    for sent in (at, at.isoformat()):
        try:
            assert start_time(sent, NOW) == at
        except InvalidInput as error:
            assert not within and error.extra["field"] == "start_at"
        else:
            assert within


@given(st.one_of(any_text, st.integers(), st.floats(), st.booleans()))
def test_anything_but_an_rfc3339_time_is_a_422_naming_start_at(value):
    try:
        start_time(value, NOW)
    except InvalidInput as error:
        assert error.extra["field"] == "start_at"


@pytest.mark.parametrize(
    "value",
    ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2026-11-29T12:00:00", 1e11],
)
def test_year_one_year_9999_naive_and_numeric_starts_are_refused(value):
    with pytest.raises(InvalidInput):
        start_time(value, NOW)


def test_a_start_a_month_back_or_a_week_ahead_is_kept():
    assert start_time("2026-10-29T12:00:00Z", NOW) == NOW - timedelta(days=31)
    assert start_time("2026-12-06T13:00:00+01:00", NOW) == NOW + timedelta(days=7)
    assert start_time(None, NOW) == NOW
