"""Tenant fairness (issue 16): each tenant has its own API request limit. Tenant A over its limit gets
429 TENANT_RATE_LIMITED with Retry-After and a detail naming its limit; tenant B, sending at the same time,
is unaffected. Only the platform admin sets a limit, bounded; a tenant's own key cannot."""

from __future__ import annotations

from tests.e2e.conftest import client


def _tenant(server, platform, name: str):
    r = platform.post("/v1/tenants", json={"name": name})
    assert r.status_code == 201, r.text
    body = r.json()
    return body["tenant_id"], client(server, body["owner_key"]["secret"], body["tenant_id"])


def test_tenant_a_over_its_limit_gets_429_and_tenant_b_is_unaffected(server):
    platform = client(server, server.platform_key, None)
    a_id, a = _tenant(server, platform, "noisy A")
    b_id, b = _tenant(server, platform, "quiet B")
    r = platform.put(f"/v1/tenants/{a_id}/rate-limit", json={"requests_per_second": 3})
    assert r.status_code == 200 and r.json() == {"tenant_id": a_id, "requests_per_second": 3, "default": False}
    assert platform.get(f"/v1/tenants/{b_id}/rate-limit").json()["default"] is True

    a_answers, b_answers = [], []
    while len(a_answers) < 40 and not any(r.status_code == 429 for r in a_answers):
        a_answers.append(a.get("/v1/customers"))  # faster than 3 a second: 4 in one window at the latest
        b_answers.append(b.get("/v1/customers"))
    refused = [r for r in a_answers if r.status_code == 429]
    assert refused and all(r.status_code == 200 for r in a_answers[:3])
    problem = refused[0]
    assert problem.headers["Content-Type"] == "application/problem+json" and problem.headers["Retry-After"] == "1"
    body = problem.json()
    assert body["code"] == "TENANT_RATE_LIMITED" and body["requests_per_second"] == 3
    assert f"tenant {a_id}'s API rate limit (3 requests per second)" in body["detail"]
    assert [r.status_code for r in b_answers] == [200] * len(b_answers)
    assert [b.get("/v1/customers").status_code for _ in range(5)] == [200] * 5  # while A is refused


def test_only_the_platform_sets_a_tenant_limit_within_bounds(server, owner):
    platform = client(server, server.platform_key, None)
    assert owner.put(f"/v1/tenants/{server.tenant_id}/rate-limit", json={"requests_per_second": 5000}).status_code in (
        401,
        403,
    )
    for bad in (0, 10**9, True, "7"):
        r = platform.put(f"/v1/tenants/{server.tenant_id}/rate-limit", json={"requests_per_second": bad})
        assert r.status_code == 422, (bad, r.text)
    assert platform.get(f"/v1/tenants/{server.tenant_id}/rate-limit").json()["default"] is True
    assert platform.put("/v1/tenants/ten_nope/rate-limit", json={"requests_per_second": 5}).status_code == 404
