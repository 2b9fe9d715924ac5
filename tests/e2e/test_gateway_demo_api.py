"""Seed 002's access, quota and metering items, each through the demo API (``/demo-api/``, a Lambda-style
handler behind the SDK's Powertools middleware and the tenant's policies) on the local stack: what a
customer of a tenant's API sees, curl-style."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import pytest

from tests.e2e import builders, gateway_kit
from tests.e2e.billing_kit import bill, ended_subscription, own_tenant, tenant_of
from tests.e2e.builders import ok, wait_for

pytestmark = pytest.mark.e2e
ROUTES = ["GET /demo-api/widgets*", "POST /demo-api/orders", "GET /demo-api/status/*"]


@pytest.fixture
def demo(server):
    active = server.gateway.demo  # the demo API of the gateway serving server.url (not the last one made)
    yield active
    active.backend_down = False


def protect(demo, s: gateway_kit.Setup, fail_policy: str = "allow_known") -> None:
    key = s.gateway.headers["Authorization"].removeprefix("Bearer ")
    demo.configure(tenant_of(s.owner), key, fail_policy)  # type: ignore[arg-type]


def setup(server, demo, policy: dict | None = None, **kw) -> gateway_kit.Setup:
    s = gateway_kit.setup(server, policy={"routes": ROUTES, **(policy or {})}, **kw)
    protect(demo, s)
    return s


def call(server, key: str | None, path: str = "/demo-api/widgets", method: str = "GET") -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.request(method, f"{server.url}{path}", headers=headers, timeout=30)


def problem(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json" and r.headers["X-Request-Id"]
    body = r.json()
    assert body["code"] == code and body["detail"], body
    return body


def used(s: gateway_kit.Setup) -> Decimal:
    return Decimal(s.check(path="/demo-api/widgets")["meters"][s.meter["event_name"]]["used"])


def wait_used(s: gateway_kit.Setup, expected: int) -> None:
    wait_for(lambda: used(s) == expected, timeout=15)


# -- access: "Customer gets 403 Forbidden instead of expected access" ------------------------------------


def test_an_active_subscriber_is_allowed_and_metered_by_request_id(server, demo):
    s = setup(server, demo)
    r = call(server, s.key)
    assert r.status_code == 200 and r.json()["data"]
    wait_used(s, 1)


def test_wrong_key_and_missing_key(server, demo):
    setup(server, demo)
    body = problem(call(server, "sk_live_not_a_real_key"), 403, "KEY_INVALID")
    assert "not valid for this API" in body["detail"] and "portal" in body["detail"]
    problem(call(server, None), 401, "KEY_MISSING")
    assert call(server, None, "/demo-api/not-covered").status_code == 404  # not covered: not checked


def test_an_old_key_is_refused_once_revoked(server, demo):
    s = setup(server, demo)
    old = ok(s.owner.post(f"/v1/subscriptions/{s.subscription['id']}/keys", json={}), 201)
    assert call(server, old["secret"]).status_code == 200
    ok(s.owner.delete(f"/v1/api-keys/{old['id']}"))
    body = wait_for(lambda: (r := call(server, old["secret"])).status_code == 403 and r.json(), timeout=15)
    assert body["code"] == "KEY_INVALID" and "revoked" in body["detail"]
    assert call(server, s.key).status_code == 200  # the active key still works


def test_a_customer_without_a_subscription_is_refused(server, demo):
    s = setup(server, demo)
    cust = builders.customer(s.owner)
    key = ok(s.owner.post("/v1/api-keys", json={"kind": "customer", "customer_id": cust["id"]}), 201)["secret"]
    problem(call(server, key), 403, "NO_SUBSCRIPTION")


def _past_due_subscriber(s_owner: httpx.Client, plan: dict, customer_metadata: dict) -> str:
    """A customer whose first invoice's payment was declined (PAST_DUE), with its subscription key."""
    cust = builders.customer(s_owner, metadata=customer_metadata)
    ok(s_owner.put(f"/v1/customers/{cust['id']}/payment-method", json={"payment_method": "pm_card_chargeDeclined"}))
    sub = ended_subscription(s_owner, cust["id"], plan["id"])
    bill(tenant_of(s_owner), sub["id"])
    wait_for(lambda: ok(s_owner.get(f"/v1/subscriptions/{sub['id']}"))["status"] == "PAST_DUE", timeout=30)
    return ok(s_owner.post(f"/v1/subscriptions/{sub['id']}/keys", json={}), 201)["secret"]


def test_overdue_past_grace_is_refused_within_grace_allowed_grace_from_customer_then_plan_then_default(server, demo):
    owner = own_tenant(server, f"overdue {uuid.uuid4().hex[:6]}")
    s = gateway_kit.setup(server, owner=owner, policy={"routes": ROUTES})
    protect(demo, s)
    entitled = [{"meter_id": s.meter["id"], "limit": "100", "hard": True}]
    zero_plan = builders.plan(owner, fee="30.00", entitlements=entitled, metadata={"max_payment_overdue_days": 0})
    default_plan = builders.plan(owner, fee="30.00", entitlements=entitled)
    blocked = _past_due_subscriber(owner, zero_plan, {})  # plan says 0 days: blocked at once
    body = problem(call(server, blocked), 403, "PAYMENT_OVERDUE")
    assert body["detail"].startswith("Payment is overdue. Please update your payment method.")
    assert body["grace_ends_at"]
    customer_first = _past_due_subscriber(owner, zero_plan, {"zuplo_max_payment_overdue_days": "5"})
    r = call(server, customer_first)
    assert r.status_code == 200, r.text  # the customer's 5 days beat the plan's 0
    within_default = _past_due_subscriber(owner, default_plan, {})
    r = call(server, within_default)
    assert r.status_code == 200, r.text  # 3 days by default: still within grace


