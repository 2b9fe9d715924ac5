"""Subscriptions in the main table.

| item                   | pk                          | sk                                   | gsi1pk                        | gsi1sk  |
|------------------------|-----------------------------|--------------------------------------|-------------------------------|---------|
| subscription           | T#<tenant>                  | SUB#<subscription_id>                | T#<tenant>#CUSTSUBS#<customer> | <sub id> |
| external-id guard      | T#<tenant>                  | SUB_EXT#<external_id>                |                               |         |
| history line           | T#<tenant>#SUBHIST#<sub id> | <at>#<n>                             |                               |         |
| due transition         | DUE_TRANSITIONS             | <due at>#<tenant>#<sub id>#<action>  |                               |         |

Every save is conditional on the version it replaces (optimistic concurrency); a cancel revokes the
subscription's keys in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import dt, outbox_put, query_all, ts, without_none
from tollgate.domain.clock import to_rfc3339, utcnow
from tollgate.domain.errors import Conflict
from tollgate.domain.events import DomainEvent
from tollgate.domain.keys import KeyStatus
from tollgate.domain.periods import Anchor, Interval
from tollgate.domain.subscriptions import PlanRef, Subscription, SubscriptionStatus, Transition, scheduled_moves

DUE = "DUE_TRANSITIONS"


def _item(s: Subscription) -> dict[str, Any]:
    return without_none(
        {
            "pk": f"T#{s.tenant_id}",
            "sk": f"SUB#{s.subscription_id}",
            "item_type": "SUBSCRIPTION",
            "gsi1pk": f"T#{s.tenant_id}#CUSTSUBS#{s.customer_id}",
            "gsi1sk": s.subscription_id,
            "subscription_id": s.subscription_id,
            "tenant_id": s.tenant_id,
            "customer_id": s.customer_id,
            "plan_id": s.plan.plan_id,
            "plan_version": s.plan.version,
            "status": s.status.value,
            "started_at": ts(s.started_at),
            "interval": s.interval.value,
            "anchor": s.anchor.value,
            "timezone": s.timezone,
            "currency": s.currency,
            "external_id": s.external_id,
            "trial_end": ts(s.trial_end),
            "cancel_at_period_end": s.cancel_at_period_end,
            "cancelled_at": ts(s.cancelled_at),
            "ended_at": ts(s.ended_at),
            "dunning_attempts": s.dunning_attempts,
            "pending_plan_id": s.pending_plan.plan_id if s.pending_plan else None,
            "pending_plan_version": s.pending_plan.version if s.pending_plan else None,
            "version": s.version,
            "metadata": s.metadata or None,
            "pending_charges": [list(c) for c in s.pending_charges] or None,
            "billed_through": ts(s.billed_through),
            "payment_overdue_since": ts(s.payment_overdue_since),
            "plan_moves": s.plan_moves,
            "discount": s.discount.to_json() if s.discount else None,
            **_due_index(s),
        }
    )


def _due_index(s: Subscription) -> dict[str, str]:
    """The sparse due index (gsi2): a subscription is listed under the end of its next billing period."""
    period = s.next_bill_period()
    if period is None:
        return {}
    return {"gsi2pk": f"T#{s.tenant_id}#BILLDUE", "gsi2sk": f"{to_rfc3339(period.end)}#{s.subscription_id}"}


def _from_item(i: dict[str, Any]) -> Subscription:
    return Subscription(
        subscription_id=i["subscription_id"],
        tenant_id=i["tenant_id"],
        customer_id=i["customer_id"],
        plan=PlanRef(i["plan_id"], int(i["plan_version"])),
        status=SubscriptionStatus(i["status"]),
        started_at=dt(i["started_at"]),
        interval=Interval(i["interval"]),
        anchor=Anchor(i["anchor"]),
        timezone=i["timezone"],
        currency=i["currency"],
        external_id=i.get("external_id"),
        trial_end=dt(i.get("trial_end")),
        cancel_at_period_end=bool(i.get("cancel_at_period_end", False)),
        cancelled_at=dt(i.get("cancelled_at")),
        ended_at=dt(i.get("ended_at")),
        dunning_attempts=int(i.get("dunning_attempts", 0)),
        pending_plan=PlanRef(i["pending_plan_id"], int(i["pending_plan_version"]))
        if i.get("pending_plan_id")
        else None,
        version=int(i.get("version", 0)),
        metadata={k: str(v) for k, v in (i.get("metadata") or {}).items()},
        pending_charges=tuple(tuple(c) for c in (i.get("pending_charges") or [])),
        billed_through=dt(i.get("billed_through")),
        payment_overdue_since=dt(i.get("payment_overdue_since")),
        plan_moves=int(i["plan_moves"]) if i.get("plan_moves") is not None else None,
        discount=_discount(i.get("discount")),
    )


def _discount(value: dict[str, Any] | None):
    if not value:
        return None
    from tollgate.adapters.dynamodb.codec import plain_json
    from tollgate.domain.billing.discounts import Discount

    return Discount.from_json(plain_json(value))


def _due_keys(s: Subscription) -> list[str]:
    return [
        f"{to_rfc3339(at)}#{s.tenant_id}#{s.subscription_id}#{action}" for at, action in scheduled_moves(s, utcnow())
    ]


class DynamoSubscriptionRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _table(self):
        return aws.table(self.table_name)

    def _history_puts(self, s: Subscription, history: list[Transition]) -> list[dict[str, Any]]:
        return [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": without_none(
                        {
                            "pk": f"T#{s.tenant_id}#SUBHIST#{s.subscription_id}",
                            "sk": f"{to_rfc3339(h.at)}#{s.version:06d}#{n}",
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
            {"Delete": {"TableName": self.table_name, "Key": {"pk": DUE, "sk": k}}} for k in old - new
        ]
        writes += [
            {"Put": {"TableName": self.table_name, "Item": {"pk": DUE, "sk": k, "item_type": "DUE_TRANSITION"}}}
            for k in new - old
        ]
        return writes

    def _transact(self, items: list[dict[str, Any]], conflict: str) -> None:
        client = self._table.meta.client
        try:
            client.transact_write_items(TransactItems=items)
        except client.exceptions.TransactionCanceledException as exc:
            raise Conflict(conflict, code="CONCURRENT_UPDATE") from exc

    def create(self, sub: Subscription, events: list[DomainEvent], history: list[Transition]) -> None:
        due = _due_keys(sub)
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {**_item(sub), "due_keys": due},
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
                            "pk": f"T#{sub.tenant_id}",
                            "sk": f"SUB_EXT#{sub.external_id}",
                            "subscription_id": sub.subscription_id,
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        items += self._due_writes([], due) + self._history_puts(sub, history)
        items += [outbox_put(self.table_name, e) for e in events]
        self._transact(items, f"external_id {sub.external_id!r} is already used by another subscription.")

    def get(self, tenant_id: str, subscription_id: str) -> Subscription | None:
        item = self._table.get_item(Key={"pk": f"T#{tenant_id}", "sk": f"SUB#{subscription_id}"}).get("Item")
        return _from_item(item) if item else None

    def get_many(self, tenant_id: str, subscription_ids: list[str]) -> dict[str, Subscription]:
        """The existing ones of ``subscription_ids`` (BatchGetItem, strongly consistent)."""
        from tollgate.adapters.dynamodb.codec import batch_get

        items = batch_get(self._table, [{"pk": f"T#{tenant_id}", "sk": f"SUB#{i}"} for i in subscription_ids])
        return {item["subscription_id"]: _from_item(item) for item in items.values()}

    def get_by_external_id(self, tenant_id: str, external_id: str) -> Subscription | None:
        guard = self._table.get_item(Key={"pk": f"T#{tenant_id}", "sk": f"SUB_EXT#{external_id}"}).get("Item")
        return self.get(tenant_id, guard["subscription_id"]) if guard else None

    def _query_all(self, **kwargs) -> list[dict[str, Any]]:
        return query_all(self._table, **kwargs)

    def list_for_customer(self, tenant_id: str, customer_id: str) -> list[Subscription]:
        from boto3.dynamodb.conditions import Key

        items = self._query_all(
            IndexName="gsi1", KeyConditionExpression=Key("gsi1pk").eq(f"T#{tenant_id}#CUSTSUBS#{customer_id}")
        )
        return [_from_item(i) for i in items]

    def list_for_tenant(self, tenant_id: str) -> list[Subscription]:
        from boto3.dynamodb.conditions import Key

        items = self._query_all(KeyConditionExpression=Key("pk").eq(f"T#{tenant_id}") & Key("sk").begins_with("SUB#"))
        return [_from_item(i) for i in items]

    def _bound_key_updates(self, sub: Subscription, reason: str, at: str) -> list[dict[str, Any]]:
        from boto3.dynamodb.conditions import Key

        keys = self._query_all(IndexName="gsi1", KeyConditionExpression=Key("gsi1pk").eq(f"T#{sub.tenant_id}#KEYS"))
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
        self._transact(items, f"Subscription {sub.subscription_id} changed meanwhile; read it again and retry.")
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
            self._table.get_item(
                Key={"pk": f"T#{sub.tenant_id}", "sk": f"SUB#{sub.subscription_id}"}, ConsistentRead=True
            ).get("Item")
            or {}
        )
        due = _due_keys(sub)
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {**_item(sub), "due_keys": due},
                    "ConditionExpression": "#v = :expected",
                    "ExpressionAttributeNames": {"#v": "version"},
                    "ExpressionAttributeValues": {":expected": expected_version},
                }
            }
        ]
        items += self._due_writes(list(stored.get("due_keys", [])), due) + self._history_puts(sub, history)
        if revoke_keys_reason:
            items += self._bound_key_updates(
                sub, revoke_keys_reason, ts(history[-1].at if history else sub.cancelled_at)
            )
        items += [outbox_put(self.table_name, e) for e in events]
        return items

    def history(self, tenant_id: str, subscription_id: str) -> list[Transition]:
        from boto3.dynamodb.conditions import Key

        items = self._query_all(KeyConditionExpression=Key("pk").eq(f"T#{tenant_id}#SUBHIST#{subscription_id}"))
        return [
            Transition(
                at=dt(i["at"]),
                action=i["action"],
                from_status=SubscriptionStatus(i["from_status"]) if i.get("from_status") else None,
                to_status=SubscriptionStatus(i["to_status"]),
                detail=i.get("detail") or {},
            )
            for i in items
        ]

    def due_transitions(self, until: datetime, limit: int = 100) -> list[tuple[str, str, str, str]]:
        from boto3.dynamodb.conditions import Key

        page = self._table.query(
            KeyConditionExpression=Key("pk").eq(DUE) & Key("sk").lte(f"{to_rfc3339(until)}#~"), Limit=limit
        )
        out = []
        for item in page["Items"]:
            _, tenant_id, subscription_id, action = item["sk"].split("#")
            out.append((item["sk"], tenant_id, subscription_id, action))
        return out

    def list_due(self, tenant_id: str, until: datetime) -> list[str]:
        """Ids of the subscriptions whose next billing period ends at or before ``until`` (gsi2)."""
        from boto3.dynamodb.conditions import Key

        items = query_all(
            self._table,
            IndexName="gsi2",
            KeyConditionExpression=Key("gsi2pk").eq(f"T#{tenant_id}#BILLDUE")
            & Key("gsi2sk").lte(f"{to_rfc3339(until)}#~"),
            ProjectionExpression="subscription_id",
        )
        return [i["subscription_id"] for i in items]

    def discard_due(self, marker: str) -> None:
        self._table.delete_item(Key={"pk": DUE, "sk": marker})
