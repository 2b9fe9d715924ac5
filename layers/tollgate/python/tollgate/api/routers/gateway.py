"""Gateway enforcement (issue 15): monetization policies, the check, metering after the response and
Envoy's ext_authz. The check and meter routes take an operator key with ``gateway:check`` /
``gateway:meter`` (role GATEWAY, or OWNER/ADMIN); policies are managed like the catalog."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.depends import Depends
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from tollgate import wiring
from tollgate.api.access import current_caller, requires
from tollgate.api.fields import Timestamp
from tollgate.api.models import ApiModel
from tollgate.api.pagination import Limit, PageFields, StartingAfter
from tollgate.api.problems import PROBLEM_JSON
from tollgate.domain.access import Caller, Permission
from tollgate.domain.errors import InvalidInput
from tollgate.usecases.gateway import check as check_cases
from tollgate.usecases.gateway import meter as meter_cases
from tollgate.usecases.gateway import policies as policy_cases
from tollgate.usecases.gateway.ext_authz import ext_authz

router = Router()
CallerDep = Annotated[Caller, Depends(current_caller)]
READ, WRITE = requires(Permission.CATALOG_READ), requires(Permission.CATALOG_WRITE)
CHECK, METER = requires(Permission.GATEWAY_CHECK), requires(Permission.GATEWAY_METER)

MeterName = Annotated[str, Field(min_length=1, max_length=255)]
Increment = StrictInt | Annotated[str, Field(min_length=1, max_length=40)]
Increments = Annotated[dict[MeterName, Increment], Field(max_length=20)]
Method = Annotated[str, Field(min_length=1, max_length=16, description="The request's HTTP method.")]
Path = Annotated[str, Field(min_length=1, max_length=2048, description="The request's path.")]
ApiKey = Annotated[str, Field(max_length=512, description="The customer's key as the client sent it.")]


class OverrideIn(ApiModel):
    status: StrictInt | None = Field(default=None, description="The HTTP status to answer instead (400 to 599).")
    extra: dict[Annotated[str, Field(max_length=64)], Any] = Field(default_factory=dict)


class PolicyIn(ApiModel):
    name: Annotated[str, Field(max_length=200)] = ""
    routes: list[Annotated[str, Field(max_length=500)]] = Field(
        description='1 to 50 patterns "METHOD /path": * matches any characters (/ included), METHOD may be *.'
    )
    meters: Increments = Field(default_factory=dict, description="Meter event name -> increment per request.")
    meter_on_status_codes: (
        Annotated[str, Field(max_length=300)] | list[Annotated[str, Field(max_length=300)] | StrictInt]
    ) = Field(default="200-299", description='Zuplo syntax: "200-299", "200, 201, 300-304" or a list; "*" is refused.')
    cache_ttl_seconds: StrictInt = Field(default=60, description="1 to 3600: how long gateways cache an answer.")
    max_stale_seconds: StrictInt = Field(
        default=3600, description="0 to 86400: stale answers served while the backend is down."
    )
    fail_policy: Literal["allow_known", "allow_all", "deny_all"] = "allow_known"
    auth_header: Annotated[str, Field(max_length=64)] = "Authorization"
    auth_scheme: Annotated[str, Field(max_length=64)] = "Bearer"
    limit_mode: Literal["cached", "strict"] = "cached"
    error_overrides: dict[Annotated[str, Field(max_length=40)], OverrideIn] = Field(default_factory=dict)
    features: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list)
    threshold_percentages: list[StrictInt] = Field(default_factory=lambda: [80, 100])


class PolicyOut(ApiModel):
    policy_id: str
    name: str
    routes: list[str]
    meters: dict[str, int | str]
    meter_on_status_codes: str
    cache_ttl_seconds: int
    max_stale_seconds: int
    fail_policy: str
    auth_header: str
    auth_scheme: str
    limit_mode: str
    error_overrides: dict[str, dict[str, Any]]
    features: list[str]
    threshold_percentages: list[int]
    created_at: str
    updated_at: str


class PolicyList(PageFields):
    data: list[PolicyOut]


class CheckIn(ApiModel):
    api_key: ApiKey | None = None
    method: Method | None = None
    path: Path | None = None
    meters: Increments | None = Field(default=None, description="Evaluated even when no policy covers the route.")


class CheckOut(BaseModel):
    """The decision (both modes: a route's, or every policy's with ``decisions``)."""

    model_config = ConfigDict(extra="allow")
    allowed: bool
    status: int = Field(description="The HTTP status the gateway answers (200 when allowed).")
    problem: dict[str, Any] | None = Field(description="The RFC 7807 problem to answer when refused.")
    headers: dict[str, Any] = Field(description="Headers to add to the gateway's answer (limits, Retry-After).")
    subscription_id: str | None
    customer_id: str | None
    usage_identifier: str | None = Field(
        description="For an allowed key whose subscription's product is synced to a gateway "
        "(PUT /v1/products/{product_id}/gateway, then POST /v1/products/{product_id}/gateway/sync): the "
        "subscription's Tollgate-generated usage identifier. On AWS it is the value of the API key Tollgate "
        "pushed to the usage plan; a Lambda authorizer returns it as usageIdentifierKey (apiKeySource=AUTHORIZER). "
        "Null otherwise."
    )
    cache_ttl_seconds: int
    policy: dict[str, Any] | None = None
    meters: dict[str, Any] | None = None
    decisions: list[dict[str, Any]] | None = Field(default=None, description="Every policy's answer (no method/path).")
    reason: str | None = None


SubscriptionId = Annotated[
    str, Field(min_length=1, max_length=64, description="Instead of api_key: the subscription (access-log metering).")
]


class MeterRequest(ApiModel):
    request_id: Annotated[str, Field(min_length=1, max_length=128)] = Field(description="The usage event's id.")
    api_key: ApiKey | None = None
    subscription_id: SubscriptionId | None = None
    method: Method
    path: Path
    status_code: StrictInt = Field(ge=100, le=599)
    meters: Increments | None = None
    response_meters: Increments | None = Field(default=None, description="X-Tollgate-Meter-<name> values: replace.")
    timestamp: Timestamp | None = None


class MeterIn(ApiModel):
    requests: list[MeterRequest] | None = Field(
        default=None, max_length=100, description="The batch form (at most 100)."
    )
    request_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    api_key: ApiKey | None = None
    subscription_id: SubscriptionId | None = None
    method: Method | None = None
    path: Path | None = None
    status_code: StrictInt | None = Field(default=None, ge=100, le=599)
    meters: Increments | None = None
    response_meters: Increments | None = None
    timestamp: Timestamp | None = None


def _policy_out(data: dict[str, Any]) -> PolicyOut:
    return PolicyOut.model_validate(data)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, "application/json", json.dumps(body), headers=headers)


def _request_id() -> str:
    event = router.current_event
    for name, value in (event.headers or {}).items():
        if name.lower() == "x-request-id" and value:
            return str(value)[:128]
    return (event.raw_event.get("requestContext") or {}).get("requestId") or "gateway"


@router.post(
    "/v1/gateway/policies",
    openapi_extensions=WRITE,
    tags=["gateway"],
    summary="Create a monetization policy (routes, meter increments, status filter, cache TTL, failure policy)",
    responses={201: {"description": "Created", "content": {"application/json": {"model": PolicyOut}}}},
)
def create_policy(body: PolicyIn, caller: CallerDep) -> Response[dict[str, Any]]:
    policy = policy_cases.create_policy(wiring.gateway_repos(), caller.tenant_id, body.model_dump(exclude_unset=True))
    return Response(201, "application/json", _policy_out(policy.to_json()).model_dump(mode="json"))


@router.get("/v1/gateway/policies", openapi_extensions=READ, tags=["gateway"], summary="List policies (creation order)")
def list_policies(
    caller: CallerDep,
    limit: Limit = 100,
    starting_after: StartingAfter = None,
) -> PolicyList:
    items, more = policy_cases.list_policies(
        wiring.gateway_repos(), caller.tenant_id, limit=limit, starting_after=starting_after
    )
    next_cursor = items[-1].policy_id if more and items else None
    return PolicyList(data=[_policy_out(p.to_json()) for p in items], has_more=more, next_cursor=next_cursor)


@router.get("/v1/gateway/policies/<policy_id>", openapi_extensions=READ, tags=["gateway"], summary="Get a policy")
def get_policy(policy_id: str, caller: CallerDep) -> PolicyOut:
    return _policy_out(policy_cases.get_policy(wiring.gateway_repos(), caller.tenant_id, policy_id).to_json())


@router.put("/v1/gateway/policies/<policy_id>", openapi_extensions=WRITE, tags=["gateway"], summary="Replace a policy")
def replace_policy(policy_id: str, body: PolicyIn, caller: CallerDep) -> PolicyOut:
    data = body.model_dump(exclude_unset=True)
    return _policy_out(policy_cases.replace_policy(wiring.gateway_repos(), caller.tenant_id, policy_id, data).to_json())


@router.delete(
    "/v1/gateway/policies/<policy_id>",
    openapi_extensions=WRITE,
    tags=["gateway"],
    summary="Delete a policy (its routes are no longer checked nor metered)",
    responses={204: {"description": "Deleted"}},
)
def delete_policy(policy_id: str, caller: CallerDep):
    policy_cases.delete_policy(wiring.gateway_repos(), caller.tenant_id, policy_id)
    return Response(204, "application/json", "")


@router.post(
    "/v1/gateway/check",
    openapi_extensions=CHECK,
    tags=["gateway"],
    summary="Decide whether a customer key may call a route (200 always; the decision is in the body)",
    responses={200: {"description": "The decision", "content": {"application/json": {"model": CheckOut}}}},
)
def gateway_check(body: CheckIn, caller: CallerDep) -> dict[str, Any]:
    return check_cases.check(wiring.gateway_repos(), caller.tenant_id, body.model_dump(exclude_none=True))


@router.post(
    "/v1/gateway/meter",
    openapi_extensions=METER,
    tags=["gateway"],
    summary="Meter a request after its response (one, or {requests: [...]} up to 100)",
    responses={202: {"description": "Accepted", "content": {"application/json": {}}}},
)
def gateway_meter(body: MeterIn, caller: CallerDep):
    data = body.model_dump(exclude_none=True)
    if body.requests is None:
        missing = [f for f in ("request_id", "method", "path", "status_code") if data.get(f) is None]
        if missing:
            raise InvalidInput(
                f'{missing[0]} is required (or send the batch form {{"requests": [...]}})', field=missing[0]
            )
    elif len(data) > 1:
        raise InvalidInput('send either one request or {"requests": [...]}, not both', field="requests")
    return _json(202, meter_cases.meter(wiring.gateway_repos(), caller.tenant_id, data, _request_id()))


@router.route(
    "/v1/gateway/ext-authz/.+",
    method=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    openapi_extensions=CHECK,
    include_in_schema=False,
)
def gateway_ext_authz(caller: CallerDep):
    event = router.current_event
    status, headers, problem = ext_authz(
        wiring.gateway_repos(), caller.tenant_id, event.http_method, event.path, event.headers
    )
    if problem is None:
        return Response(status, "application/json", json.dumps({"allowed": True}), headers=headers)
    return Response(status, PROBLEM_JSON, json.dumps({**problem, "instance": event.path}), headers=headers)
