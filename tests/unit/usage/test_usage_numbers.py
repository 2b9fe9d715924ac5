"""Numbers and times a client sends to ingestion (tollgate.domain.usage.numbers, issue 13 classes 1 and 2):
read on their text before any conversion, bounded, and what ingestion stores is what billing can price."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.timing import assert_prompt
from tollgate.domain.catalog.meters import new_meter
from tollgate.domain.errors import InvalidInput
from tollgate.domain.pricing import quote
from tollgate.domain.usage.events import Code, IncomingEvent, Rejection
from tollgate.domain.usage.measure import measure
from tollgate.domain.usage.numbers import (
    MAX_UNIX_SECONDS,
    UnreadableNumber,
    billable_number,
    loads,
    unix_seconds_to_rfc3339,
)
from tollgate.domain.usage.parsing import parse_event

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
PER_UNIT = {"model": "per_unit", "currency": "USD", "unit_amount": "0.01"}


def meter(function="SUM", field="properties.credits", **extra):
    aggregation = {"function": function} | ({"field": field} if field else {})
    return new_meter(
        meter_id="mtr_1",
        tenant_id="ten_1",
        data={"event_name": "model.usage", "aggregation": aggregation, **extra},
        at=NOW,
    )


def judged(body: str, m=None):
    """An event sent as JSON text, through the bounded reader, parse_event and the meter's rules."""
    parsed = parse_event(loads(body), 0, NOW)
    return parsed if isinstance(parsed, Rejection) else measure(parsed, m or meter())


def quickly(call, *args):
    started = time.monotonic()
    out = call(*args)
    assert_prompt(time.monotonic() - started)
    return out


# -- class 1: bounded before any conversion -----------------------------------------------------------


@pytest.mark.parametrize("literal", ["1e999999999", "1E-999999999", "9" * 100_000, "0." + "1" * 5000, "-1e1001"])
def test_numbers_out_of_range_are_read_as_unreadable_without_converting_them(literal):
    value = quickly(loads, f'{{"quantity": {literal}}}')["quantity"]
    assert isinstance(value, UnreadableNumber)
    assert len(str(value)) < 200  # a detail never echoes the whole number


def test_numbers_in_range_are_exact():
    assert loads('{"a": 12, "b": 2.50, "c": 1E+3, "d": -0.1}') == {
        "a": 12,
        "b": Decimal("2.50"),
        "c": Decimal("1E+3"),
        "d": Decimal("-0.1"),
    }


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json_numbers(constant):
    with pytest.raises(ValueError):
        loads(f'{{"quantity": {constant}}}')


EVENT = '{"event_name": "model.usage", "external_customer_id": "c", '


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (EVENT + '"quantity": 1e1000000}', Code.INVALID_QUANTITY),
        (EVENT + '"quantity": 1e999999999}', Code.INVALID_QUANTITY),
        (EVENT + '"properties": {"x": [1e99999]}}', Code.INVALID_EVENT),
        (EVENT + '"properties": {"credits": 1E+125}}', Code.AGGREGATION_FIELD_INVALID),
        (EVENT + '"quantity": 1E+125}', Code.INVALID_QUANTITY),
    ],
)
def test_an_event_with_a_number_out_of_range_is_rejected_on_its_own_within_a_second(body, code):
    out = quickly(judged, body)
    assert isinstance(out, Rejection) and out.code is code, out


@given(st.integers(min_value=-(10**12), max_value=MAX_UNIX_SECONDS + 10**12))
def test_unix_seconds_become_rfc3339_between_1970_and_9999_and_nothing_else(seconds):
    text = unix_seconds_to_rfc3339(seconds)
    if 0 <= seconds <= MAX_UNIX_SECONDS:
        assert text is not None and datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() == seconds
    else:
        assert text is None


@pytest.mark.parametrize("value", ["1e999999999", Decimal("1e999999999"), Decimal("-1"), "NaN", "x" * 10**6, True])
def test_unix_seconds_out_of_range_answer_none_within_a_second(value):
    assert quickly(unix_seconds_to_rfc3339, value) is None


