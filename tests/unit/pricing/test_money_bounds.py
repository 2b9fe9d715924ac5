"""Issue 13 class 1: every money amount from a client is bounded before any arithmetic. Over arbitrary
JSON numbers (as the API's JSON parser hands them over: int, float, Decimal, or the number's text in a
string), the one money parser and the coupon parser answer a value or InvalidInput -- never
``decimal.Overflow``/``InvalidOperation`` -- and at once."""

from __future__ import annotations

import contextlib
import json
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.timing import assert_prompt
from tollgate.domain.billing.discounts import parse_coupon
from tollgate.domain.errors import InvalidInput
from tollgate.domain.money import MAX_DIGITS, _digits, round_money, to_decimal

AT = datetime(2026, 1, 1, tzinfo=UTC)

# The text of a JSON number: sign, integer part, fraction, exponent (huge exponents included).
json_number_text = st.builds(
    lambda sign, whole, frac, exp: f"{sign}{whole}{frac}{exp}",
    st.sampled_from(["", "-"]),
    st.one_of(st.just("0"), st.from_regex(r"[1-9][0-9]{0,40}", fullmatch=True)),
    st.one_of(st.just(""), st.from_regex(r"\.[0-9]{1,40}", fullmatch=True)),
    st.one_of(
        st.just(""),
        st.builds(
            lambda e, s, n: f"{e}{s}{n}",
            st.sampled_from(["e", "E"]),
            st.sampled_from(["", "+", "-"]),
            st.one_of(st.integers(0, 400), st.integers(0, 10**12)),
        ),
    ),
)


def _as_client_sends(text: str) -> list[object]:
    """The shapes one JSON number reaches a parser in: as parsed (Decimal floats), as plain json, as text."""
    shapes: list[object] = [text, json.loads(text, parse_float=Decimal)]
    with contextlib.suppress(ValueError):  # int text longer than Python's int limit
        shapes.append(json.loads(text))
    return shapes


@settings(max_examples=400, deadline=None)
@given(json_number_text)
def test_to_decimal_bounds_every_json_number_before_any_arithmetic(text: str):
    for value in _as_client_sends(text):
        started = time.perf_counter()
        try:
            number = to_decimal(value, "amount")
        except InvalidInput as exc:
            assert exc.extra.get("field") == "amount" or "amount" in exc.detail
        else:
            assert number.is_finite() and _digits(number) <= MAX_DIGITS
            round_money(number, "USD")  # the arithmetic that follows cannot overflow
        assert_prompt(time.perf_counter() - started)


@settings(max_examples=300, deadline=None)
@given(json_number_text, st.sampled_from(["amount_off", "percent_off"]))
def test_coupon_amounts_are_bounded_a_coupon_or_invalid_input(text: str, field: str):
    data = {field: text, "currency": "USD"} if field == "amount_off" else {field: text}
    try:
        coupon = parse_coupon("C1", "ten_1", data, AT)
    except InvalidInput:
        return
    value = coupon.amount_off if field == "amount_off" else coupon.percent_off
    assert value is not None and value > 0 and _digits(value) <= MAX_DIGITS


@pytest.mark.parametrize("value", ["1e1000000", "1E+125", "1e999999999", "-1E+125", "NaN", "Infinity", "1" * 5000])
def test_huge_exponents_and_specials_are_invalid_input(value: str):
    with pytest.raises(InvalidInput):
        to_decimal(value, "amount_off")
    with pytest.raises(InvalidInput):
        parse_coupon("C1", "ten_1", {"amount_off": value, "currency": "USD"}, AT)


@pytest.mark.parametrize(
    "value", [Decimal("1E+125"), Decimal("1E-1000000"), Decimal("1E+999999999"), 10**18, -(10**18)]
)
def test_parsed_numbers_past_the_digit_bound_are_invalid_input(value):
    with pytest.raises(InvalidInput):
        to_decimal(value, "amount")


def test_amounts_inside_the_bounds_still_parse():
    assert to_decimal("999999999999999999", "amount") == Decimal("999999999999999999")
    assert to_decimal("0.000000000000000001", "amount") == Decimal("1E-18")
    assert to_decimal(10**18 - 1, "amount") == Decimal(10**18 - 1)
    assert parse_coupon("C1", "ten_1", {"percent_off": "12.5"}, AT).percent_off == Decimal("12.5")
