"""GET /v1/billing-events: the tenant's log of domain events (invoice.send_failed, api_key.created, ...)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query

from tollgate import wiring
from tollgate.api.access import current_caller, requires
from tollgate.api.pagination import Limit, PageFields, StartingAfter, page_fields
from tollgate.domain.access import Caller, Permission

router = Router()


class EventLogPage(PageFields):
    data: list[dict[str, Any]]


@router.get(
    "/v1/billing-events",
    openapi_extensions=requires(Permission.BILLING_READ),
    tags=["billing-events"],
    summary="List the tenant's domain events, newest first",
)
def list_billing_events(
    caller: Annotated[Caller, Depends(current_caller)],
    type: Annotated[
        str | None, Query(max_length=255, description="Only events whose type starts with this, e.g. invoice.")
    ] = None,
    limit: Limit = 100,
    starting_after: StartingAfter = None,
) -> EventLogPage:
    page = wiring.event_log().page_events(caller.tenant_id, type_prefix=type, limit=limit, cursor=starting_after)
    return EventLogPage(data=[e.to_json() for e in page.data], **page_fields(page))
