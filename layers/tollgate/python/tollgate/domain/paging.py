"""Cursor pagination shared by every list: a page of items and the opaque cursor of the next page.

A cursor is the URL-safe base64 of a JSON object: the storage key of the last item returned. It is
opaque to clients (they send back ``next_cursor`` as ``starting_after``) and checked on the way in:
a cursor that is not one this list returned for this tenant (garbled, edited, of another list or of
another tenant) is refused with 400 ``INVALID_CURSOR``, never followed.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from tollgate.domain.errors import BadRequest

T = TypeVar("T")
U = TypeVar("U")

MAX_LIMIT = 100
DEFAULT_LIMIT = 100
MAX_CURSOR_LENGTH = 2048
_MAX_KEY_VALUE = 1024  # DynamoDB: a sort key value is at most 1024 bytes


@dataclass(frozen=True)
class Page(Generic[T]):
    """Up to ``limit`` items in the list's order; ``next_cursor`` is None on the last page."""

    data: list[T]
    next_cursor: str | None = None

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None

    def map(self, fn: Callable[[T], U]) -> Page[U]:
        return Page([fn(item) for item in self.data], self.next_cursor)


def bound_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be 1 to {MAX_LIMIT}; got {limit}.", code="INVALID_LIMIT")
    return limit


def encode_cursor(key: dict[str, str]) -> str:
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def invalid_cursor() -> BadRequest:
    return BadRequest(
        "starting_after is not a cursor of this list: send the next_cursor of the previous page of the "
        "same list, unchanged (or leave it out for the first page).",
        code="INVALID_CURSOR",
        field="starting_after",
    )


def decode_cursor(
    cursor: str, names: tuple[str, ...], fixed: dict[str, str], prefixes: dict[str, str]
) -> dict[str, str]:
    """The key a cursor holds: exactly ``names``, each a non-empty string, ``fixed`` attributes equal
    (the list's partition: the tenant, the customer filtered on) and ``prefixes`` honored (the kind of
    item the list holds). Anything else is :func:`invalid_cursor`."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid_cursor()
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise invalid_cursor() from None
    if not isinstance(key, dict) or sorted(key) != sorted(names):
        raise invalid_cursor()
    if not all(isinstance(v, str) and 0 < len(v) <= _MAX_KEY_VALUE for v in key.values()):
        raise invalid_cursor()
    if any(key[name] != value for name, value in fixed.items()):
        raise invalid_cursor()
    if any(not key[name].startswith(prefix) for name, prefix in prefixes.items()):
        raise invalid_cursor()
    return key
