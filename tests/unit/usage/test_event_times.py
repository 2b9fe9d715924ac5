"""The event log's and event store's time text (``format_ts``): fixed width and RFC 3339 for every year."""

from datetime import UTC, datetime

from tollgate.domain.clock import parse_rfc3339
from tollgate.domain.usage.events import format_ts


def test_every_year_is_written_with_four_digits_and_reads_back():
    # A rejected event keeps the time it was sent with: year 50 once came out as "50-01-24T…" (glibc's %Y),
    # which the ingestion log could not read back (500 on GET /v1/ingest/diagnose).
    for when in (datetime(50, 1, 24, 17, 44, 54, tzinfo=UTC), datetime(2026, 4, 17, 10, tzinfo=UTC)):
        text = format_ts(when)
        assert len(text) == len("2026-04-17T10:00:00.000000Z") and text.endswith("Z")
        assert parse_rfc3339(text) == when
    assert format_ts(datetime(50, 1, 24, 17, 44, 54, tzinfo=UTC)) == "0050-01-24T17:44:54.000000Z"
    assert format_ts(datetime(999, 1, 1, tzinfo=UTC)) < format_ts(datetime(2026, 1, 1, tzinfo=UTC))
