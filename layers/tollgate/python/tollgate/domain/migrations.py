"""Bulk migrations: move every subscription on one plan (version) to another plan, asynchronously.

One bulk migration runs per tenant at a time (meanwhile single migrations answer 409). Each
subscription's result is recorded once: MIGRATED, SKIPPED (no longer eligible) or FAILED (with why).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# The bulk-migration state machine times out after MAX_RUNTIME (its TimeoutSeconds); the tenant's lock
# expires a little later (DynamoDB TTL), so a lock can never outlive its execution by more than LOCK_MARGIN.
MAX_RUNTIME = timedelta(hours=24)
LOCK_MARGIN = timedelta(hours=1)


class MigrationStatus(StrEnum):
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    PARTIALLY_FAILED = "PARTIALLY_FAILED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class BulkMigration:
    migration_id: str
    tenant_id: str
    from_plan_id: str
    from_version: int | None
    to_plan_id: str
    to_version: int | None
    at_period_end: bool
    status: MigrationStatus
    created_at: datetime
    total: int = 0
    migrated: int = 0
    skipped: int = 0
    failed: int = 0
    completed_at: datetime | None = None
    error: str | None = None


@dataclass(frozen=True)
class MigrationResult:
    subscription_id: str
    outcome: str  # MIGRATED | SKIPPED | FAILED
    detail: str = ""


@dataclass(frozen=True)
class LockHolder:
    """The tenant's migration lock: which migration (= execution name) holds it, since when."""

    migration_id: str
    locked_at: datetime
