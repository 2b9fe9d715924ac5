"""POST /v1/tenants: the platform admin creates a tenant and receives its first OWNER key."""

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
    return Response(201, "application/json", out.model_dump(mode="json"))
