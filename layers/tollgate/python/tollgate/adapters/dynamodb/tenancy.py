"""Tenants and API keys in the main table.

An API key item (pk ``KEY#<sha256>``) is listed per tenant on gsi1 (``T#<tenant>#KEYS``, by key id) and
on gsi2 under what it is looked up by: the subscription it is bound to (``T#<tenant>#SUBKEYS#<sub>``)
or, for an operator key, its role (``T#<tenant>#ROLEKEYS#<role>``); so reading a subscription's keys
or the other OWNER keys is a small Query, never a walk over every key of the tenant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import dt, outbox_put, query_all, ts, without_none
from tollgate.adapters.dynamodb.keys import (
    TENANTS_GSI1PK,
    api_key_key,
    role_keys_gsi2pk,
    subscription_keys_gsi2pk,
    tenant_api_keys_gsi1pk,
    tenant_key,
)
from tollgate.adapters.dynamodb.paging import PageQuery, query_page
from tollgate.adapters.dynamodb.transactions import transact_write
from tollgate.domain.access import KeyKind, Role
from tollgate.domain.clock import parse_rfc3339
from tollgate.domain.errors import ConcurrentUpdate, Conflict
from tollgate.domain.events import DomainEvent
from tollgate.domain.keys import ApiKey, KeyStatus
from tollgate.domain.paging import Page
from tollgate.domain.tenants import Tenant


def _key_gsi2(key: ApiKey) -> dict[str, str]:
    """gsi2: the keys bound to one subscription, or the operator keys of one role."""
    if key.subscription_id:
        return {"gsi2pk": subscription_keys_gsi2pk(key.tenant_id, key.subscription_id), "gsi2sk": key.key_id}
    if key.role is not None:
        return {"gsi2pk": role_keys_gsi2pk(key.tenant_id, key.role.value), "gsi2sk": key.key_id}
    return {}


def _key_item(key: ApiKey, key_hash: str) -> dict[str, Any]:
    return without_none(
        {
            **api_key_key(key_hash),
            "item_type": "API_KEY",
            "gsi1pk": tenant_api_keys_gsi1pk(key.tenant_id),
            "gsi1sk": key.key_id,
            **_key_gsi2(key),
            "key_id": key.key_id,
            "tenant_id": key.tenant_id,
            "kind": key.kind.value,
            "role": key.role.value if key.role else None,
            "prefix": key.prefix,
            "last4": key.last4,
            "customer_id": key.customer_id,
            "subscription_id": key.subscription_id,
            "livemode": key.livemode,
            "name": key.name,
            "status": key.status.value,
            "created_at": ts(key.created_at),
            "last_used_at": ts(key.last_used_at),
            "revoked_at": ts(key.revoked_at),
            "revoked_reason": key.revoked_reason,
        }
    )


def _key_from_item(item: dict[str, Any]) -> ApiKey:
    return ApiKey(
        key_id=item["key_id"],
        tenant_id=item["tenant_id"],
        kind=KeyKind(item["kind"]),
        prefix=item["prefix"],
        last4=item["last4"],
        created_at=parse_rfc3339(item["created_at"]),
        role=Role(item["role"]) if item.get("role") else None,
        customer_id=item.get("customer_id"),
        subscription_id=item.get("subscription_id"),
        livemode=bool(item.get("livemode", True)),
        name=item.get("name", ""),
        status=KeyStatus(item["status"]),
        last_used_at=dt(item.get("last_used_at")),
        revoked_at=dt(item.get("revoked_at")),
        revoked_reason=item.get("revoked_reason"),
    )


class DynamoTenancyRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _table(self):
        return aws.table(self.table_name)

    def _transact(self, items: list[dict[str, Any]], on_condition_failed: Callable[[list[int]], Exception]) -> None:
        transact_write(self._table.meta.client, items, on_condition_failed)

    def create_tenant(self, tenant: Tenant, owner_key: ApiKey, owner_key_hash: str, events: list[DomainEvent]) -> None:
        tenant_item = {
            **tenant_key(tenant.tenant_id),
            "item_type": "TENANT",
            "gsi1pk": TENANTS_GSI1PK,
            "gsi1sk": tenant.tenant_id,
            "tenant_id": tenant.tenant_id,
            "name": tenant.name,
            "livemode": tenant.livemode,
            "created_at": ts(tenant.created_at),
        }
        cond = "attribute_not_exists(pk)"
        items = [
            {"Put": {"TableName": self.table_name, "Item": tenant_item, "ConditionExpression": cond}},
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": _key_item(owner_key, owner_key_hash),
                    "ConditionExpression": cond,
                }
            },
            *(outbox_put(self.table_name, e) for e in events),
        ]
        self._transact(items, lambda _: Conflict(f"Tenant {tenant.tenant_id} already exists.", code="TENANT_EXISTS"))

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        item = self._table.get_item(Key=tenant_key(tenant_id)).get("Item")
        if not item:
            return None
        created = parse_rfc3339(item["created_at"])
        return Tenant(item["tenant_id"], item["name"], created, bool(item.get("livemode", True)))

    def list_tenant_ids(self) -> list[str]:
        from boto3.dynamodb.conditions import Key

        items = query_all(self._table, IndexName="gsi1", KeyConditionExpression=Key("gsi1pk").eq(TENANTS_GSI1PK))
        return [i["gsi1sk"] for i in items]

    def add_key(self, key: ApiKey, key_hash: str, events: list[DomainEvent]) -> None:
        self._transact(
            [
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": _key_item(key, key_hash),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                *(outbox_put(self.table_name, e) for e in events),
            ],
            lambda _: ConcurrentUpdate(f"API key {key.key_id} already exists; create the key again."),
        )

    def find_key_by_hash(self, key_hash: str) -> ApiKey | None:
        item = self._table.get_item(Key=api_key_key(key_hash)).get("Item")
        return _key_from_item(item) if item else None

    def _key_item_by_id(self, tenant_id: str, key_id: str) -> dict[str, Any] | None:
        from boto3.dynamodb.conditions import Key

        items = self._table.query(
            IndexName="gsi1",
            KeyConditionExpression=Key("gsi1pk").eq(tenant_api_keys_gsi1pk(tenant_id)) & Key("gsi1sk").eq(key_id),
        )["Items"]
        return items[0] if items else None

    def get_key(self, tenant_id: str, key_id: str) -> ApiKey | None:
        item = self._key_item_by_id(tenant_id, key_id)
        return _key_from_item(item) if item else None

    def page_keys(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[ApiKey]:
        """The tenant's API keys by key id (gsi1)."""
        query = PageQuery(partition=("gsi1pk", tenant_api_keys_gsi1pk(tenant_id)), index="gsi1")
        return query_page(self._table, query, limit=limit, cursor=cursor).map(_key_from_item)

    def _gsi2_keys(self, partition: str) -> list[ApiKey]:
        from boto3.dynamodb.conditions import Key

        items = query_all(self._table, IndexName="gsi2", KeyConditionExpression=Key("gsi2pk").eq(partition))
        return [_key_from_item(i) for i in items]

    def subscription_keys(self, tenant_id: str, subscription_id: str) -> list[ApiKey]:
        """The keys bound to one subscription (gsi2: a handful of items, never the tenant's other keys)."""
        return self._gsi2_keys(subscription_keys_gsi2pk(tenant_id, subscription_id))

    def keys_with_role(self, tenant_id: str, role: Role) -> list[ApiKey]:
        """The tenant's operator keys of ``role``, active or revoked (gsi2)."""
        return self._gsi2_keys(role_keys_gsi2pk(tenant_id, role.value))

    def revoke_key(
        self, key: ApiKey, at: datetime, reason: str, events: list[DomainEvent], *, still_active: ApiKey | None = None
    ) -> ApiKey:
        item = self._key_item_by_id(key.tenant_id, key.key_id)
        if item is None:
            return key
        revoked = key.revoked(at, reason)
        guard: list[dict[str, Any]] = []
        if still_active is not None:
            other = self._key_item_by_id(still_active.tenant_id, still_active.key_id)
            if other is None:
                raise ConcurrentUpdate(f"API key {still_active.key_id} changed meanwhile; read the keys again.")
            guard.append(
                {
                    "ConditionCheck": {
                        "TableName": self.table_name,
                        "Key": {"pk": other["pk"], "sk": "KEY"},
                        "ConditionExpression": "#s = :active",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":active": KeyStatus.ACTIVE.value},
                    }
                }
            )
        self._transact(
            [
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": {"pk": item["pk"], "sk": "KEY"},
                        "UpdateExpression": "SET #s = :revoked, revoked_at = :at, revoked_reason = :why",
                        "ConditionExpression": "#s = :active",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {
                            ":revoked": KeyStatus.REVOKED.value,
                            ":active": KeyStatus.ACTIVE.value,
                            ":at": ts(at),
                            ":why": reason,
                        },
                    }
                },
                *guard,
                *(outbox_put(self.table_name, e) for e in events),
            ],
            lambda _: ConcurrentUpdate(f"API key {key.key_id} or another OWNER key changed meanwhile; read again."),
        )
        return revoked

    def touch_key(self, key_hash: str, at: datetime) -> None:
        self._table.update_item(
            Key=api_key_key(key_hash),
            UpdateExpression="SET last_used_at = :at",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":at": ts(at)},
        )
