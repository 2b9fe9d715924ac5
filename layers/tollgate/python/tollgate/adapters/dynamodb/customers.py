"""Customers in the main table.

| item                 | pk          | sk                         |
|----------------------|-------------|----------------------------|
| customer             | T#<tenant>  | CUSTOMER#<customer_id>     |
| external-id guard    | T#<tenant>  | CUSTOMER_EXT#<external_id> |

The guard item makes the external id unique per tenant: it is written in the same transaction as
the customer, conditional on its absence (a failed condition there is 409 CUSTOMER_EXTERNAL_ID_TAKEN).
An update or a delete is conditional on the external id it read, so two requests renaming (or
renaming and deleting) one customer cannot leave a guard behind: the loser gets ``ConcurrentUpdate``
and the use case reads again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import outbox_put, required_dt, ts, without_none
from tollgate.adapters.dynamodb.keys import CUSTOMER_PREFIX, customer_external_id_key, customer_key, tenant_pk
from tollgate.adapters.dynamodb.paging import PageQuery, query_page
from tollgate.adapters.dynamodb.transactions import transact_write
from tollgate.domain.customers import Customer
from tollgate.domain.errors import ConcurrentUpdate, Conflict
from tollgate.domain.events import DomainEvent
from tollgate.domain.paging import Page


def _item(c: Customer) -> dict[str, Any]:
    return without_none(
        {
            **customer_key(c.tenant_id, c.customer_id),
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


def customer_from_item(item: dict[str, Any]) -> Customer:
    return Customer(
        customer_id=item["customer_id"],
        tenant_id=item["tenant_id"],
        external_id=item["external_id"],
        created_at=required_dt(item["created_at"]),
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
        **customer_external_id_key(tenant_id, external_id),
        "item_type": "CUSTOMER_EXTERNAL_ID",
        "customer_id": customer_id,
    }


def _changed(customer_id: str) -> ConcurrentUpdate:
    return ConcurrentUpdate(f"Customer {customer_id} was changed by another request; fetch it again and retry.")


class DynamoCustomerRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _table(self) -> Any:
        return aws.table(self.table_name)

    def _transact(
        self,
        items: list[dict[str, Any]],
        events: list[DomainEvent],
        on_condition_failed: Callable[[list[int]], Exception],
    ) -> None:
        outbox = [outbox_put(self.table_name, e) for e in events]
        transact_write(self._table.meta.client, [*items, *outbox], on_condition_failed)

    def _external_id_taken(self, tenant_id: str, external_id: str) -> Conflict:
        holder = self.get_by_external_id(tenant_id, external_id)
        by = f"customer {holder.customer_id}" if holder else "another customer"
        return Conflict(f"external_id {external_id!r} is already used by {by}.", code="CUSTOMER_EXTERNAL_ID_TAKEN")

    def create(self, customer: Customer, events: list[DomainEvent]) -> None:
        cond = "attribute_not_exists(pk)"
        guard = _guard(customer.tenant_id, customer.external_id, customer.customer_id)
        items = [
            {"Put": {"TableName": self.table_name, "Item": guard, "ConditionExpression": cond}},
            {"Put": {"TableName": self.table_name, "Item": _item(customer), "ConditionExpression": cond}},
        ]

        def refused(failed: list[int]) -> Exception:
            if 0 in failed:
                return self._external_id_taken(customer.tenant_id, customer.external_id)
            return Conflict(f"Customer {customer.customer_id} already exists.")

        self._transact(items, events, refused)

    def get(self, tenant_id: str, customer_id: str) -> Customer | None:
        item = self._table.get_item(Key=customer_key(tenant_id, customer_id)).get("Item")
        return customer_from_item(item) if item else None

    def get_by_external_id(self, tenant_id: str, external_id: str) -> Customer | None:
        guard = self._table.get_item(Key=customer_external_id_key(tenant_id, external_id)).get("Item")
        return self.get(tenant_id, guard["customer_id"]) if guard else None

    def list_page(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[Customer]:
        query = PageQuery(partition=("pk", tenant_pk(tenant_id)), prefix=CUSTOMER_PREFIX)
        return query_page(self._table, query, limit=limit, cursor=cursor).map(customer_from_item)

    def update(self, before: Customer, after: Customer, events: list[DomainEvent]) -> None:
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": _item(after),
                    "ConditionExpression": "attribute_exists(pk) AND external_id = :read",
                    "ExpressionAttributeValues": {":read": before.external_id},
                }
            }
        ]
        if before.external_id != after.external_id:
            guard = _guard(after.tenant_id, after.external_id, after.customer_id)
            items.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": guard,
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
            old_guard = customer_external_id_key(before.tenant_id, before.external_id)
            items.append({"Delete": {"TableName": self.table_name, "Key": old_guard}})

        def refused(failed: list[int]) -> Exception:
            if 1 in failed:
                return self._external_id_taken(after.tenant_id, after.external_id)
            return _changed(after.customer_id)

        self._transact(items, events, refused)

    def set_provider_customer_id(self, tenant_id: str, customer_id: str, provider_customer_id: str) -> None:
        self._table.update_item(
            Key=customer_key(tenant_id, customer_id),
            UpdateExpression="SET provider_customer_id = if_not_exists(provider_customer_id, :p)",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":p": provider_customer_id},
        )

    def delete(self, customer: Customer, events: list[DomainEvent]) -> None:
        items = [
            {
                "Delete": {
                    "TableName": self.table_name,
                    "Key": customer_key(customer.tenant_id, customer.customer_id),
                    "ConditionExpression": "external_id = :read",
                    "ExpressionAttributeValues": {":read": customer.external_id},
                }
            },
            {
                "Delete": {
                    "TableName": self.table_name,
                    "Key": customer_external_id_key(customer.tenant_id, customer.external_id),
                }
            },
        ]
        self._transact(items, events, lambda _failed: _changed(customer.customer_id))
