"""Raw usage events and the event log, in the events table.

| item            | pk                          | sk                                               |
|-----------------|-----------------------------|--------------------------------------------------|
| raw event       | T#<tenant>#EV#<00..15>      | <event_id>                                       |

A raw event: ``item_type`` USAGE_EVENT (the stream filter), ``customer_id``, ``meter_id``, ``fn`` (the meter's
aggregation), ``value`` (what it aggregates: N, or S for UNIQUE_COUNT), ``ts`` (event time, fixed-width
RFC 3339), ``expires_at`` (TTL), and ``d``: the rest as compact JSON (``x`` external customer id, ``n`` event
name, ``q`` quantity, ``p`` properties with their numbers as sent, ``h`` payload hash, ``st`` ACCEPTED/LATE,
``r`` received at, ``k`` key id).

| log index       | T#<tenant>#IDX#<hour>#<00..15> | <customer_id>#<meter_id>#<received_at>#<nonce> |
| log entry       | T#<tenant>#LOG#<hour>#<00..15> | <received_at>#<nonce>#<index>                  |

- The raw event's key is a function of (tenant, event id) only, so a write is its own idempotency check:
  each event is a PartiQL ``INSERT`` (which fails with ``DuplicateItem`` when the key exists), 25 per
  ``BatchExecuteStatement`` call. One write unit per event (an item under 1 KB): no transaction (2x),
  no idempotency table, no read before write. The payload hash is compared only for the events that
  already existed (``get``, a consistent BatchGetItem). The shard (0..15, a hash of the event id) spreads
  one customer's writes over 16 partition keys.
- Raw events feed aggregation through the table's stream (INSERT records with item_type USAGE_EVENT).
- The event log: rejected and duplicate submissions are log entries; stored events are listed through
  the log index, one item per request, customer and meter holding the ids it stored (written in the
  same request; a retry writes its duplicates' ids again, and the reader takes the union). Both are
  partitioned by the hour the request was received, sharded by request (16 keys: one tenant's 10,000
  requests/s are ~625 writes/s per key; readers query the hour's shards and merge), and expire with the
  tenant's retention.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.ingest_log_keys import (
    ingest_index_pk,
    ingest_index_prefix,
    ingest_index_sk,
    ingest_log_pk,
    ingest_log_sk,
)
from tollgate.adapters.dynamodb.keys import all_shards, tenant_of_usage_event_pk, usage_event_pk
from tollgate.adapters.dynamodb.retry import (
    BATCH_ROUNDS,
    RETRYABLE_CODES,
    backoff,
    is_transient,
    retrying,
    until_processed,
)
from tollgate.domain.catalog.meters import AggregationFunction
from tollgate.domain.clock import parse_rfc3339
from tollgate.domain.usage.aggregation import StreamEvent, hour_of, seq_key
from tollgate.domain.usage.canonical import canonical_json
from tollgate.domain.usage.events import EventStatus, StoredEvent, format_ts
from tollgate.ports.usage import IndexEntry, InsertOutcome, LogEntry, LogQuery, StoreUnavailable

EVENT_TYPE = "USAGE_EVENT"
# Top-level attributes are what the stream filter and the aggregator read; the rest of the event travels as
# one JSON attribute ``d`` (fewer attributes: smaller items, and less to validate and serialize per write).
_ATTRS = ("pk", "sk", "item_type", "customer_id", "meter_id", "fn", "value", "ts", "expires_at", "d")
PARTIQL_BATCH = 25
WRITE_BATCH = 25
GET_BATCH = 100
MAX_PAYLOAD_CHARS = 2000
# Raw events of a tenant are spread over this many partition keys by a hash of the event id: one
# customer sending 10k events/s writes to all of them (DynamoDB takes ~1000 write units/s per key).
EVENT_SHARDS = 16


def shard_of(tenant_id: str, event_id: str) -> int:
    """Which of the tenant's EVENT_SHARDS partition keys holds the event (a function of the id only,
    so a retry lands on the same item)."""
    digest = hashlib.blake2b(f"{tenant_id}\x1f{event_id}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % EVENT_SHARDS


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: Decimal | int) -> dict[str, str]:
    return {"N": str(value)}


def _event_params(e: StoredEvent, expires_at: dict[str, str], received_at: str) -> list[dict[str, str]]:
    detail = (
        f'{{"x":{json.dumps(e.external_customer_id)},"n":{json.dumps(e.event_name)},"q":{e.quantity},'
        f'"p":{e.properties_json},"h":"{e.payload_hash}","st":"{e.status.value}","r":"{received_at}",'
        f'"k":{json.dumps(e.key_id)}}}'
    )
    return [
        {"S": usage_event_pk(e.tenant_id, shard_of(e.tenant_id, e.event_id))},
        {"S": e.event_id},
        {"S": EVENT_TYPE},
        {"S": e.customer_id},
        {"S": e.meter_id},
        {"S": e.function.value},
        {"N": str(e.value)} if isinstance(e.value, Decimal) else {"S": e.value},
        {"S": format_ts(e.timestamp)},
        expires_at,
        {"S": detail},
    ]


def _str(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    return value.get("S") if value else None


def _event_detail(text: str) -> dict[str, Any]:
    """The ``d`` attribute of a raw event. Events stored before canonical JSON stopped marking decimals
    in-band may hold properties that are not JSON (a client's "\\u0000dec:oops" was written as the bare
    text oops): their other fields are still read, and the properties kept as the text they are (a JSON
    string), so one such event never makes the tenant's event log or a resend fail."""
    try:
        return dict(json.loads(text, parse_float=Decimal))
    except ValueError:
        # ``"p"`` comes after x, n and q (JSON strings and a number, where `,"p":` cannot occur unescaped)
        # and before h, st, r and k (the last `,"h":"` is the hash's: a property named h comes before it).
        start, end = text.index(',"p":'), text.rindex(',"h":"')
        d = dict(json.loads(text[:start] + text[end:], parse_float=Decimal))
        d["p"] = json.dumps(text[start + 5 : end], ensure_ascii=False)
        return d


