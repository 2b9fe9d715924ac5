"""Money: ISO 4217 minor units, half-up rounding and strict decimal parsing."""

from decimal import Decimal

import pytest

from tollgate.domain.errors import InvalidInput
from tollgate.domain.money import MAX_DIGITS, minor_units, plain, round_money, to_decimal


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [("USD", 2), ("EUR", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3), ("BHD", 3), ("CLF", 4)],
)
def test_minor_units_come_from_the_iso_4217_table(currency, exponent):
    assert minor_units(currency) == exponent


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.125", "USD", "0.13"),
        ("0.124", "USD", "0.12"),
        ("0.105", "USD", "0.11"),  # banker's rounding would give 0.10
        ("0.5", "JPY", "1"),
        ("2.5", "JPY", "3"),
        ("1234.4999", "JPY", "1234"),
        ("0.0005", "KWD", "0.001"),
        ("7", "USD", "7.00"),
        ("0", "KWD", "0.000"),
    ],
)
def test_round_money_rounds_half_up_to_the_currencys_minor_units(amount, currency, expected):
    rounded = round_money(Decimal(amount), currency)
    assert rounded == Decimal(expected)
    assert str(rounded) == expected


@pytest.mark.parametrize("currency", ["XYZ", "usd", "US", "USDT", "", None, 840])
def test_unknown_or_malformed_currency_is_invalid_input_on_the_currency_field(currency):
    with pytest.raises(InvalidInput) as error:
        minor_units(currency)
    assert error.value.extra["field"] == "currency"


def test_currency_without_minor_units_such_as_gold_is_rejected():
    # ISO 4217 lists XAU (gold) with minor units "N.A.": it cannot be rounded to a money amount.
    with pytest.raises(InvalidInput) as error:
        round_money(Decimal(1), "XAU")
    assert error.value.extra["field"] == "currency"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("9.99", "9.99"), ("0.10", "0.10"), ("-3", "-3"), (1000, "1000"), (Decimal("1.5"), "1.5"), ("0", "0")],
)
def test_to_decimal_accepts_decimal_strings_ints_and_decimals(value, expected):
    parsed = to_decimal(value, "unit_amount")
    assert parsed == Decimal(expected)
    assert str(parsed) == expected


@pytest.mark.parametrize(
    "value",
    [0.1, 1.0, True, None, "1e3", "NaN", "Infinity", " 1", "1,000", "1_000", ".5", "5.", "", [], Decimal("NaN")],
)
def test_to_decimal_rejects_floats_and_anything_but_a_plain_decimal(value):
    with pytest.raises(InvalidInput) as error:
        to_decimal(value, "unit_amount")
    assert error.value.extra["field"] == "unit_amount"


def test_to_decimal_allows_eighteen_digits_and_no_more():
    assert to_decimal("1" * MAX_DIGITS, "q") == Decimal("1" * MAX_DIGITS)
    assert to_decimal("0." + "0" * 17 + "1", "q") == Decimal("1e-18")
    assert to_decimal("123456789.123456789", "q") == Decimal("123456789.123456789")
    assert to_decimal("1.50000000000000000000", "q") == Decimal("1.5")  # trailing zeros do not count
    assert to_decimal("0.000000000000000000000", "q") == 0
    for too_long in (
        "1" * (MAX_DIGITS + 1),
        "0." + "0" * 18 + "1",
        "1234567890.123456789",
        Decimal("1E+30"),
        "9" * 150,
    ):
        with pytest.raises(InvalidInput):
            to_decimal(too_long, "q")


def test_plain_never_uses_exponent_notation():
    assert plain(Decimal("1E+3")) == "1000"
    assert plain(Decimal("1E-7")) == "0.0000001"
