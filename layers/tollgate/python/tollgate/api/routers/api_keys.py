"""API keys: create (shown once), list (prefix and last four only), get, revoke."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.depends import Depends
from pydantic import Field

from tollgate import wiring
from tollgate.api.access import current_caller, requires
from tollgate.api.models import ApiModel
from tollgate.api.pagination import Limit, PageFields, StartingAfter, page_fields
from tollgate.domain.access import Caller, KeyKind, Permission, Role, echo
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.errors import NotFound
from tollgate.domain.keys import ApiKey
from tollgate.usecases import tenancy

router = Router()


class KeyIn(ApiModel):
    kind: Literal["operator", "customer"] = "operator"
    role: Role | None = None
    name: str = Field(default="", max_length=200)
    customer_id: str | None = None
    livemode: bool = True


class KeyOut(ApiModel):
    id: str
    kind: str
    role: str | None
    name: str
    display: str = Field(description="Prefix and last four characters; the full key is shown only once.")
    status: str
    customer_id: str | None
    subscription_id: str | None
    livemode: bool
    created_at: str
    last_used_at: str | None
    revoked_at: str | None
    secret: str | None = Field(default=None, description="The full key: present only in the creation response.")


def key_out(key: ApiKey, secret: str | None = None) -> KeyOut:
    return KeyOut(
        id=key.key_id,
        kind=key.kind.value,
        role=key.role.value if key.role else None,
        name=key.name,
        display=key.display,
        status=key.status.value,
        customer_id=key.customer_id,
        subscription_id=key.subscription_id,
        livemode=key.livemode,
        created_at=to_rfc3339(key.created_at),
        last_used_at=to_rfc3339(key.last_used_at) if key.last_used_at else None,
        revoked_at=to_rfc3339(key.revoked_at) if key.revoked_at else None,
        secret=secret,
    )


def issued_out(issued: tenancy.IssuedKey) -> KeyOut:
    return key_out(issued.key, issued.secret)


class KeyList(PageFields):
    data: list[KeyOut]


@router.post(
    "/v1/api-keys",
    openapi_extensions=requires(Permission.KEYS_WRITE),
    tags=["api-keys"],
    summary="Create an API key (the secret is in this response only)",
    responses={201: {"description": "Created", "content": {"application/json": {"model": KeyOut}}}},
)
def create_api_key(body: KeyIn, caller: Annotated[Caller, Depends(current_caller)]) -> Response[KeyOut]:
    if body.kind == "customer" and body.customer_id:
        from tollgate.usecases.customers import get_customer

        get_customer(wiring.customer_repository(), caller.tenant_id, body.customer_id)  # 404 if not this tenant's
    issued = tenancy.create_api_key(
        wiring.tenancy_repository(),
        caller,
        kind=KeyKind(body.kind),
        role=body.role,
        name=body.name,
        customer_id=body.customer_id,
        livemode=body.livemode,
    )
    return Response(201, "application/json", issued_out(issued))


@router.get(
    "/v1/api-keys", openapi_extensions=requires(Permission.KEYS_READ), tags=["api-keys"], summary="List API keys"
)
def list_api_keys(
    caller: Annotated[Caller, Depends(current_caller)], limit: Limit = 100, starting_after: StartingAfter = None
) -> KeyList:
    page = tenancy.list_api_keys(wiring.tenancy_repository(), caller, limit=limit, cursor=starting_after)
    return KeyList(data=[key_out(k) for k in page.data], **page_fields(page))


@router.get(
    "/v1/api-keys/<key_id>",
    openapi_extensions=requires(Permission.KEYS_READ),
    tags=["api-keys"],
    summary="Get an API key",
)
def get_api_key(key_id: str, caller: Annotated[Caller, Depends(current_caller)]) -> KeyOut:
    key = wiring.tenancy_repository().get_key(caller.tenant_id, key_id)
    if key is None:
        raise NotFound(f"API key not found: {echo(key_id)}. Check the id with GET /v1/api-keys.")
    return key_out(key)


@router.delete(
    "/v1/api-keys/<key_id>",
    openapi_extensions=requires(Permission.KEYS_WRITE),
    tags=["api-keys"],
    summary="Revoke an API key (takes effect within the 60 s authorizer cache)",
)
def revoke_api_key(key_id: str, caller: Annotated[Caller, Depends(current_caller)]) -> KeyOut:
    return key_out(tenancy.revoke_api_key(wiring.tenancy_repository(), caller, key_id))
