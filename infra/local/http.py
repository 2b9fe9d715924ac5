"""The local API Gateway: HTTP -> REST proxy events -> the same Lambda handlers and authorizer.

Routing, authorizers, identity headers and cache TTLs come from ``infra/definitions/api.json``, the
declaration the CDK stack builds API Gateway from. Like API Gateway, a route guarded by an authorizer
answers 401 itself when an identity header is missing, and caches the authorizer's answer per
identity-header values for the declared TTL.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from aws_lambda_powertools import Logger

from infra import definitions
from infra.local import static, time_travel
from infra.local.demo_api import DemoApi
from infra.local.environment import ACCOUNT, REGION
from infra.local.stack import LocalStack
from tollgate.api.problems import problem_proxy_response
from tollgate.usecases.authorize import MISSING_HEADERS, header

logger = Logger(service="tollgate-local")

STAGE = "local"
API_ID = "localapi"
# API Gateway refuses payloads over 10 MB itself, before any authorizer or function runs.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024


def _body_field(body: bytes) -> tuple[str | None, bool]:
    """The proxy event's body: UTF-8 text, or base64 (API Gateway's binary pass-through) for bytes
    that are not UTF-8 -- the API function decides what to answer, after the authorizer ran."""
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def _route_regex(path: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{[^/]+?\\\+\\\}", r"(?P<proxy>.+)", re.escape(path))
    pattern = re.sub(r"\\\{([^/]+?)\\\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(f"^{pattern}$")


class LocalApiGateway:
    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        spec = definitions.api()
        self.authorizers = spec.authorizers
        # Most specific first: exact paths before greedy {proxy+} ones, longer before shorter.
        self.routes = sorted(spec.routes, key=lambda r: ("{proxy+}" in r.path, -len(r.path)))
        self._compiled = [(r, _route_regex(r.path)) for r in self.routes]
        self._cache: dict[tuple, tuple[float, dict]] = {}
        self.demo = DemoApi(self)  # /demo-api/: a tenant's API behind the gateway middleware

    def match(self, path: str):
        for route, regex in self._compiled:
            m = regex.match(path)
            if m:
                return route, m.groupdict()
        return None, {}

    def _ttl(self, authorizer: str) -> int:
        if self.stack.auth_cache_ttl_seconds is not None:
            return self.stack.auth_cache_ttl_seconds
        return self.authorizers[authorizer].cache_ttl_seconds

    def _authorize(self, authorizer: str, event: dict) -> dict | None:
        spec = self.authorizers[authorizer]
        identity = tuple(header(event["headers"], h) for h in spec.identity_headers)
        if any(v in (None, "") for v in identity):
            return None
        key = (authorizer, identity)
        cached = self._cache.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        method_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{STAGE}/{event['httpMethod']}{event['path']}"
        policy = self.stack.invoke(
            spec.function,
            {
                "type": "REQUEST",
                "methodArn": method_arn,
                "resource": event["resource"],
                "path": event["path"],
                "httpMethod": event["httpMethod"],
                "headers": event["headers"],
                "multiValueHeaders": event["multiValueHeaders"],
                "queryStringParameters": event["queryStringParameters"],
                "pathParameters": event["pathParameters"],
                "requestContext": event["requestContext"],
            },
        )
        statement = policy["policyDocument"]["Statement"][0]
        result = {
            "allow": statement["Effect"] == "Allow",
            "context": dict(policy.get("context") or {}),
            "principalId": policy["principalId"],
        }
        ttl = self._ttl(authorizer)
        if ttl > 0:
            self._cache[key] = (time.monotonic() + ttl, result)
        return result

    def handle(self, method: str, raw_path: str, query: str, headers: dict[str, str], body: bytes) -> dict:
        request_id = str(uuid.uuid4())
        path = unquote(raw_path) if "%7B" not in raw_path.upper() else raw_path
        if static.serves(path):  # the console and portal pages (web/dist): not API routes
            answer = static.response(method, path)
            answer["headers"]["X-Request-Id"] = header(headers, "X-Request-Id") or request_id
            return answer
        if path in time_travel.PATHS:  # the local stack's own clock: not part of the deployed API
            return self._local_clock(method, path, headers, body, request_id)
        route, params = self.match(path)
        qs = parse_qs(query, keep_blank_values=True)
        text, is_base64 = _body_field(body)
        event: dict[str, Any] = {
            "resource": route.path if route else path,
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": {k: v[-1] for k, v in qs.items()} or None,
            "multiValueQueryStringParameters": qs or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "body": text,
            "isBase64Encoded": is_base64,
            "requestContext": {
                "requestId": request_id,
                "stage": STAGE,
                "resourcePath": route.path if route else path,
                "httpMethod": method,
                "path": f"/{STAGE}{path}",
                "apiId": API_ID,
                "accountId": ACCOUNT,
                "identity": {"sourceIp": "127.0.0.1", "userAgent": header(headers, "User-Agent")},
                "requestTimeEpoch": int(time.time() * 1000),
            },
        }
        if len(body) > MAX_PAYLOAD_BYTES:
            response = problem_proxy_response(
                413,
                "Payload too large",
                f"The request body is {len(body)} bytes; the limit is {MAX_PAYLOAD_BYTES} bytes.",
                path,
                "PAYLOAD_TOO_LARGE",
            )
        elif route is None and self.demo.serves(path):
            response = self.demo.invoke(event)
        elif route is None:
            response = problem_proxy_response(
                404, "Not found", f"No endpoint {method} {path}.", path, "ROUTE_NOT_FOUND"
            )
        elif route.authorizer:
            decision = self._authorize(route.authorizer, event)
            if decision is None:
                response = problem_proxy_response(401, "Unauthorized", MISSING_HEADERS, path, "UNAUTHORIZED")
            elif not decision["allow"]:
                response = problem_proxy_response(403, "Forbidden", "Access denied.", path, "FORBIDDEN")
            else:
                event["requestContext"]["authorizer"] = {**decision["context"], "principalId": decision["principalId"]}
                response = self.stack.invoke(route.function, event)
        else:
            response = self.stack.invoke(route.function, event)
        if "X-Request-Id" not in (response.get("headers") or {}):
            response.setdefault("headers", {})["X-Request-Id"] = header(headers, "X-Request-Id") or request_id
        return response

    def _local_clock(self, method: str, path: str, headers: dict[str, str], body: bytes, request_id: str) -> dict:
        status, answer = time_travel.handle_http(self.stack, method, path, body)
        media = "application/json" if status < 400 else "application/problem+json"
        rid = header(headers, "X-Request-Id") or request_id
        out_headers = {"Content-Type": media, "X-Request-Id": rid}
        return {"statusCode": status, "headers": out_headers, "body": json.dumps(answer)}


def _answer(gateway: LocalApiGateway, method: str, raw_path: str, query: str, headers: dict[str, str], body: bytes):
    """The gateway's answer; an exception escaping it (a bug) is still a problem+json 500 with a
    request id, as API Gateway answers for a failed integration, never a bare text/plain page."""
    try:
        return gateway.handle(method, raw_path, query, headers, body)
    except Exception:
        logger.exception("local API gateway failed")
        request_id = header(headers, "X-Request-Id") or str(uuid.uuid4())
        response = problem_proxy_response(
            500,
            "Internal error",
            f"Something went wrong on our side. Contact support with request id {request_id}.",
            raw_path,
            "INTERNAL_ERROR",
        )
        response["headers"]["X-Request-Id"] = request_id
        return response


def _lifespan_done(message: dict) -> dict | None:
    if message["type"] == "lifespan.startup":
        return {"type": "lifespan.startup.complete"}
    if message["type"] == "lifespan.shutdown":
        return {"type": "lifespan.shutdown.complete"}
    return None


def asgi_app(gateway: LocalApiGateway):
    """A plain ASGI callable (served by uvicorn) in front of the local API Gateway."""
    import anyio

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                reply = _lifespan_done(await receive())
                if reply:
                    await send(reply)
                    if reply["type"] == "lifespan.shutdown.complete":
                        return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers: dict[str, str] = {}
        for k, v in scope["headers"]:
            name = k.decode("latin-1")
            # Keep the client's spelling of common headers, as API Gateway passes them through.
            headers[_canonical(name)] = v.decode("latin-1")
        raw_path = scope.get("raw_path", b"").decode("latin-1").split("?")[0] or scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        response = await anyio.to_thread.run_sync(_answer, gateway, scope["method"], raw_path, query, headers, body)
        status, out_headers, data = _http_response(response)
        await send({"type": "http.response.start", "status": status, "headers": out_headers})
        await send({"type": "http.response.body", "body": data})

    return app


def _http_response(response: dict) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    out_headers: dict[str, list[str]] = {}
    for k, v in (response.get("headers") or {}).items():
        out_headers[k] = [str(v)]
    for k, vs in (response.get("multiValueHeaders") or {}).items():
        out_headers[k] = [str(v) for v in vs]
    payload = response.get("body") or ""
    if not isinstance(payload, str):
        payload = json.dumps(payload)
    # "replace": a lone surrogate in a text body (a bug upstream) must not crash the front.
    data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode("utf-8", "replace")
    # Header values go out as latin-1 (HTTP/1.1); anything else is percent-encoded, never a crash.
    encoded = [(k.encode("latin-1", "replace"), _header_value(v)) for k, vs in out_headers.items() for v in vs]
    return int(response.get("statusCode", 200)), encoded, data


def _header_value(value: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return quote(value, safe=" !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~").encode("ascii")


def _canonical(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-")) if name.islower() else name
