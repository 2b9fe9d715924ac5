"""The API resolver every API function uses: same conventions, same error shapes, same docs."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, Response, Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from tollgate.api.access import enforce_access, public
from tollgate.api.problems import PROBLEM_JSON, problem_body
from tollgate.domain.errors import TollgateError

API_TITLE = "Tollgate API"
API_VERSION = "1.0.0"


def _problem(app: APIGatewayRestResolver, status: int, title: str, detail: str, code: str, **extra) -> Response:
    headers = {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra.pop("retry_after"))
    return Response(
        status_code=status,
        content_type=PROBLEM_JSON,
        body=problem_body(status, title, detail, app.current_event.path, code, **extra),
        headers=headers,
    )


def _validation_detail(errors: list[dict]) -> tuple[str, list[dict]]:
    fields = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        fields.append({"field": ".".join(loc) or "body", "message": err.get("msg", "invalid")})
    detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5]) or "The request is invalid."
    return detail, fields


def create_app(*routers: Router, title: str = API_TITLE) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)
    # Powertools runs request validation before any user middleware; a caller must be authenticated
    # and authorized before we tell it anything about its payload (401/403 before 422). So the access
    # check is chained in front of the validation middleware (Powertools is pinned; a test guards it).
    validation = app._request_validation_middleware

    def access_then_validation(app_: APIGatewayRestResolver, next_middleware):
        return enforce_access(app_, lambda a: validation(a, next_middleware))

    app._request_validation_middleware = access_then_validation

    @app.exception_handler(TollgateError)
    def _domain_error(exc: TollgateError) -> Response:
        extra = dict(exc.extra)
        if getattr(exc, "retry_after", None) is not None:
            extra["retry_after"] = exc.retry_after
        return _problem(app, exc.status, exc.title, exc.detail, exc.code, **extra)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(exc: RequestValidationError) -> Response:
        detail, fields = _validation_detail(list(exc.errors()))
        return _problem(app, 422, "Invalid input", detail, "INVALID_INPUT", errors=fields)

    @app.exception_handler(NotFoundError)
    def _no_route(exc: NotFoundError) -> Response:
        ev = app.current_event
        hint = " See /swagger for the API reference."
        if ev.path.rstrip("/").endswith("/cancel") and "/subscriptions/" in ev.path:
            hint = " To cancel a subscription, send DELETE /v1/subscriptions/{id} (there is no /cancel)."
        elif ev.http_method == "POST" and ("event" in ev.path or "ingest" in ev.path or "usage" in ev.path):
            hint = ' Usage events are ingested at POST /v1/ingest/events (seed 000: "Verify the endpoint").'
        return _problem(app, 404, "Not found", f"No endpoint {ev.http_method} {ev.path}.{hint}", "ROUTE_NOT_FOUND")

    @app.get("/health", openapi_extensions=public(), tags=["meta"], summary="Liveness")
    def health() -> dict:
        return {"status": "ok"}

    def openapi_json() -> str:
        return app.get_openapi_json_schema(
            title=title,
            version=API_VERSION,
            openapi_version="3.1.0",
            description=API_DESCRIPTION,
            security_schemes=_security_schemes(),
            security=[{"bearer": [], "tenant": []}],
        )

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
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer

    return {
        "bearer": HTTPBearer(description="An operator key (afo_…) or a customer API key (sk_live_…, sk_test_…)."),
        "tenant": APIKey(name="X-Tenant-Id", in_=APIKeyIn.header, description="Your tenant id."),
    }


def _swagger_html(spec_json: str) -> str:
    from pathlib import Path

    import aws_lambda_powertools.event_handler as eh
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    assets = Path(eh.__file__).parent / "openapi" / "swagger_ui"
    js = (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    css = (assets / "swagger-ui.min.css").read_text(encoding="utf-8")
    return generate_swagger_html(spec_json.replace("</", "<\\/"), js, css, "", None, False)
