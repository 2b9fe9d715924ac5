"""UNIQUE_COUNT's distinct values in the usage table (design: ``tollgate.domain.usage.distinct``).

| item              | pk                                          | sk                        |
|-------------------|---------------------------------------------|---------------------------|
| value             | T#<tenant>#DV#<customer>#<meter>#<shard>    | <value key>               |
| value's month     | T#<tenant>#DM#<customer>#<meter>#<yyyy-mm>  | <value key>               |
| histogram entry   | T#<tenant>#U#<customer>#<meter>             | H#<hour>#P#<previous hour>#<shard> |

A value item holds ``ver`` (its version) and ``sp`` (month -> [first hour, last hour]); a month item
``hs``, the hours of the month the value occurred in (a number set of hour-of-month indexes, at most
744, so the item stays under 3 KB); a histogram entry ``n``. Histogram entries share the hourly
buckets' partition and sort right after their hour's bucket, so the Query that reads a range's buckets
reads them too (and meters other than UNIQUE_COUNT, which have none, read nothing more). An entry is
split by the values' shard (16 parts, added up when read): the aggregator's concurrent invocations (one
per stream shard) place values of one hour at once, and a transaction touching an item another one is
writing is cancelled (TransactionConflict, retried); values are placed grouped by shard, so two
invocations rarely share an entry.

Placing values is one ``TransactWriteItems`` per up to 100 items: each value's item (conditioned on
the version read) and month item together with the histogram changes of those values.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from tollgate.adapters.dynamodb.keys import (
    distinct_month_pk,
    distinct_months_prefix,
    distinct_value_pk,
    histogram_sk,
    usage_bucket_pk,
)
from tollgate.adapters.dynamodb.retry import retrying
from tollgate.adapters.dynamodb.transactions import transact_write
from tollgate.domain.errors import ConcurrentUpdate
from tollgate.domain.usage.distinct import Placement, ValueHistory, key_shard, month_of

MAX_TRANSACTION_ITEMS = 100
MAX_BATCH_GET_KEYS = 100


def value_item_key(tenant_id: str, customer_id: str, meter_id: str, key: str) -> dict[str, Any]:
    return {"pk": {"S": distinct_value_pk(tenant_id, customer_id, meter_id, key_shard(key))}, "sk": {"S": key}}


def month_item_key(tenant_id: str, customer_id: str, meter_id: str, month: str, key: str) -> dict[str, Any]:
    return {"pk": {"S": distinct_month_pk(tenant_id, customer_id, meter_id, month)}, "sk": {"S": key}}


def read_histogram_sk(sk: str) -> tuple[str, str] | None:
    """(hour, previous hour) of a histogram entry's sort key; None for a bucket's."""
    hour, marker, rest = sk.removeprefix("H#").partition("#P#")
    return (hour, rest.rpartition("#")[0]) if marker else None


def _histogram_changes(
    placements: dict[str, tuple[int, Placement]], keys: list[str]
) -> dict[tuple[str, str, str], int]:
    """(hour, previous hour, shard) -> change, for the placements of ``keys`` (zero changes dropped)."""
    total: dict[tuple[str, str, str], int] = {}
    for key in keys:
        shard = key_shard(key)
        for (hour, previous), n in placements[key][1].histogram_changes().items():
            total[(hour, previous, shard)] = total.get((hour, previous, shard), 0) + n
    return {entry: n for entry, n in total.items() if n}


def hour_index(hour: str) -> int:
    """ "2026-11-21T10" -> the hour of its month (0..743)."""
    return (int(hour[8:10]) - 1) * 24 + int(hour[11:13])


def hour_at(month: str, index: int) -> str:
    day, hour = divmod(index, 24)
    return f"{month}-{day + 1:02d}T{hour:02d}"


def read_histories(
    client: Any, table: str, tenant_id: str, customer_id: str, meter_id: str, hour: str, keys: list[str]
) -> dict[str, ValueHistory]:
    """The stored history of each value key (strongly consistent), with the hours of ``hour``'s month."""
    month = month_of(hour)
    wanted: list[dict[str, Any]] = []
    for key in keys:
        wanted.append(value_item_key(tenant_id, customer_id, meter_id, key))
        wanted.append(month_item_key(tenant_id, customer_id, meter_id, month, key))
    versions: dict[str, tuple[int, dict[str, tuple[str, str]]]] = {}
    hours: dict[str, frozenset[str]] = {}
    for item in _batch_get(client, table, wanted):
        key = item["sk"]["S"]
        if item["pk"]["S"].startswith(distinct_months_prefix(tenant_id)):
            hours[key] = frozenset(hour_at(month, int(i)) for i in item.get("hs", {}).get("NS", []))
        else:
            spans = {m: (v["L"][0]["S"], v["L"][1]["S"]) for m, v in item.get("sp", {}).get("M", {}).items()}
            versions[key] = (int(item["ver"]["N"]), spans)
    out = {}
    for key in keys:
        version, spans = versions.get(key, (0, {}))
        out[key] = ValueHistory(version, spans, hours.get(key, frozenset()))
    return out


