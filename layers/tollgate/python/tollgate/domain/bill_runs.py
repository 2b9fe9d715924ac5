"""Bill runs: one run per tenant and period, fanned out over pages of subscriptions.

A scheduled run has a deterministic id (tenant + run date), so the schedule firing twice opens the same
run; a run is closed COMPLETED, PARTIALLY_FAILED (some subscriptions failed: re-run retries only those)
or FAILED (the run itself could not proceed).
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


@dataclass(frozen=True)
class BillRun:
    bill_run_id: str
    tenant_id: str
    trigger: str
    status: BillRunStatus
    created_at: datetime
    closed_at: datetime | None = None
    pages_done: int = 0
    subscriptions_rated: int = 0
    subscriptions_failed: int = 0
    error: str | None = None
    execution_id: str | None = None
    page_errors: list[str] = field(default_factory=list)


def closing_status(run: BillRun) -> BillRunStatus:
    if run.subscriptions_failed or run.page_errors:
        return BillRunStatus.PARTIALLY_FAILED
    return BillRunStatus.COMPLETED
