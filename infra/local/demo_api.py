"""The demo upstream API that ``make run`` serves under ``/demo-api/``: a tenant's Lambda-backed API,
protected by the SDK's Powertools middleware (:class:`tollgate_sdk.gateway.TollgateGatewayMiddleware`)
and the tenant's gateway policies, calling the local check and meter API.

Endpoints (what a monetized API looks like):

- ``GET /demo-api/widgets`` (200), ``GET /demo-api/widgets/{widget_id}`` (200)
- ``POST /demo-api/orders`` (201 Created)
- ``GET /demo-api/status/{code}``: answers with that status (e.g. 500: an upstream failure)
- ``POST /demo-api/reports?credits=N``: 200 and ``X-Tollgate-Meter-api_credits: N`` (the response sets
  the increment; the middleware strips the header)

The check client talks to the local API in-process (:class:`InProcessTransport` hands the request to
the local API Gateway, as an HTTP call would, without a socket: no self-call through uvicorn).
``backend_down = True`` makes that transport fail, as an unreachable billing backend would.
"""

from __future__ import annotations

import json
import sys
import uuid
from typing import TYPE_CHECKING, Any

import httpx

from infra.definitions import REPO_ROOT
from infra.local.lambda_dispatch import LocalContext

if str(REPO_ROOT / "sdk" / "python") not in sys.path:
    sys.path.append(str(REPO_ROOT / "sdk" / "python"))

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from tollgate_sdk.gateway import GatewayClient, SyncMeterSink, TollgateGatewayMiddleware
from tollgate_sdk.gateway.decision import FailPolicy

from tollgate.api.problems import problem_proxy_response

if TYPE_CHECKING:
    from infra.local.http import LocalApiGateway

PREFIX = "/demo-api"
ACTIVE: DemoApi | None = None  # the last demo API made (tests reach it here)


class InProcessTransport(httpx.BaseTransport):
    def __init__(self, gateway: LocalApiGateway):
        self.gateway = gateway
        self.backend_down = False
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.backend_down:
            raise httpx.ConnectError("billing backend unreachable (demo fault)", request=request)
        self.calls += 1
        headers = {k.title() if k.islower() else k: v for k, v in request.headers.items()}
        answer = self.gateway.handle(
            request.method, request.url.path, request.url.query.decode(), headers, request.read()
        )
        out_headers = {k: str(v) for k, v in (answer.get("headers") or {}).items()}
        return httpx.Response(int(answer.get("statusCode", 200)), headers=out_headers, content=answer.get("body") or "")


def build_app(middleware: TollgateGatewayMiddleware) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()
    app.use(middlewares=[middleware])

    @app.get(f"{PREFIX}/widgets")
    def widgets() -> dict:
        return {"data": [{"id": "w1", "name": "Sprocket"}, {"id": "w2", "name": "Flange"}]}

    @app.get(f"{PREFIX}/widgets/<widget_id>")
    def widget(widget_id: str) -> dict:
        return {"id": widget_id[:64], "name": "Sprocket"}

    @app.post(f"{PREFIX}/orders")
    def order() -> Response:
        return Response(201, "application/json", json.dumps({"id": f"ord_{uuid.uuid4().hex[:12]}"}))

    @app.get(f"{PREFIX}/status/<code>")
    def status(code: str) -> Response:
        value = int(code) if code.isdigit() and 200 <= int(code) <= 599 else 400
        return Response(value, "application/json", json.dumps({"status": value}))

    @app.post(f"{PREFIX}/reports")
    def report() -> Response:
        raw = app.current_event.get_query_string_value("credits", "1") or "1"
        credits = min(int(raw), 1_000_000) if raw.isdigit() else 1
        body = json.dumps({"report": "ok", "credits": credits})
        return Response(200, "application/json", body, headers={"X-Tollgate-Meter-api_credits": str(credits)})

    return app


class DemoApi:
    def __init__(self, gateway: LocalApiGateway):
        global ACTIVE
        self.transport = InProcessTransport(gateway)
        self.client: GatewayClient | None = None
        self.sink: SyncMeterSink | None = None
        self.app: APIGatewayRestResolver | None = None
        ACTIVE = self

    def configure(self, tenant_id: str, gateway_key: str, fail_policy: FailPolicy = "allow_known") -> GatewayClient:
        """Protect the demo API for this tenant with its GATEWAY key (a fresh client: an empty cache)."""
        self.client = GatewayClient(
            "http://local", gateway_key, tenant_id, transport=self.transport, fail_policy=fail_policy
        )
        self.sink = SyncMeterSink(self.client)  # flushed before the handler returns; keeps each meter answer
        self.app = build_app(TollgateGatewayMiddleware(self.client, self.sink))
        return self.client

    @property
    def backend_down(self) -> bool:
        return self.transport.backend_down

    @backend_down.setter
    def backend_down(self, value: bool) -> None:
        self.transport.backend_down = value

    @staticmethod
    def serves(path: str) -> bool:
        return path == PREFIX or path.startswith(PREFIX + "/")

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """The demo API's Lambda handler (a REST proxy event in, a proxy response out)."""
        if self.app is None:
            return problem_proxy_response(
                503,
                "Demo API not configured",
                "Start it with `make run`, which configures it.",
                event["path"],
                "DEMO_NOT_CONFIGURED",
            )
        context: Any = LocalContext(function_name="tollgate-demo-api")
        return self.app.resolve(event, context)
