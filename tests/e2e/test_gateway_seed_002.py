"""Seed 002 (Zuplo monetization troubleshooting) against the gateway check/meter API on the local stack,
one test per item about access, quota and metering (issue 15, "Done when"). Policies use a 1 s cache TTL.
"""

from __future__ import annotations

import threading
import uuid

import pytest

from tests.e2e import builders, gateway_kit
from tests.e2e.billing_kit import bill, ended_subscription, own_tenant, tenant_of
from tests.e2e.builders import ok, wait_for

pytestmark = pytest.mark.e2e


def _past_due(server, *, customer_metadata=None, plan_metadata=None, check_before=False):
    """A subscriber whose first payment attempt declined (PAST_DUE, overdue since now) with its key."""
    owner = own_tenant(server, f"gateway dunning {uuid.uuid4().hex[:6]}")
    ok(owner.put("/v1/settings/payments", json={"retry_schedule": ["P3D", "P5D", "P7D"]}))
    cust = builders.customer(owner, metadata=customer_metadata or {})
    ok(owner.put(f"/v1/customers/{cust['id']}/payment-method", json={"payment_method": "pm_card_chargeDeclined"}))
    p = builders.plan(owner, fee="30.00", metadata=plan_metadata or {})
    sub = ended_subscription(owner, cust["id"], p["id"])
    key = ok(owner.post(f"/v1/subscriptions/{sub['id']}/keys", json={}), 201)["secret"]
    ok(owner.post("/v1/gateway/policies", json={"routes": ["* /api/*"], "cache_ttl_seconds": 1}), 201)
    gateway = gateway_kit.gateway_client(server, owner)

    def check():
        return ok(gateway.post("/v1/gateway/check", json={"api_key": key, "method": "GET", "path": "/api/x"}))

    before = check() if check_before else None
    bill(tenant_of(owner), sub["id"])
    wait_for(lambda: ok(owner.get(f"/v1/subscriptions/{sub['id']}"))["status"] == "PAST_DUE", timeout=30)
    return check, before


def test_payment_overdue_past_the_grace_period_is_403_and_grace_0_blocks_at_once(server):
    # Customer metadata wins over the plan's (7 days): 0 blocks at once; the snapshot follows the event.
    check, before = _past_due(
        server,
        customer_metadata={"max_payment_overdue_days": "0"},
        plan_metadata={"max_payment_overdue_days": 7},
        check_before=True,
    )
    assert before["allowed"] is True
    denied = wait_for(lambda: (r := check()) and not r["allowed"] and r)
    problem = denied["problem"]
    assert denied["status"] == 403 and problem["code"] == "PAYMENT_OVERDUE"
    assert problem["detail"] == "Payment is overdue. Please update your payment method."
    assert problem["grace_period_days"] == 0 and problem["grace_ends_at"]


def test_grace_from_the_plan_when_the_customer_has_none(server):
    check, _ = _past_due(server, plan_metadata={"zuplo_max_payment_overdue_days": "0"})
    assert check()["problem"]["code"] == "PAYMENT_OVERDUE"


def test_within_the_default_three_day_grace_access_continues(server):
    check, _ = _past_due(server)
    got = check()
    assert got["allowed"] is True and got["status"] == 200


def test_wrong_or_old_key_is_403_key_invalid_pointing_to_the_active_key(server):
    s = gateway_kit.setup(server)
    assert s.check()["allowed"]
    unknown = s.check(key="sk_live_" + "x" * 43)
    assert unknown["status"] == 403 and unknown["problem"]["code"] == "KEY_INVALID"
    assert "developer portal" in unknown["problem"]["detail"]
    ok(s.owner.delete(f"/v1/api-keys/{s.key_id}"))
    revoked = wait_for(lambda: (r := s.check()) and not r["allowed"] and r)
    assert revoked["problem"]["code"] == "KEY_INVALID" and "revoked" in revoked["problem"]["detail"]
    missing = s.check(key="")
    assert missing["status"] == 401 and missing["problem"]["code"] == "KEY_MISSING"


def test_no_subscription_is_403_no_subscription(server):
    owner = own_tenant(server, "gateway no sub")
    cust = builders.customer(owner)
    key = ok(owner.post("/v1/api-keys", json={"kind": "customer", "customer_id": cust["id"]}), 201)["secret"]
    ok(owner.post("/v1/gateway/policies", json={"routes": ["GET /api/*"], "cache_ttl_seconds": 1}), 201)
    gateway = gateway_kit.gateway_client(server, owner)
    got = ok(gateway.post("/v1/gateway/check", json={"api_key": key, "method": "GET", "path": "/api/a"}))
    assert got["status"] == 403 and got["problem"]["code"] == "NO_SUBSCRIPTION"
    assert "subscribe to a plan" in got["problem"]["detail"]


def test_rate_limit_is_429_and_told_apart_from_the_quota(server):
    s = gateway_kit.setup(server, plan_metadata={"rate_limit_per_minute": "2"})
    first = s.check()
    assert first["allowed"] and first["cache_ttl_seconds"] == 0  # a rate-limited plan is asked every time
    assert s.check()["allowed"]
    limited = s.check()
    assert limited["status"] == 429 and limited["problem"]["code"] == "RATE_LIMITED"
    assert "not the usage quota" in limited["problem"]["detail"] and int(limited["headers"]["Retry-After"]) >= 1
    assert limited["meters"][s.meter["event_name"]]["remaining"] == "100"  # the quota is untouched


