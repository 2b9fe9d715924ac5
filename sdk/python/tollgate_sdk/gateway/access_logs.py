"""Metering from API Gateway access logs (the Lambda authorizer surface), after the response.

The stage writes one JSON line per request (:data:`ACCESS_LOG_FORMAT`, set by the CDK construct) to a
CloudWatch Logs group; a subscription filter hands batches of lines to :func:`access_log_handler`, which
sends them to ``POST /v1/gateway/meter`` in batches of up to 100 with ``request_id`` = API Gateway's
``requestId`` (a redelivered batch counts once). The access log never holds the customer's key: the
authorizer put ``subscription_id`` into its context, and that is what is metered. Lines without a
subscription (refused or unauthorized requests) are skipped; the server applies the policy's status filter.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from tollgate_sdk.gateway.client import GatewayClient

log = logging.getLogger("tollgate_sdk.gateway")

ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "stage": "$context.stage",
    "status": "$context.status",
    "requestTimeEpoch": "$context.requestTimeEpoch",
    "subscriptionId": "$context.authorizer.subscription_id",
    "customerId": "$context.authorizer.customer_id",
}
ACCESS_LOG_FORMAT = json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))


def decode_subscription_event(event: Mapping[str, Any]) -> list[str]:
    """The log lines of a CloudWatch Logs subscription event (``awslogs.data``: base64 of gzip JSON)."""
    raw = gzip.decompress(base64.b64decode(event["awslogs"]["data"]))
    payload = json.loads(raw)
    if payload.get("messageType") != "DATA_MESSAGE":
        return []  # CONTROL_MESSAGE: CloudWatch checking the destination
    return [str(e.get("message", "")) for e in payload.get("logEvents") or []]


def meter_request_from_line(line: str) -> dict[str, Any] | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    if not isinstance(entry, dict):
        return None
    subscription_id = entry.get("subscriptionId")
    request_id = entry.get("requestId")
    if not subscription_id or subscription_id == "-" or not request_id:
        return None
    path = str(entry.get("path") or "/")
    stage_prefix = f"/{entry.get('stage')}"
    if entry.get("stage") and (path == stage_prefix or path.startswith(stage_prefix + "/")):
        path = path[len(stage_prefix) :] or "/"
    try:
        status = int(str(entry.get("status")))
    except (TypeError, ValueError):
        return None
    body: dict[str, Any] = {
        "request_id": str(request_id),
        "subscription_id": str(subscription_id),
        "method": str(entry.get("httpMethod") or "GET").upper(),
        "path": path,
        "status_code": status,
    }
    try:
        at = datetime.fromtimestamp(int(entry["requestTimeEpoch"]) / 1000, UTC)
        body["timestamp"] = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        pass
    return body


def meter_lines(client: GatewayClient, lines: Iterable[str]) -> dict[str, int]:
    requests = [r for r in (meter_request_from_line(line) for line in lines) if r is not None]
    results = client.meter_many(requests) if requests else []
    failed = sum(1 for r in results if r is None)
    if failed:
        # Raising makes CloudWatch Logs retry the whole batch: the request ids make that safe.
        raise RuntimeError(f"{failed} of {len(requests)} meter requests could not be sent")
    return {"lines": len(requests), "metered": sum(1 for r in results if r and r.get("metered"))}


def access_log_handler(client: GatewayClient) -> Callable[[dict[str, Any], Any], dict[str, int]]:
    def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
        return meter_lines(client, decode_subscription_event(event))

    return handler
