"""A tenant's own API request limit (main table), set by the platform admin.

| item           | pk         | sk             | attributes          |
|----------------|------------|----------------|---------------------|
| API rate limit | T#<tenant> | API_RATE_LIMIT | requests_per_second |
"""

from __future__ import annotations

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.keys import tenant_rate_limit_key
from tollgate.adapters.dynamodb.retry import retrying


class DynamoTenantRateLimits:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def get(self, tenant_id: str) -> int | None:
        item = retrying(lambda: aws.table(self.table_name).get_item(Key=tenant_rate_limit_key(tenant_id))).get("Item")
        return int(item["requests_per_second"]) if item else None

    def put(self, tenant_id: str, requests_per_second: int) -> None:
        item = {
            **tenant_rate_limit_key(tenant_id),
            "item_type": "API_RATE_LIMIT",
            "requests_per_second": requests_per_second,
        }
        retrying(lambda: aws.table(self.table_name).put_item(Item=item))
