"""The per-tenant event log (GET /v1/billing-events), written by the event-log consumer."""

from __future__ import annotations

from datetime import timedelta

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import event_from_json
from tollgate.adapters.dynamodb.keys import event_log_key, event_log_pk
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
        from boto3.dynamodb.conditions import Attr, Key

        kwargs = {
            "KeyConditionExpression": Key("pk").eq(event_log_pk(tenant_id)),
            "ScanIndexForward": False,
        }
        if type_prefix:
            kwargs["FilterExpression"] = Attr("type").begins_with(type_prefix)
        out: list[DomainEvent] = []
        table = aws.table(self.table_name)
        while len(out) < limit:
            page = table.query(**kwargs)
            out.extend(event_from_json(i["event"]) for i in page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return out[:limit]