def _batch_get(client: Any, table: str, keys: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for start in range(0, len(keys), MAX_BATCH_GET_KEYS):
        request: dict[str, Any] = {table: {"Keys": keys[start : start + MAX_BATCH_GET_KEYS], "ConsistentRead": True}}
        while request:
            page: dict[str, Any] = retrying(partial(client.batch_get_item, RequestItems=request))
            yield from page.get("Responses", {}).get(table, [])
            request = page.get("UnprocessedKeys") or {}


def write_placements(
    client: Any,
    table: str,
    tenant_id: str,
    customer_id: str,
    meter_id: str,
    placements: dict[str, tuple[int, Placement]],
) -> int:
    """Write the placements (value key -> (version read, placement)) in as few transactions as fit;
    raises ``ConcurrentUpdate`` when a value changed since it was read. Returns the transactions made."""
    pk = usage_bucket_pk(tenant_id, customer_id, meter_id)
    groups: list[list[str]] = [[]]
    for key in placements:
        trial = [*groups[-1], key]
        size = 2 * len(trial) + len(_histogram_changes(placements, trial))
        if groups[-1] and size > MAX_TRANSACTION_ITEMS:
            groups.append([key])
        else:
            groups[-1] = trial
    for group in groups:
        items = []
        for key in group:
            version, placement = placements[key]
            items.extend(_value_writes(table, tenant_id, customer_id, meter_id, key, version, placement))
        for (hour, previous, shard), n in sorted(_histogram_changes(placements, group).items()):
            items.append(
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": pk}, "sk": {"S": histogram_sk(hour, previous, shard)}},
                        "UpdateExpression": "ADD #n :n",
                        "ExpressionAttributeNames": {"#n": "n"},
                        "ExpressionAttributeValues": {":n": {"N": str(n)}},
                    }
                }
            )
        transact_write(
            client,
            items,
            lambda _failed: ConcurrentUpdate(f"distinct values of meter {meter_id} changed while being counted"),
        )
    return len(groups)


def _value_writes(
    table: str, tenant_id: str, customer_id: str, meter_id: str, key: str, version: int, placement: Placement
) -> list[dict[str, Any]]:
    """The value item and its month item, written whole (both were just read): Puts, conditioned on the
    value's version (nothing else writes a value's items without moving its version)."""
    spans = {m: {"L": [{"S": first}, {"S": last}]} for m, (first, last) in placement.spans.items()}
    value: dict[str, Any] = {
        "TableName": table,
        "Item": {
            **value_item_key(tenant_id, customer_id, meter_id, key),
            "ver": {"N": str(version + 1)},
            "sp": {"M": spans},
        },
    }
    value["ExpressionAttributeNames"] = {"#ver": "ver"}
    if version:
        value["ConditionExpression"] = "#ver = :old"
        value["ExpressionAttributeValues"] = {":old": {"N": str(version)}}
    else:
        value["ConditionExpression"] = "attribute_not_exists(#ver)"
    month = month_of(placement.hour)
    hours = sorted({hour_index(h) for h in placement.month_hours})
    month_item = {
        **month_item_key(tenant_id, customer_id, meter_id, month, key),
        "hs": {"NS": [str(h) for h in hours]},
    }
    return [{"Put": value}, {"Put": {"TableName": table, "Item": month_item}}]
