"""What the catalog stores (products, meters, plans) share: the table, conditional writes on the
revision, one transaction per change with its outbox events, and prefix queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import outbox_put, query_all
from tollgate.adapters.dynamodb.keys import tenant_pk
from tollgate.adapters.dynamodb.paging import PageQuery, query_page
from tollgate.adapters.dynamodb.transactions import transact_write
from tollgate.domain.errors import ConcurrentUpdate
from tollgate.domain.events import DomainEvent
from tollgate.domain.paging import Page


def changed(what: str) -> ConcurrentUpdate:
    """A lost race: ``what`` was saved by another request since it was read."""
    return ConcurrentUpdate(f"{what} was changed by another request; fetch it again and retry.")


class CatalogTable:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _table(self) -> Any:
        return aws.table(self.table_name)

    def _put_new(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"Put": {"TableName": self.table_name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}

    def _put_next(
        self, item: dict[str, Any], extra_condition: str = "", values: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Overwrite an item, conditional on the stored revision being the one before ``item``'s."""
        condition = "revision = :prev" + (f" AND {extra_condition}" if extra_condition else "")
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": item,
                "ConditionExpression": condition,
                "ExpressionAttributeValues": {":prev": item["revision"] - 1, **(values or {})},
            }
        }

    def _transact(
        self,
        items: list[dict[str, Any]],
        events: list[DomainEvent],
        on_condition_failed: Callable[[list[int]], Exception],
    ) -> None:
        """``items`` and the outbox entries of ``events`` in one transaction; ``on_condition_failed``
        gets the indexes of the items whose condition failed."""
        outbox = [outbox_put(self.table_name, e) for e in events]
        transact_write(self._table.meta.client, [*items, *outbox], on_condition_failed)

    def _query_prefix(self, tenant_id: str, prefix: str) -> list[dict[str, Any]]:
        from boto3.dynamodb.conditions import Key

        return self._query_all(
            KeyConditionExpression=Key("pk").eq(tenant_pk(tenant_id)) & Key("sk").begins_with(prefix)
        )

    def _page_prefix(
        self, tenant_id: str, prefix: str, *, limit: int, cursor: str | None, filter: Any = None
    ) -> Page[dict[str, Any]]:
        query = PageQuery(partition=("pk", tenant_pk(tenant_id)), prefix=prefix, filter=filter)
        return query_page(self._table, query, limit=limit, cursor=cursor)

    def _query_all(self, **kwargs: Any) -> list[dict[str, Any]]:
        return query_all(self._table, **kwargs)
