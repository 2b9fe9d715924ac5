"""The platform admin's routes: ``POST /v1/tenants`` creates a tenant and returns its first OWNER key;
``POST /v1/tenants/{tenant_id}/owner-keys`` mints a new OWNER key for a tenant locked out of its own;
``GET`` / ``PUT /v1/tenants/{tenant_id}/rate-limit`` read and set the tenant's own API request limit."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.depends import Depends
from pydantic import Field, StrictInt

from tollgate import wiring
from tollgate.api.access import current_caller, requires
from tollgate.api.models import ApiModel
from tollgate.api.routers.api_keys import KeyOut, issued_out
from tollgate.domain.access import Caller, KeyKind, Permission
from tollgate.domain.clock import to_rfc3339
from tollgate.usecases import tenancy

router = Router()


class TenantIn(ApiModel):
    name: str = Field(min_length=1, max_length=200)


class TenantOut(ApiModel):
    tenant_id: str
    name: str
    created_at: str
    owner_key: KeyOut


@router.post(
    "/v1/tenants",
    openapi_extensions=requires(Permission.TENANTS_CREATE, KeyKind.PLATFORM),
    tags=["tenants"],
    summary="Create a tenant and its first OWNER key (platform admin only)",
    responses={201: {"description": "Created", "content": {"application/json": {"model": TenantOut}}}},
)
def create_tenant(body: TenantIn, caller: Annotated[Caller, Depends(current_caller)]) -> Response[TenantOut]:
    tenant, issued = tenancy.create_tenant(wiring.tenancy_repository(), name=body.name)
    out = TenantOut(
        tenant_id=tenant.tenant_id,
        name=tenant.name,
        created_at=to_rfc3339(tenant.created_at),
        owner_key=issued_out(issued),
    )
    return Response(201, "application/json", out)


class OwnerKeyIn(ApiModel):
    name: str = Field(default="recovered owner", max_length=200, description="A label for the new key")


@router.post(
    "/v1/tenants/<tenant_id>/owner-keys",
    openapi_extensions=requires(Permission.TENANTS_RECOVER, KeyKind.PLATFORM),
    tags=["tenants"],
    summary="Recovery: mint a new OWNER key for a tenant (platform admin only; the secret is in this response only)",
    description=(
        "For a tenant that lost or revoked its OWNER keys. Send the platform-admin credential (tgp_…) as "
        "'Authorization: Bearer'; X-Tenant-Id is not needed. The tenant's other keys are left as they are: "
        "revoke the lost ones with the new key (DELETE /v1/api-keys/{key_id})."
    ),
    responses={201: {"description": "Created", "content": {"application/json": {"model": KeyOut}}}},
)
def recover_owner_key(
    tenant_id: str, body: OwnerKeyIn, caller: Annotated[Caller, Depends(current_caller)]
) -> Response[KeyOut]:
    issued = tenancy.recover_owner_key(wiring.tenancy_repository(), tenant_id, name=body.name)
    return Response(201, "application/json", issued_out(issued))


class RateLimitIn(ApiModel):
    requests_per_second: StrictInt = Field(
        description="The tenant's API requests per second, from 1 to the platform's maximum"
    )


class RateLimitOut(ApiModel):
    tenant_id: str
    requests_per_second: int
    default: bool = Field(description="True when the tenant has no limit of its own (the platform default applies)")


def _rate_limit_out(tenant_id: str) -> RateLimitOut:
    from tollgate.settings import get_settings

    own = wiring.tenant_rate_limits().get(tenant_id)
    return RateLimitOut(
        tenant_id=tenant_id,
        requests_per_second=own or get_settings().tenant_rate_limit_per_second,
        default=own is None,
    )


def _tenant_exists(tenant_id: str) -> bool:
    return wiring.tenancy_repository().get_tenant(tenant_id) is not None


@router.get(
    "/v1/tenants/<tenant_id>/rate-limit",
    openapi_extensions=requires(Permission.TENANTS_LIMITS, KeyKind.PLATFORM),
    tags=["tenants"],
    summary="A tenant's API request limit (platform admin only)",
)
def get_rate_limit(tenant_id: str, caller: Annotated[Caller, Depends(current_caller)]) -> RateLimitOut:
    from tollgate.domain.errors import NotFound

    if not _tenant_exists(tenant_id):
        raise NotFound(f"No tenant {tenant_id!r}: check the id (it starts with ten_).")
    return _rate_limit_out(tenant_id)


@router.put(
    "/v1/tenants/<tenant_id>/rate-limit",
    openapi_extensions=requires(Permission.TENANTS_LIMITS, KeyKind.PLATFORM),
    tags=["tenants"],
    summary="Set a tenant's API request limit (platform admin only)",
    description=(
        "Every authenticated request of the tenant counts against this limit in one-second windows; over it the "
        "API answers 429 TENANT_RATE_LIMITED with Retry-After, and other tenants are not affected. Applies within "
        "60 s (each function instance re-reads a tenant's limit once a minute). Bounded by the platform's maximum."
    ),
)
def put_rate_limit(
    tenant_id: str, body: RateLimitIn, caller: Annotated[Caller, Depends(current_caller)]
) -> RateLimitOut:
    from tollgate.settings import get_settings
    from tollgate.usecases.tenant_throttle import set_limit

    top = get_settings().tenant_rate_limit_max
    set_limit(wiring.tenant_rate_limits(), _tenant_exists, tenant_id, body.requests_per_second, top)
    return _rate_limit_out(tenant_id)