def stored_event_from_item(item: dict[str, Any]) -> StoredEvent:
    pk = item["pk"]["S"]
    value = item["value"]
    d = _event_detail(item["d"]["S"])
    return StoredEvent(
        tenant_id=tenant_of_usage_event_pk(pk),
        event_id=item["sk"]["S"],
        customer_id=item["customer_id"]["S"],
        external_customer_id=d["x"],
        meter_id=item["meter_id"]["S"],
        event_name=d["n"],
        function=AggregationFunction(item["fn"]["S"]),
        value=Decimal(value["N"]) if "N" in value else value["S"],
        timestamp=parse_rfc3339(item["ts"]["S"]),
        quantity=Decimal(d["q"]),
        properties_json=d["p"] if isinstance(d["p"], str) else canonical_json(d["p"]),
        payload_hash=d["h"],
        status=EventStatus(d["st"]),
        received_at=parse_rfc3339(d["r"]),
        key_id=d.get("k") or "",
    )


def decode_stream_record(record: dict[str, Any]) -> StreamEvent | None:
    """A stream record of a newly stored raw event, or None for anything else (log items, TTL removals,
    moto's MODIFY records of identical overwrites)."""
    if record.get("eventName") != "INSERT":
        return None
    ddb = record.get("dynamodb") or {}
    image = ddb.get("NewImage") or {}
    if (image.get("item_type") or {}).get("S") != EVENT_TYPE:
        return None
    pk = image["pk"]["S"]
    value = image["value"]
    return StreamEvent(
        tenant_id=tenant_of_usage_event_pk(pk),
        customer_id=image["customer_id"]["S"],
        meter_id=image["meter_id"]["S"],
        function=AggregationFunction(image["fn"]["S"]),
        value=Decimal(value["N"]) if "N" in value else value["S"],
        ts=image["ts"]["S"],
        event_id=image["sk"]["S"],
        shard=pk[-2:],
        seq=seq_key(ddb["SequenceNumber"]),
    )


def _expiry(at: datetime, days: int) -> int:
    return int((at + timedelta(days=days)).timestamp())


