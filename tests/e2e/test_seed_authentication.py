"""Seed 000, "Authentication": each numbered cause of "401 Unauthorized on every request" and each
item of "403 Forbidden", reproduced (the symptom) and then fixed as the seed says."""

from __future__ import annotations

import time

import pytest

from tests.e2e import builders
from tests.e2e.conftest import client

pytestmark = pytest.mark.e2e


def problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["X-Request-Id"]
    return r.json()


# 401, cause 1: missing header
def test_missing_authorization_header_is_401_until_both_headers_are_sent(server):
    body = problem(client(server, None, server.tenant_id).get("/v1/api-keys"), 401)
    assert "Authorization: Bearer" in body["detail"] and "X-Tenant-Id" in body["detail"]
    assert client(server, server.owner_key, server.tenant_id).get("/v1/api-keys").status_code == 200


def test_missing_tenant_header_is_401_until_both_headers_are_sent(server):
    body = problem(client(server, server.owner_key, None).get("/v1/api-keys"), 401)
    assert "X-Tenant-Id" in body["detail"]
    assert client(server, server.owner_key, server.tenant_id).get("/v1/api-keys").status_code == 200


def test_a_customer_key_needs_no_tenant_header_but_an_operator_key_does(server, owner):
    customer_id = builders.customer(owner)["id"]
    secret = owner.post("/v1/api-keys", json={"name": "c", "kind": "customer", "customer_id": customer_id}).json()
    customer = client(server, secret["secret"], None)
    assert customer.get("/v1/portal/me").status_code == 200
    assert problem(client(server, server.owner_key, None).get("/v1/customers"), 401)["code"] == "UNAUTHORIZED"
    assert problem(client(server, secret["secret"], "ten_someone_else").get("/v1/portal/me"), 401)


# 401, cause 2: wrong key prefix for the API
def test_an_operator_key_on_the_customer_api_is_401_until_the_customer_key_is_used(server, owner):
    body = problem(owner.get("/v1/portal/me"), 401)
    assert "sk_live_" in body["detail"] and "afo_" in body["detail"]
    customer_id = builders.customer(owner)["id"]
    created = owner.post("/v1/api-keys", json={"kind": "customer", "customer_id": customer_id}).json()
    assert created["secret"].startswith("sk_live_")
    me = client(server, created["secret"], server.tenant_id).get("/v1/portal/me")
    assert me.status_code == 200 and me.json()["customer_id"] == customer_id


def test_a_customer_key_on_the_management_api_is_401_until_the_operator_key_is_used(server, owner):
    created = owner.post(
        "/v1/api-keys", json={"kind": "customer", "customer_id": builders.customer(owner)["id"]}
    ).json()
    body = problem(client(server, created["secret"], server.tenant_id).get("/v1/api-keys"), 401)
    assert "afo_" in body["detail"]
    assert owner.get("/v1/api-keys").status_code == 200


def test_an_unrecognised_prefix_says_which_prefixes_exist(server):
    body = problem(client(server, "pk_live_123456", server.tenant_id).get("/v1/api-keys"), 401)
    assert "afo_" in body["detail"] and "sk_live_" in body["detail"]


# 401, cause 3: key revoked
def test_a_revoked_key_is_401_within_the_cache_ttl_until_a_new_key_is_created(server, owner):
    created = owner.post("/v1/api-keys", json={"kind": "operator", "role": "ADMIN", "name": "to revoke"}).json()
    admin = client(server, created["secret"], server.tenant_id)
    assert admin.get("/v1/api-keys").status_code == 200
    revoked = owner.delete(f"/v1/api-keys/{created['id']}")
    assert revoked.status_code == 200 and revoked.json()["status"] == "REVOKED"
    listed = {k["id"]: k["status"] for k in owner.get("/v1/api-keys").json()["data"]}
    assert listed[created["id"]] == "REVOKED"  # "check Settings → API Keys to confirm the key is active"
    deadline = time.monotonic() + server.stack.auth_cache_ttl_seconds + 2
    while (r := admin.get("/v1/api-keys")).status_code == 200:
        assert time.monotonic() < deadline, "revocation did not take effect within the authorizer cache TTL"
        time.sleep(0.2)
    assert "revoked" in problem(r, 401)["detail"]
    fresh = owner.post("/v1/api-keys", json={"kind": "operator", "role": "ADMIN"}).json()
    assert client(server, fresh["secret"], server.tenant_id).get("/v1/api-keys").status_code == 200


