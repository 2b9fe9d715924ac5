"""Issue 13 class 7 over HTTP: a tenant cannot lock itself out by revoking its last OWNER key, and the
platform admin's documented recovery (POST /v1/tenants/{tenant_id}/owner-keys) mints a new one."""

from __future__ import annotations

import pytest

from tests.e2e.builders import ok
from tests.e2e.conftest import client

pytestmark = pytest.mark.e2e


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


def test_the_last_owner_key_cannot_be_revoked_and_the_platform_admin_can_mint_a_new_one(server):
    platform = client(server, server.platform_key, None)
    created = platform.post("/v1/tenants", json={"name": "lock-out e2e"})
    assert created.status_code == 201, created.text
    tenant_id, first = created.json()["tenant_id"], created.json()["owner_key"]
    owner = client(server, first["secret"], tenant_id)

    refused = _problem(owner.delete(f"/v1/api-keys/{first['id']}"), 409)
    assert refused["code"] == "LAST_OWNER_KEY" and "Create another OWNER key first" in refused["detail"]

    r = owner.post("/v1/api-keys", json={"kind": "operator", "role": "OWNER", "name": "second owner"})
    assert r.status_code == 201, r.text
    second = client(server, r.json()["secret"], tenant_id)
    assert ok(second.delete(f"/v1/api-keys/{first['id']}"))["status"] == "REVOKED"
    assert _problem(second.delete(f"/v1/api-keys/{r.json()['id']}"), 409)["code"] == "LAST_OWNER_KEY"

    # Recovery: the platform credential, no X-Tenant-Id; the new key is shown once and works.
    assert _problem(second.post(f"/v1/tenants/{tenant_id}/owner-keys", json={}), 401)["code"]
    recovered = platform.post(f"/v1/tenants/{tenant_id}/owner-keys", json={"name": "recovered"})
    assert recovered.status_code == 201, recovered.text
    key = recovered.json()
    assert key["role"] == "OWNER" and key["secret"].startswith("afo_") and key["name"] == "recovered"
    listed = ok(client(server, key["secret"], tenant_id).get("/v1/api-keys"))["data"]
    assert sum(k["role"] == "OWNER" and k["status"] == "ACTIVE" for k in listed) == 2

    assert _problem(platform.post("/v1/tenants/ten_missing/owner-keys", json={}), 404)["code"]


def test_a_huge_tenant_header_is_not_echoed_back(server, owner):
    r = client(server, server.owner_key, "x" * 100_000).get("/v1/api-keys")
    body = _problem(r, 401)
    assert len(r.content) < 2_000 and "100000 characters" in body["detail"]
