"""The paging parameters and fields every list route shares (Stripe's ``limit`` and ``starting_after``).

A list answers ``{"data": [...], "has_more": bool, "next_cursor": str | null}``: ``data`` holds at
most ``limit`` items; while ``has_more`` is true, send ``starting_after=<next_cursor>`` (with the same
filters) for the next page. A page may hold fewer than ``limit`` items and still have more (a filtered
list reads a bounded number of items per request). The cursor is opaque; one this list did not
return for this tenant is 400 ``INVALID_CURSOR``."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from tollgate.api.models import ApiModel
from tollgate.domain.paging import MAX_CURSOR_LENGTH, MAX_LIMIT, Page

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}.")]
StartingAfter = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_CURSOR_LENGTH,
        description="The `next_cursor` of the previous page (same filters); leave out for the first page.",
    ),
]


class PageFields(ApiModel):
    """What every list answer adds to its ``data``."""

    has_more: bool = Field(description="True when another page follows: ask again with `starting_after`.")
    next_cursor: str | None = Field(default=None, description="Send as `starting_after` for the next page.")


def page_fields(page: Page[Any]) -> dict[str, Any]:
    return {"has_more": page.has_more, "next_cursor": page.next_cursor}
