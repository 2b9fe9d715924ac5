"""Customer portal sessions (operator keys): ``POST /v1/portal-sessions`` makes a one-hour link to the
customer portal for one customer; ``DELETE /v1/portal-sessions/{portal_session_id}`` ends it now."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.depends import Depends
from pydantic import Field

from tollgate import wiring, wiring_portal
from tollgate.api.access import current_caller, requires
from tollgate.api.fields import Identifier
from tollgate.api.models import ApiModel
from tollgate.domain.access import Caller, Permission
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.portal_sessions import MAX_RETURN_URL, PortalSession, portal_url
from tollgate.settings import get_settings
from tollgate.usecases import portal_sessions as cases
from tollgate.usecases.authorize import header

router = Router()


def _created(model: ApiModel) -> Response:
    """201 with the model (the route's ``responses`` documents it)."""
    return Response(201, "application/json", model.model_dump(mode="json"))


Caller_ = Annotated[Caller, Depends(current_caller)]


class PortalSessionIn(ApiModel):
    customer_id: Identifier
    return_url: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_RETURN_URL,
        description="Where the portal's 'Back' link leads (your site): an absolute http(s) URL.",
    )


class PortalSessionOut(ApiModel):
    portal_session_id: str
    customer_id: str
    url: str | None = Field(
        default=None,
        description="The portal link to give the customer (creation only): the session token is in the URL's "
        "fragment (#session=…), which browsers never send to a server. Shown once.",
    )
    return_url: str | None
    created_at: str
    expires_at: str
    revoked_at: str | None


def _out(session: PortalSession, url: str | None = None) -> PortalSessionOut:
    return PortalSessionOut(
        portal_session_id=session.portal_session_id,
        customer_id=session.customer_id,
        url=url,
        return_url=session.return_url,
        created_at=to_rfc3339(session.created_at),
        expires_at=to_rfc3339(session.expires_at),
        revoked_at=to_rfc3339(session.revoked_at) if session.revoked_at else None,
    )


def _base_url() -> str:
    """The configured portal origin, else this request's own (the local stack serves API and portal)."""
    configured = get_settings().portal_base_url
    if configured:
        return configured
    headers = router.current_event.headers
    host = header(headers, "Host") or "localhost"
    scheme = header(headers, "X-Forwarded-Proto") or "http"
    return f"{scheme}://{host}"


@router.post(
    "/v1/portal-sessions",
    openapi_extensions=requires(Permission.CUSTOMERS_WRITE),
    tags=["portal"],
    summary="Open the customer portal for one customer: a link valid for one hour (revocable)",
    responses={201: {"description": "Created", "content": {"application/json": {"model": PortalSessionOut}}}},
)
def create_portal_session(body: PortalSessionIn, caller: Caller_) -> Response[PortalSessionOut]:
    opened = cases.create_session(
        wiring_portal.portal_session_repository(),
        wiring.customer_repository(),
        caller.tenant_id,
        body.customer_id,
        return_url=body.return_url,
    )
    out = _out(opened.session, portal_url(_base_url(), opened.token))
    return _created(out)


@router.delete(
    "/v1/portal-sessions/<portal_session_id>",
    openapi_extensions=requires(Permission.CUSTOMERS_WRITE),
    tags=["portal"],
    summary="Revoke a portal session now (its link stops working; repeating changes nothing)",
)
def revoke_portal_session(portal_session_id: str, caller: Caller_) -> PortalSessionOut:
    session = cases.revoke_session(wiring_portal.portal_session_repository(), caller.tenant_id, portal_session_id)
    return _out(session)
