"""Subscriptions in the main table.

| item              | pk                          | sk                                  | gsi1pk / gsi2pk           |
|-------------------|-----------------------------|-------------------------------------|---------------------------|
| subscription      | T#<tenant>                  | SUB#<subscription_id>               | T#<tenant>#CUSTSUBS#<cus> |
| external-id guard | T#<tenant>                  | SUB_EXT#<external_id>               |                           |
| history line      | T#<tenant>#SUBHIST#<sub id> | <at>#<version>#<n>                  |                           |
| due transition    | DUE_TRANSITIONS#<00..15>    | <due at>#<tenant>#<sub id>#<action> |                           |

gsi1sk is the subscription id; gsi2 (``T#<tenant>#BILLDUE#<00..15>``, sparse, sharded by subscription)
lists a subscription under the end of its next billing period. Due markers are sharded by tenant and
subscription; the clock and the bill run query every shard.

Every save is conditional on the version it replaces (optimistic concurrency: a lost race raises
``ConcurrentUpdate``); a cancel revokes the subscription's keys in the same transaction. A taken
external id is 409 SUBSCRIPTION_EXTERNAL_ID_TAKEN. Keys are built in ``keys.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import (
    batch_get,
    outbox_put,
    query_all,
    ts,
    without_none,
)
from tollgate.adapters.dynamodb.keys import (
    DUE_TRANSITIONS_PK,
    SUBSCRIPTION_PREFIX,
    all_shards,
    billing_due_gsi2pk,
    customer_subscriptions_gsi1pk,
    due_transition_key,
    due_until,
    subscription_external_id_key,
    subscription_history_pk,
    subscription_history_sk,
    subscription_key,
    subscription_keys_gsi2pk,
    tenant_pk,
)
from tollgate.adapters.dynamodb.paging import PageQuery, query_page
from tollgate.adapters.dynamodb.subscription_history import page_history, transition_from
from tollgate.adapters.dynamodb.subscription_items import (
    due_keys,
    subscription_from_item,
    subscription_item,
)
from tollgate.adapters.dynamodb.transactions import transact_write
from tollgate.domain.clock import to_rfc3339, utcnow
from tollgate.domain.errors import ConcurrentUpdate, Conflict
from tollgate.domain.events import DomainEvent
from tollgate.domain.keys import KeyStatus
from tollgate.domain.paging import Page
from tollgate.domain.subscriptions import Subscription, Transition

if TYPE_CHECKING:
    pass

DUE_SHARDS = all_shards(f"{DUE_TRANSITIONS_PK}#00")


class DynamoSubscriptionRepository:
    def __init__(self, table_name: str, clock: Callable[[], datetime] = utcnow) -> None:
        self.table_name = table_name
        self._clock = clock  # the current period, for the due transitions of a save

    @property
    def _table(self) -> Any:
        return aws.table(self.table_name)

    def _history_puts(self, s: Subscription, history: list[Transition]) -> list[dict[str, Any]]:
        return [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": without_none(
                        {
                            "pk": subscription_history_pk(s.tenant_id, s.subscription_id),
                            "sk": subscription_history_sk(h.at, s.version, n),
                            "item_type": "SUBSCRIPTION_HISTORY",
                            "at": ts(h.at),
                            "action": h.action,
                            "from_status": h.from_status.value if h.from_status else None,
                            "to_status": h.to_status.value,
                            "detail": h.detail or None,
                        }
                    ),
                }
            }
            for n, h in enumerate(history)
        ]

    def _due_writes(self, stored_keys: list[str], new_keys: list[str]) -> list[dict[str, Any]]:
        """Markers are deleted by the keys stored on the item, so a marker never outlives its move."""
        old, new = set(stored_keys), set(new_keys)
        writes: list[dict[str, Any]] = [
            {"Delete": {"TableName": self.table_name, "Key": due_transition_key(k)}} for k in old - new
        ]
        writes += [
            {"Put": {"TableName": self.table_name, "Item": {**due_transition_key(k), "item_type": "DUE_TRANSITION"}}}
            for k in new - old
        ]
        return writes

    def _transact(self, items: list[dict[str, Any]], on_condition_failed: Callable[[list[int]], Exception]) -> None:
        transact_write(self._table.meta.client, items, on_condition_failed)

    def create(self, sub: Subscription, events: list[DomainEvent], history: list[Transition]) -> None:
        due = due_keys(sub, self._clock())
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {**subscription_item(sub), "due_keys": due},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        if sub.external_id:
            items.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": {
                            **subscription_external_id_key(sub.tenant_id, sub.external_id),
                            "subscription_id": sub.subscription_id,
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        items += self._due_writes([], due) + self._history_puts(sub, history)
        items += [outbox_put(self.table_name, e) for e in events]

        def refused(failed: list[int]) -> Exception:
            if sub.external_id and 1 in failed:
                return Conflict(
                    f"external_id {sub.external_id!r} is already used by another subscription.",
                    code="SUBSCRIPTION_EXTERNAL_ID_TAKEN",
                )
            return Conflict(f"Subscription {sub.subscription_id} already exists.")

        self._transact(items, refused)

    def get(self, tenant_id: str, subscription_id: str) -> Subscription | None:
        item = self._table.get_item(Key=subscription_key(tenant_id, subscription_id)).get("Item")
        return subscription_from_item(item) if item else None

    def get_many(self, tenant_id: str, subscription_ids: list[str]) -> dict[str, Subscription]:
        """The existing ones of ``subscription_ids`` (BatchGetItem, strongly consistent)."""
        items = batch_get(self._table, [subscription_key(tenant_id, i) for i in subscription_ids])
        return {item["subscription_id"]: subscription_from_item(item) for item in items.values()}

    def get_by_external_id(self, tenant_id: str, external_id: str) -> Subscription | None:
        guard = self._table.get_item(Key=subscription_external_id_key(tenant_id, external_id)).get("Item")
        return self.get(tenant_id, guard["subscription_id"]) if guard else None

    def _query_all(self, **kwargs: Any) -> list[dict[str, Any]]:
        return query_all(self._table, **kwargs)

    def list_for_customer(self, tenant_id: str, customer_id: str) -> list[Subscription]:
        from boto3.dynamodb.conditions import Key

        items = self._query_all(
            IndexName="gsi1",
            KeyConditionExpression=Key("gsi1pk").eq(customer_subscriptions_gsi1pk(tenant_id, customer_id)),
        )
        return [subscription_from_item(i) for i in items]

    def list_for_tenant(self, tenant_id: str) -> list[Subscription]:
        from boto3.dynamodb.conditions import Key

        condition = Key("pk").eq(tenant_pk(tenant_id)) & Key("sk").begins_with(SUBSCRIPTION_PREFIX)
        items = self._query_all(KeyConditionExpression=condition)
        return [subscription_from_item(i) for i in items]

    def page_for_customer(
        self, tenant_id: str, customer_id: str, *, limit: int, cursor: str | None = None
    ) -> Page[Subscription]:
        query = PageQuery(partition=("gsi1pk", customer_subscriptions_gsi1pk(tenant_id, customer_id)), index="gsi1")
        return query_page(self._table, query, limit=limit, cursor=cursor).map(subscription_from_item)

    def page_for_tenant(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[Subscription]:
        query = PageQuery(partition=("pk", tenant_pk(tenant_id)), prefix=SUBSCRIPTION_PREFIX)
        return query_page(self._table, query, limit=limit, cursor=cursor).map(subscription_from_item)

    def _bound_key_updates(self, sub: Subscription, reason: str, at: str) -> list[dict[str, Any]]:
        from boto3.dynamodb.conditions import Key

        partition = subscription_keys_gsi2pk(sub.tenant_id, sub.subscription_id)
        keys = self._query_all(IndexName="gsi2", KeyConditionExpression=Key("gsi2pk").eq(partition))
        return [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": {"pk": k["pk"], "sk": k["sk"]},
                    "UpdateExpression": "SET #s = :revoked, revoked_at = :at, revoked_reason = :why",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":revoked": KeyStatus.REVOKED.value, ":at": at, ":why": reason},
                }
            }
            for k in keys
            if k.get("subscription_id") == sub.subscription_id and k.get("status") == KeyStatus.ACTIVE.value
        ]

    def save(
        self,
        sub: Subscription,
        *,
        expected_version: int,
        events: list[DomainEvent],
        history: list[Transition],
        revoke_keys_reason: str | None = None,
    ) -> Subscription:
        items = self.save_items(
            sub,
            expected_version=expected_version,
            events=events,
            history=history,
            revoke_keys_reason=revoke_keys_reason,
        )
        lost = ConcurrentUpdate(f"Subscription {sub.subscription_id} changed meanwhile; read it again and retry.")
        self._transact(items, lambda _failed: lost)
        return sub

    def save_items(
        self,
        sub: Subscription,
        *,
        expected_version: int,
        events: list[DomainEvent],
        history: list[Transition],
        revoke_keys_reason: str | None = None,
    ) -> list[dict[str, Any]]:
        """The TransactWriteItems entries of ``save`` (for writes that must land with another entity's)."""
        stored = (
            self._table.get_item(Key=subscription_key(sub.tenant_id, sub.subscription_id), ConsistentRead=True).get(
                "Item"
            )
            or {}
        )
        due = due_keys(sub, self._clock())
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {**subscription_item(sub), "due_keys": due},
                    "ConditionExpression": "#v = :expected",
                    "ExpressionAttributeNames": {"#v": "version"},
                    "ExpressionAttributeValues": {":expected": expected_version},
                }
            }
        ]
        items += self._due_writes(list(stored.get("due_keys", [])), due) + self._history_puts(sub, history)
        if revoke_keys_reason:
            revoked_at = history[-1].at if history else (sub.cancelled_at or self._clock())
            items += self._bound_key_updates(sub, revoke_keys_reason, to_rfc3339(revoked_at))
        items += [outbox_put(self.table_name, e) for e in events]
        return items

    def history(self, tenant_id: str, subscription_id: str) -> list[Transition]:
        from boto3.dynamodb.conditions import Key

        items = self._query_all(
            KeyConditionExpression=Key("pk").eq(subscription_history_pk(tenant_id, subscription_id))
        )
        return [transition_from(i) for i in items]

    def page_history(
        self, tenant_id: str, subscription_id: str, *, limit: int, cursor: str | None = None
    ) -> Page[Transition]:
        return page_history(self._table, tenant_id, subscription_id, limit=limit, cursor=cursor)

    def due_transitions(self, until: datetime, limit: int = 100) -> list[tuple[str, str, str, str]]:
        """The earliest ``limit`` moves due by ``until``, over every shard of the due markers."""
        from boto3.dynamodb.conditions import Key

        markers: list[str] = []
        for pk in DUE_SHARDS:
            page = self._table.query(
                KeyConditionExpression=Key("pk").eq(pk) & Key("sk").lte(due_until(until)), Limit=limit
            )
            markers += [item["sk"] for item in page["Items"]]
        out = []
        for marker in sorted(markers)[:limit]:
            _, tenant_id, subscription_id, action = marker.split("#")
            out.append((marker, tenant_id, subscription_id, action))
        return out

    def list_due(self, tenant_id: str, until: datetime) -> list[str]:
        """Ids of the subscriptions whose next billing period ends at or before ``until`` (gsi2, every shard)."""
        from boto3.dynamodb.conditions import Key

        items = []
        for pk in all_shards(billing_due_gsi2pk(tenant_id, "")):
            items += query_all(
                self._table,
                IndexName="gsi2",
                KeyConditionExpression=Key("gsi2pk").eq(pk) & Key("gsi2sk").lte(due_until(until)),
                ProjectionExpression="subscription_id, gsi2sk",
            )
        return [i["subscription_id"] for i in sorted(items, key=lambda i: i["gsi2sk"])]

    def discard_due(self, marker: str) -> None:
        self._table.delete_item(Key=due_transition_key(marker))
