"""Issue 3: every route x role x key kind, built from the OpenAPI document itself, so a route added
later is covered without touching this file. The expectations are written from seed 000 here,
independently of tollgate.domain.access:

- no credentials, an unknown key, or a key of the wrong kind for the route -> 401;
- MEMBER reads but cannot create or modify -> 403 on anything not ":read";
- BILLING_ADMIN cannot touch the product catalog -> 403 on "catalog:*";
- only OWNER and ADMIN manage keys or send usage (an operator "key without ingestion permission" is
  seed 000's cause); customer keys only ingest and read their own usage and invoices;
- the platform-admin credential only creates tenants and recovers a tenant's OWNER key;
- GATEWAY (an API gateway's key, issue 15) only checks and meters requests ("gateway:check",
  "gateway:meter"), which among the other roles only OWNER and ADMIN may do;
- gateway integrations (issue 19): OWNER and ADMIN manage them, MEMBER and BILLING_ADMIN read them.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e import builders
from tests.e2e.conftest import client

pytestmark = pytest.mark.e2e

PRINCIPALS = ["none", "OWNER", "ADMIN", "MEMBER", "BILLING_ADMIN", "GATEWAY", "customer", "platform"]
GATEWAY_PERMISSIONS = {"gateway:check", "gateway:meter"}
CUSTOMER_PERMISSIONS = {"usage:ingest", "usage:read", "billing:read"}


def expected(rule: dict, principal: str) -> int | str:
    """'allowed' (anything but 401/403), or the status the seed says."""
    if rule["public"]:
        return "allowed"
    if principal == "none":
        return 401
    kind = {"customer": "customer", "platform": "platform"}.get(principal, "operator")
    if kind not in rule["kinds"]:
        return 401
    area, _, action = rule["permission"].partition(":")
    if kind == "platform":
        return "allowed" if area == "tenants" else 403
    if kind == "customer":
        return "allowed" if rule["permission"] in CUSTOMER_PERMISSIONS else 403
    if area == "tenants":
        return 403
    if principal == "GATEWAY":
        return "allowed" if rule["permission"] in GATEWAY_PERMISSIONS else 403
    if area == "gateway" and principal not in ("OWNER", "ADMIN"):
        return 403
    if principal == "MEMBER" and action != "read":
        return 403
    if principal == "BILLING_ADMIN" and area == "catalog":
        return 403
    if area in ("keys", "integrations") and action != "read" and principal not in ("OWNER", "ADMIN"):
        return 403
    if area == "keys" and principal not in ("OWNER", "ADMIN"):
        return 403
    if rule["permission"] == "usage:ingest" and principal not in ("OWNER", "ADMIN"):
        return 403
    return "allowed"


def operations(doc: dict):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, op


@pytest.fixture(scope="module")
def clients(server, owner) -> dict[str, httpx.Client]:
    out = {"none": client(server, None, None), "OWNER": owner}
    for role in ("ADMIN", "MEMBER", "BILLING_ADMIN", "GATEWAY"):
        r = owner.post("/v1/api-keys", json={"kind": "operator", "role": role, "name": f"matrix {role}"})
        assert r.status_code == 201, r.text
        out[role] = client(server, r.json()["secret"], server.tenant_id)
    customer_id = builders.customer(owner)["id"]
    r = owner.post("/v1/api-keys", json={"kind": "customer", "customer_id": customer_id, "name": "matrix customer"})
    assert r.status_code == 201, r.text
    out["customer"] = client(server, r.json()["secret"], server.tenant_id)
    out["platform"] = client(server, server.platform_key, None)
    return out


def test_every_documented_operation_declares_its_access(anonymous):
    doc = anonymous.get("/openapi.json").json()
    undeclared = [f"{m.upper()} {p}" for p, m, op in operations(doc) if "x-tollgate-access" not in op]
    assert not undeclared, f"routes without x-tollgate-access: {undeclared}"
    assert len(list(operations(doc))) >= 5


def test_route_role_and_key_kind_matrix(anonymous, clients):
    doc = anonymous.get("/openapi.json").json()
    failures, cells, wants = [], 0, set()
    for path, method, op in operations(doc):
        rule = op["x-tollgate-access"]
        concrete = re.sub(r"\{[^}]+\}", "zz_not_a_real_id", path)
        for principal in PRINCIPALS:
            want = expected(rule, principal)
            wants.add(want)
            body: dict | None = {} if method in ("post", "put", "patch") else None
            r = clients[principal].request(method.upper(), concrete, json=body)
            cells += 1
            got = r.status_code
            ok = got not in (401, 403) if want == "allowed" else got == want
            if not ok:
                failures.append(f"{method.upper()} {path} as {principal}: want {want}, got {got} {r.text[:160]}")
            if got in (401, 403):
                assert r.headers["content-type"] == "application/problem+json"
                assert r.json()["detail"]
    assert not failures, f"{len(failures)} of {cells} cells wrong:\n" + "\n".join(failures)
    assert wants == {"allowed", 401, 403}  # the matrix exercises every outcome
