"""The API resolver every API function uses: same conventions, same error shapes, same docs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, Response, Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
    _is_or_contains_sequence,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from tollgate.api.access import enforce_access, public
from tollgate.api.contract import complete_document
from tollgate.api.json_body import lone_surrogate_at
from tollgate.api.problems import PROBLEM_JSON, problem_body
from tollgate.domain.errors import BadRequest, InvalidInput, TollgateError

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
    from aws_lambda_powertools.event_handler.types import EventHandlerInstance

API_TITLE = "Tollgate API"
API_VERSION = "1.0.0"


def _problem(
    app: APIGatewayRestResolver,
    status: int,
    title: str,
    detail: str,
    code: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    headers = dict(headers or {})
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra.pop("retry_after"))
    return Response(
        status_code=status,
        content_type=PROBLEM_JSON,
        # Serialized here: Powertools serializes application/json bodies only, and a proxy response's
        # body must be a string (API Gateway answers 502 to anything else).
        body=json.dumps(problem_body(status, title, detail, app.current_event.path, code, **extra)),
        headers=headers,
    )


def _validation_detail(errors: list[dict]) -> tuple[str, list[dict]]:
    fields = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        fields.append({"field": ".".join(loc) or "body", "message": err.get("msg", "invalid")})
    detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5]) or "The request is invalid."
    return detail, fields


def _body_param_accepts_array(route: Any) -> bool:
    params = route.dependant.body_params
    if len(params) != 1 or getattr(params[0].field_info, "embed", None):
        return False
    return _is_or_contains_sequence(params[0].field_info.annotation)


_JSON_KINDS = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}


def _refuse_unusable_body(app: APIGatewayRestResolver) -> None:
    """What Powertools' body validation lets through, refused before it runs: a JSON array sent to a
    route that takes an object (Powertools would validate its first element instead), and strings no
    store can encode (a lone UTF-16 surrogate such as "\\udc00")."""
    route = app.context.get("_route")
    if route is None or not route.dependant.body_params or not app.current_event.body:
        return
    try:
        body = json.loads(app.current_event.body)  # checked at the edge (tollgate.api.entry)
    except (ValueError, RecursionError):
        return  # not reached through the edge: Powertools' validation answers it
    if body is not None and not isinstance(body, dict) and not _body_param_accepts_array(route):
        kind = _JSON_KINDS.get(type(body), "a JSON value")
        raise InvalidInput(
            f"The request body must be a JSON object ({{...}}), not {kind}.",
            code="BODY_NOT_AN_OBJECT",
            errors=[{"field": "body", "message": "must be a JSON object"}],
        )
    where = lone_surrogate_at(body)
    if where is not None:
        raise BadRequest(
            f"The request body has a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape) at {where}; "
            "every string must be valid Unicode.",
            code="INVALID_UNICODE",
        )


class _AccessThenValidation(OpenAPIRequestValidationMiddleware):
    """Powertools runs request validation before any user middleware; a caller must be authenticated
    and authorized before we tell it anything about its payload (401/403 before 400/422). So the access
    check runs first, then the body checks, then Powertools' validation (pinned; a test guards it)."""

    def handler(self, app: EventHandlerInstance, next_middleware: NextMiddleware) -> Response:
        def validate(app_: APIGatewayRestResolver) -> Response:
            _refuse_unusable_body(app_)
            return OpenAPIRequestValidationMiddleware.handler(self, app_, next_middleware)

        return enforce_access(cast(APIGatewayRestResolver, app), validate)


def _allowed_methods(app: APIGatewayRestResolver, path: str) -> list[str]:
    """The methods some route of ``app`` serves at ``path`` (for a 405's Allow header)."""
    routes = app._static_routes + app._dynamic_routes
    return sorted({r.method for r in routes if r.rule.fullmatch(path)})


def _install_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(TollgateError)
    def _domain_error(exc: TollgateError) -> Response:
        extra = dict(exc.extra)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            extra["retry_after"] = retry_after
        return _problem(app, exc.status, exc.title, exc.detail, exc.code, **extra)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(exc: RequestValidationError) -> Response:
        detail, fields = _validation_detail(list(exc.errors()))
        return _problem(app, 422, "Invalid input", detail, "INVALID_INPUT", errors=fields)

    @app.exception_handler(NotFoundError)
    def _no_route(exc: NotFoundError) -> Response:
        ev = app.current_event
        allowed = _allowed_methods(app, ev.path)
        if allowed:
            detail = f"{ev.http_method} is not supported on {ev.path}; use {', '.join(allowed)}."
            return _problem(
                app, 405, "Method not allowed", detail, "METHOD_NOT_ALLOWED", headers={"Allow": ", ".join(allowed)}
            )
        hint = " See /swagger for the API reference."
        if ev.path.rstrip("/").endswith("/cancel") and "/subscriptions/" in ev.path:
            hint = " To cancel a subscription, send DELETE /v1/subscriptions/{id} (there is no /cancel)."
        elif ev.http_method == "POST" and ("event" in ev.path or "ingest" in ev.path or "usage" in ev.path):
            hint = ' Usage events are ingested at POST /v1/ingest/events (seed 000: "Verify the endpoint").'
        return _problem(app, 404, "Not found", f"No endpoint {ev.http_method} {ev.path}.{hint}", "ROUTE_NOT_FOUND")


