"""Helpers shared by the catalog, customer and subscription entities: lifecycle tables, and the one
place that decides which client strings, identifiers, metadata and amounts are storable.

- Every string must be valid Unicode: a lone surrogate (``"\\udc00"``) cannot be encoded as UTF-8,
  so DynamoDB could not store it (nor the API echo it back); it is refused with 422, naming the field.
- External ids (a customer's or a subscription's id in the tenant's own system) are looked up by URL
  (``GET /v1/customers/external/{id}``): 1 to 255 printable characters, without leading or trailing
  whitespace (no NUL, no control characters, no lone surrogates).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from tollgate.domain.errors import Conflict, InvalidInput
from tollgate.domain.money import minor_units, to_decimal

S = TypeVar("S", bound=StrEnum)
A = TypeVar("A", bound=StrEnum)

MAX_NAME = 200
MAX_DESCRIPTION = 2000
MAX_METADATA_KEYS = 50
MAX_METADATA_KEY = 40
MAX_METADATA_VALUE = 500
MAX_EXTERNAL_ID = 255
EXTERNAL_ID_RULE = (
    f"1 to {MAX_EXTERNAL_ID} printable characters without leading or trailing whitespace "
    "(no control characters or lone surrogates)"
)


def has_lone_surrogate(value: str) -> bool:
    """Whether ``value`` holds a UTF-16 surrogate code point, which UTF-8 (and so DynamoDB) cannot encode."""
    return any("\ud800" <= ch <= "\udfff" for ch in value)


def storable(value: str, field: str) -> str:
    """``value`` if every code point of it can be stored; InvalidInput naming ``field`` otherwise."""
    if has_lone_surrogate(value):
        raise InvalidInput(f"{field} must be valid Unicode text (it holds a lone surrogate)", field=field)
    return value


def is_identifier(value: Any) -> bool:
    """Whether ``value`` could name something Tollgate stores (an id in a path or a body): ids longer
    than ``MAX_EXTERNAL_ID`` or holding a lone surrogate name nothing, and DynamoDB keys stay in bounds."""
    return isinstance(value, str) and 0 < len(value) <= MAX_EXTERNAL_ID and not has_lone_surrogate(value)


def shown(value: object, limit: int = 80) -> str:
    """``value`` as echoed in a problem detail: at most ``limit`` characters."""
    text = str(value)
    return text if len(text) <= limit else f"{text[:limit]}..."


def is_external_id(value: Any) -> bool:
    return (
        isinstance(value, str) and 0 < len(value) <= MAX_EXTERNAL_ID and value == value.strip() and value.isprintable()
    )


def external_id(value: Any, field: str = "external_id") -> str:
    """A tenant's own id for a customer or subscription: see ``EXTERNAL_ID_RULE``."""
    if not is_external_id(value):
        raise InvalidInput(f"{field} must be {EXTERNAL_ID_RULE}.", field=field, rule=EXTERNAL_ID_RULE)
    return value


def transition(
    table: Mapping[tuple[S, A], S],
    state: S,
    action: A,
    *,
    subject: str,
    refusals: Mapping[tuple[S, A], str] | None = None,
) -> S:
    """The state ``action`` moves ``state`` to, per ``table``; anything not in the table is a Conflict.

    ``subject`` names the thing ("Plan plan_x version 2") in the 409 detail; ``refusals`` gives the
    reason for the refused moves that deserve more than the generic one.
    """
    try:
        return table[(state, action)]
    except KeyError:
        reason = (refusals or {}).get((state, action))
        if reason is None:
            allowed = sorted(a.value for (s, a) in table if s == state)
            reason = f"cannot {action.value} it" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
        raise Conflict(
            f"{subject} is {state.value}: {reason}.", code="INVALID_STATE_TRANSITION", state=state.value
        ) from None


def text(value: Any, field: str, *, required: bool = True, max_length: int = MAX_NAME) -> str:
    """A string field: trimmed of nothing, non-empty when required, at most ``max_length`` characters."""
    if value is None:
        if required:
            raise InvalidInput(f"{field} is required", field=field)
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string", field=field)
    if required and not value.strip():
        raise InvalidInput(f"{field} must not be empty", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"{field} must be at most {max_length} characters", field=field)
    return storable(value, field)


