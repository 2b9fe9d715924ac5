"""Customer portal sessions in the main table (kept apart from ``keys.py``, at its size limit; the keys
are pinned by ``tests/unit/test_table_keys.py`` like every other key).

| item                   | pk                      | sk             | gsi1pk                           | gsi1sk       |
|------------------------|-------------------------|----------------|----------------------------------|--------------|
| portal session         | PORTAL#<sha256 of token>| PORTAL_SESSION | T#<tenant>#PORTALSESSIONS        | <session id> |

The authorizer reads one item by the token's hash; revoking by id finds the item on gsi1. DynamoDB's TTL
(``expires_at``, epoch seconds) deletes a session a day after it expired (until then a request with it
is told it expired, rather than that it is unknown).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import dt, ts, without_none
from tollgate.adapters.dynamodb.keys import Key
from tollgate.domain.clock import parse_rfc3339
from tollgate.domain.portal_sessions import PortalSession

KEPT_AFTER_EXPIRY = timedelta(days=1)


def portal_session_key(token_hash: str) -> Key:
    return {"pk": f"PORTAL#{token_hash}", "sk": "PORTAL_SESSION"}


def tenant_portal_sessions_gsi1pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#PORTALSESSIONS"


def _item(session: PortalSession, token_hash: str) -> dict[str, Any]:
    return without_none(
        {
            **portal_session_key(token_hash),
            "item_type": "PORTAL_SESSION",
            "gsi1pk": tenant_portal_sessions_gsi1pk(session.tenant_id),
            "gsi1sk": session.portal_session_id,
            "portal_session_id": session.portal_session_id,
            "tenant_id": session.tenant_id,
            "customer_id": session.customer_id,
            "created_at": ts(session.created_at),
            "expires": ts(session.expires_at),
            "return_url": session.return_url,
            "revoked_at": ts(session.revoked_at),
            "expires_at": int((session.expires_at + KEPT_AFTER_EXPIRY).timestamp()),
        }
    )


def _session(item: dict[str, Any]) -> PortalSession:
    return PortalSession(
        portal_session_id=item["portal_session_id"],
        tenant_id=item["tenant_id"],
        customer_id=item["customer_id"],
        created_at=parse_rfc3339(item["created_at"]),
        expires_at=parse_rfc3339(item["expires"]),
        return_url=item.get("return_url"),
        revoked_at=dt(item.get("revoked_at")),
    )


class DynamoPortalSessionRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _table(self):
        return aws.table(self.table_name)

    def add(self, session: PortalSession, token_hash: str) -> None:
        self._table.put_item(Item=_item(session, token_hash), ConditionExpression="attribute_not_exists(pk)")

    def find_by_hash(self, token_hash: str) -> PortalSession | None:
        item = self._table.get_item(Key=portal_session_key(token_hash)).get("Item")
        return _session(item) if item else None

    def _item_by_id(self, tenant_id: str, portal_session_id: str) -> dict[str, Any] | None:
        from boto3.dynamodb.conditions import Key as K

        items = self._table.query(
            IndexName="gsi1",
            KeyConditionExpression=K("gsi1pk").eq(tenant_portal_sessions_gsi1pk(tenant_id))
            & K("gsi1sk").eq(portal_session_id),
        )["Items"]
        return items[0] if items else None

    def get(self, tenant_id: str, portal_session_id: str) -> PortalSession | None:
        item = self._item_by_id(tenant_id, portal_session_id)
        return _session(item) if item else None

    def revoke(self, session: PortalSession, at: datetime) -> PortalSession:
        item = self._item_by_id(session.tenant_id, session.portal_session_id)
        if item is None:
            return session
        # First revocation wins: a repeat keeps the first time.
        try:
            answer = self._table.update_item(
                Key={"pk": item["pk"], "sk": item["sk"]},
                UpdateExpression="SET revoked_at = if_not_exists(revoked_at, :at)",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":at": ts(at)},
                ReturnValues="ALL_NEW",
            )
        except self._table.meta.client.exceptions.ConditionalCheckFailedException:
            return session.revoked(at)  # deleted by TTL meanwhile: it opens nothing any more
        return _session(answer["Attributes"])
