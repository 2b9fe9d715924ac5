"""Small helpers that build tenants' catalog, customers and subscriptions over HTTP for e2e tests."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import httpx


def ok(r: httpx.Response, status: int = 200) -> dict:
    assert r.status_code == status, f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}"
    return r.json()


def customer(c: httpx.Client, **fields) -> dict:
    body = {"external_id": f"ext-{uuid.uuid4().hex[:10]}", "name": "Ada", "email": "ada@example.com", **fields}
    return ok(c.post("/v1/customers", json=body), 201)


def plan(
    c: httpx.Client,
    *,
    fee: str = "10.00",
    currency: str = "USD",
    trial_days: int | None = None,
    publish: bool = True,
    **fields,
) -> dict:
    body = {
        "name": fields.pop("name", f"plan {uuid.uuid4().hex[:6]}"),
        "currency": currency,
        "billing_interval": fields.pop("billing_interval", "MONTH"),
        "fees": [{"name": "Platform fee", "amount": fee, "timing": "in_advance"}],
        **({"trial_days": trial_days} if trial_days is not None else {}),
        **fields,
    }
    created = ok(c.post("/v1/plans", json=body), 201)
    if publish:
        ok(c.post(f"/v1/plans/{created['id']}/versions/1/publish"))
    return created


def new_version(c: httpx.Client, plan_id: str, *, fee: str, publish: bool = True) -> int:
    version = ok(c.post(f"/v1/plans/{plan_id}/versions"), 201)["version"]
    content = {"fees": [{"name": "Platform fee", "amount": fee, "timing": "in_advance"}]}
    ok(c.put(f"/v1/plans/{plan_id}/versions/{version}", json=content))
    if publish:
        ok(c.post(f"/v1/plans/{plan_id}/versions/{version}/publish"))
    return version


def subscribe(c: httpx.Client, customer_id: str, plan_id: str, **fields) -> dict:
    if isinstance(fields.get("start_at"), datetime):
        fields["start_at"] = fields["start_at"].astimezone(UTC).isoformat()
    return ok(c.post("/v1/subscriptions", json={"customer_id": customer_id, "plan_id": plan_id, **fields}), 201)


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(interval)