def test_default_status_filter_meters_only_2xx_and_a_200_policy_misses_201_which_diagnose_names(server):
    s = gateway_kit.setup(server)
    assert s.meter_call(500)["reason"] == "STATUS_NOT_METERED"
    assert s.meter_call(204)["reason"] == "METERED"
    assert s.meter_call(404, path="/elsewhere")["reason"] == "NOT_COVERED"
    ok(
        s.owner.put(
            f"/v1/gateway/policies/{s.policy['policy_id']}",
            json={
                "routes": ["POST /api/orders"],
                "meter_on_status_codes": "200",
                "meters": {s.meter["event_name"]: 1},
                "cache_ttl_seconds": 1,
            },
        )
    )
    missed = s.meter_call(201, method="POST", path="/api/orders")
    assert missed == {"metered": False, "reason": "STATUS_NOT_METERED"}
    diagnosis = ok(s.owner.get("/v1/ingest/diagnose"))
    text = str(diagnosis)
    assert "meter_on_status_codes" in text and "201" in text and "no policy covers" in text


def test_plan_change_reaches_the_gateway_within_the_ttl(server):
    s = gateway_kit.setup(server, limit="100")
    assert s.check()["meters"][s.meter["event_name"]]["limit"] == "100"
    bigger = builders.plan(s.owner, fee="20.00", entitlements=[{"meter_id": s.meter["id"], "limit": "1000"}])
    ok(s.owner.post(f"/v1/subscriptions/{s.subscription['id']}/upgrade", json={"plan_id": bigger["id"]}))
    wait_for(lambda: s.check()["meters"][s.meter["event_name"]]["limit"] == "1000", timeout=10)


def test_free_plan_with_a_hard_limit_is_a_spending_cap(server):
    s = gateway_kit.setup(server, fee="0", limit="2")
    for _ in range(2):
        assert s.meter_call()["reason"] == "METERED"
    capped = wait_for(lambda: (r := s.check()) and not r["allowed"] and r)
    assert capped["problem"]["code"] == "USAGE_LIMIT_REACHED" and capped["problem"]["limit"] == "2"
    # The crossing is announced through the outbox (GET /v1/billing-events).
    wanted = {"entitlement.threshold_reached", "entitlement.limit_reached"}

    def announced():
        events = ok(s.owner.get("/v1/billing-events", params={"type": "entitlement."}))["data"]
        return wanted <= {e["type"] for e in events} and events

    events = wait_for(announced, timeout=15)
    assert {e["data"]["percentage"] for e in events if e["type"] == "entitlement.threshold_reached"} == {80, 100}


def test_retries_are_metered_and_a_redelivered_request_id_counts_once(server):
    s = gateway_kit.setup(server)
    first, retry = s.meter_call(503), s.meter_call()  # a failed try is not metered; its retry is
    assert (first["reason"], retry["reason"]) == ("STATUS_NOT_METERED", "METERED")
    line = {"request_id": "req-log-1", "api_key": s.key, "method": "GET", "path": "/api/widgets", "status_code": 200}
    assert ok(s.gateway.post("/v1/gateway/meter", json=line), 202)["reason"] == "METERED"
    assert ok(s.gateway.post("/v1/gateway/meter", json=line), 202)["reason"] == "DUPLICATE"
    batch = ok(s.gateway.post("/v1/gateway/meter", json={"requests": [line, {**line, "request_id": "req-log-2"}]}), 202)
    assert [r["reason"] for r in batch["results"]] == ["DUPLICATE", "METERED"]
    # Access-log metering never sees the key: it names the subscription (of this tenant only).
    by_sub = {**line, "request_id": "req-log-3", "api_key": None, "subscription_id": s.subscription["id"]}
    assert ok(s.gateway.post("/v1/gateway/meter", json=by_sub), 202)["reason"] == "METERED"
    other = {**by_sub, "request_id": "req-log-4", "subscription_id": "sub_of_another_tenant"}
    assert ok(s.gateway.post("/v1/gateway/meter", json=other), 202)["reason"] == "KEY_INVALID"
    wait_for(lambda: s.check()["meters"][s.meter["event_name"]]["used"] == "4")


def test_strict_mode_fifty_concurrent_callers_against_100_get_exactly_100_allowed_and_metered(server):
    s = gateway_kit.setup(server, limit="100", policy={"limit_mode": "strict"})
    allowed: list[dict] = []
    lock = threading.Lock()

    def caller() -> None:
        for _ in range(3):
            got = s.check()
            if got["allowed"]:
                assert got["cache_ttl_seconds"] == 0  # a strict answer is never cached
                with lock:
                    allowed.append(got)
            else:
                assert got["problem"]["code"] == "USAGE_LIMIT_REACHED"

    threads = [threading.Thread(target=caller) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(allowed) == 100
    # The gateway meters the allowed requests after their responses (one batch, as an access-log shipper).
    line = {"api_key": s.key, "method": "GET", "path": "/api/widgets", "status_code": 200}
    batch = {"requests": [{**line, "request_id": f"strict-{n}"} for n in range(100)]}
    results = ok(s.gateway.post("/v1/gateway/meter", json=batch), 202)["results"]
    assert [r["reason"] for r in results] == ["METERED"] * 100
    wait_for(lambda: s.check()["meters"][s.meter["event_name"]]["used"] == "100", timeout=15)