class DynamoUsageEventStore:
    def __init__(self, table_name: str, retention_days: int = 90) -> None:
        self.table_name = table_name
        self.retention_days = retention_days
        self._statement = f'INSERT INTO "{table_name}" VALUE {{' + ", ".join(f"'{a}': ?" for a in _ATTRS) + "}"

    @property
    def _client(self):
        return aws.client("dynamodb")

    # -- raw events ------------------------------------------------------------------------------
    def insert(self, events: list[StoredEvent], retention_days: int | None = None) -> list[InsertOutcome]:
        days = retention_days or self.retention_days
        outcomes: list[InsertOutcome | None] = [None] * len(events)
        received = {at: (format_ts(at), {"N": str(_expiry(at, days))}) for at in {e.received_at for e in events}}
        pending = list(range(len(events)))
        client = self._client
        for attempt in range(BATCH_ROUNDS):
            retry: list[int] = []
            for start in range(0, len(pending), PARTIQL_BATCH):
                chunk = pending[start : start + PARTIQL_BATCH]
                statements = [
                    {
                        "Statement": self._statement,
                        "Parameters": _event_params(
                            events[i], received[events[i].received_at][1], received[events[i].received_at][0]
                        ),
                    }
                    for i in chunk
                ]
                try:
                    responses = retrying(partial(client.batch_execute_statement, Statements=statements), attempts=3)[
                        "Responses"
                    ]
                except Exception as exc:
                    if not is_transient(exc):
                        raise
                    retry.extend(chunk)  # outcome unknown: the retry says INSERTED or EXISTS
                    continue
                for i, response in zip(chunk, responses, strict=True):
                    error = response.get("Error")
                    if error is None:
                        outcomes[i] = InsertOutcome.INSERTED
                    elif error.get("Code") in ("DuplicateItem", "ConditionalCheckFailed"):
                        outcomes[i] = InsertOutcome.EXISTS
                    elif error.get("Code") in RETRYABLE_CODES:
                        retry.append(i)
                    else:
                        raise RuntimeError(f"event {events[i].event_id}: {error.get('Code')}: {error.get('Message')}")
            if not retry:
                return [o for o in outcomes if o is not None]
            pending = retry
            backoff(attempt)
        raise StoreUnavailable(f"{len(pending)} events could not be written; retry the request (it is idempotent).")

    def get(self, tenant_id: str, event_ids: list[str]) -> dict[str, StoredEvent]:
        found: dict[str, StoredEvent] = {}
        client = self._client
        keys = [
            {"pk": _s(usage_event_pk(tenant_id, shard_of(tenant_id, e))), "sk": _s(e)} for e in dict.fromkeys(event_ids)
        ]

        def read(page: dict[str, Any]) -> None:
            for item in page.get("Responses", {}).get(self.table_name, []):
                event = stored_event_from_item(item)
                found[event.event_id] = event

        for start in range(0, len(keys), GET_BATCH):
            until_processed(
                client.batch_get_item,
                {self.table_name: {"Keys": keys[start : start + GET_BATCH], "ConsistentRead": True}},
                "UnprocessedKeys",
                StoreUnavailable("stored events could not be read back; retry the request."),
                on_page=read,
            )
        return found

    # -- the event log ---------------------------------------------------------------------------
    def _log_item(self, e: LogEntry, days: int) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": _s(ingest_log_pk(e.tenant_id, hour_of(e.received_at), e.request_id)),
            "sk": _s(ingest_log_sk(format_ts(e.received_at), e.request_id, e.index)),
            "item_type": _s("INGEST_LOG"),
            "status": _s(e.status),
            "code": _s(e.code),
            "detail": _s(e.detail),
            "index": _n(e.index),
            "received_at": _s(format_ts(e.received_at)),
            "payload": _s(e.payload[:MAX_PAYLOAD_CHARS]),
            "expires_at": _n(_expiry(e.received_at, days)),
        }
        for name in ("event_id", "external_customer_id", "customer_id", "event_name", "meter_id"):
            value = getattr(e, name)
            if value:
                item[name] = _s(value)
        if e.timestamp:
            item["ts"] = _s(format_ts(e.timestamp))
        return item

    def _index_item(self, e: IndexEntry, days: int) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": _s(ingest_index_pk(e.tenant_id, hour_of(e.received_at), e.request_id)),
            "sk": _s(ingest_index_sk(e.customer_id, e.meter_id, format_ts(e.received_at), e.request_id)),
            "item_type": _s("EVENT_INDEX"),
            "customer_id": _s(e.customer_id),
            "meter_id": _s(e.meter_id),
            "received_at": _s(format_ts(e.received_at)),
            "expires_at": _n(_expiry(e.received_at, days)),
        }
        if e.accepted:
            item["accepted"] = {"SS": sorted(e.accepted)}
        if e.late:
            item["late"] = {"SS": sorted(e.late)}
        return item

    def append_log(self, entries: list[LogEntry], index: list[IndexEntry], retention_days: int | None = None) -> None:
        days = retention_days or self.retention_days
        items = [self._index_item(e, days) for e in index] + [self._log_item(e, days) for e in entries]
        client = self._client
        for start in range(0, len(items), WRITE_BATCH):
            until_processed(
                client.batch_write_item,
                {self.table_name: [{"PutRequest": {"Item": i}} for i in items[start : start + WRITE_BATCH]]},
                "UnprocessedItems",
                StoreUnavailable("the event log could not be written; retry the request (it is idempotent)."),
            )

    def _query(self, pk: str, **kwargs: Any) -> list[dict[str, Any]]:
        """Every item of every shard of ``pk`` that the query (with ``:pk``) matches, by sort key."""
        client = self._client
        out: list[dict[str, Any]] = []
        for shard in all_shards(pk):
            kwargs["ExpressionAttributeValues"][":pk"] = _s(shard)
            kwargs.pop("ExclusiveStartKey", None)
            while True:
                page = retrying(lambda: client.query(TableName=self.table_name, **kwargs))
                out.extend(page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted(out, key=lambda i: i["sk"]["S"])

    def index_hour(self, tenant_id: str, hour: str, customer_id: str | None, meter_id: str | None) -> list[IndexEntry]:
        pk = ingest_index_pk(tenant_id, hour, "")
        values: dict[str, Any] = {}
        condition = "pk = :pk"
        extra: dict[str, Any] = {}
        if customer_id:
            values[":prefix"] = _s(ingest_index_prefix(customer_id, meter_id))
            condition += " AND begins_with(sk, :prefix)"
        elif meter_id:
            values[":m"] = _s(meter_id)
            extra["FilterExpression"] = "meter_id = :m"
        items = self._query(pk, KeyConditionExpression=condition, ExpressionAttributeValues=values, **extra)
        return [
            IndexEntry(
                tenant_id=tenant_id,
                received_at=parse_rfc3339(i["received_at"]["S"]),
                request_id=i["sk"]["S"].rsplit("#", 1)[-1],
                customer_id=i["customer_id"]["S"],
                meter_id=i["meter_id"]["S"],
                accepted=frozenset(i.get("accepted", {}).get("SS", [])),
                late=frozenset(i.get("late", {}).get("SS", [])),
            )
            for i in items
        ]

    def log_hour(self, query: LogQuery) -> list[LogEntry]:
        pk = ingest_log_pk(query.tenant_id, query.hour, "")
        values: dict[str, Any] = {}
        names: dict[str, str] = {}
        filters = []
        for attr, wanted in (
            ("customer_id", query.customer_id),
            ("external_customer_id", query.external_customer_id),
            ("meter_id", query.meter_id),
            ("event_name", query.event_name),
        ):
            if wanted:
                values[f":{attr}"] = _s(wanted)
                filters.append(f"{attr} = :{attr}")
        if query.statuses:
            names["#st"] = "status"
            options = []
            for n, status in enumerate(sorted(query.statuses)):
                values[f":st{n}"] = _s(status)
                options.append(f"#st = :st{n}")
            filters.append("(" + " OR ".join(options) + ")")
        kwargs: dict[str, Any] = {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": values}
        if filters:
            kwargs["FilterExpression"] = " AND ".join(filters)
        if names:
            kwargs["ExpressionAttributeNames"] = names
        out = []
        for i in self._query(pk, **kwargs):
            ts = _str(i, "ts")
            out.append(
                LogEntry(
                    tenant_id=query.tenant_id,
                    received_at=parse_rfc3339(i["received_at"]["S"]),
                    request_id=i["sk"]["S"].split("#")[1],
                    index=int(i["index"]["N"]),
                    status=i["status"]["S"],
                    code=i["code"]["S"],
                    detail=i["detail"]["S"],
                    event_id=_str(i, "event_id"),
                    external_customer_id=_str(i, "external_customer_id"),
                    customer_id=_str(i, "customer_id"),
                    event_name=_str(i, "event_name"),
                    meter_id=_str(i, "meter_id"),
                    timestamp=parse_rfc3339(ts) if ts else None,
                    payload=i["payload"]["S"],
                )
            )
        return out
