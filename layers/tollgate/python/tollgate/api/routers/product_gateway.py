"""A product's gateway: link it to an integration, sync, check drift and restore (issue 19).

Reads need ``catalog:read``, changes ``catalog:write`` (like the product itself). A provider failure is
not an HTTP error: the answer is 200 with the link in SYNC_FAILED / RESTORE_FAILED (or unchanged, for a
check) and the provider's ``error_code``, ``detail`` and ``fix``.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from pydantic import Field

from tollgate import wiring_gateway_sync
from tollgate.api.models import ApiModel
from tollgate.api.routers.catalog_common import READ, WRITE, CallerDep, timestamp_or_none
from tollgate.domain.access import Caller, Permission
from tollgate.domain.clock import to_rfc3339, utcnow
from tollgate.domain.integrations.gateway_link import GatewayLink, GatewayState
from tollgate.usecases import gateway_sync as cases

router = Router()
TAGS = ["product gateway"]
PATH = "/v1/products/<product_id>/gateway"
TargetValue = Annotated[str, Field(min_length=1, max_length=255)]


class GatewayLinkIn(ApiModel):
    integration_id: Annotated[str, Field(min_length=1, max_length=64, description="An id from GET /v1/integrations")]
    target: dict[Annotated[str, Field(min_length=1, max_length=40)], TargetValue] = Field(
        description='Where the product lives at the gateway: AWS {"rest_api_id", "stage"}, Kong {"service"}, '
        'Azure APIM {"api_id"}, Apigee {"proxy"}.',
        max_length=5,
    )


class GatewayLinkOut(ApiModel):
    product_id: str
    integration_id: str
    target: dict[str, str]
    state: GatewayState
    diff: list[dict[str, Any]] = Field(description="JSON Patch (RFC 6902): what Tollgate would push to the gateway.")
    diff_truncated: bool = Field(description="True when the diff had more operations than shown (200).")
    usage_identifiers: dict[str, str] | None = Field(
        description="Subscription id → the usage identifier its gateway key carries (AWS: the API key value the "
        "authorizer returns as usageIdentifierKey). These are live gateway credentials: only a caller with "
        "integrations:write (OWNER, ADMIN) sees them; for others it is null."
    )
    last_synced_at: str | None
    last_checked_at: str | None
    error_code: str | None
    detail: str | None
    fix: str | None
    created_at: str
    updated_at: str


def link_out(link: GatewayLink, identifiers: dict[str, str] | None) -> GatewayLinkOut:
    return GatewayLinkOut(
        product_id=link.product_id,
        integration_id=link.integration_id,
        target=dict(link.target),
        state=link.state,
        diff=list(link.diff),
        diff_truncated=link.diff_truncated,
        usage_identifiers=identifiers,
        last_synced_at=timestamp_or_none(link.last_synced_at),
        last_checked_at=timestamp_or_none(link.last_checked_at),
        error_code=link.error_code,
        detail=link.detail,
        fix=link.fix,
        created_at=to_rfc3339(link.created_at),
        updated_at=to_rfc3339(link.updated_at),
    )


def _answer(status: int, model: ApiModel) -> Response:
    return Response(status, "application/json", model.model_dump(mode="json"))


def _out(deps: cases.SyncDeps, link: GatewayLink, caller: Caller) -> GatewayLinkOut:
    """The link; its usage identifiers (live gateway credentials) only for a caller who manages integrations."""
    if Permission.INTEGRATIONS_WRITE not in caller.permissions():
        return link_out(link, None)
    return link_out(link, deps.links.usage_identifiers(link.tenant_id, link.product_id))


@router.put(
    PATH,
    openapi_extensions=WRITE,
    tags=TAGS,
    summary="Link the product to a gateway integration (NOT_SYNCED until a sync)",
    responses={
        200: {
            "description": "Linked already (changed if the target moved)",
            "content": {"application/json": {"model": GatewayLinkOut}},
        },
        201: {"description": "Linked", "content": {"application/json": {"model": GatewayLinkOut}}},
    },
)
def put_link(product_id: str, body: GatewayLinkIn, caller: CallerDep) -> Response[GatewayLinkOut]:
    deps = wiring_gateway_sync.sync_deps()
    link, created = cases.link_product(deps, caller.tenant_id, product_id, body.integration_id, body.target, utcnow())
    return _answer(201 if created else 200, _out(deps, link, caller))


@router.get(PATH, openapi_extensions=READ, tags=TAGS, summary="The product's gateway link, state and diff")
def get_link(product_id: str, caller: CallerDep) -> GatewayLinkOut:
    deps = wiring_gateway_sync.sync_deps()
    return _out(deps, cases.get_link(deps, caller.tenant_id, product_id), caller)


@router.delete(PATH, openapi_extensions=WRITE, tags=TAGS, summary="Unlink the product (the gateway is left as is)")
def delete_link(product_id: str, caller: CallerDep) -> GatewayLinkOut:
    deps = wiring_gateway_sync.sync_deps()
    link = cases.get_link(deps, caller.tenant_id, product_id)
    out = _out(deps, link, caller)
    cases.unlink(deps, caller.tenant_id, product_id)
    return out


@router.post(
    f"{PATH}/sync",
    openapi_extensions=WRITE,
    tags=TAGS,
    summary="Push what Tollgate owns to the gateway, read it back (IN_SYNC or SYNC_FAILED)",
)
def sync(product_id: str, caller: CallerDep) -> GatewayLinkOut:
    deps = wiring_gateway_sync.sync_deps()
    return _out(deps, cases.sync(deps, caller.tenant_id, product_id, utcnow()), caller)


@router.post(
    f"{PATH}/check",
    openapi_extensions=WRITE,
    tags=TAGS,
    summary="Check drift now: read the gateway and diff it with what Tollgate would push (IN_SYNC or STALE)",
)
def check(product_id: str, caller: CallerDep) -> GatewayLinkOut:
    deps = wiring_gateway_sync.sync_deps()
    return _out(deps, cases.check(deps, caller.tenant_id, product_id, utcnow()), caller)


@router.post(
    f"{PATH}/restore",
    openapi_extensions=WRITE,
    tags=TAGS,
    summary="Apply the diff, read back: IN_SYNC, or RESTORE_FAILED listing what still differs",
)
def restore(product_id: str, caller: CallerDep) -> GatewayLinkOut:
    deps = wiring_gateway_sync.sync_deps()
    return _out(deps, cases.restore(deps, caller.tenant_id, product_id, utcnow()), caller)
