"""Pages of an in-memory list, with cursors shaped as the DynamoDB adapters' (opaque, checked)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tollgate.domain.paging import Page, decode_cursor, encode_cursor

T = TypeVar("T")


def fake_page(ordered: list[T], key: Callable[[T], str], *, limit: int, cursor: str | None) -> Page[T]:
    """``ordered`` (already in the list's order) from just after the item whose ``key`` the cursor holds."""
    start = 0
    if cursor is not None:
        after = decode_cursor(cursor, ("k",), {}, {})["k"]
        keys = [key(item) for item in ordered]
        start = keys.index(after) + 1 if after in keys else len(keys)
    chunk = ordered[start : start + limit]
    more = start + limit < len(ordered)
    return Page(chunk, encode_cursor({"k": key(chunk[-1])}) if more and chunk else None)
