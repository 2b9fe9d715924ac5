"""Customers in the main table.

| item                 | pk          | sk                         |
|----------------------|-------------|----------------------------|
| customer             | T#<tenant>  | CUSTOMER#<customer_id>     |
| external-id guard    | T#<tenant>  | CUSTOMER_EXT#<external_id> |

The guard item makes the external id unique per tenant: it is written in the same transaction as
the customer, conditional on its absence.
"""

from __future__ import annotations

from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import dt, outbox_put, ts, without_none
from tollgate.domain.customers import Customer
from tollgate.domain.errors import Conflict
from tollgate.domain.events import DomainEvent


def _item(c: Customer) -> dict[str, Any]:
    return without_none(
        {
            "pk": f"T#{c.tenant_id}",
            "sk": f"CUSTOMER#{c.customer_id}",
            "item_type": "CUSTOMER",
            "customer_id": c.customer_id,
            "tenant_id": c.tenant_id,
            "external_id": c.external_id,
            "name": c.name,
            "email": c.email,
            "currency": c.currency,
            "timezone": c.timezone,
            "metadata": c.metadata or None,
            "payment_method": c.payment_method,
            "provider_customer_id": c.provider_customer_id,
            "created_at": ts(c.created_at),
        }
    )


def _from_item(item: dict[str, Any]) -> Customer:
    return Customer(
        customer_id=item["customer_id"],
        tenant_id=item["tenant_id"],
        external_id=item["external_id"],
        created_at=dt(item["created_at"]),
        name=item.get("name", ""),
        email=item.get("email"),
        currency=item.get("currency", "USD"),
        timezone=item.get("timezone", "UTC"),
        metadata={k: str(v) for k, v in (item.get("metadata") or {}).items()},
        payment_method=item.get("payment_method"),
        provider_customer_id=item.get("provider_customer_id"),
    )


def _guard(tenant_id: str, external_id: str, customer_id: str) -> dict[str, Any]:
    return {
        "pk": f"T#{tenant_id}",
        "sk": f"CUSTOMER_EXT#{external_id}",
        "item_type": "CUSTOMER_EXTERNAL_ID",
        "customer_id": customer_id,
    }


class DynamoCustomerRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _table(self):
        return aws.table(self.table_name)

    def _transact(self, items: list[dict[str, Any]], conflict: str) -> None:
        client = self._table.meta.client
        try:
            client.transact_write_items(TransactItems=items)
        except client.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in reasons:
                raise Conflict(conflict, code="CUSTOMER_EXTERNAL_ID_TAKEN") from exc
            raise

    def create(self, customer: Customer, events: list[DomainEvent]) -> None:
        cond = "attribute_not_exists(pk)"
        existing = self.get_by_external_id(customer.tenant_id, customer.external_id)
        taken = (
            f"external_id {customer.external_id!r} is already used by customer {existing.customer_id}."
            if existing
            else (f"external_id {customer.external_id!r} is already used by another customer.")
        )
        self._transact(
            [
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": _guard(customer.tenant_id, customer.external_id, customer.customer_id),
                        "ConditionExpression": cond,
                    }
                },
                {"Put": {"TableName": self.table_name, "Item": _item(customer), "ConditionExpression": cond}},
                *(outbox_put(self.table_name, e) for e in events),
            ],
            taken,
        )

    def get(self, tenant_id: str, customer_id: str) -> Customer | None:
        item = self._table.get_item(Key={"pk": f"T#{tenant_id}", "sk": f"CUSTOMER#{customer_id}"}).get("Item")
        return _from_item(item) if item else None

    def get_by_external_id(self, tenant_id: str, external_id: str) -> Customer | None:
        guard = self._table.get_item(Key={"pk": f"T#{tenant_id}", "sk": f"CUSTOMER_EXT#{external_id}"}).get("Item")
        return self.get(tenant_id, guard["customer_id"]) if guard else None

    def list(self, tenant_id: str, *, limit: int = 100, after: str | None = None) -> tuple[list[Customer], str | None]:
        from boto3.dynamodb.conditions import Key

        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(f"T#{tenant_id}") & Key("sk").begins_with("CUSTOMER#"),
            "Limit": limit,
        }
        if after:
            kwargs["ExclusiveStartKey"] = {"pk": f"T#{tenant_id}", "sk": f"CUSTOMER#{after}"}
        page = self._table.query(**kwargs)
        items = [_from_item(i) for i in page["Items"]]
        cursor = page.get("LastEvaluatedKey", {}).get("sk", "").removeprefix("CUSTOMER#") or None
        return items, cursor

    def update(self, before: Customer, after: Customer, events: list[DomainEvent]) -> None:
        items: list[dict[str, Any]] = [
            {"Put": {"TableName": self.table_name, "Item": _item(after), "ConditionExpression": "attribute_exists(pk)"}}
        ]
        if before.external_id != after.external_id:
            items.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": _guard(after.tenant_id, after.external_id, after.customer_id),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
            items.append(
                {
                    "Delete": {
                        "TableName": self.table_name,
                        "Key": {"pk": f"T#{before.tenant_id}", "sk": f"CUSTOMER_EXT#{before.external_id}"},
                    }
                }
            )
        items.extend(outbox_put(self.table_name, e) for e in events)
        self._transact(items, f"external_id {after.external_id!r} is already used by another customer.")

    def set_provider_customer_id(self, tenant_id: str, customer_id: str, provider_customer_id: str) -> None:
        self._table.update_item(
            Key={"pk": f"T#{tenant_id}", "sk": f"CUSTOMER#{customer_id}"},
            UpdateExpression="SET provider_customer_id = if_not_exists(provider_customer_id, :p)",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":p": provider_customer_id},
        )

    def delete(self, customer: Customer, events: list[DomainEvent]) -> None:
        self._transact(
            [
                {
                    "Delete": {
                        "TableName": self.table_name,
                        "Key": {"pk": f"T#{customer.tenant_id}", "sk": f"CUSTOMER#{customer.customer_id}"},
                    }
                },
                {
                    "Delete": {
                        "TableName": self.table_name,
                        "Key": {"pk": f"T#{customer.tenant_id}", "sk": f"CUSTOMER_EXT#{customer.external_id}"},
                    }
                },
                *(outbox_put(self.table_name, e) for e in events),
            ],
            "The customer changed while it was being deleted; retry.",
        )
