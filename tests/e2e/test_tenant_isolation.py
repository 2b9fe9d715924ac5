"""Issue 3: another tenant's id answers 404 on every route, driven by the OpenAPI document.

Tenant B creates one resource of each kind; tenant A's OWNER calls every route that takes an id with
B's ids. The answer must be 404 and identical to the answer for an id that exists nowhere, so nothing
reveals that B's resource exists. A route whose path parameter has no factory below fails the test:
add one when you add a route.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import httpx
import pytest

from tests.e2e import builders
from tests.e2e.conftest import client

pytestmark = pytest.mark.e2e


def _create(c: httpx.Client, path: str, body: dict, field: str = "id", status: int = 201) -> str:
    r = c.post(path, json=body)
    assert r.status_code == status, f"{path}: {r.status_code} {r.text}"
    return str(r.json()[field])


def _customer(b: httpx.Client, ids: dict) -> dict:
    if "_customer" not in ids:
        ids["_customer"] = builders.customer(b)
    return ids["_customer"]


def _plan_id(b: httpx.Client, ids: dict) -> str:
    if "plan_id" not in ids:
        ids["plan_id"] = builders.plan(b)["id"]  # published version 1
    return ids["plan_id"]


def _invoice_id(b: httpx.Client, ids: dict) -> str:
    if "invoice_id" not in ids:
        from tests.e2e.billing_kit import invoiced

        ids["invoice_id"] = invoiced(b)[2]  # a customer, a plan, an ended subscription, billed
    return ids["invoice_id"]


def _policy_id(b: httpx.Client, ids: dict) -> str:
    event_name = f"b.calls.{uuid.uuid4().hex[:8]}"
    _create(b, "/v1/meters", {"event_name": event_name, "aggregation": {"function": "COUNT"}})
    body = {"name": "B's policy", "routes": ["GET /b/*"], "meters": {event_name: 1}}
    return _create(b, "/v1/gateway/policies", body, field="policy_id")


def _migration(b: httpx.Client, ids: dict) -> str:
    target = builders.plan(b)["id"]
    return _create(b, "/v1/migrations", {"from_plan_id": _plan_id(b, ids), "to_plan_id": target}, status=202)


def _endpoint_id(b: httpx.Client, ids: dict) -> str:
    if "endpoint_id" not in ids:
        ids["endpoint_id"] = _create(b, "/v1/webhook-endpoints", {"url": "http://127.0.0.1:9/isolation"})
    return ids["endpoint_id"]


# path parameter -> how tenant B makes one (ids: what B has made so far, for resources that need others)
FACTORIES: dict[str, Callable[[httpx.Client, dict], str]] = {
    "key_id": lambda b, ids: _create(b, "/v1/api-keys", {"kind": "operator", "role": "MEMBER"}),
    "product_id": lambda b, ids: _create(b, "/v1/products", {"name": "B's product"}),
    "meter_id": lambda b, ids: _create(
        b, "/v1/meters", {"event_name": f"isolation.{uuid.uuid4().hex[:8]}", "aggregation": {"function": "COUNT"}}
    ),
    "plan_id": _plan_id,
    "version": lambda b, ids: (_plan_id(b, ids), "1")[1],
    "customer_id": lambda b, ids: _customer(b, ids)["id"],
    "external_id": lambda b, ids: _customer(b, ids)["external_id"],
    "subscription_id": lambda b, ids: builders.subscribe(b, _customer(b, ids)["id"], _plan_id(b, ids))["id"],
    "migration_id": _migration,
    "invoice_id": _invoice_id,
    "credit_note_id": lambda b, ids: _create(
        b, "/v1/credit-notes", {"invoice_id": _invoice_id(b, ids), "amount": "1.00"}
    ),
    "wallet_id": lambda b, ids: _create(b, "/v1/wallets", {"customer_id": _customer(b, ids)["id"]}),
    "bill_run_id": lambda b, ids: _create(b, "/v1/bill-runs", {}, status=202),
    "coupon_id": lambda b, ids: _create(b, "/v1/coupons", {"percent_off": "10"}),
    "endpoint_id": lambda b, ids: _endpoint_id(b, ids),
    "policy_id": lambda b, ids: _policy_id(b, ids),
    "portal_session_id": lambda b, ids: _create(
        b, "/v1/portal-sessions", {"customer_id": _customer(b, ids)["id"]}, field="portal_session_id"
    ),
    "integration_id": lambda b, ids: _create(
        b,
        "/v1/integrations",
        {
            "type": "kong",
            "name": "B's gateway",
            "config": {"admin_url": "http://127.0.0.1:9"},
            "credentials": {"token": "kpat_b"},
        },
    ),
    "delivery_id": lambda b, ids: _create(b, f"/v1/webhook-endpoints/{_endpoint_id(b, ids)}/test", {}, status=202),
    # only public routes (the Stripe webhook: its signature is the credential) and the platform admin's
    # take a tenant id in the path
    "tenant_id": lambda b, ids: b.headers["X-Tenant-Id"],
}


@pytest.fixture(scope="module")
def tenant_b(server):
    boot = server.stack.bootstrap_tenant("Tenant B")
    return client(server, boot.operator_key, boot.tenant_id)


def test_every_route_answers_404_for_another_tenants_ids(anonymous, owner, tenant_b):
    doc = anonymous.get("/openapi.json").json()
    ids: dict[str, str] = {}
    failures, checked = [], 0
    for path, item in doc["paths"].items():
        params = re.findall(r"\{([^}]+)\}", path)
        if not params:
            continue
        for name in params:
            if name not in ids:
                assert name in FACTORIES, f"no factory for path parameter {name!r} ({path}); add one"
                ids[name] = FACTORIES[name](tenant_b, ids)
        theirs = path
        nowhere = path
        for name in params:
            theirs = theirs.replace("{" + name + "}", ids[name])
            nowhere = nowhere.replace("{" + name + "}", f"zz_missing_{name}")
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            access = op["x-tollgate-access"]
            # Public routes and the platform admin's (which act on any tenant by design) are not tenant-scoped.
            if access["public"] or "operator" not in access["kinds"]:
                continue
            body = {} if method in ("post", "put", "patch") else None
            a = owner.request(method.upper(), theirs, json=body)
            n = owner.request(method.upper(), nowhere, json=body)
            checked += 1
            if a.status_code != 404 and not (a.status_code == n.status_code == 422):
                failures.append(f"{method.upper()} {path}: {a.status_code} {a.text[:160]}")
            elif a.status_code != n.status_code:
                failures.append(f"{method.upper()} {path}: {a.status_code} for B's id but {n.status_code} for no id")
            elif a.status_code == 404 and any(v in a.json()["detail"] for v in ("Tenant B",)):
                failures.append(f"{method.upper()} {path}: detail reveals the other tenant")
    assert checked >= 2
    assert not failures, "\n".join(failures)


def test_another_tenants_key_cannot_be_revoked(owner, tenant_b):
    theirs = _create(tenant_b, "/v1/api-keys", {"kind": "operator", "role": "ADMIN"})
    assert owner.delete(f"/v1/api-keys/{theirs}").status_code == 404
    assert tenant_b.get(f"/v1/api-keys/{theirs}").json()["status"] == "ACTIVE"
