"""The one bounded reader of the numbers and times a client sends to ingestion (native and compat routes).

Every number is bounded on its text BEFORE any conversion: a JSON number literal longer than
``MAX_NUMBER_TEXT`` characters, or with an exponent beyond ``±MAX_EXPONENT``, is never turned into an
int or a Decimal (``int("9" * 10**6)`` is quadratic and ``Decimal("1e999999999")`` overflows the first
arithmetic on it); it becomes an ``UnreadableNumber`` that the event's checks reject on their own, so
one such number never fails the rest of a batch.

The numbers ingestion stores are the numbers billing can price (``billable_number``): finite, at most
``tollgate.domain.money.MAX_DIGITS`` (18) digits written out (integer digits plus decimal places), so
``999999999999999999``, ``0.000000000000000001`` and ``1E+17`` are in; ``1E+18``, ``1E+125`` and
``1E-19`` are out. Negative values are in the domain but only SUM meters that allow corrections
accept them (``measure``).

Unix timestamps (Lago's ``timestamp``) are seconds from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from tollgate.domain.clock import to_rfc3339
from tollgate.domain.errors import InvalidInput
from tollgate.domain.money import MAX_DIGITS, to_decimal

MAX_NUMBER_TEXT = 100  # characters of one JSON number literal
MAX_EXPONENT = 1000  # |exponent| written in a JSON number literal
MAX_UNIX_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NUMBER_DOMAIN = (
    f"a JSON number of at most {MAX_DIGITS} digits written out (integer digits plus decimal places), e.g. 12.5 or 1E+6"
)


@dataclass(frozen=True)
class UnreadableNumber:
    """A JSON number too long or with too large an exponent to be read; ``text`` is its beginning."""

    text: str
    length: int

    def __str__(self) -> str:
        shown = self.text if self.length <= len(self.text) else f"{self.text}… ({self.length} characters)"
        return (
            f"{shown} (out of range: numbers have at most {MAX_NUMBER_TEXT} characters and exponents ±{MAX_EXPONENT})"
        )


def _unreadable(text: str) -> UnreadableNumber:
    return UnreadableNumber(text[:24], len(text))


def _read_int(text: str) -> int | UnreadableNumber:
    return _unreadable(text) if len(text) > MAX_NUMBER_TEXT else int(text)


def _read_fraction(text: str) -> Decimal | UnreadableNumber:
    if len(text) > MAX_NUMBER_TEXT:
        return _unreadable(text)
    _, e, exponent = text.lower().partition("e")
    if e and abs(int(exponent)) > MAX_EXPONENT:  # at most 100 digits: int() is cheap here
        return _unreadable(text)
    return Decimal(text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str | bytes) -> Any:
    """JSON with exact, bounded numbers: integers as int, fractions as Decimal, numbers out of range as
    ``UnreadableNumber``; NaN and Infinity are refused (``ValueError``), like any invalid JSON."""
    return json.loads(text, parse_int=_read_int, parse_float=_read_fraction, parse_constant=_no_constant)


def is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


_INT_BOUND = 10**MAX_DIGITS


def billable_number(value: Any) -> Decimal | None:
    """The value as a Decimal the pricing engine accepts (sign aside), or None."""
    if type(value) is int and -_INT_BOUND < value < _INT_BOUND:  # the common case, without to_decimal's checks
        return Decimal(value)
    if not is_number(value):
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    try:
        return to_decimal(value, "quantity")
    except InvalidInput:
        return None


def unix_seconds_to_rfc3339(value: Any) -> str | None:
    """Unix seconds (a number, or a plain decimal string) as RFC 3339, or None when out of range."""
    if isinstance(value, str):
        if len(value) > MAX_NUMBER_TEXT:
            return None
        try:
            value = Decimal(value)
        except InvalidOperation:
            return None
    if not is_number(value) or (isinstance(value, Decimal) and not value.is_finite()):
        return None
    seconds = Decimal(value)
    if not 0 <= seconds <= MAX_UNIX_SECONDS:  # compared before any conversion: 1e999999999 stops here
        return None
    whole = int(seconds)
    micros = int((seconds - whole) * 1_000_000)
    return to_rfc3339(_EPOCH + timedelta(seconds=whole, microseconds=micros))
