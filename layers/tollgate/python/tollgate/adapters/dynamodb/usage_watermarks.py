"""The aggregator's per-partition watermarks (``tollgate.domain.billing.usage_readiness``).

| item                  | table  | pk                    | sk                 |
|-----------------------|--------|-----------------------|--------------------|
| watermark probe       | events | T#<tenant>#EV#<00..15> | ~WM#<cutoff>       |
| partition watermark   | usage  | T#<tenant>#WM          | <00..15>           |

A probe is an INSERT into an event partition (``item_type`` WATERMARK, expiring after two days); the
aggregator's stream filter passes it, and once the batch holding it is folded the aggregator raises the
partition's watermark to the probe's cutoff (``record``; never lowers it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb import keys
from tollgate.adapters.dynamodb.retry import retrying
from tollgate.adapters.dynamodb.usage_events import EVENT_SHARDS
from tollgate.domain.clock import parse_rfc3339 as parse_ts
from tollgate.domain.usage.events import format_ts

PROBE_TYPE = "WATERMARK"
PROBE_TTL = timedelta(days=2)


def _is_condition_failure(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def watermark_pk(tenant_id: str) -> str:
    return keys.usage_watermarks_pk(tenant_id)


class DynamoUsageWatermarks:
    def __init__(self, events_table: str, usage_table: str) -> None:
        self.events_table = events_table
        self.usage_table = usage_table

    @property
    def _client(self):
        return aws.client("dynamodb")

    def partitions(self) -> tuple[str, ...]:
        return tuple(f"{n:02d}" for n in range(EVENT_SHARDS))

    def watermarks(self, tenant_id: str) -> dict[str, datetime]:
        page = retrying(
            partial(
                self._client.query,
                TableName=self.usage_table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": watermark_pk(tenant_id)}},
                ConsistentRead=True,
            )
        )
        return {i["sk"]["S"]: parse_ts(i["through"]["S"]) for i in page.get("Items", []) if "through" in i}

    def probe(self, tenant_id: str, cutoff: datetime, now: datetime) -> datetime:
        client, sk = self._client, keys.watermark_probe_sk(format_ts(cutoff))
        first = retrying(
            partial(
                client.get_item,
                TableName=self.events_table,
                Key={"pk": {"S": keys.usage_event_pk(tenant_id, 0)}, "sk": {"S": sk}},
                ConsistentRead=True,
            )
        ).get("Item")
        if first is not None:
            return parse_ts(first["written_at"]["S"])
        for shard in reversed(range(EVENT_SHARDS)):  # shard 0 last: its probe says all were written
            item = {
                "pk": {"S": keys.usage_event_pk(tenant_id, shard)},
                "sk": {"S": sk},
                "item_type": {"S": PROBE_TYPE},
                "cutoff": {"S": format_ts(cutoff)},
                "written_at": {"S": format_ts(now)},
                "expires_at": {"N": str(int((now + PROBE_TTL).timestamp()))},
            }
            try:
                retrying(
                    partial(
                        client.put_item,
                        TableName=self.events_table,
                        Item=item,
                        ConditionExpression="attribute_not_exists(pk)",
                    )
                )
            except Exception as exc:
                if not _is_condition_failure(exc):
                    raise
        return now

    def record(self, records: list[dict[str, Any]]) -> int:
        """Raise the watermarks of the probes among a folded stream batch; returns how many."""
        raised = 0
        for record in records:
            image = (record.get("dynamodb") or {}).get("NewImage") or {}
            if record.get("eventName") != "INSERT" or (image.get("item_type") or {}).get("S") != PROBE_TYPE:
                continue
            pk = image["pk"]["S"]
            self._raise(keys.tenant_of_usage_event_pk(pk), pk[-2:], image["cutoff"]["S"])
            raised += 1
        return raised

    def _raise(self, tenant_id: str, shard: str, cutoff: str) -> None:
        try:
            retrying(
                partial(
                    self._client.update_item,
                    TableName=self.usage_table,
                    Key={"pk": {"S": watermark_pk(tenant_id)}, "sk": {"S": shard}},
                    UpdateExpression="SET through = :c",
                    ConditionExpression="attribute_not_exists(through) OR through < :c",
                    ExpressionAttributeValues={":c": {"S": cutoff}},
                )
            )
        except Exception as exc:
            if not _is_condition_failure(exc):  # a later cutoff is already recorded: fine
                raise