def test_unix_seconds_keep_their_fraction():
    assert unix_seconds_to_rfc3339(Decimal("1700000000.25")) == "2023-11-14T22:13:20.250000Z"
    assert unix_seconds_to_rfc3339("1700000000") == "2023-11-14T22:13:20Z"


# -- class 2: ingestion accepts what billing prices ----------------------------------------------------

JSON_NUMBERS = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=None).map(lambda d: format(d, "")),
    st.builds(
        lambda m, e: f"{m}e{e}",
        st.integers(min_value=-(10**20), max_value=10**20),
        st.integers(min_value=-2000, max_value=2000),
    ),
)


@settings(max_examples=400, deadline=1000)
@given(JSON_NUMBERS, st.booleans())
def test_any_number_ingestion_accepts_the_pricing_engine_prices(literal, as_quantity):
    body = (
        f'{{"event_name": "model.usage", "external_customer_id": "c", "quantity": {literal}}}'
        if as_quantity
        else f'{{"event_name": "model.usage", "external_customer_id": "c", "properties": {{"credits": {literal}}}}}'
    )
    out = quickly(judged, body, meter("SUM", "quantity" if as_quantity else "properties.credits"))
    if isinstance(out, Decimal):
        assert quote(PER_UNIT, out).quantity == out  # the real pricing function takes it
    else:
        assert isinstance(out, Rejection)
        assert out.code in {Code.INVALID_QUANTITY, Code.AGGREGATION_FIELD_INVALID, Code.INVALID_EVENT}
        number = loads(literal)
        if isinstance(number, int | Decimal):  # refused only what the pricing engine refuses too
            with pytest.raises(InvalidInput):
                quote(PER_UNIT, number)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (999999999999999999, True),
        (Decimal("0.000000000000000001"), True),
        (Decimal("1E+17"), True),
        (Decimal("1E+18"), False),
        (Decimal("1E+125"), False),
        (Decimal("1E-19"), False),
        (True, False),
        ("1", False),
    ],
)
def test_the_numeric_domain_is_the_pricing_engines(value, ok):
    assert (billable_number(value) is not None) is ok


def test_negative_values_are_refused_unless_a_sum_meter_allows_corrections():
    negative_credits = '{"event_name": "model.usage", "external_customer_id": "c", "properties": {"credits": -1000}}'
    negative_quantity = '{"event_name": "model.usage", "external_customer_id": "c", "quantity": -5}'
    assert judged(negative_credits).code is Code.AGGREGATION_FIELD_INVALID
    assert judged(negative_quantity).code is Code.INVALID_QUANTITY
    assert judged(negative_quantity, meter("COUNT", None)).code is Code.INVALID_QUANTITY
    assert judged(negative_credits, meter("MAX")).code is Code.AGGREGATION_FIELD_INVALID
    corrections = meter(allow_negative=True)
    assert judged(negative_credits, corrections) == Decimal(-1000)
    assert judged(negative_quantity, meter("SUM", "quantity", allow_negative=True)) == Decimal(-5)


def test_allow_negative_is_a_boolean_of_sum_meters_only():
    assert meter().allow_negative is False
    with pytest.raises(InvalidInput) as error:
        meter("MAX", allow_negative=True)
    assert error.value.extra["field"] == "allow_negative"
    with pytest.raises(InvalidInput):
        meter(allow_negative=1)
    corrections = meter(allow_negative=True)
    assert corrections.edited({"allow_negative": False}, NOW).allow_negative is False
    with pytest.raises(InvalidInput):
        corrections.edited({"aggregation": {"function": "MAX", "field": "properties.credits"}}, NOW)


def test_an_event_with_an_unreadable_number_still_parses_the_rest():
    body = json.dumps({"event_name": "model.usage", "external_customer_id": "c", "properties": {"credits": 2}})
    out = parse_event(loads(body), 0, NOW)
    assert isinstance(out, IncomingEvent)
