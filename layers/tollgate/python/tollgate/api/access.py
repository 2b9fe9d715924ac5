"""Route access declarations and their enforcement (a global middleware).

A route says what it needs once, ``openapi_extensions=requires(Permission.CATALOG_WRITE)``; the
middleware enforces it and the OpenAPI document publishes it as ``x-tollgate-access`` (the tests
build the route x role x key-kind matrix from that document).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, Response

from tollgate.domain.access import AccessDenied, AccessRule, Caller, KeyKind, Permission, Role, check_access
from tollgate.domain.errors import Forbidden, Unauthorized

EXTENSION = "x-tollgate-access"
# The caller of the request being served (set by the middleware, read by route handlers).
_caller: ContextVar[Caller | None] = ContextVar("tollgate_caller", default=None)


def requires(permission: Permission, *kinds: KeyKind) -> dict[str, Any]:
    rule = AccessRule(permission=permission, kinds=tuple(kinds) or (KeyKind.OPERATOR,))
    return {EXTENSION: rule.to_extension()}


def public() -> dict[str, Any]:
    return {EXTENSION: AccessRule(public=True, kinds=()).to_extension()}


def caller_from_event(event: dict) -> tuple[Caller | None, str | None]:
    """Read the principal the authorizer put in ``requestContext.authorizer`` (values are strings)."""
    ctx = (event.get("requestContext") or {}).get("authorizer") or {}
    if ctx.get("auth_error"):
        return None, ctx["auth_error"]
    if not ctx.get("tenant_id") or not ctx.get("kind"):
        return None, None
    if ctx["kind"] == KeyKind.PORTAL.value and _expired(ctx.get("expires_at")):
        # The authorizer's decision may be cached for up to a minute: the session's end is checked here too.
        return None, (
            f"This portal session ({ctx.get('key_id', '')}) expired at {ctx.get('expires_at')}. "
            "Ask the provider for a new portal link."
        )
    return (
        Caller(
            tenant_id=ctx["tenant_id"],
            kind=KeyKind(ctx["kind"]),
            key_id=ctx.get("key_id", ""),
            role=Role(ctx["role"]) if ctx.get("role") else None,
            customer_id=ctx.get("customer_id") or None,
            subscription_id=ctx.get("subscription_id") or None,
            livemode=str(ctx.get("livemode", "true")).lower() == "true",
        ),
        None,
    )


PORTAL_ONLY = (
    "A customer portal session (portal_…) works on the customer portal's routes (/v1/portal/…) only; "
    "the rest of the API takes an operator key (afo_) or a customer API key (sk_live_/sk_test_)."
)


def _expired(expires_at: str | None) -> bool:
    from tollgate.domain.clock import parse_rfc3339, utcnow

    try:
        return expires_at is None or parse_rfc3339(expires_at) <= utcnow()
    except ValueError:
        return True


# On /v1 an operator key (afo_) acts for the tenant it names; a customer key's tenant is the key's own,
# so customer keys need no X-Tenant-Id, and neither do the compatibility routes (/compat: the peers'
# clients send only their key).
MISSING_TENANT = (
    "Missing credentials: an operator key (afo_) must be sent with both 'Authorization: Bearer <key>' "
    "and 'X-Tenant-Id: <your-tenant-id>'."
)


def enforce_access(app: APIGatewayRestResolver, next_middleware) -> Response:
    route = app.context.get("_route")
    ext = (getattr(route, "openapi_extensions", None) or {}).get(EXTENSION)
    if ext is None:
        # The not-found route has no declaration; any other route without one is a bug.
        if getattr(getattr(route, "func", None), "__name__", "") == "not_found_handler":
            return next_middleware(app)
        raise Forbidden(f"Route {getattr(route, 'path', '?')} declares no access rule; refusing by default.")
    rule = AccessRule.from_extension(ext)
    event = app.current_event.raw_event
    caller, auth_error = caller_from_event(event)
    if not rule.public:
        if auth_error:
            raise Unauthorized(auth_error)
        if caller is not None:
            from tollgate.usecases.authorize import header, tenant_mismatch

            display = ((event.get("requestContext") or {}).get("authorizer") or {}).get("key_display", "")
            tenant_header = header(event.get("headers"), "X-Tenant-Id")
            if tenant_header is None and caller.kind is KeyKind.OPERATOR and event.get("path", "").startswith("/v1/"):
                raise Unauthorized(MISSING_TENANT)
            mismatch = tenant_mismatch(caller, display, tenant_header)
            if mismatch:
                raise Unauthorized(mismatch)
            if caller.kind is KeyKind.PORTAL and not event.get("path", "").startswith("/v1/portal/"):
                raise Unauthorized(PORTAL_ONLY)
        try:
            check_access(rule, caller)
        except AccessDenied as denied:
            raise (Unauthorized if denied.status == 401 else Forbidden)(denied.detail) from None
        _throttle(caller)
    token = _caller.set(caller)
    try:
        return next_middleware(app)
    finally:
        _caller.reset(token)


def _throttle(caller: Caller | None) -> None:
    """The caller's tenant's own API request limit (429 TENANT_RATE_LIMITED; tollgate.usecases.tenant_throttle)."""
    from tollgate import wiring

    throttle = wiring.tenant_throttle()
    if throttle is not None:
        from tollgate.domain.clock import utcnow

        throttle(caller, at=utcnow())


def current_caller() -> Caller:
    """Dependency for route handlers: ``caller: Annotated[Caller, Depends(current_caller)]``."""
    caller = _caller.get()
    if caller is None:
        raise Unauthorized("This route needs credentials.")
    return caller
