"""Bill runs in the main table: pk T#<tenant>, sk BILLRUN#<id>; page results are counted atomically."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import dt, ts, without_none
from tollgate.domain.bill_runs import BillRun, BillRunStatus


def _from_item(item: dict[str, Any]) -> BillRun:
    return BillRun(
        bill_run_id=item["bill_run_id"],
        tenant_id=item["tenant_id"],
        trigger=item["trigger"],
        status=BillRunStatus(item["status"]),
        created_at=dt(item["created_at"]),
        closed_at=dt(item.get("closed_at")),
        pages_done=int(item.get("pages_done", 0)),
        subscriptions_rated=int(item.get("subscriptions_rated", 0)),
        subscriptions_failed=int(item.get("subscriptions_failed", 0)),
        error=item.get("error"),
        execution_id=item.get("execution_id"),
        page_errors=list(item.get("page_errors", [])),
    )


class DynamoBillRunRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _table(self):
        return aws.table(self.table_name)

    def open(self, run: BillRun) -> BillRun:
        """Create the run, or return it unchanged if the same id was opened before (idempotent)."""
        item = without_none(
            {
                "pk": f"T#{run.tenant_id}",
                "sk": f"BILLRUN#{run.bill_run_id}",
                "item_type": "BILL_RUN",
                "bill_run_id": run.bill_run_id,
                "tenant_id": run.tenant_id,
                "trigger": run.trigger,
                "status": run.status.value,
                "created_at": ts(run.created_at),
                "execution_id": run.execution_id,
                "pages_done": 0,
                "subscriptions_rated": 0,
                "subscriptions_failed": 0,
            }
        )
        client = self._table.meta.client
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
            return run
        except client.exceptions.ConditionalCheckFailedException:
            existing = self.get(run.tenant_id, run.bill_run_id)
            assert existing is not None
            return existing

    def get(self, tenant_id: str, bill_run_id: str) -> BillRun | None:
        item = self._table.get_item(Key={"pk": f"T#{tenant_id}", "sk": f"BILLRUN#{bill_run_id}"}).get("Item")
        return _from_item(item) if item else None

    def record_page(self, tenant_id: str, bill_run_id: str, page: int, rated: int, failed: int, error: str | None) -> None:
        # A page is counted once: its number goes into a set, and the update is conditional on its absence.
        names = {"#p": "pages_seen"}
        values: dict[str, Any] = {":page": {page}, ":one": 1, ":r": rated, ":f": failed, ":p": page}
        update = "ADD pages_seen :page, pages_done :one, subscriptions_rated :r, subscriptions_failed :f"
        if error:
            update += " SET page_errors = list_append(if_not_exists(page_errors, :empty), :err)"
            values[":empty"] = []
            values[":err"] = [f"page {page}: {error}"]
        client = self._table.meta.client
        try:
            self._table.update_item(
                Key={"pk": f"T#{tenant_id}", "sk": f"BILLRUN#{bill_run_id}"},
                UpdateExpression=update,
                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(#p) OR NOT contains(#p, :p))",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except client.exceptions.ConditionalCheckFailedException:
            pass  # this page was already counted (a retried task)

    def close(self, tenant_id: str, bill_run_id: str, status: BillRunStatus, at: datetime, error: str | None = None) -> BillRun:
        values: dict[str, Any] = {":s": status.value, ":at": ts(at)}
        update = "SET #s = :s, closed_at = :at"
        if error:
            update += ", #e = :e"
            values[":e"] = error
        names = {"#s": "status"}
        if error:
            names["#e"] = "error"
        item = self._table.update_item(
            Key={"pk": f"T#{tenant_id}", "sk": f"BILLRUN#{bill_run_id}"},
            UpdateExpression=update,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )["Attributes"]
        return _from_item(item)