# -- quota: "Customer gets 403 Forbidden for quota exceeded" ----------------------------------------------


def test_quota_exceeded_names_the_meter_with_retry_after(server, demo):
    s = setup(server, demo, limit="3")
    for _ in range(3):
        assert call(server, s.key).status_code == 200
    wait_used(s, 3)
    r = wait_for(lambda: (r := call(server, s.key)).status_code == 403 and r, timeout=15)
    body = problem(r, 403, "USAGE_LIMIT_REACHED")
    assert body["meter"] == s.meter["event_name"] and s.meter["event_name"] in body["detail"]
    assert (body["limit"], body["used"]) == ("3", "3") and int(r.headers["Retry-After"]) > 0


def test_rate_limit_is_told_apart_from_the_quota(server, demo):
    s = setup(server, demo, limit="1000", plan_metadata={"rate_limit_per_minute": "2"}, policy={"limit_mode": "strict"})
    answers = [call(server, s.key) for _ in range(4)]  # 2 a minute (a window may roll over once meanwhile)
    statuses = [a.status_code for a in answers]
    assert statuses[:2] == [200, 200] and 429 in statuses, statuses
    r = answers[statuses.index(429)]
    body = problem(r, 429, "RATE_LIMITED")
    assert "rate limit" in body["detail"].lower() and int(r.headers["Retry-After"]) > 0
    assert body["code"] != "USAGE_LIMIT_REACHED"


def test_a_500_from_the_upstream_is_not_metered_a_200_is(server, demo):
    s = setup(server, demo)
    assert call(server, s.key, "/demo-api/status/500").status_code == 500
    assert call(server, s.key, "/demo-api/status/200").status_code == 200
    wait_used(s, 1)
    sink = demo.sink
    assert [r["reason"] for r in sink.results[-2:]] == ["STATUS_NOT_METERED", "METERED"]


def test_a_200_policy_misses_201s_and_diagnose_says_so(server, demo):
    s = setup(server, demo, policy={"meter_on_status_codes": "200"})
    r = call(server, s.key, "/demo-api/orders", "POST")
    assert r.status_code == 201
    sink = demo.sink
    assert sink.results[-1]["metered"] is False and sink.results[-1]["reason"] == "STATUS_NOT_METERED"
    assert used(s) == 0
    text = str(ok(s.owner.get("/v1/ingest/diagnose")))
    assert "meter_on_status_codes" in text and "201" in text, text


def test_increments_above_one_deplete_faster(server, demo):
    s = setup(server, demo, limit="10")
    ok(
        s.owner.put(
            f"/v1/gateway/policies/{s.policy['policy_id']}",
            json={"routes": ROUTES, "meters": {s.meter["event_name"]: 4}, "cache_ttl_seconds": 1},
        )
    )
    protect(demo, s)
    assert [call(server, s.key).status_code for _ in range(2)] == [200, 200]
    wait_used(s, 8)
    r = wait_for(lambda: (r := call(server, s.key)).status_code == 403 and r, timeout=15)
    assert r.json()["code"] == "USAGE_LIMIT_REACHED" and r.json()["used"] == "8"


def test_response_meters_replace_the_increment_and_never_reach_the_client(server, demo):
    s = setup(server, demo, policy={"routes": ["POST /demo-api/reports", *ROUTES]})
    r = call(server, s.key, "/demo-api/reports?credits=7", "POST")
    assert r.status_code == 200 and not any(h.lower().startswith("x-tollgate-meter") for h in r.headers)
    # the demo sets X-Tollgate-Meter-api_credits; the policy meters its own event name: only that counts
    wait_used(s, 1)


def test_plan_change_takes_effect_within_the_ttl(server, demo):
    s = setup(server, demo, limit="1")
    assert call(server, s.key).status_code == 200
    wait_used(s, 1)
    assert wait_for(lambda: call(server, s.key).status_code == 403, timeout=15)
    bigger = builders.plan(
        s.owner, fee="20.00", entitlements=[{"meter_id": s.meter["id"], "limit": "100", "hard": True}]
    )
    ok(s.owner.post(f"/v1/subscriptions/{s.subscription['id']}/upgrade", json={"plan_id": bigger["id"]}))
    assert wait_for(lambda: call(server, s.key).status_code == 200, timeout=15)


def test_a_free_plan_with_a_hard_limit_is_a_spending_cap(server, demo):
    s = setup(server, demo, limit="2", fee="0.00", policy={"limit_mode": "strict"})
    assert [call(server, s.key).status_code for _ in range(3)] == [200, 200, 403]


def test_retries_are_metered_each(server, demo):
    s = setup(server, demo)
    first, retry = call(server, s.key), call(server, s.key)  # a client retrying the same call
    assert (first.status_code, retry.status_code) == (200, 200)
    wait_used(s, 2)


# -- "What happens if Stripe is down?": the billing backend is unreachable ---------------------------------


def test_backend_down_keeps_known_customers_in_and_refuses_unknown_keys(server, demo):
    s = setup(server, demo)
    assert call(server, s.key).status_code == 200  # known now
    newcomer = ok(s.owner.post(f"/v1/subscriptions/{s.subscription['id']}/keys", json={}), 201)["secret"]
    demo.backend_down = True
    assert call(server, s.key).status_code == 200
    problem(call(server, newcomer), 503, "BILLING_UNAVAILABLE")
    demo.backend_down = False
    assert call(server, newcomer).status_code == 200  # its first request once the backend is back
