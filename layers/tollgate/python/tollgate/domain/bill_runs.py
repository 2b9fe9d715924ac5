"""Bill runs: bill every due subscription of a tenant, page by page, recording one result per subscription.

- A run's targets are recorded as PENDING results when it opens; each page turns them into INVOICED,
  ALREADY_INVOICED, SKIPPED (not due after all) or FAILED with an error code (seed 000, "Bill run
  partially failed": WALLET_INSUFFICIENT_FUNDS, USAGE_DATA_UNAVAILABLE, TAX_CALCULATION_FAILED, ...).
- One subscription's failure never stops the others; a failed page marks its subscriptions FAILED.
- Re-running a run retries only what is still PENDING or FAILED. An invoice is identified by
  (subscription, period), so no run, re-run, retry or redelivery can create a second one.
- A scheduled run has a deterministic id (tenant + run date): the schedule firing twice opens one run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class BillRunStatus(StrEnum):
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    PARTIALLY_FAILED = "PARTIALLY_FAILED"
    FAILED = "FAILED"


class ResultStatus(StrEnum):
    PENDING = "PENDING"
    INVOICED = "INVOICED"
    ALREADY_INVOICED = "ALREADY_INVOICED"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"


DONE = frozenset({ResultStatus.INVOICED, ResultStatus.ALREADY_INVOICED, ResultStatus.SKIPPED})


@dataclass(frozen=True)
class BillRun:
    bill_run_id: str
    tenant_id: str
    trigger: str
    status: BillRunStatus
    created_at: datetime
    as_of: datetime | None = None
    customer_ids: tuple[str, ...] = ()
    closed_at: datetime | None = None
    totals: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    error: str | None = None
    execution: str | None = None  # the name of the execution making the latest attempt


@dataclass(frozen=True)
class SubscriptionResult:
    subscription_id: str
    status: ResultStatus
    error_code: str | None = None
    detail: str = ""
    invoice_id: str | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None


def closing_status(totals: dict[str, int]) -> BillRunStatus:
    unfinished = totals.get(ResultStatus.FAILED.value, 0) + totals.get(ResultStatus.PENDING.value, 0)
    return BillRunStatus.PARTIALLY_FAILED if unfinished else BillRunStatus.COMPLETED
