"""Powertools middleware for a tenant's Lambda-backed API: check before the handler, meter after it.

    gw = GatewayClient(api_url=..., gateway_key=os.environ["TOLLGATE_GATEWAY_KEY"], tenant_id=...)
    app = APIGatewayRestResolver()
    app.use(middlewares=[TollgateGatewayMiddleware(gw)])

- The customer's key is read from the matching policy's ``auth_header``/``auth_scheme`` (known from an
  earlier answer), else from the middleware's defaults (``Authorization: Bearer``).
- Denied: the handler does not run; the answer is the server's problem (``application/problem+json``)
  with its status, ``X-Request-Id`` and the decision's headers (``Retry-After``).
- Allowed: the handler runs; ``X-Tollgate-Meter-<name>`` response headers are removed and sent as
  ``response_meters``; the request is metered by the response's status with the API Gateway request id
  (the server meters only the policy's ``meter_on_status_codes``; a route no policy covers is not
  metered). A handler that raises is not metered.
- Metering is flushed before the handler returns (:class:`SyncMeterSink`, default) or handed to a queue
  (:class:`SqsMeterSink`): Lambda freezes after return.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Response
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware

from tollgate_sdk.gateway.client import GatewayClient, meter_request
from tollgate_sdk.gateway.credentials import DEFAULT_AUTH_HEADER, DEFAULT_AUTH_SCHEME, extract_key
from tollgate_sdk.gateway.decision import Decision
from tollgate_sdk.gateway.metering import MeterSink, SyncMeterSink

PROBLEM_JSON = "application/problem+json"
METER_HEADER_PREFIX = "x-tollgate-meter-"


class TollgateGatewayMiddleware(BaseMiddlewareHandler):
    def __init__(
        self,
        client: GatewayClient,
        sink: MeterSink | None = None,
        *,
        auth_header: str = DEFAULT_AUTH_HEADER,
        auth_scheme: str = DEFAULT_AUTH_SCHEME,
    ):
        super().__init__()
        self.client = client
        self.sink = sink if sink is not None else SyncMeterSink(client)
        self.auth_header = auth_header
        self.auth_scheme = auth_scheme

    def handler(self, app: Any, next_middleware: NextMiddleware) -> Response:
        event = app.current_event
        method, path = event.http_method.upper(), event.path
        policy = self.client.cache.policy_for(method, path) or {}
        api_key = extract_key(
            event.headers,
            policy.get("auth_header") or self.auth_header,
            policy.get("auth_scheme", self.auth_scheme),
        )
        request_id = _request_id(event)
        decision = self.client.check(api_key, method, path)
        if not decision.allowed:
            return problem_response(decision, request_id, path)
        response = next_middleware(app)
        response_meters = strip_meter_headers(response)
        if decision.covered:
            status = response.status_code
            self.sink.submit(meter_request(request_id, api_key, method, path, status, None, response_meters))
        return response


def problem_response(decision: Decision, request_id: str, path: str) -> Response:
    problem = dict(decision.problem or {})
    problem.setdefault("status", decision.status)
    problem.setdefault("instance", path)
    headers = {**decision.headers, "X-Request-Id": request_id}
    return Response(status_code=decision.status, content_type=PROBLEM_JSON, body=json.dumps(problem), headers=headers)


def strip_meter_headers(response: Response) -> dict[str, str]:
    """Remove ``X-Tollgate-Meter-<name>`` headers (the client never sees them) and return name -> value."""
    found: dict[str, str] = {}
    for name in list(response.headers):
        if name.lower().startswith(METER_HEADER_PREFIX):
            value = response.headers.pop(name)
            found[name[len(METER_HEADER_PREFIX) :]] = value if isinstance(value, str) else str(value[-1])
    return found


def _request_id(event: Any) -> str:
    try:
        return str(event.request_context.request_id)
    except (AttributeError, KeyError, TypeError):
        return str(uuid.uuid4())
