"""Money: strict decimal parsing and rounding to a currency's ISO 4217 minor units.

Rules (pure Python, ``decimal.Decimal`` only, never ``float``):

- ``to_decimal`` is THE bounded parser for money from a client. A decimal *string* (``"9.99"``) or
  an ``int`` is accepted; a ``float`` is rejected, because JSON numbers such as ``0.1`` have already
  gone through binary floating point in most parsers and cannot be trusted to be exact. Booleans,
  ``NaN``, infinities, exponent notation (``"1e3"``), strings longer than ``MAX_TEXT`` (64)
  characters and values needing more than ``MAX_DIGITS`` (18) digits to write out (integer digits +
  decimal places) are rejected too. Every bound is checked on the text or the digit tuple *before*
  any arithmetic, so ``1e1000000`` or ``Decimal("1E+125")`` is an ``InvalidInput`` (400), never a
  ``decimal.Overflow``, an ``InvalidOperation`` or a long computation.
- ``minor_units`` reads the exponent from the ISO 4217 table shipped by the ``iso4217``
  package (USD 2, JPY 0, KWD 3, CLF 4). Codes without a minor unit (XAU, XDR, the no-currency code ...) and
  unknown codes raise ``InvalidInput(field="currency")``.
- ``round_money`` rounds half-up (0.125 USD -> 0.13, 0.5 JPY -> 1) to those minor units.
- ``exact()`` is the arithmetic context pricing runs in: 100 digits of precision and ``Inexact``
  trapped, so a sum or product of 18-digit inputs is computed exactly or fails loudly.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from functools import cache
from typing import Any

from tollgate.domain.errors import InvalidInput

MAX_DIGITS = 18
MAX_TEXT = 64  # characters of a decimal string (18 digits, a sign, a point and trailing zeros fit)
_MAX_INT = 10**MAX_DIGITS
_PLAIN_DECIMAL = re.compile(r"-?\d+(\.\d+)?")
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
_EXACT = Context(
    prec=100,
    rounding=ROUND_HALF_UP,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact],
)


def exact() -> AbstractContextManager[Context]:
    """A decimal context in which arithmetic on 18-digit values is exact (``Inexact`` raises)."""
    return localcontext(_EXACT)


def to_decimal(value: Any, field: str) -> Decimal:
    """Parse a decimal string, an int or a finite Decimal; reject floats and anything else.

    Raises ``InvalidInput(detail, field=field)``. Negative values are allowed here; callers
    that need a non-negative value check it themselves.
    """
    if isinstance(value, bool):
        raise InvalidInput(f"{field} must be a decimal string, not a boolean", field=field)
    if isinstance(value, float):
        raise InvalidInput(
            f'{field} must be a decimal string such as "0.10", not a JSON float '
            "(binary floating point cannot represent most decimal amounts exactly)",
            field=field,
        )
    too_long = InvalidInput(
        f"{field} has more than {MAX_DIGITS} digits (integer digits plus decimal places)", field=field
    )
    if isinstance(value, int):
        if not -_MAX_INT < value < _MAX_INT:
            raise too_long
        return Decimal(value)
    if isinstance(value, str):
        if len(value) > MAX_TEXT or not _PLAIN_DECIMAL.fullmatch(value):
            raise InvalidInput(
                f'{field} must be a plain decimal string such as "12.50" (no exponent, at most {MAX_DIGITS} digits)',
                field=field,
            )
        number = Decimal(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidInput(f"{field} must be a finite number", field=field)
        number = value
    else:
        raise InvalidInput(f"{field} must be a decimal string", field=field)
    if _digits(number) > MAX_DIGITS:
        raise too_long
    return number


def _digits(number: Decimal) -> int:
    """Digits needed to write ``number`` without an exponent (trailing zeros after the point ignored)."""
    if not number:
        return 1
    _, digit_tuple, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    if len(digit_tuple) > MAX_TEXT + MAX_DIGITS:  # more significant digits than any bounded value has
        return len(digit_tuple)
    digits = list(digit_tuple)
    while exponent < 0 and len(digits) > 1 and digits[-1] == 0:
        digits.pop()
        exponent += 1
    return max(0, len(digits) + exponent) + max(0, -exponent)


def minor_units(currency: str) -> int:
    """The ISO 4217 minor-unit exponent of ``currency`` (USD 2, JPY 0, KWD 3)."""
    if not isinstance(currency, str) or not _CURRENCY_CODE.fullmatch(currency):
        raise InvalidInput('currency must be an upper-case ISO 4217 code such as "USD"', field="currency")
    exponent = _exponent(currency)
    if exponent is None:
        raise InvalidInput(f"{currency} is not a known ISO 4217 currency with minor units", field="currency")
    return exponent


@cache
def _exponent(code: str) -> int | None:
    # Imported here: the package parses its XML table on import (~15 ms), which a Lambda cold
    # start that never prices anything should not pay for.
    from iso4217 import Currency

    try:
        return Currency(code).exponent
    except ValueError:
        return None


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round ``amount`` half-up to the minor units of ``currency`` (0.125 USD -> 0.13)."""
    quantum = Decimal(1).scaleb(-minor_units(currency))
    return amount.quantize(quantum, rounding=ROUND_HALF_UP, context=Context(prec=_EXACT.prec))


def within_digits(number: Decimal, digits: int = MAX_DIGITS) -> Decimal:
    """``number`` rounded half-up to at most ``digits`` digits written out (integer digits plus decimal
    places), the pricing engine's domain: an AVG of 1, 1 and 2 (1.333…) is priced as 1.33333333333333333.
    A number whose integer part alone is longer is returned as it is (the pricing engine refuses it)."""
    if _digits(number) <= digits:
        return number
    places = max(0, digits - max(0, number.adjusted() + 1))
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=Context(prec=_EXACT.prec))


def plain(number: Decimal) -> str:
    """A decimal as a JSON string without exponent notation (``Decimal("1E+3")`` -> ``"1000"``)."""
    return format(number, "f")


def money_text(amount: Decimal | str, currency: str) -> str:
    """An amount as shown to a person: at least the currency's minor units, no trailing zeros past them
    ("0" -> "0.00", a zero with 32 decimals -> "0.00", "12.5" USD -> "12.50", 5 JPY -> "5"); an amount
    more precise than the minor units (a unit price of 0.005 USD) keeps its digits."""
    value = Decimal(str(amount))
    try:
        places = minor_units(currency)
    except InvalidInput:
        return plain(value)
    quantum = Decimal(1).scaleb(-places)
    rounded = value.quantize(quantum, context=Context(prec=_EXACT.prec))
    if rounded == value:
        return plain(rounded)
    return plain(value.normalize(Context(prec=_EXACT.prec)))
