"""Bulk migrations in the main table.

| item        | pk                          | sk                      |
|-------------|-----------------------------|-------------------------|
| lock        | T#<tenant>                  | MIGRATION_LOCK          |  (TTL: expires_at)
| migration   | T#<tenant>                  | MIGRATION#<id>          |
| result      | T#<tenant>#MIGRATION#<id>   | RESULT#<subscription>   |

A result and the counters it moves are written in one transaction, conditional on the result being new,
so a retried page never counts a subscription twice. Keys are built in ``keys.py``.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import dt, query_all, required_dt, ts, without_none
from tollgate.adapters.dynamodb.keys import (
    migration_key,
    migration_lock_key,
    migration_result_key,
    migration_results_pk,
)
from tollgate.adapters.dynamodb.paging import PageQuery, query_page
from tollgate.adapters.dynamodb.transactions import transact_write
from tollgate.domain.clock import utcnow
from tollgate.domain.errors import Conflict
from tollgate.domain.migrations import (
    LOCK_MARGIN,
    MAX_RUNTIME,
    BulkMigration,
    LockHolder,
    MigrationResult,
    MigrationStatus,
)
from tollgate.domain.paging import Page


def _from_item(i: dict[str, Any]) -> BulkMigration:
    return BulkMigration(
        migration_id=i["migration_id"],
        tenant_id=i["tenant_id"],
        from_plan_id=i["from_plan_id"],
        from_version=int(i["from_version"]) if i.get("from_version") is not None else None,
        to_plan_id=i["to_plan_id"],
        to_version=int(i["to_version"]) if i.get("to_version") is not None else None,
        at_period_end=bool(i.get("at_period_end", False)),
        status=MigrationStatus(i["status"]),
        created_at=required_dt(i["created_at"]),
        total=int(i.get("total", 0)),
        migrated=int(i.get("migrated", 0)),
        skipped=int(i.get("skipped", 0)),
        failed=int(i.get("failed", 0)),
        completed_at=dt(i.get("completed_at")),
        error=i.get("error"),
    )


class _AlreadyRecorded(Exception):
    """The result of this subscription was written by an earlier attempt of the page."""


class DynamoMigrationRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _table(self) -> Any:
        return aws.table(self.table_name)

    def running_migration(self, tenant_id: str) -> str | None:
        holder = self.lock_holder(tenant_id)
        return holder.migration_id if holder else None

    def lock_holder(self, tenant_id: str) -> LockHolder | None:
        """The lock, unless it expired (DynamoDB deletes expired items only within a day or two)."""
        item = self._table.get_item(Key=migration_lock_key(tenant_id), ConsistentRead=True).get("Item")
        if not item or int(item.get("expires_at", 2**62)) <= int(utcnow().timestamp()):
            return None
        return LockHolder(item["migration_id"], dt(item.get("locked_at")) or utcnow())

    def start(self, m: BulkMigration) -> None:
        item = without_none(
            {
                **migration_key(m.tenant_id, m.migration_id),
                "item_type": "BULK_MIGRATION",
                "migration_id": m.migration_id,
                "tenant_id": m.tenant_id,
                "from_plan_id": m.from_plan_id,
                "from_version": m.from_version,
                "to_plan_id": m.to_plan_id,
                "to_version": m.to_version,
                "at_period_end": m.at_period_end,
                "status": m.status.value,
                "created_at": ts(m.created_at),
                "total": 0,
                "migrated": 0,
                "skipped": 0,
                "failed": 0,
            }
        )
        lock = {
            **migration_lock_key(m.tenant_id),
            "migration_id": m.migration_id,
            "locked_at": ts(m.created_at),
            "expires_at": int((m.created_at + MAX_RUNTIME + LOCK_MARGIN).timestamp()),
        }
        new = "attribute_not_exists(pk)"
        free = {
            "ConditionExpression": "attribute_not_exists(pk) OR expires_at <= :now",
            "ExpressionAttributeValues": {":now": int(m.created_at.timestamp())},
        }
        items = [
            {"Put": {"TableName": self.table_name, "Item": lock, **free}},
            {"Put": {"TableName": self.table_name, "Item": item, "ConditionExpression": new}},
        ]

        def running(_failed: list[int]) -> Exception:
            return Conflict(
                f"Bulk migration {self.running_migration(m.tenant_id)} is already in progress for this tenant; "
                "wait for it to complete.",
                code="BULK_MIGRATION_RUNNING",
            )

        transact_write(self._table.meta.client, items, running)

    def get(self, tenant_id: str, migration_id: str) -> BulkMigration | None:
        item = self._table.get_item(Key=migration_key(tenant_id, migration_id)).get("Item")
        return _from_item(item) if item else None

    def set_total(self, tenant_id: str, migration_id: str, total: int) -> None:
        self._table.update_item(
            Key=migration_key(tenant_id, migration_id),
            UpdateExpression="SET #t = :t",
            ExpressionAttributeNames={"#t": "total"},
            ExpressionAttributeValues={":t": total},
        )

    def record(self, tenant_id: str, migration_id: str, result: MigrationResult) -> None:
        counter = {"MIGRATED": "migrated", "SKIPPED": "skipped", "FAILED": "failed"}[result.outcome]
        result_item = {
            **migration_result_key(tenant_id, migration_id, result.subscription_id),
            "subscription_id": result.subscription_id,
            "outcome": result.outcome,
            "detail": result.detail,
        }
        items = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": result_item,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": migration_key(tenant_id, migration_id),
                    "UpdateExpression": "ADD #c :one",
                    "ExpressionAttributeNames": {"#c": counter},
                    "ExpressionAttributeValues": {":one": 1},
                }
            },
        ]
        with contextlib.suppress(_AlreadyRecorded):  # counted by an earlier attempt of this page
            transact_write(self._table.meta.client, items, lambda _failed: _AlreadyRecorded())

    def page_results(
        self, tenant_id: str, migration_id: str, *, limit: int, cursor: str | None = None
    ) -> Page[MigrationResult]:
        """The migration's per-subscription results by subscription id."""
        query = PageQuery(partition=("pk", migration_results_pk(tenant_id, migration_id)))
        page = query_page(self._table, query, limit=limit, cursor=cursor)
        return page.map(lambda i: MigrationResult(i["subscription_id"], i["outcome"], i.get("detail", "")))

    def results(self, tenant_id: str, migration_id: str) -> list[MigrationResult]:
        from boto3.dynamodb.conditions import Key

        items = query_all(
            self._table, KeyConditionExpression=Key("pk").eq(migration_results_pk(tenant_id, migration_id))
        )
        return [MigrationResult(i["subscription_id"], i["outcome"], i.get("detail", "")) for i in items]

    def close(
        self, tenant_id: str, migration_id: str, status: MigrationStatus, at: datetime, error: str | None = None
    ) -> None:
        values: dict[str, Any] = {":s": status.value, ":at": ts(at)}
        update = "SET #s = :s, completed_at = :at"
        if error:
            update += ", #e = :e"
            values[":e"] = error
        names = {"#s": "status", **({"#e": "error"} if error else {})}
        items = [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": migration_key(tenant_id, migration_id),
                    "UpdateExpression": update,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            },
            {
                "Delete": {
                    "TableName": self.table_name,
                    "Key": migration_lock_key(tenant_id),
                    "ConditionExpression": "attribute_not_exists(pk) OR migration_id = :id",
                    "ExpressionAttributeValues": {":id": migration_id},
                }
            },
        ]

        def lock_taken(_failed: list[int]) -> Exception:
            return Conflict(
                f"The migration lock of the tenant is held by another migration than {migration_id}.",
                code="BULK_MIGRATION_RUNNING",
            )

        transact_write(self._table.meta.client, items, lock_taken)
