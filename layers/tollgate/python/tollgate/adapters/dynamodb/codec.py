"""Small helpers shared by the DynamoDB adapters."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from tollgate.adapters.dynamodb.keys import outbox_key
from tollgate.domain.clock import parse_rfc3339, to_rfc3339
from tollgate.domain.events import DomainEvent
from tollgate.domain.money import plain

OUTBOX_TTL = timedelta(days=7)


def ts(value: datetime | None) -> str | None:
    return to_rfc3339(value) if value else None


def dt(value: str | None) -> datetime | None:
    return parse_rfc3339(value) if value else None


def required_dt(value: str) -> datetime:
    """A timestamp attribute every item of its kind has (``created_at``)."""
    return parse_rfc3339(value)


def without_none(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if v is not None}


def storable(value: Any) -> Any:
    """JSON as DynamoDB takes it: floats become exact Decimals (money is already decimal strings)."""
    if isinstance(value, dict):
        return {k: storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def guarded_put(table_name: str, item: dict[str, Any], expected_revision: int | None) -> dict[str, Any]:
    """A transaction item that writes ``item`` (made ``storable``) if it is new (``expected_revision``
    None) or still at ``expected_revision``: a lost race fails the transaction's condition."""
    put: dict[str, Any] = {"TableName": table_name, "Item": storable(item)}
    if expected_revision is None:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "#r = :expected"
        put["ExpressionAttributeNames"] = {"#r": "revision"}
        put["ExpressionAttributeValues"] = {":expected": expected_revision}
    return {"Put": put}


def outbox_put(table_name: str, event: DomainEvent) -> dict[str, Any]:
    """A transaction item that records ``event`` in the outbox; the relay publishes it to EventBridge.

    Conditional on absence, so a retried transaction cannot publish the same event twice."""
    return {
        "Put": {
            "TableName": table_name,
            "Item": {
                **outbox_key(event.tenant_id, event.occurred_at, event.event_id),
                "item_type": "OUTBOX",
                "event": event.to_json(),
                "expires_at": int((event.occurred_at + OUTBOX_TTL).timestamp()),
            },
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def query_all(table: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item a query matches, following LastEvaluatedKey across pages."""
    items: list[dict[str, Any]] = []
    while True:
        page = table.query(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def batch_get(table: Any, keys: list[dict[str, str]], chunk: int = 100) -> dict[tuple[str, str], dict[str, Any]]:
    """Items by (pk, sk), strongly consistent, 100 keys per BatchGetItem (unprocessed keys retried).
    ``table.meta.client`` is the resource's client: plain Python values in and out."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    unique = list({(k["pk"], k["sk"]): k for k in keys}.values())
    for start in range(0, len(unique), chunk):
        request: dict[str, Any] = {table.name: {"Keys": unique[start : start + chunk], "ConsistentRead": True}}
        while request:
            answer = table.meta.client.batch_get_item(RequestItems=request)
            for item in answer.get("Responses", {}).get(table.name, []):
                found[(item["pk"], item["sk"])] = item
            request = answer.get("UnprocessedKeys") or {}
    return found


def plain_json(value: Any) -> Any:
    """DynamoDB returns every number as Decimal: give integers back as int and other numbers as exact
    decimal strings (``tollgate.domain.money.plain``: money never becomes a float)."""
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_json(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else plain(value)
    return value


def event_from_json(data: dict[str, Any]) -> DomainEvent:
    data = plain_json(data)
    return DomainEvent(
        type=data["type"],
        tenant_id=data["tenant_id"],
        occurred_at=parse_rfc3339(data["occurred_at"]),
        data=data.get("data") or {},
        event_id=data["id"],
    )
