"""Gateway integrations in the main table (see ``integration_keys``): the item never holds credentials."""

from __future__ import annotations

from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import dt, required_dt, ts, without_none
from tollgate.adapters.dynamodb.integration_keys import INTEGRATION_PREFIX, integration_key
from tollgate.adapters.dynamodb.paging import PageQuery, query_page
from tollgate.domain.errors import ConcurrentUpdate, Conflict
from tollgate.domain.integrations.integration import Integration, IntegrationStatus, IntegrationType
from tollgate.domain.paging import Page


def _item(i: Integration) -> dict[str, Any]:
    return without_none(
        {
            **integration_key(i.tenant_id, i.integration_id),
            "item_type": "INTEGRATION",
            "integration_id": i.integration_id,
            "tenant_id": i.tenant_id,
            "type": i.type.value,
            "name": i.name,
            "config": dict(i.config),
            "status": i.status.value,
            "error_code": i.error_code,
            "detail": i.detail,
            "fix": i.fix,
            "last_checked_at": ts(i.last_checked_at),
            "credentials_updated_at": ts(i.credentials_updated_at),
            "created_at": ts(i.created_at),
            "updated_at": ts(i.updated_at),
            "version": i.version,
        }
    )


def _integration(item: dict[str, Any]) -> Integration:
    return Integration(
        integration_id=item["integration_id"],
        tenant_id=item["tenant_id"],
        type=IntegrationType(item["type"]),
        name=item["name"],
        config={k: str(v) for k, v in (item.get("config") or {}).items()},
        created_at=required_dt(item["created_at"]),
        updated_at=required_dt(item["updated_at"]),
        credentials_updated_at=dt(item.get("credentials_updated_at")),
        status=IntegrationStatus(item["status"]),
        error_code=item.get("error_code"),
        detail=item.get("detail"),
        fix=item.get("fix"),
        last_checked_at=dt(item.get("last_checked_at")),
        version=int(item.get("version", 1)),
    )


class DynamoIntegrationRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _table(self) -> Any:
        return aws.table(self.table_name)

    def get(self, tenant_id: str, integration_id: str) -> Integration | None:
        item = self._table.get_item(Key=integration_key(tenant_id, integration_id), ConsistentRead=True).get("Item")
        return _integration(item) if item else None

    def create(self, integration: Integration) -> None:
        if not self._put(_item(integration), "attribute_not_exists(pk)", {}):
            raise Conflict(f"Integration {integration.integration_id} exists.", code="INTEGRATION_EXISTS")

    def save(self, before: Integration, after: Integration) -> None:
        if not self._put(_item(after), "attribute_exists(pk) AND version = :read", {":read": before.version}):
            raise ConcurrentUpdate("The integration changed while it was being updated; send the request again.")

    def _put(self, item: dict[str, Any], condition: str, values: dict[str, Any]) -> bool:
        from botocore.exceptions import ClientError

        kwargs: dict[str, Any] = {"Item": item, "ConditionExpression": condition}
        if values:
            kwargs["ExpressionAttributeValues"] = values
        try:
            self._table.put_item(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def delete(self, integration: Integration) -> None:
        self._table.delete_item(Key=integration_key(integration.tenant_id, integration.integration_id))

    def page(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[Integration]:
        query = PageQuery(partition=("pk", integration_key(tenant_id, "")["pk"]), prefix=INTEGRATION_PREFIX)
        return query_page(self._table, query, limit=limit, cursor=cursor).map(_integration)

    def count(self, tenant_id: str) -> int:
        from boto3.dynamodb.conditions import Key

        first = integration_key(tenant_id, "")
        condition = Key("pk").eq(first["pk"]) & Key("sk").begins_with(INTEGRATION_PREFIX)
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "Select": "COUNT"}
        total = 0
        while True:
            answer = self._table.query(**kwargs)
            total += int(answer["Count"])
            if "LastEvaluatedKey" not in answer:
                return total
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
