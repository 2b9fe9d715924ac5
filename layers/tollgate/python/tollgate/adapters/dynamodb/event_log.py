"""The per-tenant event log (GET /v1/billing-events), written by the event-log consumer."""

from __future__ import annotations

from datetime import timedelta

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import event_from_json
from tollgate.adapters.dynamodb.keys import all_shards, event_log_key, event_log_pk
from tollgate.domain.events import DomainEvent

RETENTION = timedelta(days=400)


class DynamoEventLog:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def append(self, events: list[DomainEvent]) -> None:
        # The key is derived from the event id, so a redelivered event overwrites itself: exactly one entry.
        with aws.table(self.table_name).batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for e in events:
                batch.put_item(
                    Item={
                        **event_log_key(e.tenant_id, e.occurred_at, e.event_id),
                        "item_type": "EVENT_LOG",
                        "type": e.type,
                        "event": e.to_json(),
                        "expires_at": int((e.occurred_at + RETENTION).timestamp()),
                    }
                )

    def list_events(self, tenant_id: str, *, type_prefix: str | None = None, limit: int = 100) -> list[DomainEvent]:
        """The newest ``limit`` events: each shard's newest ``limit``, merged by sort key (time, then id)."""
        from boto3.dynamodb.conditions import Attr, Key

        table = aws.table(self.table_name)
        items: list[dict] = []
        for pk in all_shards(event_log_pk(tenant_id)):
            kwargs = {"KeyConditionExpression": Key("pk").eq(pk), "ScanIndexForward": False}
            if type_prefix:
                kwargs["FilterExpression"] = Attr("type").begins_with(type_prefix)
            found: list[dict] = []
            while len(found) < limit:
                page = table.query(**kwargs)
                found.extend(page["Items"])
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            items += found[:limit]
        items.sort(key=lambda i: i["sk"], reverse=True)
        return [event_from_json(i["event"]) for i in items[:limit]]
