"""Product gateway links in the main table (keys: ``gateway_link_keys``).

A link is written in one transaction with its outbox events, conditional on the revision it replaces
(``codec.guarded_put``). Usage identifiers are one item each (a product may have many subscriptions),
put only if absent: an identifier is generated once, and a concurrent writer's value wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import dt, guarded_put, outbox_put, query_all, required_dt, ts, without_none
from tollgate.adapters.dynamodb.gateway_link_keys import (
    GATEWAY_LINKS_GSI1PK,
    USAGE_IDENTIFIER_PREFIX,
    gateway_link_gsi1sk,
    gateway_link_key,
    usage_identifier_key,
    usage_identifiers_pk,
)
from tollgate.adapters.dynamodb.paging import PageQuery, query_page
from tollgate.adapters.dynamodb.transactions import transact_write
from tollgate.domain.errors import ConcurrentUpdate
from tollgate.domain.events import DomainEvent
from tollgate.domain.integrations.gateway_link import GatewayLink, GatewayState
from tollgate.domain.paging import Page


def _item(link: GatewayLink) -> dict[str, Any]:
    return without_none(
        {
            **gateway_link_key(link.tenant_id, link.product_id),
            "gsi1pk": GATEWAY_LINKS_GSI1PK,
            "gsi1sk": gateway_link_gsi1sk(link.tenant_id, link.product_id),
            "item_type": "GATEWAY_LINK",
            "tenant_id": link.tenant_id,
            "product_id": link.product_id,
            "integration_id": link.integration_id,
            "target": dict(link.target),
            "state": link.state.value,
            "diff": list(link.diff),
            "diff_truncated": link.diff_truncated,
            "last_synced_at": ts(link.last_synced_at),
            "last_checked_at": ts(link.last_checked_at),
            "error_code": link.error_code,
            "detail": link.detail,
            "fix": link.fix,
            "created_at": ts(link.created_at),
            "updated_at": ts(link.updated_at),
            "revision": link.revision,
        }
    )


def _plain(value: Any) -> Any:
    """DynamoDB's Decimals back to ints/floats (a diff's values are JSON)."""
    from decimal import Decimal

    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _link(item: dict[str, Any]) -> GatewayLink:
    return GatewayLink(
        tenant_id=item["tenant_id"],
        product_id=item["product_id"],
        integration_id=item["integration_id"],
        target={str(k): str(v) for k, v in item.get("target", {}).items()},
        created_at=required_dt(item["created_at"]),
        updated_at=required_dt(item["updated_at"]),
        state=GatewayState(item["state"]),
        diff=tuple(_plain(item.get("diff", []))),
        diff_truncated=bool(item.get("diff_truncated", False)),
        last_synced_at=dt(item.get("last_synced_at")),
        last_checked_at=dt(item.get("last_checked_at")),
        error_code=item.get("error_code"),
        detail=item.get("detail"),
        fix=item.get("fix"),
        revision=int(item["revision"]),
    )


class DynamoGatewayLinkRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _table(self) -> Any:
        return aws.table(self.table_name)

    def get(self, tenant_id: str, product_id: str) -> GatewayLink | None:
        item = self._table.get_item(Key=gateway_link_key(tenant_id, product_id), ConsistentRead=True).get("Item")
        return _link(item) if item else None

    def save(self, link: GatewayLink, expected_revision: int | None, events: list[DomainEvent]) -> None:
        items = [guarded_put(self.table_name, _item(link), expected_revision)]
        items += [outbox_put(self.table_name, e) for e in events]
        transact_write(
            self._table.meta.client,
            items,
            lambda _: ConcurrentUpdate(f"The gateway link of product {link.product_id} changed meanwhile; retry."),
        )

    def delete(self, tenant_id: str, product_id: str) -> None:
        from boto3.dynamodb.conditions import Key

        table = self._table
        owned = query_all(table, KeyConditionExpression=Key("pk").eq(usage_identifiers_pk(tenant_id, product_id)))
        with table.batch_writer() as batch:
            for item in owned:
                batch.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
        table.delete_item(Key=gateway_link_key(tenant_id, product_id))

    def usage_identifiers(self, tenant_id: str, product_id: str) -> dict[str, str]:
        from boto3.dynamodb.conditions import Key

        condition = Key("pk").eq(usage_identifiers_pk(tenant_id, product_id)) & Key("sk").begins_with(
            USAGE_IDENTIFIER_PREFIX
        )
        items = query_all(self._table, KeyConditionExpression=condition, ConsistentRead=True)
        return {i["subscription_id"]: i["usage_identifier"] for i in items}

    def usage_identifier(self, tenant_id: str, product_id: str, subscription_id: str) -> str | None:
        key = usage_identifier_key(tenant_id, product_id, subscription_id)
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return str(item["usage_identifier"]) if item else None

    def add_usage_identifiers(self, tenant_id: str, product_id: str, new: Mapping[str, str]) -> dict[str, str]:
        from botocore.exceptions import ClientError

        for subscription_id, identifier in new.items():
            item = {
                **usage_identifier_key(tenant_id, product_id, subscription_id),
                "item_type": "GATEWAY_USAGE_IDENTIFIER",
                "subscription_id": subscription_id,
                "usage_identifier": identifier,
            }
            try:
                self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
        return self.usage_identifiers(tenant_id, product_id)

    def page_all(self, *, limit: int, cursor: str | None = None) -> Page[tuple[str, str]]:
        query = PageQuery(partition=("gsi1pk", GATEWAY_LINKS_GSI1PK), index="gsi1")
        page = query_page(self._table, query, limit=limit, cursor=cursor)
        return page.map(lambda item: (str(item["tenant_id"]), str(item["product_id"])))
