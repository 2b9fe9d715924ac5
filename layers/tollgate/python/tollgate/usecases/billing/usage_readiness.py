"""The bill run waits for the data (``tollgate.domain.billing.usage_readiness``): before a page of a bill
run is billed, every event received before the run's cutoff must be aggregated."""

from __future__ import annotations

from datetime import datetime

from tollgate.domain.billing.errors import UsageDataUnavailable
from tollgate.domain.billing.usage_readiness import MAX_WAIT, Readiness, behind, caught_up, readiness
from tollgate.domain.clock import to_rfc3339
from tollgate.observability import count
from tollgate.usecases.billing.repos import BillingRepos


class TransientError(Exception):
    """Named as the bill-run state machine's Retry expects (``"TransientError"`` in bill_run.asl.json):
    Step Functions runs the page again in a moment, while the aggregator catches up."""


def await_usage(repos: BillingRepos, tenant_id: str, cutoff: datetime) -> UsageDataUnavailable | None:
    """None when every event of the tenant received before ``cutoff`` is aggregated (or the repos have no
    watermarks: in-memory fakes). Raises ``TransientError`` while it is worth waiting; returns the failure
    each subscription of the page records once the aggregator has been behind for ``MAX_WAIT``."""
    marks = repos.watermarks
    if marks is None:
        return None
    now = repos.clock()
    cutoff = min(cutoff, now)
    found = marks.watermarks(tenant_id)
    partitions = marks.partitions()
    if caught_up(found, cutoff, partitions):
        return None
    probed_at = marks.probe(tenant_id, cutoff, now)
    decision = readiness(found, cutoff, partitions, probed_at, now)
    if decision is Readiness.WAIT:
        raise TransientError(f"usage received before {to_rfc3339(cutoff)} is not aggregated yet; retrying the page")
    if decision is Readiness.READY:
        return None
    count("UsageNotAggregated")
    lagging = ", ".join(behind(found, cutoff, partitions))
    return UsageDataUnavailable(
        f"Usage received before {to_rfc3339(cutoff)} was still not aggregated after {int(MAX_WAIT.total_seconds())} s "
        f"(event partitions behind: {lagging}); nothing was billed short. Re-run the bill run "
        "(POST /v1/bill-runs/{id}/rerun) once the aggregator has caught up."
    )
