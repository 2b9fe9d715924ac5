"""Is the usage of a bill run's cutoff aggregated? (the bill run waits for the data, issue 14)

Usage events are stored under several partition keys per tenant (the store names them: ``partitions``);
the aggregator reads the table's stream, where records of one partition key arrive in the order they were written. So a
marker written into every partition key of the tenant AFTER the cutoff (a *watermark probe*) reaches
the aggregator after every event stored there before it. When the aggregator has folded a partition's
batch, it records the probe's cutoff as that partition's *watermark*. Once every partition's watermark
is at or past the cutoff, every event received before the cutoff is in the usage buckets.

``readiness`` decides, from the watermarks and when the probes were written: READY (bill), WAIT (the
bill run retries the page in a moment, outside any lock) or GIVE_UP (the aggregator is behind for
longer than ``MAX_WAIT``: the subscriptions fail with USAGE_DATA_UNAVAILABLE, and a re-run bills them
whole once the watermarks have caught up).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

# The bill run's page is retried by Step Functions after 1, 2 and 4 seconds (bill_run.asl.json): give up
# on the attempt after 5 seconds of waiting, the last one.
MAX_WAIT = timedelta(seconds=5)


class Readiness(StrEnum):
    READY = "READY"
    WAIT = "WAIT"
    GIVE_UP = "GIVE_UP"


def caught_up(watermarks: Mapping[str, datetime], cutoff: datetime, partitions: Sequence[str]) -> bool:
    """Every partition's watermark is at or past ``cutoff``."""
    return not behind(watermarks, cutoff, partitions)


def behind(watermarks: Mapping[str, datetime], cutoff: datetime, partitions: Sequence[str]) -> list[str]:
    """The partitions whose watermark is before ``cutoff`` (for the failure's detail)."""
    return [p for p in partitions if p not in watermarks or watermarks[p] < cutoff]


def readiness(
    watermarks: Mapping[str, datetime],
    cutoff: datetime,
    partitions: Sequence[str],
    probed_at: datetime | None,
    now: datetime,
) -> Readiness:
    """READY when caught up; else WAIT while the probes are younger than ``MAX_WAIT``; else GIVE_UP."""
    if caught_up(watermarks, cutoff, partitions):
        return Readiness.READY
    if probed_at is None or now - probed_at < MAX_WAIT:
        return Readiness.WAIT
    return Readiness.GIVE_UP
