"""What ``make run`` sets up so a newcomer can call the demo API (``/demo-api/``) with a customer key at
once: a GATEWAY operator key for the demo API, meters ``api_requests`` and ``api_credits``, two free plans
(``Demo free``: 5 requests and 100 credits per month, hard limits; ``Demo rate-limited``: 3 requests per
minute), a customer subscribed to each with its subscription key, and two policies:

- ``POST /demo-api/reports`` meters ``api_credits`` (the upstream sets ``X-Tollgate-Meter-api_credits``);
- ``* /demo-api/*`` meters ``api_requests`` by 1 (first matching policy wins: the reports policy first).

Both policies are strict (zero overshoot), so a quick loop of curls shows the limits exactly.

Everything goes through the local API in-process, with the tenant's OWNER key, as a user would call it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from infra.local.http import LocalApiGateway


@dataclass
class DemoSeed:
    gateway_key: str
    free_key: str
    rate_limited_key: str


class SeedError(RuntimeError):
    pass


def seed_demo(gateway: LocalApiGateway, tenant_id: str, owner_key: str, cache_ttl_seconds: int = 1) -> DemoSeed:
    headers = {"Authorization": f"Bearer {owner_key}", "X-Tenant-Id": tenant_id, "Content-Type": "application/json"}

    def call(method: str, path: str, body: Any = None) -> dict[str, Any]:
        answer = gateway.handle(method, path, "", headers, json.dumps(body).encode() if body is not None else b"")
        if int(answer["statusCode"]) >= 300:
            raise SeedError(f"{method} {path}: {answer['statusCode']} {answer.get('body')}")
        return json.loads(answer["body"]) if answer.get("body") else {}

    gateway_key = call("POST", "/v1/api-keys", {"kind": "operator", "role": "GATEWAY", "name": "demo API"})["secret"]
    meters = {
        name: call("POST", "/v1/meters", {"event_name": name, "aggregation": {"function": "SUM", "field": "quantity"}})
        for name in ("api_requests", "api_credits")
    }

    def subscriber(plan_name: str, entitlements: list[dict], metadata: dict[str, Any]) -> str:
        plan = call(
            "POST",
            "/v1/plans",
            {
                "name": plan_name,
                "currency": "USD",
                "billing_interval": "MONTH",
                "fees": [],
                "entitlements": entitlements,
                "metadata": metadata,
            },
        )
        call("POST", f"/v1/plans/{plan['id']}/versions/1/publish")
        customer = call("POST", "/v1/customers", {"external_id": plan_name.lower().replace(" ", "-"), "name": "Ada"})
        sub = call("POST", "/v1/subscriptions", {"customer_id": customer["id"], "plan_id": plan["id"]})
        return str(call("POST", f"/v1/subscriptions/{sub['id']}/keys", {})["secret"])

    free_key = subscriber(
        "Demo free",
        [
            {"meter_id": meters["api_requests"]["id"], "limit": "5", "hard": True},
            {"meter_id": meters["api_credits"]["id"], "limit": "100", "hard": True},
        ],
        {},
    )
    limited_key = subscriber(
        "Demo rate-limited",
        [
            {"meter_id": meters["api_requests"]["id"], "limit": "100000", "hard": True},
            {"meter_id": meters["api_credits"]["id"], "limit": "100000", "hard": True},
        ],
        {"rate_limit_per_minute": 3},
    )
    # Strict: every request is decided (and counted) by the server, so a quick curl loop shows exactly 5
    # allowed, then 403, and the rate limit's 429; a cached policy would let a fast loop run ahead of metering.
    common = {"cache_ttl_seconds": cache_ttl_seconds, "limit_mode": "strict"}
    call(
        "POST",
        "/v1/gateway/policies",
        {"name": "demo reports", "routes": ["POST /demo-api/reports"], "meters": {"api_credits": 1}, **common},
    )
    call(
        "POST",
        "/v1/gateway/policies",
        {"name": "demo API", "routes": ["* /demo-api/*"], "meters": {"api_requests": 1}, **common},
    )
    return DemoSeed(gateway_key, free_key, limited_key)
