"""Bulk migrations (POST /v1/migrations): asynchronous, with progress and per-subscription results."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from tollgate.domain.catalog.common import is_identifier, shown
from tollgate.domain.clock import utcnow
from tollgate.domain.errors import Conflict, InvalidInput, NotFound
from tollgate.domain.ids import new_id
from tollgate.domain.migrations import BulkMigration, MigrationResult, MigrationStatus
from tollgate.domain.paging import Page
from tollgate.usecases import plan_changes
from tollgate.usecases import subscriptions as subs

PAGE_SIZE = 50


class Starter(Protocol):
    def start(self, machine: str, name: str, payload: dict[str, Any]) -> str: ...


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
    migrations.start(m)  # takes the tenant's lock, or 409
    starter.start("bulk_migration", m.migration_id, {"tenant_id": tenant_id, "migration_id": m.migration_id})
    return m


def get_bulk_migration(
    migrations, tenant_id: str, migration_id: str, *, limit: int, cursor: str | None = None
) -> tuple[BulkMigration, Page[MigrationResult]]:
    """The migration and one page of its per-subscription results."""
    m = migrations.get(tenant_id, migration_id) if is_identifier(migration_id) else None
    if m is None:
        raise NotFound(f"Migration not found: {shown(migration_id)}.")
    return m, migrations.page_results(tenant_id, migration_id, limit=limit, cursor=cursor)


def plan_bulk_migration(repos: subs.Repos, migrations, tenant_id: str, migration_id: str) -> dict[str, Any]:
    m = migrations.get(tenant_id, migration_id)
    eligible = [
        s.subscription_id
        for s in repos.subscriptions.list_for_tenant(tenant_id)
        if s.live and s.plan.plan_id == m.from_plan_id and (m.from_version is None or s.plan.version == m.from_version)
    ]
    migrations.set_total(tenant_id, migration_id, len(eligible))
    pages = [eligible[i : i + PAGE_SIZE] for i in range(0, len(eligible), PAGE_SIZE)]
    return {"tenant_id": tenant_id, "migration_id": migration_id, "pages": pages}


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
