"""Bulk migrations (POST /v1/migrations): asynchronous, with progress and per-subscription results.

The state machine (infra/definitions/statemachines/bulk_migration.asl.json) never carries subscription ids:
plan_bulk_migration writes the pages to an S3 manifest that a Distributed Map reads, so every state stays a
few hundred bytes at any size (Step Functions refuses a state over 256 KB with an uncatchable
States.DataLimitExceeded). The tenant's lock is released on every terminal state: by close/fail, by the
next start when the execution recorded in the lock is no longer RUNNING, and by its TTL as the last resort.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from tollgate.domain.catalog.common import is_identifier, shown
from tollgate.domain.clock import utcnow
from tollgate.domain.errors import Conflict, InvalidInput, NotFound
from tollgate.domain.ids import new_id
from tollgate.domain.migrations import BulkMigration, LockHolder, MigrationResult, MigrationStatus
from tollgate.domain.paging import Page
from tollgate.ports import ManifestStore
from tollgate.usecases import plan_changes
from tollgate.usecases import subscriptions as subs

PAGE_SIZE = 50
# A lock whose execution does not exist yet (between taking the lock and starting it) is stale after this.
START_GRACE = timedelta(minutes=5)


class Starter(Protocol):
    def start(self, machine: str, name: str, payload: dict[str, Any]) -> str: ...

    def status(self, machine: str, name: str) -> str | None: ...


def start_bulk_migration(
    repos: subs.Repos, migrations, starter: Starter, tenant_id: str, data: dict[str, Any]
) -> BulkMigration:
    if data["from_plan_id"] == data["to_plan_id"]:
        raise InvalidInput(
            "to_plan_id must differ from from_plan_id (use upgrade/downgrade within a plan).", field="to_plan_id"
        )
    if repos.catalog.get_plan(tenant_id, data["from_plan_id"]) is None:
        raise NotFound(f"Plan not found: {data['from_plan_id']}.")
    subs.published_version(
        repos, tenant_id, data["to_plan_id"], data.get("to_version")
    )  # 404/409 before anything starts
    m = BulkMigration(
        migration_id=new_id("mig"),
        tenant_id=tenant_id,
        from_plan_id=data["from_plan_id"],
        from_version=data.get("from_version"),
        to_plan_id=data["to_plan_id"],
        to_version=data.get("to_version"),
        at_period_end=bool(data.get("at_period_end", False)),
        status=MigrationStatus.RUNNING,
        created_at=repos.clock(),
    )
    try:
        migrations.start(m)  # takes the tenant's lock, or 409
    except Conflict as exc:
        if exc.code != "BULK_MIGRATION_RUNNING" or not _release_stale_lock(
            migrations, starter, tenant_id, m.created_at
        ):
            raise
        migrations.start(m)
    try:
        starter.start("bulk_migration", m.migration_id, {"tenant_id": tenant_id, "migration_id": m.migration_id})
    except Exception:
        migrations.close(tenant_id, m.migration_id, MigrationStatus.FAILED, repos.clock(), "could not start")
        raise
    return m


def _release_stale_lock(migrations, starter: Starter, tenant_id: str, now: datetime) -> bool:
    """The lock's execution ended (failed, timed out, aborted: no Catch runs then) without releasing it:
    close that migration as FAILED and free the lock. Returns whether it did."""
    holder: LockHolder | None = migrations.lock_holder(tenant_id)
    if holder is None:
        return True  # released meanwhile
    status = starter.status("bulk_migration", holder.migration_id)
    if status == "RUNNING" or (status is None and now - holder.locked_at < START_GRACE):
        return False
    cause = f"Its execution ended ({status or 'never started'}) without releasing the tenant's migration lock."
    with contextlib.suppress(Conflict):  # another request took it over first
        migrations.close(tenant_id, holder.migration_id, MigrationStatus.FAILED, now, cause)
    return True


def get_bulk_migration(
    migrations, tenant_id: str, migration_id: str, *, limit: int, cursor: str | None = None
) -> tuple[BulkMigration, Page[MigrationResult]]:
    """The migration and one page of its per-subscription results."""
    m = migrations.get(tenant_id, migration_id) if is_identifier(migration_id) else None
    if m is None:
        raise NotFound(f"Migration not found: {shown(migration_id)}.")
    return m, migrations.page_results(tenant_id, migration_id, limit=limit, cursor=cursor)


def plan_bulk_migration(
    repos: subs.Repos, migrations, manifests: ManifestStore, tenant_id: str, migration_id: str
) -> dict[str, Any]:
    """Write the pages of eligible subscriptions to an S3 manifest; the state carries only its location."""
    m = migrations.get(tenant_id, migration_id)
    eligible = [
        s.subscription_id
        for s in repos.subscriptions.list_for_tenant(tenant_id)
        if s.live and s.plan.plan_id == m.from_plan_id and (m.from_version is None or s.plan.version == m.from_version)
    ]
    migrations.set_total(tenant_id, migration_id, len(eligible))
    pages = [
        {
            "tenant_id": tenant_id,
            "migration_id": migration_id,
            "page": n,
            "subscription_ids": eligible[i : i + PAGE_SIZE],
        }
        for n, i in enumerate(range(0, len(eligible), PAGE_SIZE))
    ]
    manifest = manifests.put(f"migrations/{tenant_id}/{migration_id}.json", pages)
    return {"tenant_id": tenant_id, "migration_id": migration_id, "manifest": manifest, "page_count": len(pages)}


def migrate_page(
    repos: subs.Repos, migrations, tenant_id: str, migration_id: str, subscription_ids: list[str]
) -> dict[str, int]:
    m = migrations.get(tenant_id, migration_id)
    counts = {"MIGRATED": 0, "SKIPPED": 0, "FAILED": 0}
    for sid in subscription_ids:
        sub = repos.subscriptions.get(tenant_id, sid)
        if sub is None or not sub.live or sub.plan.plan_id != m.from_plan_id:
            result = MigrationResult(sid, "SKIPPED", "no longer on the source plan, or cancelled meanwhile")
        else:
            try:
                plan_changes.migrate_subscription(
                    repos,
                    tenant_id,
                    sid,
                    plan_id=m.to_plan_id,
                    version=m.to_version,
                    at_period_end=m.at_period_end,
                    bulk_migration_id=migration_id,
                )
                result = MigrationResult(sid, "MIGRATED")
            except (Conflict, NotFound, InvalidInput) as exc:
                result = MigrationResult(sid, "FAILED", exc.detail)
        migrations.record(tenant_id, migration_id, result)
        counts[result.outcome] += 1
    return counts


def record_page_failure(
    migrations, tenant_id: str, migration_id: str, subscription_ids: list[str], error: dict[str, Any]
) -> dict[str, int]:
    """A page that failed as a whole: its subscriptions without a result are FAILED, with the cause."""
    cause = f"The page failed: {error.get('Error', 'Error')}: {str(error.get('Cause', ''))[:300]}"
    for sid in subscription_ids:
        migrations.record(tenant_id, migration_id, MigrationResult(sid, "FAILED", cause))  # a recorded one stays
    return {"FAILED": len(subscription_ids)}


def close_bulk_migration(
    migrations, tenant_id: str, migration_id: str, *, clock: Callable[[], datetime] = utcnow
) -> dict[str, str]:
    m = migrations.get(tenant_id, migration_id)
    status = MigrationStatus.PARTIALLY_FAILED if m.failed else MigrationStatus.COMPLETED
    migrations.close(tenant_id, migration_id, status, clock())
    return {"migration_id": migration_id, "status": status.value}


def fail_bulk_migration(
    migrations, tenant_id: str, migration_id: str, error: dict[str, Any], *, clock: Callable[[], datetime] = utcnow
) -> dict[str, str]:
    cause = f"{error.get('Error', 'Error')}: {str(error.get('Cause', ''))[:300]}"
    migrations.close(tenant_id, migration_id, MigrationStatus.FAILED, clock(), cause)
    return {"migration_id": migration_id, "status": MigrationStatus.FAILED.value, "error": cause}
