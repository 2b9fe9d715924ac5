"""Products in the main table (``pk = T#<tenant>``, ``sk = PRODUCT#<product_id>``)."""

from __future__ import annotations

from typing import Any

from tollgate.adapters.dynamodb.catalog_table import CatalogTable, changed
from tollgate.adapters.dynamodb.codec import dt, plain_json, required_dt, ts, without_none
from tollgate.adapters.dynamodb.keys import PRODUCT_PREFIX, product_key
from tollgate.domain.catalog import Product, ProductStatus
from tollgate.domain.errors import Conflict
from tollgate.domain.events import DomainEvent
from tollgate.domain.paging import Page


def product_item(p: Product) -> dict[str, Any]:
    return without_none(
        {
            **product_key(p.tenant_id, p.product_id),
            "item_type": "PRODUCT",
            "tenant_id": p.tenant_id,
            "product_id": p.product_id,
            "name": p.name,
            "description": p.description,
            "status": p.status.value,
            "metadata": p.metadata,
            "created_at": ts(p.created_at),
            "updated_at": ts(p.updated_at),
            "published_at": ts(p.published_at),
            "archived_at": ts(p.archived_at),
            "revision": p.revision,
        }
    )


def product_from(item: dict[str, Any]) -> Product:
    return Product(
        product_id=item["product_id"],
        tenant_id=item["tenant_id"],
        name=item["name"],
        description=item.get("description", ""),
        status=ProductStatus(item["status"]),
        metadata=plain_json(item.get("metadata") or {}),
        created_at=required_dt(item["created_at"]),
        updated_at=required_dt(item["updated_at"]),
        published_at=dt(item.get("published_at")),
        archived_at=dt(item.get("archived_at")),
        revision=int(item["revision"]),
    )


class ProductStore(CatalogTable):
    def add_product(self, product: Product, events: list[DomainEvent]) -> None:
        exists = Conflict(f"Product {product.product_id} already exists.")
        self._transact([self._put_new(product_item(product))], events, lambda _failed: exists)

    def get_product(self, tenant_id: str, product_id: str) -> Product | None:
        item = self._table.get_item(Key=product_key(tenant_id, product_id)).get("Item")
        return product_from(item) if item else None

    def list_products(self, tenant_id: str, *, status: ProductStatus | None = None) -> list[Product]:
        products = [product_from(i) for i in self._query_prefix(tenant_id, PRODUCT_PREFIX)]
        return [p for p in products if status is None or p.status is status]

    def page_products(
        self, tenant_id: str, *, status: ProductStatus | None = None, limit: int, cursor: str | None = None
    ) -> Page[Product]:
        from boto3.dynamodb.conditions import Attr

        only = Attr("status").eq(status.value) if status else None
        return self._page_prefix(tenant_id, PRODUCT_PREFIX, limit=limit, cursor=cursor, filter=only).map(product_from)

    def save_product(self, product: Product, events: list[DomainEvent]) -> None:
        lost = changed(f"Product {product.product_id}")
        self._transact([self._put_next(product_item(product))], events, lambda _failed: lost)
