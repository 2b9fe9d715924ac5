"""Aggregated usage, ingestion rate counters (usage table) and per-tenant ingestion settings (main table).

| item          | table | pk                                   | sk                 |
|---------------|-------|--------------------------------------|--------------------|
| usage bucket  | usage | T#<tenant>#U#<customer_id>#<meter_id> | H#<yyyy-mm-ddThh>  |
| distinct values (UNIQUE_COUNT) | usage | see ``tollgate.adapters.dynamodb.usage_distinct`` | |
| rate counter  | usage | T#<tenant>#RATE#<00..15>             | <window start>     |
| settings      | main  | T#<tenant>                           | INGEST_SETTINGS    |

A bucket holds ``c`` (events, every meter), ``s`` (sum of the values; SUM, AVG, MAX, LATEST), ``mx``
(MAX), ``lt``/``lv`` (LATEST: "<ts>#<event id>" and its value), ``fn`` (the aggregation), and one
watermark ``w<shard>`` per event shard: the highest stream
sequence key already added from that shard's partition key. The additive update applies only if every
watermark it touches is below the update's lowest record (stream order is per partition key; an update
of a redelivered batch fails its condition and the aggregator applies just the part that is new). MAX
and LATEST are conditional sets (a larger max / a later event wins), safe to repeat. Buckets never
expire: they are what invoices are computed from.
"""

from __future__ import annotations

import random
from decimal import Decimal
from functools import partial
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb import usage_distinct
from tollgate.adapters.dynamodb.keys import (
    KEY_SHARDS,
    ingest_settings_key,
    rate_counter_key,
    usage_bucket_pk,
    usage_bucket_sk,
)
from tollgate.adapters.dynamodb.retry import retrying
from tollgate.domain.catalog.meters import AggregationFunction
from tollgate.domain.usage.aggregation import Bucket, BucketDelta
from tollgate.domain.usage.distinct import Placement, ValueHistory


def _typed(key: dict[str, str]) -> dict[str, Any]:
    """A key in the low-level client's form (every key attribute is a string)."""
    return {name: {"S": value} for name, value in key.items()}


def _is_condition_failure(exc: Exception) -> bool:
    from botocore.exceptions import ClientError

    return (
        isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
    )


def _old_item(exc: Exception) -> dict[str, Any] | None:
    """The item a failed condition returned (ReturnValuesOnConditionCheckFailure), if any."""
    response: dict[str, Any] = getattr(exc, "response", {})
    return response.get("Item")


class DynamoUsageStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _client(self):
        return aws.client("dynamodb")

    def _key(self, d: BucketDelta) -> dict[str, Any]:
        return {
            "pk": {"S": usage_bucket_pk(d.tenant_id, d.customer_id, d.meter_id)},
            "sk": {"S": usage_bucket_sk(d.hour)},
        }

    def apply_guarded(self, delta: BucketDelta) -> dict[str, str] | None:
        """ADD c (and s) and move the watermarks, if no record of the delta was applied yet."""
        names = {"#c": "c", "#fn": "fn"}
        values: dict[str, Any] = {":c": {"N": str(delta.count)}, ":fn": {"S": delta.function.value}}
        add = ["#c :c"]
        if delta.function not in (AggregationFunction.COUNT, AggregationFunction.UNIQUE_COUNT):
            names["#s"] = "s"
            values[":s"] = {"N": str(delta.total)}
            add.append("#s :s")
        sets, conditions = ["#fn = :fn"], []
        for n, (shard, (low, high)) in enumerate(sorted(delta.marks.items())):
            names[f"#w{n}"] = f"w{shard}"
            values[f":lo{n}"] = {"S": low}
            values[f":hi{n}"] = {"S": high}
            sets.append(f"#w{n} = :hi{n}")
            conditions.append(f"(attribute_not_exists(#w{n}) OR #w{n} < :lo{n})")
        client = self._client
        try:
            retrying(
                lambda: client.update_item(
                    TableName=self.table_name,
                    Key=self._key(delta),
                    UpdateExpression="ADD " + ", ".join(add) + " SET " + ", ".join(sets),
                    ConditionExpression=" AND ".join(conditions),
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            )
            return None
        except Exception as exc:
            if not _is_condition_failure(exc):
                raise
            item = _old_item(exc)
            if item is None:  # not returned: read the watermarks
                item = retrying(
                    lambda: client.get_item(TableName=self.table_name, Key=self._key(delta), ConsistentRead=True)
                ).get("Item", {})
            return {name[1:]: value["S"] for name, value in item.items() if name.startswith("w") and "S" in value}

    def apply_idempotent(self, delta: BucketDelta) -> None:
        names = {"#fn": "fn"}
        values: dict[str, Any] = {":fn": {"S": delta.function.value}}
        if delta.function is AggregationFunction.MAX:
            names["#mx"] = "mx"
            values[":mx"] = {"N": str(delta.maximum)}
            update = "SET #mx = :mx, #fn = :fn"
            condition = "attribute_not_exists(#mx) OR #mx < :mx"
        else:  # LATEST
            assert delta.latest is not None
            names.update({"#lt": "lt", "#lv": "lv"})
            values.update({":lt": {"S": delta.latest[0]}, ":lv": {"N": str(delta.latest[1])}})
            update = "SET #lt = :lt, #lv = :lv, #fn = :fn"
            condition = "attribute_not_exists(#lt) OR #lt < :lt"
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": self._key(delta),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        client = self._client
        try:
            retrying(lambda: client.update_item(**kwargs))
        except Exception as exc:
            if not _is_condition_failure(exc):  # a larger max / a later latest is already there: fine
                raise

    def value_histories(
        self, tenant_id: str, customer_id: str, meter_id: str, hour: str, keys: list[str]
    ) -> dict[str, ValueHistory]:
        return usage_distinct.read_histories(
            self._client, self.table_name, tenant_id, customer_id, meter_id, hour, keys
        )

    def place_values(
        self, tenant_id: str, customer_id: str, meter_id: str, placements: dict[str, tuple[int, Placement]]
    ) -> None:
        usage_distinct.write_placements(self._client, self.table_name, tenant_id, customer_id, meter_id, placements)

    def buckets(self, tenant_id: str, customer_id: str, meter_id: str, first_hour: str, last_hour: str) -> list[Bucket]:
        """The hours' buckets with their distinct-value histogram entries (sorted right after each bucket)."""
        client = self._client
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :a AND :b",
            "ExpressionAttributeValues": {
                ":pk": {"S": usage_bucket_pk(tenant_id, customer_id, meter_id)},
                ":a": {"S": usage_bucket_sk(first_hour)},
                ":b": {
                    "S": usage_bucket_sk(last_hour) + "~"
                },  # "~" sorts after "#P#...": the last hour's histogram too
            },
        }
        items: dict[str, dict[str, Any]] = {}
        previous: dict[str, dict[str, int]] = {}
        while True:
            page = retrying(lambda: client.query(**kwargs))
            for i in page.get("Items", []):
                entry = usage_distinct.read_histogram_sk(i["sk"]["S"])
                if entry is None:
                    items[i["sk"]["S"][2:]] = i
                else:
                    counts = previous.setdefault(entry[0], {})
                    counts[entry[1]] = counts.get(entry[1], 0) + int(i["n"]["N"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return [_bucket(hour, items.get(hour, {}), previous.get(hour, {})) for hour in sorted({*items, *previous})]


def _bucket(hour: str, i: dict[str, Any], previous: dict[str, int]) -> Bucket:
    return Bucket(
        hour=hour,
        count=int(i["c"]["N"]) if "c" in i else 0,
        total=Decimal(i["s"]["N"]) if "s" in i else Decimal(0),
        maximum=Decimal(i["mx"]["N"]) if "mx" in i else None,
        latest=(i["lt"]["S"], Decimal(i["lv"]["N"])) if "lt" in i else None,
        previous=previous,
    )


# A rate-counter shard is sized for ~500 events/s of limit: limits up to 500 keep one exact counter; larger
# limits spread their requests over up to KEY_SHARDS counters (each with its share of the limits).
RATE_SHARD_CAPACITY = 500


def rate_shards(tenant_limit: int, key_limit: int) -> int:
    return max(1, min(KEY_SHARDS, -(-min(tenant_limit, key_limit) // RATE_SHARD_CAPACITY)))


class DynamoRateLimiter:
    """A fixed-window counter per tenant, with one attribute per key, in one item per window and shard: one
    conditional UpdateItem per request. The item expires a minute after its window.

    Requests go to a random shard, each shard holding 1/S of both limits (S from ``rate_shards``), so one
    tenant's 10,000 requests/s are ~625 writes/s per key. A shard that refused ``n`` events this window is
    remembered (counts only grow within a window): later requests of at least ``n`` events try another shard,
    and when every shard refused they are refused without a write."""

    def __init__(self, table_name: str, counter: str = "RATE") -> None:
        self.table_name, self.counter = table_name, counter
        self._window = -1
        self._refused: dict[tuple[str, str], dict[int, tuple[int, str]]] = {}

    def _open_shards(self, tenant_id: str, key_id: str, n: int, window_start: int, shards: int) -> dict[int, str]:
        if window_start != self._window:
            self._window, self._refused = window_start, {}
        closed: dict[int, str] = {}
        for owner in ((tenant_id, ""), (tenant_id, key_id)):
            for shard, (least, reason) in self._refused.get(owner, {}).items():
                if n >= least:
                    closed.setdefault(shard, reason)
        return {s: closed.get(s, "") for s in range(shards)}

    def _remember(self, tenant_id: str, key_id: str, shard: int, n: int, reason: str) -> None:
        owner = (tenant_id, "" if reason == "tenant" else key_id)
        refused = self._refused.setdefault(owner, {})
        refused[shard] = (min(n, refused.get(shard, (n, reason))[0]), reason)

    def take(
        self,
        tenant_id: str,
        key_id: str,
        n: int,
        window_start: int,
        tenant_limit: int,
        key_limit: int,
        window_seconds: int,
    ) -> str | None:
        shards = rate_shards(tenant_limit, key_limit)
        status = self._open_shards(tenant_id, key_id, n, window_start, shards)
        candidates = [s for s, reason in status.items() if not reason]
        if not candidates:
            return "tenant" if "tenant" in status.values() else "key"
        shard = random.choice(candidates)
        tenant_share, key_share = -(-tenant_limit // shards), -(-key_limit // shards)
        client = aws.client("dynamodb")
        try:
            retrying(
                lambda: client.update_item(
                    TableName=self.table_name,
                    Key=_typed(rate_counter_key(tenant_id, window_start, shard, self.counter)),
                    UpdateExpression="ADD #t :n, #k :n SET expires_at = :exp",
                    ConditionExpression=(
                        "(attribute_not_exists(#t) OR #t <= :tmax) AND (attribute_not_exists(#k) OR #k <= :kmax)"
                    ),
                    ExpressionAttributeNames={"#t": "total", "#k": f"k_{key_id or 'anonymous'}"},
                    ExpressionAttributeValues={
                        ":n": {"N": str(n)},
                        ":tmax": {"N": str(tenant_share - n)},
                        ":kmax": {"N": str(key_share - n)},
                        ":exp": {"N": str(window_start + window_seconds + 60)},
                    },
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            )
            return None
        except Exception as exc:
            if not _is_condition_failure(exc):
                raise
            item = _old_item(exc) or {}
            total = int(item.get("total", {}).get("N", "0"))
            reason = "tenant" if total + n > tenant_share else "key"
            self._remember(tenant_id, key_id, shard, n, reason)
            if len(candidates) > 1:  # another shard may still have room
                return self.take(tenant_id, key_id, n, window_start, tenant_limit, key_limit, window_seconds)
            return reason


class DynamoIngestSettingsRepository:
    FIELDS = ("rate_limit_per_second", "key_rate_limit_per_second", "retention_days")

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def get(self, tenant_id: str) -> dict[str, int]:
        item = (
            retrying(
                lambda: aws.client("dynamodb").get_item(
                    TableName=self.table_name, Key=_typed(ingest_settings_key(tenant_id))
                )
            ).get("Item")
            or {}
        )
        return {f: int(item[f]["N"]) for f in self.FIELDS if f in item}

    def put(self, tenant_id: str, values: dict[str, int]) -> None:
        item: dict[str, Any] = {
            **_typed(ingest_settings_key(tenant_id)),
            "item_type": {"S": "INGEST_SETTINGS"},
        }
        item.update({f: {"N": str(v)} for f, v in values.items() if f in self.FIELDS})
        aws.client("dynamodb").put_item(TableName=self.table_name, Item=item)


class DynamoOutbox:
    """Domain events into the main table's outbox (the relay publishes them to EventBridge). The item key
    holds the event's time and id, so recording a deterministic event twice records it once."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def add(self, events) -> None:
        from tollgate.adapters.dynamodb.codec import outbox_put

        table = aws.table(self.table_name)
        for event in events:
            put = outbox_put(self.table_name, event)["Put"]
            try:
                retrying(partial(table.put_item, Item=put["Item"], ConditionExpression=put["ConditionExpression"]))
            except Exception as exc:
                if not _is_condition_failure(exc):
                    raise
