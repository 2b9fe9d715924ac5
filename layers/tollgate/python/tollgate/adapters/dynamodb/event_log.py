"""The per-tenant event log (GET /v1/billing-events), written by the event-log consumer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import event_from_json
from tollgate.adapters.dynamodb.keys import all_shards, event_log_key, event_log_pk
from tollgate.adapters.dynamodb.paging import FILTERED_READ, MAX_ROUNDS
from tollgate.domain.events import DomainEvent
from tollgate.domain.paging import Page, bound_limit, decode_cursor, encode_cursor

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
        """The tenant's events newest first (optionally only the types starting with ``type_prefix``):
        each of the 16 shards read newest first from the cursor on, merged by sort key (time, then id).
        The cursor is the sort key of the last event returned."""
        limit = bound_limit(limit)
        before = decode_cursor(cursor, ("tenant", "sk"), {"tenant": tenant_id}, {})["sk"] if cursor else None
        table = aws.table(self.table_name)
        items: list[dict] = []
        floor = ""  # a shard cut short by the read bound: nothing at or below its last key is known yet
        for pk in all_shards(event_log_pk(tenant_id)):
            found, last = _newest(table, pk, before, type_prefix, limit + 1)
            items += found
            if last is not None and len(found) <= limit:
                floor = max(floor, last)
        items = sorted((i for i in items if i["sk"] > floor), key=lambda i: i["sk"], reverse=True)
        page, more = items[:limit], len(items) > limit or bool(floor)
        next_sk = page[-1]["sk"] if page else floor
        cursor_out = encode_cursor({"tenant": tenant_id, "sk": next_sk}) if more and next_sk else None
        return Page([event_from_json(i["event"]) for i in page], cursor_out)


def _newest(
    table: Any, pk: str, before: str | None, type_prefix: str | None, want: int
) -> tuple[list[dict], str | None]:
    """Up to ``want`` items of one shard newest first, below ``before``; and the last key read when the
    read bound stopped the search early (None when the shard was read to the end or ``want`` found)."""
    from boto3.dynamodb.conditions import Attr, Key

    condition = Key("pk").eq(pk) & Key("sk").lt(before) if before else Key("pk").eq(pk)
    kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "ScanIndexForward": False}
    if type_prefix:
        kwargs["FilterExpression"] = Attr("type").begins_with(type_prefix)
    found: list[dict] = []
    for _ in range(MAX_ROUNDS):
        kwargs["Limit"] = max(want, FILTERED_READ) if type_prefix else want
        answer = table.query(**kwargs)
        found.extend(answer["Items"])
        last = answer.get("LastEvaluatedKey")
        if len(found) >= want:
            return found[:want], None
        if last is None:
            return found, None
        kwargs["ExclusiveStartKey"] = last
    return found, str(last["sk"])
