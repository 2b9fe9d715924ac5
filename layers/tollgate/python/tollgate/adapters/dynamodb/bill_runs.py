"""Bill runs in the main table.

| item               | pk                          | sk                    |
|--------------------|-----------------------------|-----------------------|
| bill run           | T#<tenant>                  | BILLRUN#<id>          |
| subscription result| T#<tenant>#BILLRUN#<id>     | SUB#<subscription_id> |

Results are written 25 per BatchWriteItem (a result for a subscription overwrites the previous one:
a re-run turns FAILED into INVOICED). Totals are counted from the results when a run closes.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import batch_get, dt, query_all, ts, without_none
from tollgate.adapters.dynamodb.keys import (
    bill_run_key,
    bill_run_result_key,
    bill_run_results_pk,
    bill_runs_gsi1pk,
    bill_runs_gsi1sk,
)
from tollgate.adapters.dynamodb.paging import PageQuery, query_page
from tollgate.domain.bill_runs import DONE, BillRun, BillRunStatus, ResultStatus, SubscriptionResult
from tollgate.domain.clock import parse_rfc3339
from tollgate.domain.paging import Page


def _run_from_item(item: dict[str, Any]) -> BillRun:
    return BillRun(
        bill_run_id=item["bill_run_id"],
        tenant_id=item["tenant_id"],
        trigger=item["trigger"],
        status=BillRunStatus(item["status"]),
        created_at=parse_rfc3339(item["created_at"]),
        as_of=dt(item.get("as_of")),
        customer_ids=tuple(item.get("customer_ids") or ()),
        closed_at=dt(item.get("closed_at")),
        totals={k: int(v) for k, v in (item.get("totals") or {}).items()},
        attempts=int(item.get("attempts", 0)),
        error=item.get("error"),
        execution=item.get("execution"),
    )


def _result_from_item(item: dict[str, Any]) -> SubscriptionResult:
    return SubscriptionResult(
        subscription_id=item["subscription_id"],
        status=ResultStatus(item["status"]),
        error_code=item.get("error_code"),
        detail=item.get("detail", ""),
        invoice_id=item.get("invoice_id"),
        period_start=dt(item.get("period_start")),
        period_end=dt(item.get("period_end")),
    )


class DynamoBillRunRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _table(self):
        return aws.table(self.table_name)

    def open(self, run: BillRun) -> tuple[BillRun, bool]:
        """Create the run, or return the existing one with the same id. Returns (run, created)."""
        item = without_none(
            {
                **bill_run_key(run.tenant_id, run.bill_run_id),
                "item_type": "BILL_RUN",
                "gsi1pk": bill_runs_gsi1pk(run.tenant_id),
                "gsi1sk": bill_runs_gsi1sk(run.created_at, run.bill_run_id),
                "bill_run_id": run.bill_run_id,
                "tenant_id": run.tenant_id,
                "trigger": run.trigger,
                "status": run.status.value,
                "created_at": ts(run.created_at),
                "as_of": ts(run.as_of),
                "customer_ids": list(run.customer_ids) or None,
                "attempts": 0,
                "execution": run.execution,  # the execution that opened it (a re-run asks whether it still runs)
            }
        )
        client = self._table.meta.client
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
            return run, True
        except client.exceptions.ConditionalCheckFailedException:
            existing = self.get(run.tenant_id, run.bill_run_id)
            assert existing is not None
            return existing, False

    def start_attempt(self, tenant_id: str, bill_run_id: str, execution: str = "") -> BillRun:
        """Count an attempt, recording the name of the execution making it (a re-run asks whether it still runs)."""
        item = self._table.update_item(
            Key=bill_run_key(tenant_id, bill_run_id),
            UpdateExpression="SET #s = :running, execution = :x ADD attempts :one REMOVE closed_at, #e",
            ExpressionAttributeNames={"#s": "status", "#e": "error"},
            ExpressionAttributeValues={":running": BillRunStatus.RUNNING.value, ":one": 1, ":x": execution},
            ReturnValues="ALL_NEW",
        )["Attributes"]
        return _run_from_item(item)

    def get(self, tenant_id: str, bill_run_id: str) -> BillRun | None:
        item = self._table.get_item(Key=bill_run_key(tenant_id, bill_run_id)).get("Item")
        return _run_from_item(item) if item else None

    def page_runs(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[BillRun]:
        """The tenant's bill runs, newest first (gsi1sk: created at, then id)."""
        query = PageQuery(partition=("gsi1pk", bill_runs_gsi1pk(tenant_id)), index="gsi1", newest_first=True)
        return query_page(self._table, query, limit=limit, cursor=cursor).map(_run_from_item)

    def record_results(self, tenant_id: str, bill_run_id: str, results: list[SubscriptionResult]) -> None:
        with self._table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for r in results:
                batch.put_item(
                    Item=without_none(
                        {
                            **bill_run_result_key(tenant_id, bill_run_id, r.subscription_id),
                            "item_type": "BILL_RUN_RESULT",
                            "subscription_id": r.subscription_id,
                            "status": r.status.value,
                            "error_code": r.error_code,
                            "detail": r.detail or None,
                            "invoice_id": r.invoice_id,
                            "period_start": ts(r.period_start),
                            "period_end": ts(r.period_end),
                        }
                    )
                )

    def results(self, tenant_id: str, bill_run_id: str) -> list[SubscriptionResult]:
        from boto3.dynamodb.conditions import Key

        items = query_all(self._table, KeyConditionExpression=Key("pk").eq(bill_run_results_pk(tenant_id, bill_run_id)))
        return [_result_from_item(i) for i in items]

    def page_results(
        self,
        tenant_id: str,
        bill_run_id: str,
        *,
        status: ResultStatus | None = None,
        limit: int,
        cursor: str | None = None,
    ) -> Page[SubscriptionResult]:
        """The run's per-subscription results by subscription id, optionally in one status."""
        from boto3.dynamodb.conditions import Attr

        only = Attr("status").eq(status.value) if status else None
        query = PageQuery(partition=("pk", bill_run_results_pk(tenant_id, bill_run_id)), filter=only)
        return query_page(self._table, query, limit=limit, cursor=cursor).map(_result_from_item)

    def results_for(self, tenant_id: str, bill_run_id: str, subscription_ids: list[str]) -> list[SubscriptionResult]:
        """The results of these subscriptions only, by key (BatchGetItem), not the whole run's."""
        keys = [bill_run_result_key(tenant_id, bill_run_id, s) for s in subscription_ids]
        return [_result_from_item(i) for i in batch_get(self._table, keys).values()]

    def unfinished(self, tenant_id: str, bill_run_id: str) -> list[str]:
        return [r.subscription_id for r in self.results(tenant_id, bill_run_id) if r.status not in DONE]

    def close(self, tenant_id: str, bill_run_id: str, at: datetime, error: str | None = None) -> BillRun:
        totals = Counter(r.status.value for r in self.results(tenant_id, bill_run_id))
        from tollgate.domain.bill_runs import closing_status

        status = BillRunStatus.FAILED if error else closing_status(totals)
        values: dict[str, Any] = {":s": status.value, ":at": ts(at), ":t": dict(totals)}
        update = "SET #s = :s, closed_at = :at, totals = :t"
        names = {"#s": "status"}
        if error:
            update += ", #e = :e"
            names["#e"] = "error"
            values[":e"] = error
        item = self._table.update_item(
            Key=bill_run_key(tenant_id, bill_run_id),
            UpdateExpression=update,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )["Attributes"]
        return _run_from_item(item)
