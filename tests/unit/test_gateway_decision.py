"""The gateway decision engine (issue 15), table-driven: every code in its order, with its detail,
numbers and Retry-After; grace resolution; the status filter and the set rule; policy validation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tollgate.domain.errors import InvalidInput
from tollgate.domain.gateway import status_codes, thresholds
from tollgate.domain.gateway.decision import decide, missing_key
from tollgate.domain.gateway.grace import grace_days
from tollgate.domain.gateway.metering import MeterReason, increments, judge
from tollgate.domain.gateway.policy import first_covering, parse_policy
from tollgate.domain.gateway.routes import route_matches
from tollgate.domain.gateway.snapshot import AccessSnapshot, KeyState, MeterState

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
PERIOD_END = datetime(2026, 12, 1, tzinfo=UTC)
D = Decimal


def policy(**fields):
    data = {"routes": ["GET /api/widgets*"], "meters": {"api_requests": 1}, **fields}
    return parse_policy(data, policy_id="pol_1", tenant_id="t", now=NOW)


def snap(**changes) -> AccessSnapshot:
    base = AccessSnapshot(
        tenant_id="t",
        key_id="key_1",
        key_state=KeyState.ACTIVE,
        built_at=NOW,
        key_display="sk_live_…abcd",
        customer_id="cus_1",
        subscription_id="sub_1",
        subscription_status="ACTIVE",
        plan_id="plan_1",
        plan_name="Pro",
        meters={
            "api_requests": MeterState("mtr_1", used=D(50), limit=D(100), hard=True, period_end=PERIOD_END),
            "tokens": MeterState("mtr_2", used=D(500), limit=D(100), hard=False, period_end=PERIOD_END),
        },
        features=frozenset({"export"}),
    )
    return replace(base, **changes)


OVERDUE = NOW - timedelta(days=2)
CASES = [
    # (name, snapshot, policy fields, increments, rate_retry_after, expected code)
    ("unknown key", None, {}, {"api_requests": D(1)}, None, "KEY_INVALID"),
    ("revoked key", snap(key_state=KeyState.REVOKED, key_note="it was revoked"), {}, {}, None, "KEY_INVALID"),
    ("no subscription", snap(subscription_id=None), {}, {}, None, "NO_SUBSCRIPTION"),
    ("cancelled", snap(subscription_status="CANCELLED"), {}, {}, None, "SUBSCRIPTION_INACTIVE"),
    ("expired", snap(subscription_status="EXPIRED"), {}, {}, None, "SUBSCRIPTION_INACTIVE"),
    ("first payment", snap(payment_required=True), {}, {}, None, "PAYMENT_REQUIRED"),
    ("overdue past grace", snap(overdue_since=OVERDUE, grace_days=1), {}, {}, None, "PAYMENT_OVERDUE"),
    ("grace 0 blocks at once", snap(overdue_since=NOW, grace_days=0), {}, {}, None, "PAYMENT_OVERDUE"),
    ("within grace", snap(overdue_since=OVERDUE, grace_days=3), {}, {}, None, None),
    ("free plan passes payment", snap(overdue_since=OVERDUE, grace_days=0, free=True), {}, {}, None, None),
    ("uncollectible", snap(uncollectible=True), {}, {}, None, "INVOICE_UNCOLLECTIBLE"),
    ("meter not in plan", snap(), {}, {"credits": D(1)}, None, "FEATURE_NOT_FOUND"),
    ("hard limit", snap(), {}, {"api_requests": D(51)}, None, "USAGE_LIMIT_REACHED"),
    ("hard limit exactly reached", snap(), {}, {"api_requests": D(50)}, None, None),
    ("soft limit never blocks", snap(), {}, {"tokens": D(1000)}, None, None),
    ("feature off", snap(features=frozenset()), {"features": ["export"]}, {}, None, "FEATURE_UNAVAILABLE"),
    ("empty wallet", snap(prepaid=True, wallet_balance=D(0), currency="USD"), {}, {}, None, "NO_CREDIT_AVAILABLE"),
    ("wallet with credit", snap(prepaid=True, wallet_balance=D("0.01")), {}, {}, None, None),
    ("rate limit", snap(rate_limit=(10, 1)), {}, {}, 1, "RATE_LIMITED"),
    ("order: key before payment", snap(key_state=KeyState.REVOKED, payment_required=True), {}, {}, None, "KEY_INVALID"),
    ("order: payment before quota", snap(payment_required=True), {}, {"api_requests": D(99)}, None, "PAYMENT_REQUIRED"),
    ("order: quota before rate", snap(rate_limit=(1, 1)), {}, {"api_requests": D(99)}, 1, "USAGE_LIMIT_REACHED"),
    ("allow", snap(), {}, {"api_requests": D(1)}, None, None),
]


@pytest.mark.parametrize(
    ("snapshot", "fields", "incs", "rate", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_code_in_its_order(snapshot, fields, incs, rate, code):
    got = decide(snapshot, policy(**fields), incs, NOW, rate_retry_after=rate)
    if code is None:
        assert got.allowed and got.status(None) == 200 and got.problem(None) is None
        return
    problem = got.problem(None)
    assert not got.allowed and problem["code"] == code and problem["detail"]
    assert problem["status"] == (429 if code == "RATE_LIMITED" else 403)


def test_usage_limit_names_the_meter_with_numbers_and_retry_after_until_the_reset():
    got = decide(snap(), policy(), {"api_requests": D(51)}, NOW)
    problem = got.problem(None)
    assert problem["meter"] == "api_requests" and (problem["limit"], problem["used"]) == ("100", "50")
    assert problem["resets_at"] == "2026-12-01T00:00:00Z" and "'api_requests'" in problem["detail"]
    assert got.headers() == {"Retry-After": str(int((PERIOD_END - NOW).total_seconds()))}
    assert got.meters["api_requests"] == {
        "limit": "100",
        "used": "50",
        "remaining": "50",
        "hard": True,
        "resets_at": "2026-12-01T00:00:00Z",
    }


def test_payment_overdue_says_so_with_the_grace_end():
    problem = decide(snap(overdue_since=OVERDUE, grace_days=1), policy(), {}, NOW).problem(None)
    assert problem["detail"] == "Payment is overdue. Please update your payment method."
    assert problem["grace_ends_at"] == "2026-11-14T12:00:00Z"


def test_rate_limit_is_told_apart_from_the_quota():
    problem = decide(snap(rate_limit=(10, 1)), policy(), {}, NOW, rate_retry_after=1).problem(None)
    assert "rate limit" in problem["detail"] and "not the usage quota" in problem["detail"]


def test_key_problems_point_to_the_active_key_and_a_missing_key_is_401():
    assert "developer portal" in decide(None, policy(), {}, NOW).problem(None)["detail"]
    missing = missing_key("X-Api-Key", "")
    assert missing.problem(None)["status"] == 401 and "X-Api-Key: <key>" in missing.problem(None)["detail"]


def test_a_period_past_its_end_counts_from_zero():
    later = PERIOD_END + timedelta(minutes=1)
    assert decide(snap(), policy(), {"api_requests": D(100)}, later).allowed


def test_strict_counter_replaces_the_snapshot_usage():
    got = decide(snap(), policy(limit_mode="strict"), {"api_requests": D(1)}, NOW, used={"api_requests": D(100)})
    assert got.problem(None)["used"] == "100"


def test_error_overrides_map_a_code_to_another_status_and_add_fields():
    p = policy(error_overrides={"USAGE_LIMIT_REACHED": {"status": 429, "extra": {"upgrade_url": "https://x"}}})
    got = decide(snap(), p, {"api_requests": D(51)}, NOW)
    assert got.status(p) == 429 and got.problem(p)["upgrade_url"] == "https://x" and got.problem(p)["status"] == 429


@pytest.mark.parametrize(
    ("customer", "plan", "tenant", "days"),
    [
        ({"max_payment_overdue_days": "5"}, {"max_payment_overdue_days": "7"}, 2, 5),
        ({"zuplo_max_payment_overdue_days": "1"}, {}, 2, 1),
        ({}, {"zuplo_max_payment_overdue_days": 7}, 2, 7),
        ({}, {}, 2, 2),
        ({}, {}, None, 3),
        ({"max_payment_overdue_days": "0"}, {"max_payment_overdue_days": "7"}, 2, 0),
        ({"max_payment_overdue_days": "soon"}, {}, None, 3),
    ],
)
def test_grace_from_customer_then_plan_then_tenant_then_three_days(customer, plan, tenant, days):
    assert grace_days(customer, plan, tenant) == days


@pytest.mark.parametrize(
    ("value", "status", "metered"),
    [
        (None, 200, True),
        (None, 201, True),
        (None, 500, False),
        ("200", 201, False),
        ("200, 201, 300-304", 302, True),
        (["200", 404], 404, True),
        ("100-599", 503, True),
    ],
)
def test_meter_on_status_codes(value, status, metered):
    assert status_codes.covers(status_codes.parse(value), status) is metered


@pytest.mark.parametrize("value", ["*", " * ", ["*"], "abc", "200-100", "99", "", [], True, "600"])
def test_bad_status_codes_are_refused_with_a_clear_422(value):
    with pytest.raises(InvalidInput) as err:
        status_codes.parse(value)
    assert err.value.extra["field"] == "meter_on_status_codes"
    if value in ("*", " * ", ["*"]):
        assert err.value.code == "STATUS_WILDCARD_REFUSED" and "100-599" in err.value.detail


def test_routes_glob_and_first_policy_in_creation_order_wins():
    assert route_matches("GET /api/widgets*", "get", "/api/widgets/1/parts")
    assert not route_matches("GET /api/widgets*", "POST", "/api/widgets")
    assert route_matches("* /api/*/items", "DELETE", "/api/a/b/items")
    assert not route_matches("POST /api/orders", "POST", "/api/orders/1")
    first, second = policy(), replace(policy(), policy_id="pol_2")
    assert first_covering([first, second], "GET", "/api/widgets").policy_id == "pol_1"
    assert first_covering([first], "GET", "/other") is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"routes": []}, "routes"),
        ({"routes": ["FETCH /x"]}, "routes[0]"),
        ({"meters": {"a": 0}}, "meters.a"),
        ({"cache_ttl_seconds": 0}, "cache_ttl_seconds"),
        ({"fail_policy": "maybe"}, "fail_policy"),
        ({"limit_mode": "fast"}, "limit_mode"),
        ({"error_overrides": {"NOPE": {}}}, "error_overrides.NOPE"),
        ({"max_stale_seconds": 86401}, "max_stale_seconds"),
        ({"auth_header": "Bad Header"}, "auth_header"),
    ],
)
def test_policy_validation_names_the_field(fields, field):
    with pytest.raises(InvalidInput) as err:
        policy(**fields)
    assert err.value.extra["field"] == field


def test_policy_defaults():
    p = policy()
    assert (p.cache_ttl_seconds, p.max_stale_seconds, p.fail_policy.value, p.limit_mode.value) == (
        60,
        3600,
        "allow_known",
        "cached",
    )
    assert status_codes.text(p.status_ranges) == "200-299" and p.threshold_percentages == (80, 100)


def test_metering_status_filter_and_the_set_rule():
    p = policy(meters={"api_requests": 1, "credits": 10})
    assert judge(None, None, 200) is MeterReason.NOT_COVERED
    assert judge(p, None, 500) is MeterReason.STATUS_NOT_METERED
    assert judge(p, None, 204) is None
    assert increments(p, None, {"credits": D(150)}) == {"api_requests": D(1), "credits": D(150)}
    assert increments(p, {"api_requests": D(3)}, None) == {"api_requests": D(3)}


def test_threshold_limit_and_reset_events_fire_once_per_crossing():
    old = snap()
    meters = dict(old.meters)
    meters["api_requests"] = replace(meters["api_requests"], used=D(100))
    new = replace(old, meters=meters, built_at=NOW + timedelta(seconds=1))
    types = sorted(e.type for e in thresholds.changes(old, new, [80, 100], NOW))
    assert types == ["entitlement.limit_reached", "entitlement.threshold_reached", "entitlement.threshold_reached"]
    assert thresholds.changes(new, new, [80, 100], NOW) == []
    moved = replace(new, meters={"api_requests": replace(meters["api_requests"], used=D(0), period_start=PERIOD_END)})
    assert [e.type for e in thresholds.changes(new, moved, [80], NOW)] == ["entitlement.reset"]
    cancelled = replace(new, subscription_status="CANCELLED")
    assert [e.type for e in thresholds.changes(new, cancelled, [80], NOW)] == ["access.changed"]
