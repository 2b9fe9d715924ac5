"""Issue 15 over HTTP on the local stack: POST /v1/gateway/check, POST /v1/gateway/meter, the policies
CRUD and Envoy's ext_authz, item by item of seed 002 ("Customer gets 403 Forbidden", "quota exceeded",
"Usage dashboard shows zero", FAQ)."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e import gateway_kit
from tests.e2e.builders import ok, wait_for

pytestmark = pytest.mark.e2e


def test_an_active_subscriber_is_allowed_and_sees_its_remaining_quota(server):
    s = gateway_kit.setup(server)
    got = s.check()
    assert got["allowed"] is True and got["status"] == 200 and got["problem"] is None
    assert got["subscription_id"] == s.subscription["id"] and got["customer_id"] == s.customer["id"]
    assert got["meters"][s.meter["event_name"]]["remaining"] == "100"
    assert got["policy"]["policy_id"] == s.policy["policy_id"] and got["cache_ttl_seconds"] == 1


def test_quota_exceeded_names_the_meter_and_increments_above_one_deplete_faster(server):
    s = gateway_kit.setup(server, limit="10", policy={"meters": {}})
    name = s.meter["event_name"]
    ok(
        s.owner.put(
            f"/v1/gateway/policies/{s.policy['policy_id']}",
            json={"routes": ["GET /api/widgets*"], "meters": {name: 4}, "cache_ttl_seconds": 1},
        )
    )
    for _ in range(2):
        got = s.meter_call()
        assert got["reason"] == "METERED", got
    denied = wait_for(lambda: (r := s.check()) and not r["allowed"] and r)
    problem = denied["problem"]
    assert denied["status"] == 403 and problem["code"] == "USAGE_LIMIT_REACHED" and problem["meter"] == name
    assert (problem["limit"], problem["used"]) == ("10", "8") and name in problem["detail"]
    assert int(denied["headers"]["Retry-After"]) > 0 and problem["resets_at"]


def test_envoy_ext_authz_answers_with_the_decision_as_its_status(server):
    s = gateway_kit.setup(server)
    gateway_key = s.gateway.headers["Authorization"].removeprefix("Bearer ")
    envoy = httpx.Client(
        base_url=server.url,
        timeout=30,
        headers={"X-Tollgate-Gateway-Key": gateway_key, "X-Tenant-Id": s.gateway.headers["X-Tenant-Id"]},
    )
    allowed = envoy.get("/v1/gateway/ext-authz/api/widgets/7", headers={"Authorization": f"Bearer {s.key}"})
    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["X-Tollgate-Subscription-Id"] == s.subscription["id"]
    assert allowed.headers[f"X-Tollgate-Remaining-{s.meter['event_name']}"] == "100"
    missing = envoy.post("/v1/gateway/ext-authz/api/orders")
    assert missing.status_code == 401 and missing.json()["code"] == "KEY_MISSING"
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = envoy.get("/v1/gateway/ext-authz/api/widgets", headers={"Authorization": "Bearer sk_live_nope"})
    assert wrong.status_code == 403 and wrong.json()["code"] == "KEY_INVALID"
    assert envoy.get("/v1/gateway/ext-authz/not/covered").status_code == 200
    no_gateway_key = httpx.get(
        f"{server.url}/v1/gateway/ext-authz/api/widgets", headers={"Authorization": f"Bearer {s.key}"}
    )
    assert no_gateway_key.status_code == 401