def optional_text(value: Any, field: str, *, max_length: int = MAX_NAME) -> str | None:
    """An optional identifier-like string: None stays None; an empty string is refused."""
    if value is None:
        return None
    return text(value, field, required=True, max_length=max_length)


def scalar(value: Any, field: str, *, max_length: int = MAX_METADATA_VALUE) -> str | int | bool:
    """A JSON scalar Tollgate can store and compare exactly: a string, an integer or a boolean."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) >= 10**18:
            raise InvalidInput(f"{field} must have at most 18 digits", field=field)
        return value
    if isinstance(value, str):
        if len(value) > max_length:
            raise InvalidInput(f"{field} must be at most {max_length} characters", field=field)
        return storable(value, field)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)  # an integer read back from DynamoDB
    if isinstance(value, float | Decimal):
        raise InvalidInput(f"{field} must be a string, an integer or a boolean, not a float", field=field)
    raise InvalidInput(f"{field} must be a string, an integer or a boolean", field=field)


def metadata(value: Any, field: str = "metadata") -> dict[str, str | int | bool]:
    """Free-form key/value pairs: at most 50 keys, scalar values (no floats, no nesting)."""
    return {key: scalar(item, f"{field}.{key}") for key, item in _metadata_items(value, field)}


def _metadata_items(value: Any, field: str) -> Iterator[tuple[str, Any]]:
    """The pairs of a metadata object (none for None): an object of at most 50 keys, each 1 to 40
    characters of valid Unicode text (checked as each pair is taken, so the first bad pair is named)."""
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{field} must be an object", field=field)
    if len(value) > MAX_METADATA_KEYS:
        raise InvalidInput(f"{field} has more than {MAX_METADATA_KEYS} keys", field=field)
    for key, item in value.items():
        if not isinstance(key, str) or not key or len(key) > MAX_METADATA_KEY or has_lone_surrogate(key):
            raise InvalidInput(
                f"{field} keys must be 1 to {MAX_METADATA_KEY} characters of valid Unicode text", field=field
            )
        yield key, item


def string_metadata(value: Any, field: str = "metadata") -> dict[str, str]:
    """Metadata kept as strings (customers, subscriptions): at most 50 keys of 1 to 40 characters; each
    value a string or an integer (stored as its decimal string, at most 500 characters), not a boolean."""
    out: dict[str, str] = {}
    for key, item in _metadata_items(value, field):
        path = f"{field}.{key}"
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise InvalidInput(f"{path} must be a string or an integer", field=path)
        if isinstance(item, int) and abs(item) >= 10**18:
            raise InvalidInput(f"{path} must have at most 18 digits", field=path)
        text_value = item if isinstance(item, str) else str(item)
        if len(text_value) > MAX_METADATA_VALUE:
            raise InvalidInput(f"{path} must be at most {MAX_METADATA_VALUE} characters", field=path)
        out[key] = storable(text_value, path)
    return out


def money_amount(value: Any, field: str, currency: str) -> Decimal:
    """A non-negative amount charged as is: a decimal string or integer with at most the currency's
    minor units (9.99 USD, 1000 JPY, 1.250 KWD)."""
    amount = to_decimal(value, field)
    if amount < 0:
        raise InvalidInput(f"{field} must not be negative", field=field)
    places = minor_units(currency)
    exponent = amount.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > places:
        raise InvalidInput(f"{field} has more decimal places than {currency} allows ({places})", field=field)
    return amount


def non_negative_int(value: Any, field: str, *, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InvalidInput(f"{field} must be an integer", field=field)
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise InvalidInput(f"{field} must be an integer", field=field)
        value = int(value)
    if value < 0 or value > maximum:
        raise InvalidInput(f"{field} must be between 0 and {maximum}", field=field)
    return value


def prefixed(error: InvalidInput, prefix: str) -> InvalidInput:
    """The same error, its field (and the detail) placed under ``prefix`` (``usage_prices[0].price``)."""
    field = error.extra.get("field")
    path = f"{prefix}.{field}" if field else prefix
    detail = error.detail if path in error.detail else f"{path}: {error.detail}"
    return InvalidInput(detail, **{**error.extra, "field": path})