def test_a_key_sent_with_another_tenants_id_is_401_until_the_right_tenant_is_sent(server):
    other = server.stack.bootstrap_tenant("Someone else")
    body = problem(client(server, server.owner_key, other.tenant_id).get("/v1/api-keys"), 401)
    assert other.tenant_id in body["detail"] and server.tenant_id not in body["detail"]
    assert client(server, server.owner_key, server.tenant_id).get("/v1/api-keys").status_code == 200


# 403: insufficient permissions
def _key(owner, server, role: str):
    secret = owner.post("/v1/api-keys", json={"kind": "operator", "role": role}).json()["secret"]
    return client(server, secret, server.tenant_id)


def test_member_cannot_create_resources_until_an_admin_or_owner_key_is_used(server, owner):
    member = _key(owner, server, "MEMBER")
    assert member.get("/v1/api-keys").status_code == 403  # keys are OWNER/ADMIN only
    assert member.get("/v1/billing-events").status_code == 200  # a MEMBER reads
    body = problem(member.post("/v1/api-keys", json={"kind": "operator", "role": "MEMBER"}), 403)
    assert "MEMBER" in body["detail"] and "OWNER or ADMIN" in body["detail"]
    admin = _key(owner, server, "ADMIN")
    assert admin.post("/v1/api-keys", json={"kind": "operator", "role": "MEMBER"}).status_code == 201


def test_admin_cannot_manage_owner_keys_until_an_owner_key_is_used(server, owner):
    admin = _key(owner, server, "ADMIN")
    body = problem(admin.post("/v1/api-keys", json={"kind": "operator", "role": "OWNER"}), 403)
    assert "OWNER" in body["detail"]
    owner_key_id = next(k["id"] for k in owner.get("/v1/api-keys").json()["data"] if k["role"] == "OWNER")
    problem(admin.delete(f"/v1/api-keys/{owner_key_id}"), 403)
    assert owner.post("/v1/api-keys", json={"kind": "operator", "role": "OWNER"}).status_code == 201


def test_billing_admin_cannot_use_the_product_catalog_until_an_owner_key_is_used(server, owner):
    billing = _key(owner, server, "BILLING_ADMIN")
    body = problem(billing.get("/v1/products"), 403)
    assert "BILLING_ADMIN" in body["detail"] and "catalog" in body["detail"]
    assert billing.get("/v1/billing-events").status_code == 200
    assert owner.get("/v1/products").status_code == 200


def test_a_customer_key_needs_a_customer_of_the_tenant(server, owner):
    body = problem(owner.post("/v1/api-keys", json={"kind": "customer", "customer_id": "cus_nobody"}), 404)
    assert "cus_nobody" in body["detail"]


def test_the_required_role_of_each_endpoint_is_in_the_api_reference(anonymous):
    doc = anonymous.get("/openapi.json").json()
    access = doc["paths"]["/v1/api-keys"]["post"]["x-tollgate-access"]
    assert access == {"public": False, "permission": "keys:write", "kinds": ["operator"]}


def test_a_wrong_tenant_header_does_not_poison_the_cached_decision_for_a_key(server, owner):
    """The compatibility endpoints' authorizer caches on the Authorization header alone."""
    other = server.stack.bootstrap_tenant("Poison check")
    problem(client(server, server.owner_key, other.tenant_id).get("/v1/api-keys"), 401)
    assert client(server, server.owner_key, server.tenant_id).get("/v1/api-keys").status_code == 200
    assert client(server, server.owner_key, None).get("/compat/openmeter/api/v1/events").status_code != 401
