"""A Lambda REQUEST authorizer (API Gateway REST) backed by the all-policies check.

API Gateway caches the authorizer's answer per identity source (the customer's key header) for the
authorizer's TTL and reuses it for every route, so the answer must be right for every route: the
policy document allows the whole API (``<api>/<stage>/*/*``) and denies, per method ARN, the routes of
each policy the server denies (IAM: an explicit Deny wins). A key refused outright (``KEY_INVALID``,
``NO_SUBSCRIPTION`` ...) gets a Deny on the routes of every policy the answer lists, or on the whole API
when it lists none (as the server answers for an unknown key); a missing or wrong-scheme credential is
``Unauthorized`` (401).

Limitation: IAM evaluates Deny before Allow, not "first matching policy wins"; give overlapping policies
the same answer, or order routes so that they do not overlap.

The context carries ``subscription_id``/``customer_id`` (the access log records them for metering) and
the first denial's ``code``, ``status`` and ``detail`` (for a gateway response template).

When the key's product is synced to this REST API (``POST /v1/products/{product_id}/gateway/sync``), the
answer carries the subscription's ``usage_identifier`` and the result returns it as ``usageIdentifierKey``:
with the API's ``apiKeySource=AUTHORIZER`` (set by the sync) API Gateway then throttles and counts the
request under the usage plan of the subscription's plan version (the API key Tollgate pushed has that
value). The cached answer keeps it, so a cached or stale answer returns it too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tollgate_sdk.gateway.client import GatewayClient
from tollgate_sdk.gateway.credentials import DEFAULT_AUTH_HEADER, DEFAULT_AUTH_SCHEME, extract_key


class Unauthorized(Exception):
    """Raised with the message ``Unauthorized``: API Gateway answers 401 itself."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


def api_prefix(method_arn: str) -> str:
    """``arn:aws:execute-api:region:account:api/stage`` from a method ARN."""
    arn, _, rest = method_arn.partition("/")
    stage = rest.split("/", 1)[0]
    return f"{arn}/{stage}"


def route_arns(prefix: str, routes: list[str]) -> list[str]:
    out = []
    for route in routes:
        method, _, path = route.strip().partition(" ")
        path = path.strip() or "/*"
        out.append(f"{prefix}/{(method or '*').upper()}{path if path.startswith('/') else '/' + path}")
    return out


def policy_document(method_arn: str, answer: Mapping[str, Any]) -> dict[str, Any]:
    prefix = api_prefix(method_arn)
    decisions = [d for d in answer.get("decisions") or [] if isinstance(d, Mapping)]
    key_refused = not answer.get("allowed", True)
    denied: list[str] = []
    first_problem = answer.get("problem") if key_refused else None
    for item in decisions:
        if key_refused or not item.get("allowed", True):
            denied += route_arns(prefix, list((item.get("policy") or {}).get("routes") or []))
            first_problem = first_problem or item.get("problem")
    statements: list[dict[str, Any]] = []
    if key_refused and not denied:
        statements.append(_statement("Deny", [f"{prefix}/*/*"]))
    else:
        statements.append(_statement("Allow", [f"{prefix}/*/*"]))
        if denied:
            statements.append(_statement("Deny", sorted(set(denied))))
    context: dict[str, Any] = {
        "subscription_id": answer.get("subscription_id") or "",
        "customer_id": answer.get("customer_id") or "",
    }
    if isinstance(first_problem, Mapping):
        context |= {
            "code": str(first_problem.get("code") or ""),
            "status": int(first_problem.get("status") or 403),
            "detail": str(first_problem.get("detail") or ""),
        }
    result: dict[str, Any] = {
        "principalId": answer.get("customer_id") or "anonymous",
        "policyDocument": {"Version": "2012-10-17", "Statement": statements},
        "context": context,
    }
    if not key_refused and answer.get("usage_identifier"):
        result["usageIdentifierKey"] = str(answer["usage_identifier"])
    return result


def _statement(effect: str, resources: list[str]) -> dict[str, Any]:
    return {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resources}


def authorizer_handler(
    client: GatewayClient, *, auth_header: str = DEFAULT_AUTH_HEADER, auth_scheme: str = DEFAULT_AUTH_SCHEME
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The handler: ``handler = authorizer_handler(GatewayClient(...))``."""

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        api_key = extract_key(event.get("headers"), auth_header, auth_scheme)
        if not api_key:
            raise Unauthorized()
        answer = client.check_all(api_key)
        problem = answer.get("problem") or {}
        if not answer.get("allowed", True) and isinstance(problem, Mapping) and problem.get("code") == "KEY_MISSING":
            raise Unauthorized()
        return policy_document(event["methodArn"], answer)

    return handler
