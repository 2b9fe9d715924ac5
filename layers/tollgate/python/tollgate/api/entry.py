"""The Lambda entry point around a resolver: request id, unsubstituted placeholders, last-resort 500."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools import Logger

from tollgate.api.json_body import BodyProblem, check_json, decode_content, read_text
from tollgate.api.problems import problem_proxy_response

logger = Logger(service="tollgate")

# "{id}", "{customerId}" sent literally (or percent-encoded) in a path: the caller copied a path
# template from the reference without substituting it (seed 000, "404 Not Found on an endpoint that exists").
_PLACEHOLDER = re.compile(r"\{[^/{}]*\}")


# A control character (a decoded %0A, %00, ...) is never part of a Tollgate path; the router's
# patterns would even read "/v1/plans/\n" as "/v1/plans" ($ matches before a final newline).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def find_placeholder(path: str) -> str | None:
    match = _PLACEHOLDER.search(unquote(path or ""))
    return match.group(0) if match else None


def request_id_of(event: dict) -> str:
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "x-request-id" and value:
            return str(value)[:128]
    return (event.get("requestContext") or {}).get("requestId") or str(uuid.uuid4())


def _set_header(response: dict, name: str, value: str) -> dict:
    response.setdefault("headers", {})
    response["headers"][name] = value
    if "multiValueHeaders" in response:
        response["multiValueHeaders"][name] = [value]
    return response


def _use_json_content_type(event: dict) -> None:
    """A JSON body sent without a JSON content type (curl -d) is read as JSON."""
    headers = event.get("headers") or {}
    ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if "json" in (ctype or "").lower():
        return
    for k in [k for k in headers if k.lower() == "content-type"]:
        headers.pop(k)
    headers["Content-Type"] = "application/json"
    event["headers"] = headers
    if event.get("multiValueHeaders") is not None:
        mv = {k: v for k, v in event["multiValueHeaders"].items() if k.lower() != "content-type"}
        mv["Content-Type"] = ["application/json"]
        event["multiValueHeaders"] = mv


#: Stripe's v1 API is form-encoded: its compatible routes take the body as Stripe's clients send it.
FORM_ENCODED_PREFIXES = ("/compat/stripe/",)


def _is_form_for_stripe(event: dict) -> bool:
    headers = event.get("headers") or {}
    ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "") or ""
    path = event.get("path") or ""
    return "x-www-form-urlencoded" in ctype.lower() and path.startswith(FORM_ENCODED_PREFIXES)


def _pop_content_encoding(event: dict) -> str:
    """The request's Content-Encoding, removed from the event: the routes see the decoded body."""
    found = ""
    for field in ("headers", "multiValueHeaders"):
        headers = event.get(field) or {}
        for name in [n for n in headers if n.lower() == "content-encoding"]:
            value = headers.pop(name)
            found = found or (value[0] if isinstance(value, list) and value else str(value or ""))
    return found


def _read_json_body(event: dict) -> BodyProblem | None:
    """JSON is the only body format (but Stripe's form-encoded v1 on its compatible routes). A base64
    body (binary pass-through) becomes text when it is UTF-8; a body that is not UTF-8, nested too deep
    or not JSON at all is refused before any route (or recursive parser) sees it. Returns the problem."""
    body = event.get("body")
    if not body or not isinstance(body, str):
        return None
    decoded = decode_content(body, bool(event.get("isBase64Encoded")), _pop_content_encoding(event))
    if isinstance(decoded, BodyProblem):
        return decoded
    text = read_text(*decoded)
    if isinstance(text, BodyProblem):
        return text
    event["body"], event["isBase64Encoded"] = text, False
    if _is_form_for_stripe(event):
        return None
    problem = check_json(text)
    if problem is None:
        _use_json_content_type(event)
    return problem


_BODY_PROBLEM_STATUS = {"UNSUPPORTED_CONTENT_ENCODING": 415, "PAYLOAD_TOO_LARGE": 413}
_TITLES = {400: "Bad request", 413: "Payload too large", 415: "Unsupported media type"}


def lambda_entry(app: Any) -> Callable[[dict, Any], dict]:
    """Wrap ``app.resolve`` so every answer, errors included, carries X-Request-Id."""

    def handler(event: dict, context: Any) -> dict:
        request_id = request_id_of(event)
        logger.append_keys(request_id=request_id)
        path = event.get("path") or "/"
        placeholder = find_placeholder(path)
        if placeholder:
            response = problem_proxy_response(
                404,
                "Not found",
                f"Not found: {placeholder} — the path still contains the placeholder {placeholder} "
                "from the API reference. Replace every {param} in the path with a real id before sending.",
                path,
                "UNSUBSTITUTED_PLACEHOLDER",
            )
        elif _CONTROL.search(path):
            response = problem_proxy_response(
                404,
                "Not found",
                "No endpoint: the path contains a control character (such as %0A or %00); no id has one.",
                path,
                "ROUTE_NOT_FOUND",
            )
        elif (body_problem := _read_json_body(event)) is not None:
            status = _BODY_PROBLEM_STATUS.get(body_problem.code, 400)
            response = problem_proxy_response(status, _TITLES[status], body_problem.detail, path, body_problem.code)
        else:
            try:
                response = app.resolve(event, context)
            except Exception:
                logger.exception("unhandled error")
                response = problem_proxy_response(
                    500,
                    "Internal error",
                    f"Something went wrong on our side. Contact support with request id {request_id}.",
                    path,
                    "INTERNAL_ERROR",
                )
        return _set_header(response, "X-Request-Id", request_id)

    return handler
