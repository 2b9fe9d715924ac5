"""The platform admin's routes: ``POST /v1/tenants`` creates a tenant and returns its first OWNER key;
``POST /v1/tenants/{tenant_id}/owner-keys`` mints a new OWNER key for a tenant locked out of its own."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.depends import Depends
from pydantic import Field

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