def server_url(event: Any) -> str:
    """Where the API's paths start for the caller: ``/<stage>`` when the request came to API Gateway's own
    ``execute-api`` endpoint (whose URLs carry the stage), ``/`` otherwise (a custom domain, the local stack)."""
    context = event.get("requestContext") or {}
    headers = event.get("headers") or {}
    host = str(context.get("domainName") or headers.get("Host") or headers.get("host") or "")
    stage = context.get("stage")
    if ".execute-api." in host and stage and stage != "$default":
        return f"/{stage}"
    return "/"


def _install_docs(app: APIGatewayRestResolver, title: str) -> None:
    documents: dict[str, str] = {}

    def openapi_json() -> str:
        # Built once per resolver and server, on first request: the routes do not change after start.
        url = server_url(app.current_event)
        if url not in documents:
            from aws_lambda_powertools.event_handler.openapi.models import Server

            generated = app.get_openapi_json_schema(
                title=title,
                version=API_VERSION,
                openapi_version="3.1.0",
                description=API_DESCRIPTION,
                servers=[Server(url=url)],
                security_schemes=_security_schemes(),
                security=[{"bearer": [], "tenant": []}, {"bearer": []}],
            )
            documents[url] = json.dumps(complete_document(json.loads(generated)), indent=2)
        return documents[url]

    @app.get("/openapi.json", openapi_extensions=public(), include_in_schema=False)
    def openapi_document():
        return Response(status_code=200, content_type="application/json", body=openapi_json())

    # Swagger UI, built on first request: Powertools' enable_swagger() would build the OpenAPI models
    # at import (about 60 ms of every cold start) for a page that is rarely opened.
    @app.get("/swagger", openapi_extensions=public(), include_in_schema=False)
    def swagger_ui():
        if app.current_event.get_query_string_value("format") == "json":
            return Response(status_code=200, content_type="application/json", body=openapi_json())
        return Response(status_code=200, content_type="text/html", body=_swagger_html(openapi_json()))


def create_app(*routers: Router, title: str = API_TITLE) -> APIGatewayRestResolver:
    from tollgate.api.cors import cors_config
    from tollgate.settings import get_settings

    # CORS only on AWS, for the console/portal origin (tollgate.api.cors); none locally (same origin).
    app = APIGatewayRestResolver(enable_validation=True, cors=cors_config(get_settings().cors_origins))
    app._request_validation_middleware = _AccessThenValidation()
    _install_error_handlers(app)

    @app.get("/health", openapi_extensions=public(), tags=["meta"], summary="Liveness")
    def health() -> dict:
        return {"status": "ok"}

    _install_docs(app, title)
    for router in routers:
        app.include_router(router)
    return app


API_DESCRIPTION = (
    "Usage-based billing and API monetization. Every request sends `Authorization: Bearer <key>` "
    "(operator keys `afo_…`, customer keys `sk_live_…`/`sk_test_…`) and `X-Tenant-Id`. Errors are RFC 7807 "
    "`application/problem+json`; every response carries `X-Request-Id`. Each operation's `x-tollgate-access` "
    "says which key kinds and permission it needs."
)


def _security_schemes():
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, HTTPBearer

    return {
        "bearer": HTTPBearer(description="An operator key (afo_…) or a customer API key (sk_live_…, sk_test_…)."),
        "tenant": APIKey.model_validate(
            {
                "name": "X-Tenant-Id",
                "in": "header",
                "description": "Your tenant id: required with an operator key (afo_…); a customer key has its own.",
            }
        ),
    }


def _swagger_html(spec_json: str) -> str:
    from pathlib import Path

    import aws_lambda_powertools.event_handler as eh
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    assets = Path(eh.__file__).parent / "openapi" / "swagger_ui"
    js = (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    css = (assets / "swagger-ui.min.css").read_text(encoding="utf-8")
    return generate_swagger_html(spec_json.replace("</", "<\\/"), js, css, "", None, False)
