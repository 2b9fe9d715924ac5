"""Outbound webhooks in the main table.

| item                      | pk                      | sk                                        |
|---------------------------|-------------------------|-------------------------------------------|
| endpoint                  | T#<tenant>              | WHEP#<endpoint_id>                        |
| delivery (event, endpoint)| T#<tenant>              | WHDLV#<delivery_id>                       |
| attempt (the log)         | T#<tenant>#WHEP#<ep>    | ATT#<attempted_at>#<delivery_id>#<n>      |
| failed delivery (index)   | T#<tenant>#WHEP#<ep>    | FAIL#<created_at>#<delivery_id>           |

An attempt is recorded in one transaction with the delivery it advances, conditional on the delivery
still being pending with one attempt fewer: a duplicate queue message records nothing. Deliveries,
attempts and the failed index expire after 30 days (TTL).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import dt, outbox_put, required_dt, ts, without_none
from tollgate.adapters.dynamodb.paging import PageQuery, query_page
from tollgate.adapters.dynamodb.transactions import transact_write
from tollgate.adapters.dynamodb.webhook_keys import (
    WEBHOOK_ATTEMPT_PREFIX,
    WEBHOOK_DELIVERY,
    WEBHOOK_ENDPOINT,
    WEBHOOK_FAILED_PREFIX,
    webhook_key,
    webhook_log_pk,
    webhook_log_sk,
)
from tollgate.domain.errors import ConcurrentUpdate, Conflict
from tollgate.domain.events import DomainEvent
from tollgate.domain.paging import Page
from tollgate.domain.webhooks.deliveries import Attempt, Delivery, DeliveryStatus
from tollgate.domain.webhooks.endpoints import WebhookEndpoint

RETENTION = timedelta(days=30)
WEBHOOK_ENDPOINT_PREFIX = WEBHOOK_ENDPOINT + "#"


def webhook_endpoint_key(tenant_id: str, endpoint_id: str) -> dict[str, str]:
    return webhook_key(tenant_id, WEBHOOK_ENDPOINT, endpoint_id)


def webhook_delivery_key(tenant_id: str, delivery_id: str) -> dict[str, str]:
    return webhook_key(tenant_id, WEBHOOK_DELIVERY, delivery_id)


def webhook_attempt_sk(at: datetime, delivery_id: str, number: int) -> str:
    return webhook_log_sk(WEBHOOK_ATTEMPT_PREFIX, at, delivery_id, f"{number:02d}")


def webhook_failed_sk(created_at: datetime, delivery_id: str) -> str:
    return webhook_log_sk(WEBHOOK_FAILED_PREFIX, created_at, delivery_id)


def _endpoint_item(e: WebhookEndpoint) -> dict[str, Any]:
    return without_none(
        {
            **webhook_endpoint_key(e.tenant_id, e.endpoint_id),
            "item_type": "WEBHOOK_ENDPOINT",
            "endpoint_id": e.endpoint_id,
            "tenant_id": e.tenant_id,
            "url": e.url,
            "secret": e.secret,
            "description": e.description,
            "enabled_events": list(e.enabled_events),
            "disabled": e.disabled,
            "disabled_reason": e.disabled_reason,
            "metadata": e.metadata or None,
            "previous_secret": e.previous_secret,
            "previous_secret_expires_at": ts(e.previous_secret_expires_at),
            "failing_since": ts(e.failing_since),
            "created_at": ts(e.created_at),
            "updated_at": ts(e.updated_at),
            "version": e.version,
        }
    )


def _endpoint(item: dict[str, Any]) -> WebhookEndpoint:
    return WebhookEndpoint(
        endpoint_id=item["endpoint_id"],
        tenant_id=item["tenant_id"],
        url=item["url"],
        secret=item["secret"],
        created_at=required_dt(item["created_at"]),
        updated_at=required_dt(item["updated_at"]),
        description=item.get("description", ""),
        enabled_events=tuple(item.get("enabled_events") or ["*"]),
        disabled=bool(item.get("disabled", False)),
        disabled_reason=item.get("disabled_reason"),
        metadata={k: str(v) for k, v in (item.get("metadata") or {}).items()},
        previous_secret=item.get("previous_secret"),
        previous_secret_expires_at=dt(item.get("previous_secret_expires_at")),
        failing_since=dt(item.get("failing_since")),
        version=int(item.get("version", 1)),
    )


def _expires(at: datetime) -> int:
    return int((at + RETENTION).timestamp())


def _delivery_item(d: Delivery) -> dict[str, Any]:
    return without_none(
        {
            **webhook_delivery_key(d.tenant_id, d.delivery_id),
            "item_type": "WEBHOOK_DELIVERY",
            "delivery_id": d.delivery_id,
            "tenant_id": d.tenant_id,
            "endpoint_id": d.endpoint_id,
            "message_id": d.message_id,
            "event_type": d.event_type,
            "body": d.body,
            "created_at": ts(d.created_at),
            "status": d.status,
            "attempts": d.attempts,
            "last_status_code": d.last_status_code,
            "next_attempt_at": ts(d.next_attempt_at),
            "expires_at": _expires(d.created_at),
        }
    )


def _delivery(item: dict[str, Any]) -> Delivery:
    code = item.get("last_status_code")
    return Delivery(
        delivery_id=item["delivery_id"],
        tenant_id=item["tenant_id"],
        endpoint_id=item["endpoint_id"],
        message_id=item["message_id"],
        event_type=item["event_type"],
        body=item["body"],
        created_at=required_dt(item["created_at"]),
        status=item["status"],
        attempts=int(item["attempts"]),
        last_status_code=int(code) if code is not None else None,
        next_attempt_at=dt(item.get("next_attempt_at")),
    )


def _attempt_item(a: Attempt) -> dict[str, Any]:
    return without_none(
        {
            "pk": webhook_log_pk(a.tenant_id, a.endpoint_id),
            "sk": webhook_attempt_sk(a.attempted_at, a.delivery_id, a.number),
            "item_type": "WEBHOOK_ATTEMPT",
            "tenant_id": a.tenant_id,
            "endpoint_id": a.endpoint_id,
            "delivery_id": a.delivery_id,
            "message_id": a.message_id,
            "event_type": a.event_type,
            "number": a.number,
            "attempted_at": ts(a.attempted_at),
            "status_code": a.status_code,
            "latency_ms": a.latency_ms,
            "response_body": a.response_body,
            "error": a.error,
            "succeeded": a.succeeded,
            "next_attempt_at": ts(a.next_attempt_at),
            "manual": a.manual,
            "expires_at": _expires(a.attempted_at),
        }
    )


def _attempt(item: dict[str, Any]) -> Attempt:
    code = item.get("status_code")
    return Attempt(
        tenant_id=item["tenant_id"],
        endpoint_id=item["endpoint_id"],
        delivery_id=item["delivery_id"],
        message_id=item["message_id"],
        event_type=item["event_type"],
        number=int(item["number"]),
        attempted_at=required_dt(item["attempted_at"]),
        status_code=int(code) if code is not None else None,
        latency_ms=int(item.get("latency_ms", 0)),
        response_body=item.get("response_body", ""),
        error=item.get("error"),
        succeeded=bool(item.get("succeeded")),
        next_attempt_at=dt(item.get("next_attempt_at")),
        manual=bool(item.get("manual", False)),
    )


class DynamoWebhookRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _table(self) -> Any:
        return aws.table(self.table_name)

    # -- endpoints -----------------------------------------------------------------------------------
    def create_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self._table.put_item(Item=_endpoint_item(endpoint), ConditionExpression="attribute_not_exists(pk)")

    def get_endpoint(self, tenant_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        item = self._table.get_item(Key=webhook_endpoint_key(tenant_id, endpoint_id), ConsistentRead=True).get("Item")
        return _endpoint(item) if item else None

    def list_endpoints(
        self, tenant_id: str, *, limit: int, after: str | None
    ) -> tuple[list[WebhookEndpoint], str | None]:
        from boto3.dynamodb.conditions import Key

        first = webhook_endpoint_key(tenant_id, "")
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(first["pk"]) & Key("sk").begins_with(WEBHOOK_ENDPOINT_PREFIX),
            "Limit": limit,
        }
        if after:
            kwargs["ExclusiveStartKey"] = webhook_endpoint_key(tenant_id, after)
        page = self._table.query(**kwargs)
        cursor = page.get("LastEvaluatedKey", {}).get("sk", "").removeprefix(WEBHOOK_ENDPOINT_PREFIX) or None
        return [_endpoint(i) for i in page["Items"]], cursor

    def page_endpoints(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[WebhookEndpoint]:
        """One page of the tenant's endpoints in id order (the API's list)."""
        query = PageQuery(partition=("pk", webhook_endpoint_key(tenant_id, "")["pk"]), prefix=WEBHOOK_ENDPOINT_PREFIX)
        return query_page(self._table, query, limit=limit, cursor=cursor).map(_endpoint)

    def save_endpoint(self, before: WebhookEndpoint, after: WebhookEndpoint) -> None:
        from botocore.exceptions import ClientError

        try:
            self._table.put_item(
                Item=_endpoint_item(after),
                ConditionExpression="attribute_exists(pk) AND version = :read",
                ExpressionAttributeValues={":read": before.version},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            raise ConcurrentUpdate(f"Webhook endpoint {before.endpoint_id} was changed meanwhile; retry.") from exc

    def delete_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self._table.delete_item(Key=webhook_endpoint_key(endpoint.tenant_id, endpoint.endpoint_id))

    def disable_endpoint(
        self, tenant_id: str, endpoint_id: str, reason: str, at: datetime, events: list[DomainEvent]
    ) -> bool:
        update = {
            "Update": {
                "TableName": self.table_name,
                "Key": webhook_endpoint_key(tenant_id, endpoint_id),
                "UpdateExpression": (
                    "SET disabled = :t, disabled_reason = :r, updated_at = :at, version = version + :one"
                ),
                "ConditionExpression": "attribute_exists(pk) AND disabled = :f",
                "ExpressionAttributeValues": {":t": True, ":f": False, ":r": reason, ":at": ts(at), ":one": 1},
            }
        }
        outbox = [outbox_put(self.table_name, e) for e in events]
        try:
            transact_write(self._table.meta.client, [update, *outbox], lambda _failed: Conflict("already disabled"))
        except Conflict:
            return False
        return True

    def mark_failing(self, tenant_id: str, endpoint_id: str, at: datetime) -> datetime:
        answer = self._table.update_item(
            Key=webhook_endpoint_key(tenant_id, endpoint_id),
            UpdateExpression="SET failing_since = if_not_exists(failing_since, :at)",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":at": ts(at)},
            ReturnValues="ALL_NEW",
        )
        return required_dt(answer["Attributes"]["failing_since"])

    def clear_failing(self, tenant_id: str, endpoint_id: str) -> None:
        self._table.update_item(
            Key=webhook_endpoint_key(tenant_id, endpoint_id),
            UpdateExpression="REMOVE failing_since",
            ConditionExpression="attribute_exists(pk)",
        )

    # -- deliveries ----------------------------------------------------------------------------------
    def create_delivery(self, delivery: Delivery) -> Delivery:
        from botocore.exceptions import ClientError

        try:
            self._table.put_item(Item=_delivery_item(delivery), ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return self.get_delivery(delivery.tenant_id, delivery.delivery_id) or delivery
        return delivery

    def get_delivery(self, tenant_id: str, delivery_id: str) -> Delivery | None:
        item = self._table.get_item(Key=webhook_delivery_key(tenant_id, delivery_id), ConsistentRead=True).get("Item")
        return _delivery(item) if item else None

    def record_attempt(self, delivery: Delivery, attempt: Attempt) -> bool:
        log_pk = webhook_log_pk(delivery.tenant_id, delivery.endpoint_id)
        failed_key = {"pk": log_pk, "sk": webhook_failed_sk(delivery.created_at, delivery.delivery_id)}
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": _delivery_item(delivery),
                    "ConditionExpression": "attempts = :before AND #s = :pending",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":before": attempt.number - 1, ":pending": DeliveryStatus.PENDING},
                }
            },
            {"Put": {"TableName": self.table_name, "Item": _attempt_item(attempt)}},
        ]
        if delivery.status == DeliveryStatus.FAILED:
            index = {**failed_key, "delivery_id": delivery.delivery_id, "expires_at": _expires(delivery.created_at)}
            items.append({"Put": {"TableName": self.table_name, "Item": index}})
        elif delivery.status == DeliveryStatus.SUCCEEDED and attempt.manual:
            # a resend or replay of a delivery that had failed: it leaves the failed index
            items.append({"Delete": {"TableName": self.table_name, "Key": failed_key}})
        try:
            transact_write(self._table.meta.client, items, lambda _failed: Conflict("recorded already"))
        except Conflict:
            return False
        return True

    def reopen(self, delivery: Delivery) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._table.update_item(
                Key=webhook_delivery_key(delivery.tenant_id, delivery.delivery_id),
                UpdateExpression="SET #s = :pending REMOVE next_attempt_at",
                ConditionExpression="attribute_exists(pk) AND #s <> :pending",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":pending": DeliveryStatus.PENDING},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def list_attempts(
        self, tenant_id: str, endpoint_id: str, *, limit: int, after: str | None
    ) -> tuple[list[Attempt], str | None]:
        from boto3.dynamodb.conditions import Key

        pk = webhook_log_pk(tenant_id, endpoint_id)
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(pk) & Key("sk").begins_with(WEBHOOK_ATTEMPT_PREFIX),
            "Limit": limit,
            "ScanIndexForward": False,
        }
        if after:
            kwargs["ExclusiveStartKey"] = {"pk": pk, "sk": WEBHOOK_ATTEMPT_PREFIX + after}
        page = self._table.query(**kwargs)
        cursor = page.get("LastEvaluatedKey", {}).get("sk", "").removeprefix(WEBHOOK_ATTEMPT_PREFIX) or None
        return [_attempt(i) for i in page["Items"]], cursor

    def page_attempts(
        self, tenant_id: str, endpoint_id: str, *, limit: int, cursor: str | None = None
    ) -> Page[Attempt]:
        """One page of an endpoint's attempts, newest first (the API's delivery log)."""
        pk = webhook_log_pk(tenant_id, endpoint_id)
        query = PageQuery(partition=("pk", pk), prefix=WEBHOOK_ATTEMPT_PREFIX, newest_first=True)
        return query_page(self._table, query, limit=limit, cursor=cursor).map(_attempt)

    def failed_since(self, tenant_id: str, endpoint_id: str, since: datetime, *, limit: int) -> list[str]:
        from boto3.dynamodb.conditions import Key

        pk = webhook_log_pk(tenant_id, endpoint_id)
        low = webhook_failed_sk(since, "")
        page = self._table.query(
            KeyConditionExpression=Key("pk").eq(pk) & Key("sk").between(low, WEBHOOK_FAILED_PREFIX + "~"),
            Limit=limit,
        )
        return [i["delivery_id"] for i in page["Items"]]
