"""The stream replay's outbox side (``usecases/stream_replay.py``): publish again what the outbox relay
gave up on, from the stream's raw records while it holds them, else from the outbox items themselves
(kept 7 days, 16 shards per tenant)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def publish_outbox_between(publisher: Any, table_name: str, tenant_ids: Iterable[str], first: Any, last: Any) -> int:
    """Publish the outbox events of ``tenant_ids`` that occurred between ``first`` and ``last`` (all shards)."""
    from boto3.dynamodb.conditions import Key

    from tollgate.adapters import aws
    from tollgate.adapters.dynamodb.codec import event_from_json, query_all
    from tollgate.adapters.dynamodb.keys import all_shards, outbox_key

    table, published = aws.table(table_name), 0
    for tenant_id in tenant_ids:
        low, high = outbox_key(tenant_id, first, ""), outbox_key(tenant_id, last, "~")
        for pk in all_shards(low["pk"]):
            items = query_all(table, KeyConditionExpression=Key("pk").eq(pk) & Key("sk").between(low["sk"], high["sk"]))
            events = [event_from_json(i["event"]) for i in items if i.get("item_type") == "OUTBOX"]
            if events:
                publisher.publish(events)
                published += len(events)
    return published


def publish_outbox_records(publisher: Any, records: list[dict]) -> int:
    """The outbox relay's work on raw stream records (low-level images): publish each OUTBOX insert."""
    from boto3.dynamodb.types import TypeDeserializer

    from tollgate.adapters.dynamodb.codec import event_from_json

    deserialize = TypeDeserializer().deserialize
    events = []
    for r in records:
        image = (r.get("dynamodb") or {}).get("NewImage") or {}
        if r.get("eventName") == "INSERT" and image.get("item_type", {}).get("S") == "OUTBOX":
            events.append(event_from_json(deserialize(image["event"])))
    if events:
        publisher.publish(events)
    return len(events)
