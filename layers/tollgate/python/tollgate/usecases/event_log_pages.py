"""Pages of the ingestion event log (GET /v1/ingest/events), newest first.

The log is read hour partition by hour partition, newest first, and merged; a page's cursor says
where the next one starts: the ``received_at`` of its last entry and how many entries received at
that same instant it already returned (the order within an instant is fixed by ``entry_order``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tollgate.domain.clock import parse_rfc3339
from tollgate.domain.paging import decode_cursor, encode_cursor, invalid_cursor


def entry_order(entry: dict[str, Any]) -> tuple[str, int, str, str]:
    return (entry["received_at"], entry.get("_index", 0), entry.get("event_id") or "", entry["status"])


def resume_point(cursor: str | None, tenant_id: str) -> tuple[str, int] | None:
    """(received_at, entries of that instant already returned) from a cursor of this tenant's log."""
    if cursor is None:
        return None
    key = decode_cursor(cursor, ("t", "at", "n"), {"t": tenant_id}, {})
    try:
        parse_rfc3339(key["at"])
        seen = int(key["n"])
    except ValueError:
        raise invalid_cursor() from None
    if not 0 < seen <= 10_000:
        raise invalid_cursor()
    return key["at"], seen


def resumed_end(end: datetime, resume: tuple[str, int] | None) -> datetime:
    """The range's end (exclusive), moved to just after the instant the cursor stopped at."""
    return end if resume is None else min(end, parse_rfc3339(resume[0]) + timedelta(microseconds=1))


def log_page(
    entries: list[dict[str, Any]], limit: int, resume: tuple[str, int] | None, tenant_id: str
) -> tuple[list[dict[str, Any]], str | None]:
    """The page of ``entries`` (every candidate, any order) after the cursor, and the next cursor."""
    entries = sorted(entries, key=entry_order, reverse=True)
    if resume is not None:
        at, seen = resume
        skipped = 0
        while entries and skipped < seen and entries[0]["received_at"] == at:
            entries.pop(0)
            skipped += 1
    page = entries[:limit]
    for e in page:
        e.pop("_index", None)
    if len(entries) <= limit or not page:
        return page, None
    last = page[-1]["received_at"]
    same = sum(1 for e in page if e["received_at"] == last)
    if resume is not None and resume[0] == last:
        same += resume[1]
    return page, encode_cursor({"t": tenant_id, "at": last, "n": str(same)})
