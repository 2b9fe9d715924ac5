"""Builders for the gateway enforcement e2e tests (issue 15): a tenant with a GATEWAY key, a meter, a plan
with an entitlement, a customer subscribed to it with its subscription key, and a policy."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from tests.e2e import builders
from tests.e2e.billing_kit import own_tenant, tenant_of
from tests.e2e.builders import ok
from tests.e2e.conftest import client


@dataclass
class Setup:
    owner: httpx.Client
    gateway: httpx.Client
    meter: dict
    plan: dict
    customer: dict
    subscription: dict
    key: str
    policy: dict
    key_id: str = ""

    def check(self, method: str = "GET", path: str = "/api/widgets", key: str | None = None, **body) -> dict:
        sent = {"api_key": self.key if key is None else key, "method": method, "path": path, **body}
        return ok(self.gateway.post("/v1/gateway/check", json=sent))

    def meter_call(self, status: int = 200, method: str = "GET", path: str = "/api/widgets", **body) -> dict:
        sent = {
            "request_id": f"req-{uuid.uuid4().hex}",
            "api_key": self.key,
            "method": method,
            "path": path,
            "status_code": status,
            **body,
        }
        return ok(self.gateway.post("/v1/gateway/meter", json=sent), 202)


def gateway_client(server, owner: httpx.Client) -> httpx.Client:
    r = owner.post("/v1/api-keys", json={"kind": "operator", "role": "GATEWAY", "name": "gateway"})
    return client(server, ok(r, 201)["secret"], tenant_of(owner))


def meter(owner: httpx.Client, event_name: str | None = None) -> dict:
    body = {
        "event_name": event_name or f"api_requests_{uuid.uuid4().hex[:6]}",
        "aggregation": {"function": "SUM", "field": "quantity"},
    }
    return ok(owner.post("/v1/meters", json=body), 201)


def setup(
    server,
    *,
    limit: str | None = "100",
    hard: bool = True,
    fee: str = "10.00",
    plan_metadata: dict | None = None,
    customer_metadata: dict | None = None,
    policy: dict | None = None,
    owner: httpx.Client | None = None,
    subscribe: dict | None = None,
    product_id: str | None = None,
) -> Setup:
    owner = owner or own_tenant(server, f"gateway {uuid.uuid4().hex[:6]}")
    m = meter(owner)
    entitlements = [{"meter_id": m["id"], "limit": limit, "hard": hard}] if limit is not None else []
    extra = (
        {"usage_prices": [{"meter_id": m["id"], "price": {"model": "per_unit", "unit_price": "0.01"}}]}
        if limit is None
        else {}
    )
    if product_id:
        extra["product_id"] = product_id
    p = builders.plan(owner, fee=fee, entitlements=entitlements, metadata=plan_metadata or {}, **extra)
    cust = builders.customer(owner, metadata=customer_metadata or {})
    sub = builders.subscribe(owner, cust["id"], p["id"], **(subscribe or {}))
    issued = ok(owner.post(f"/v1/subscriptions/{sub['id']}/keys", json={}), 201)
    body = {
        "name": "widgets",
        "routes": ["GET /api/widgets*", "POST /api/orders"],
        "meters": {m["event_name"]: 1},
        "cache_ttl_seconds": 1,
        **(policy or {}),
    }
    pol = ok(owner.post("/v1/gateway/policies", json=body), 201)
    return Setup(owner, gateway_client(server, owner), m, p, cust, sub, issued["secret"], pol, issued["id"])
