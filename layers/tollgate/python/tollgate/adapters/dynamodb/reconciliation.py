"""Reconciliation's read of the raw usage events (``tollgate.usecases.reconciliation.RawUsageSource``):
each of the tenant's event shards queried, filtered on the event time (a full read of the tenant's
retained events in the range: a scheduled job's cost, not a request path's)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb import keys
from tollgate.adapters.dynamodb.retry import retrying
from tollgate.adapters.dynamodb.usage_events import EVENT_SHARDS
from tollgate.domain.billing.reconciliation import RawEvent
from tollgate.domain.catalog.meters import AggregationFunction
from tollgate.domain.clock import parse_rfc3339 as parse_ts
from tollgate.domain.usage.events import format_ts


class DynamoRawUsage:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _client(self):
        return aws.client("dynamodb")

    def raw_events(self, tenant_id: str, start: datetime, end: datetime) -> list[RawEvent]:
        client = self._client
        out: list[RawEvent] = []
        for shard in range(EVENT_SHARDS):
            kwargs: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "pk = :pk",
                "FilterExpression": "#ts >= :start AND #ts < :end",
                "ProjectionExpression": "sk, customer_id, meter_id, fn, #v, #ts",
                "ExpressionAttributeNames": {"#ts": "ts", "#v": "value"},
                "ExpressionAttributeValues": {
                    ":pk": {"S": keys.usage_event_pk(tenant_id, shard)},
                    ":start": {"S": format_ts(start)},
                    ":end": {"S": format_ts(end)},
                },
            }
            while True:
                page = retrying(partial(client.query, **kwargs))
                out.extend(_raw_event(item) for item in page.get("Items", []) if "meter_id" in item)
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return out


def _raw_event(item: dict[str, Any]) -> RawEvent:
    value = item["value"]
    return RawEvent(
        event_id=item["sk"]["S"],
        customer_id=item["customer_id"]["S"],
        meter_id=item["meter_id"]["S"],
        function=AggregationFunction(item["fn"]["S"]),
        value=Decimal(value["N"]) if "N" in value else value["S"],
        timestamp=parse_ts(item["ts"]["S"]),
    )
