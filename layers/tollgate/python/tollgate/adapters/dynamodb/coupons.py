"""Coupons in the main table: pk ``T#<tenant>``, sk ``COUPON#<coupon_id>`` (the coupon's JSON in ``doc``)."""

from __future__ import annotations

from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import outbox_put, plain_json
from tollgate.adapters.dynamodb.keys import COUPON_PREFIX, coupon_key, tenant_pk
from tollgate.adapters.dynamodb.paging import PageQuery, query_page
from tollgate.adapters.dynamodb.transactions import transact_write
from tollgate.domain.billing.discounts import Coupon
from tollgate.domain.errors import Conflict
from tollgate.domain.events import DomainEvent
from tollgate.domain.paging import Page


class DynamoCouponRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _table(self):
        return aws.table(self.table_name)

    def create(self, coupon: Coupon, events: list[DomainEvent]) -> None:
        item: dict[str, Any] = {
            **coupon_key(coupon.tenant_id, coupon.coupon_id),
            "item_type": "COUPON",
            "doc": coupon.to_json(),
        }
        transact_write(
            self._table.meta.client,
            [
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": item,
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                *(outbox_put(self.table_name, e) for e in events),
            ],
            lambda _failed: Conflict(
                f"Coupon {coupon.coupon_id} already exists: choose another id.", code="COUPON_EXISTS"
            ),
        )

    def get(self, tenant_id: str, coupon_id: str) -> Coupon | None:
        item = self._table.get_item(Key=coupon_key(tenant_id, coupon_id)).get("Item")
        return Coupon.from_json(tenant_id, plain_json(item["doc"])) if item else None

    def page_coupons(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[Coupon]:
        query = PageQuery(partition=("pk", tenant_pk(tenant_id)), prefix=COUPON_PREFIX)
        page = query_page(self._table, query, limit=limit, cursor=cursor)
        return page.map(lambda i: Coupon.from_json(tenant_id, plain_json(i["doc"])))
