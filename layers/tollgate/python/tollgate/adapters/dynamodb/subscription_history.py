"""A subscription's transition history (pk ``T#<tenant>#SUBHIST#<subscription>``, sk ``<at>#<version>#<n>``)."""

from __future__ import annotations

from typing import Any

from tollgate.adapters.dynamodb.codec import required_dt
from tollgate.adapters.dynamodb.keys import subscription_history_pk
from tollgate.adapters.dynamodb.paging import PageQuery, query_page
from tollgate.domain.paging import Page
from tollgate.domain.subscriptions import SubscriptionStatus, Transition


def transition_from(item: dict[str, Any]) -> Transition:
    return Transition(
        at=required_dt(item["at"]),
        action=item["action"],
        from_status=SubscriptionStatus(item["from_status"]) if item.get("from_status") else None,
        to_status=SubscriptionStatus(item["to_status"]),
        detail=item.get("detail") or {},
    )


def page_history(
    table: Any, tenant_id: str, subscription_id: str, *, limit: int, cursor: str | None
) -> Page[Transition]:
    """The subscription's transitions, oldest first."""
    query = PageQuery(partition=("pk", subscription_history_pk(tenant_id, subscription_id)))
    return query_page(table, query, limit=limit, cursor=cursor).map(transition_from)
