"""Gateway enforcement in the main table (keys: ``gateway_keys``).

- A policy is one item (its JSON in ``policy``); a tenant's policies are one Query.
- A key's access snapshot is one item next to the key item: an uncached decision is one GetItem. The
  item, the key's registration under its customer (a string set) and the outbox events of the change
  are written in one transaction.
- A strict-mode counter is one conditional UpdateItem per request; a rate-limit window too.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import query_all
from tollgate.adapters.dynamodb.gateway_keys import (
    POLICY_PREFIX,
    UNMETERED_PREFIX,
    access_snapshot_key,
    customer_access_keys_key,
    gateway_counter_key,
    gateway_giveback_key,
    gateway_policy_key,
    gateway_rate_key,
    gateway_unmetered_key,
)
from tollgate.adapters.dynamodb.keys import tenant_pk
from tollgate.adapters.dynamodb.retry import retrying
from tollgate.adapters.dynamodb.transactions import transact_write
from tollgate.domain.clock import parse_rfc3339, to_rfc3339
from tollgate.domain.errors import Conflict
from tollgate.domain.events import DomainEvent
from tollgate.domain.gateway.policy import Policy, policy_from_json
from tollgate.domain.gateway.snapshot import AccessSnapshot
from tollgate.ports.gateway import Unmetered

COUNTER_TTL_SECONDS = 400 * 86400  # a counter outlives its period (at most a year) and then expires


def _condition_failed(exc: Exception) -> bool:
    from botocore.exceptions import ClientError

    return (
        isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
    )


def _typed(key: dict[str, str]) -> dict[str, Any]:
    return {name: {"S": value} for name, value in key.items()}


class DynamoGatewayStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    # -- policies ------------------------------------------------------------------------------------
    def put_policy(self, policy: Policy, *, new: bool) -> None:
        item = {
            **gateway_policy_key(policy.tenant_id, policy.policy_id),
            "item_type": "GATEWAY_POLICY",
            "policy": json.dumps(policy.to_json()),
        }
        condition = "attribute_not_exists(pk)" if new else "attribute_exists(pk)"
        try:
            retrying(lambda: aws.table(self.table_name).put_item(Item=item, ConditionExpression=condition))
        except Exception as exc:
            if not _condition_failed(exc):
                raise
            raise Conflict(
                f"Policy {policy.policy_id} {'already exists' if new else 'was deleted meanwhile'}."
            ) from None

    def get_policy(self, tenant_id: str, policy_id: str) -> Policy | None:
        got = retrying(
            lambda: aws.table(self.table_name).get_item(
                Key=gateway_policy_key(tenant_id, policy_id), ConsistentRead=True
            )
        )
        item = got.get("Item")
        return policy_from_json(json.loads(item["policy"]), tenant_id) if item else None

    def list_policies(self, tenant_id: str) -> list[Policy]:
        from boto3.dynamodb.conditions import Key as K

        items = query_all(
            aws.table(self.table_name),
            KeyConditionExpression=K("pk").eq(tenant_pk(tenant_id)) & K("sk").begins_with(POLICY_PREFIX),
            ConsistentRead=True,
        )
        policies = [policy_from_json(json.loads(i["policy"]), tenant_id) for i in items]
        return sorted(policies, key=lambda p: (p.created_at, p.policy_id))

    def delete_policy(self, tenant_id: str, policy_id: str) -> bool:
        got = retrying(
            lambda: aws.table(self.table_name).delete_item(
                Key=gateway_policy_key(tenant_id, policy_id), ReturnValues="ALL_OLD"
            )
        )
        return bool(got.get("Attributes"))

    # -- snapshots -----------------------------------------------------------------------------------
    def get_snapshot(self, key_hash: str) -> AccessSnapshot | None:
        got = retrying(lambda: aws.table(self.table_name).get_item(Key=access_snapshot_key(key_hash)))
        item = got.get("Item")
        return AccessSnapshot.from_json(json.loads(item["snapshot"])) if item else None

    def put_snapshot(self, key_hash: str, snapshot: AccessSnapshot, events: list[DomainEvent]) -> None:
        client = aws.client("dynamodb")
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {
                        **_typed(access_snapshot_key(key_hash)),
                        "item_type": {"S": "ACCESS_SNAPSHOT"},
                        "tenant_id": {"S": snapshot.tenant_id},
                        "snapshot": {"S": json.dumps(snapshot.to_json())},
                    },
                }
            }
        ]
        if snapshot.customer_id:
            items.append(
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": _typed(customer_access_keys_key(snapshot.tenant_id, snapshot.customer_id)),
                        "UpdateExpression": "ADD key_hashes :h SET item_type = :t",
                        "ExpressionAttributeValues": {":h": {"SS": [key_hash]}, ":t": {"S": "GATEWAY_KEYS"}},
                    }
                }
            )
        if events:  # first: deterministic ids, so a write retried after a failure records them once
            from tollgate.adapters.dynamodb.usage import DynamoOutbox

            DynamoOutbox(self.table_name).add(events)
        transact_write(client, items, lambda _: Conflict("the access snapshot changed meanwhile"))

    def delete_snapshot(self, key_hash: str) -> None:
        retrying(lambda: aws.table(self.table_name).delete_item(Key=access_snapshot_key(key_hash)))

    def customer_key_hashes(self, tenant_id: str, customer_id: str) -> list[str]:
        got = retrying(
            lambda: aws.table(self.table_name).get_item(Key=customer_access_keys_key(tenant_id, customer_id))
        )
        return sorted((got.get("Item") or {}).get("key_hashes") or ())

    # -- counters ------------------------------------------------------------------------------------
    def take_counter(
        self,
        tenant_id: str,
        subscription_id: str,
        meter: str,
        period: str,
        increment: Decimal,
        limit: Decimal,
        seed: Decimal,
    ) -> tuple[bool, Decimal]:
        most = limit - increment  # the counter may be at most this before the request
        condition = "used <= :most" if seed > most else "attribute_not_exists(used) OR used <= :most"
        try:
            got = aws.client("dynamodb").update_item(
                TableName=self.table_name,
                Key=_typed(gateway_counter_key(tenant_id, subscription_id, meter, period)),
                UpdateExpression="SET used = if_not_exists(used, :seed) + :inc, expires_at = :exp",
                ConditionExpression=condition,
                ExpressionAttributeValues={
                    ":seed": {"N": str(seed)},
                    ":inc": {"N": str(increment)},
                    ":most": {"N": str(most)},
                    ":exp": {"N": str(int(datetime.now().timestamp()) + COUNTER_TTL_SECONDS)},
                },
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as exc:
            if not _condition_failed(exc):
                raise
            old = getattr(exc, "response", {}).get("Item") or {}
            return False, Decimal(old["used"]["N"]) if "used" in old else seed
        return True, Decimal(got["Attributes"]["used"]["N"]) - increment

    def give_back(self, tenant_id: str, subscription_id: str, meter: str, period: str, increment: Decimal) -> None:
        aws.client("dynamodb").update_item(
            TableName=self.table_name,
            Key=_typed(gateway_counter_key(tenant_id, subscription_id, meter, period)),
            UpdateExpression="ADD used :dec",
            ConditionExpression="attribute_exists(used)",
            ExpressionAttributeValues={":dec": {"N": str(-increment)}},
        )

    def give_back_once(
        self, tenant_id: str, subscription_id: str, meter: str, period: str, increment: Decimal, request_id: str
    ) -> bool:
        counter = gateway_counter_key(tenant_id, subscription_id, meter, period)
        marker = gateway_giveback_key(tenant_id, subscription_id, request_id, meter)
        items = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {
                        **_typed(marker),
                        "expires_at": {"N": str(int(datetime.now().timestamp()) + COUNTER_TTL_SECONDS)},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": _typed(counter),
                    "UpdateExpression": "ADD used :dec",
                    "ConditionExpression": "attribute_exists(used)",
                    "ExpressionAttributeValues": {":dec": {"N": str(-increment)}},
                }
            },
        ]
        try:
            transact_write(aws.client("dynamodb"), items, lambda _: Conflict("already given back"))
        except Conflict:
            return False
        return True

    def take_rate(
        self, tenant_id: str, subscription_id: str, window_start: int, limit: int, window_seconds: int
    ) -> bool:
        try:
            aws.client("dynamodb").update_item(
                TableName=self.table_name,
                Key=_typed(gateway_rate_key(tenant_id, subscription_id, window_start)),
                UpdateExpression="ADD n :one SET expires_at = :exp",
                ConditionExpression="attribute_not_exists(n) OR n < :limit",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":exp": {"N": str(window_start + window_seconds + 60)},
                },
            )
            return True
        except Exception as exc:
            if not _condition_failed(exc):
                raise
            return False

    # -- unmetered calls -----------------------------------------------------------------------------
    def record_unmetered(self, tenant_id: str, reason: str, route: str, status: int, at: datetime) -> None:
        aws.table(self.table_name).update_item(
            Key=gateway_unmetered_key(tenant_id, reason),
            UpdateExpression=(
                "ADD calls :one SET last_at = :at, last_route = :route, last_status = :status, item_type = :t"
            ),
            ExpressionAttributeValues={
                ":one": 1,
                ":at": to_rfc3339(at),
                ":route": route[:300],
                ":status": status,
                ":t": "GATEWAY_UNMETERED",
            },
        )

    def unmetered(self, tenant_id: str) -> list[Unmetered]:
        from boto3.dynamodb.conditions import Key as K

        items = query_all(
            aws.table(self.table_name),
            KeyConditionExpression=K("pk").eq(tenant_pk(tenant_id)) & K("sk").begins_with(UNMETERED_PREFIX),
        )
        return [
            Unmetered(
                reason=i["sk"][len(UNMETERED_PREFIX) :],
                count=int(i.get("calls", 0)),
                last_at=parse_rfc3339(i["last_at"]),
                last_route=i.get("last_route", ""),
                last_status=int(i.get("last_status", 0)),
            )
            for i in items
        ]
