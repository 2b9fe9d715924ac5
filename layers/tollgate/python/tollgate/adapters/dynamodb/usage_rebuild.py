"""Rebuilding usage buckets from the raw events, and reading a stream's records back (the replay path of
``tollgate.usecases.stream_replay``).

- ``raw_bucket_events``: every stored raw event of one (tenant, customer, meter, hour), read from the
  tenant's 16 event partitions (a filtered query each: replay is rare, and reads the tenant's events once
  per affected bucket).
- ``bucket_marks`` / ``set_bucket``: the bucket's watermarks, and an overwrite of its count and sum that
  holds only if the watermarks are still those read (no stream record was folded into it meanwhile).
- ``stream_records``: a shard's records from a sequence number to another, or None once the stream no
  longer holds them (24 h retention, or the shard is gone).
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.keys import usage_bucket_pk, usage_bucket_sk, usage_event_pk
from tollgate.adapters.dynamodb.retry import retrying
from tollgate.adapters.dynamodb.usage_events import EVENT_SHARDS, EVENT_TYPE, decode_stream_record
from tollgate.domain.usage.aggregation import StreamEvent


class DynamoBucketRebuilder:
    def __init__(self, events_table: str, usage_table: str) -> None:
        self.events_table, self.usage_table = events_table, usage_table

    def raw_bucket_events(self, tenant_id: str, customer_id: str, meter_id: str, hour: str) -> list[StreamEvent]:
        client = aws.client("dynamodb")
        out: list[StreamEvent] = []
        for shard in range(EVENT_SHARDS):
            kwargs: dict[str, Any] = {
                "TableName": self.events_table,
                "KeyConditionExpression": "pk = :pk",
                "FilterExpression": "item_type = :t AND customer_id = :c AND meter_id = :m AND begins_with(ts, :h)",
                "ExpressionAttributeValues": {
                    ":pk": {"S": usage_event_pk(tenant_id, shard)},
                    ":t": {"S": EVENT_TYPE},
                    ":c": {"S": customer_id},
                    ":m": {"S": meter_id},
                    ":h": {"S": hour},
                },
                "ConsistentRead": True,
            }
            while True:
                page = retrying(partial(client.query, **kwargs))
                for item in page.get("Items", []):
                    record = {"eventName": "INSERT", "dynamodb": {"NewImage": item, "SequenceNumber": "0"}}
                    event = decode_stream_record(record)
                    if event is not None:
                        out.append(event)
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return out

    def _key(self, tenant_id: str, customer_id: str, meter_id: str, hour: str) -> dict[str, Any]:
        return {"pk": {"S": usage_bucket_pk(tenant_id, customer_id, meter_id)}, "sk": {"S": usage_bucket_sk(hour)}}

    def bucket_marks(self, tenant_id: str, customer_id: str, meter_id: str, hour: str) -> dict[str, str] | None:
        """The bucket's watermarks (attribute -> sequence key), or None when it does not exist."""
        key = self._key(tenant_id, customer_id, meter_id, hour)
        client = aws.client("dynamodb")
        item = retrying(lambda: client.get_item(TableName=self.usage_table, Key=key, ConsistentRead=True)).get("Item")
        if item is None:
            return None
        return {name: value["S"] for name, value in item.items() if name.startswith("w") and "S" in value}

    def set_bucket(
        self, bucket: tuple[str, str, str, str], function: str, count: int, total: Decimal | None, marks: dict | None
    ) -> bool:
        """Overwrite count (and sum) if the watermarks are still ``marks`` (None: the bucket must not exist)."""
        names: dict[str, str] = {"#c": "c", "#fn": "fn"}
        values: dict[str, Any] = {":c": {"N": str(count)}, ":fn": {"S": function}}
        sets = ["#c = :c", "#fn = :fn"]
        if total is not None:
            names["#s"], values[":s"] = "s", {"N": str(total)}
            sets.append("#s = :s")
        if marks is None:
            condition = "attribute_not_exists(pk)"
        else:
            conditions = ["attribute_exists(pk)"]
            for n in range(EVENT_SHARDS):  # every watermark as read: present and equal, or still absent
                name = f"w{n:02d}"
                names[f"#w{n}"] = name
                if name in marks:
                    values[f":w{n}"] = {"S": marks[name]}
                    conditions.append(f"#w{n} = :w{n}")
                else:
                    conditions.append(f"attribute_not_exists(#w{n})")
            condition = " AND ".join(conditions)
        client = aws.client("dynamodb")
        try:
            retrying(
                lambda: client.update_item(
                    TableName=self.usage_table,
                    Key=self._key(*bucket),
                    UpdateExpression="SET " + ", ".join(sets),
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                )
            )
            return True
        except Exception as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False  # a stream record was folded in meanwhile (or a watermark appeared): read again
            raise


def stream_records(stream_arn: str, shard_id: str, start: str, end: str) -> list[dict[str, Any]] | None:
    """The shard's records from ``start`` to ``end`` (sequence numbers), or None if no longer held."""
    streams = aws.client("dynamodbstreams")
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=start
        ).get("ShardIterator")
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        if code in ("TrimmedDataAccessException", "ResourceNotFoundException", "ValidationException"):
            return None
        raise
    out: list[dict[str, Any]] = []
    last = int(end)
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        records = page.get("Records", [])
        for r in records:
            if int(r["dynamodb"]["SequenceNumber"]) > last:
                return out
            out.append(dict(r, eventSourceARN=stream_arn))
        if not records:
            break
        iterator = page.get("NextShardIterator")
    return out or None
