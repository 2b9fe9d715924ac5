"""The per-tenant event log (GET /v1/billing-events), written by the event-log consumer."""

from __future__ import annotations

from datetime import timedelta

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import event_from_json
from tollgate.adapters.dynamodb.keys import event_log_key, event_log_pk
from tollgate.adapters.dynamodb.paging import PageQuery, query_page
from tollgate.domain.events import DomainEvent
from tollgate.domain.paging import Page

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

    def page_events(
        self, tenant_id: str, *, type_prefix: str | None = None, limit: int, cursor: str | None = None
    ) -> Page[DomainEvent]:
        """The tenant's events newest first, optionally only the types starting with ``type_prefix``."""
        from boto3.dynamodb.conditions import Attr

        only = Attr("type").begins_with(type_prefix) if type_prefix else None
        query = PageQuery(partition=("pk", event_log_pk(tenant_id)), newest_first=True, filter=only)
        page = query_page(aws.table(self.table_name), query, limit=limit, cursor=cursor)
        return page.map(lambda i: event_from_json(i["event"]))
