"""Issue 8 over HTTP: POST /v1/ingest/events, every rule with its code, exactly-once, keys, rate limits,
the event log, the usage query per window and aggregation, and the domain events."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from tests.e2e.ingest_kit import ago, event, fresh_tenant, ok, problem, unique

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def t(server):
    return fresh_tenant(server, "ingest api")


@pytest.fixture
def setup(t):
    """A SUM-of-credits meter and a customer of their own for each test."""
    meter = t.meter()
    customer = t.customer()
    return meter["event_name"], customer["external_id"], meter, customer


def codes(body: dict) -> list[str]:
    return [r["code"] for r in body["rejected"]]


# -- accepted -----------------------------------------------------------------------------------------


def test_one_event_and_a_batch_are_accepted_and_aggregated_within_5_seconds(t, setup):
    name, cust, _, _ = setup
    assert t.send(event(cust, name, 2)) == {"accepted": 1, "duplicates": 0, "rejected": [], "warnings": []}
    started = time.monotonic()
    body = t.send({"events": [event(cust, name, 3), event(cust, name, Decimal("0.25"))]})
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 0, [])
    t.wait_usage(cust, name, "5.25", timeout=5)
    assert time.monotonic() - started < 5


def test_defaults_quantity_1_and_timestamp_now_and_a_bare_array_is_a_batch(t):
    meter = t.meter(function="SUM", field="quantity")
    cust = t.customer()["external_id"]
    ok(
        t.owner.post(
            "/v1/ingest/events",
            json=[{"event_name": meter["event_name"], "external_customer_id": cust, "event_id": unique("e")}],
        ),
        202,
    )
    t.send({"event_name": meter["event_name"], "external_customer_id": cust, "quantity": 4, "event_id": unique("e")})
    t.wait_usage(cust, meter["event_name"], 5)


def test_numbers_are_exact_decimals_never_floats(t, setup):
    name, cust, _, _ = setup
    t.send({"events": [event(cust, name, Decimal("0.1")) for _ in range(3)]})
    assert t.wait_usage(cust, name, "0.3")["value"] == "0.3"  # 0.1 + 0.1 + 0.1 as floats is 0.30000000000000004


def test_more_than_1000_events_is_413(t, setup):
    name, cust, _, _ = setup
    body = problem(t.owner.post("/v1/ingest/events", json={"events": [event(cust, name)] * 1001}), 413)
    assert "1000" in body["detail"] and body["code"] == "BATCH_TOO_LARGE"


def test_invalid_json_and_a_malformed_single_event_are_400(t):
    r = t.owner.post("/v1/ingest/events", content=b'{"event_name": ', headers={"Content-Type": "application/json"})
    assert problem(r, 400)["code"] == "INVALID_JSON"
    body = t.send({"external_customer_id": "cust_123"}, status=400)
    assert body["code"] == "MISSING_EVENT_NAME" and "event_name is required" in body["detail"]
    assert problem(t.owner.post("/v1/ingest/events", json={"events": "nope"}), 400)["code"] == "INVALID_BATCH"


# -- rejections, each with its code ------------------------------------------------------------------------


def test_unknown_meter_says_metric_not_found_and_did_you_mean_when_only_case_differs(t):
    meter = t.meter(event_name=unique("model.usage"))
    cust = t.customer()["external_id"]
    wrong_case = meter["event_name"].replace("model.usage", "Model.Usage")
    body = t.send({"events": [event(cust, wrong_case), event(cust, unique("nothing.like.it"))]})
    assert codes(body) == ["METER_NOT_FOUND", "METER_NOT_FOUND"]
    assert body["rejected"][0]["detail"].startswith("metric not found")
    assert f"Did you mean '{meter['event_name']}'" in body["rejected"][0]["detail"]
    assert "Did you mean" not in body["rejected"][1]["detail"] and "GET /v1/meters" in body["rejected"][1]["detail"]


def test_archived_meter(t, setup):
    name, cust, meter, _ = setup
    ok(t.owner.post(f"/v1/meters/{meter['id']}/archive"))
    body = t.send(event(cust, name))
    assert codes(body) == ["METER_ARCHIVED"] and f"/v1/meters/{meter['id']}/activate" in body["rejected"][0]["detail"]


def test_unknown_customer(t, setup):
    name, _, _, _ = setup
    body = t.send(event("cust_nobody", name))
    assert codes(body) == ["CUSTOMER_NOT_FOUND"] and "POST /v1/customers" in body["rejected"][0]["detail"]


def test_aggregation_field_missing_names_what_was_sent(t, setup):
    name, cust, _, _ = setup
    body = t.send(
        {"event_id": unique("e"), "event_name": name, "external_customer_id": cust, "properties": {"tokens": 2}}
    )
    assert codes(body) == ["AGGREGATION_FIELD_MISSING"]
    assert "properties.credits" in body["rejected"][0]["detail"] and "'tokens'" in body["rejected"][0]["detail"]


@pytest.mark.parametrize("function", ["SUM", "MAX", "AVG"])
def test_a_string_number_is_rejected_for_numeric_aggregations(t, function):
    meter = t.meter(function=function)
    cust = t.customer()["external_id"]
    body = t.send(event(cust, meter["event_name"], "2"))
    assert codes(body) == ["AGGREGATION_FIELD_NOT_NUMERIC"]
    assert (
        "the string '2'" in body["rejected"][0]["detail"] and "credits: 2 (no quotes)" in body["rejected"][0]["detail"]
    )
    assert codes(t.send(event(cust, meter["event_name"], True))) == ["AGGREGATION_FIELD_NOT_NUMERIC"]


def test_unique_count_takes_strings_and_numbers_but_not_objects(t):
    meter = t.meter(function="UNIQUE_COUNT", field="properties.user_id")
    cust = t.customer()["external_id"]
    events = [
        {
            "event_id": unique("e"),
            "event_name": meter["event_name"],
            "external_customer_id": cust,
            "properties": {"user_id": v},
        }
        for v in ("u1", "u2", "u1", 7, Decimal("7.0"))
    ]
    body = t.send({"events": [*events, {**events[0], "event_id": unique("e"), "properties": {"user_id": {"id": 1}}}]})
    assert body["accepted"] == 5 and codes(body) == ["AGGREGATION_FIELD_INVALID"]
    t.wait_usage(cust, meter["event_name"], 3)  # u1, u2 and 7 (7 == 7.0)


def test_filters_not_matching_are_rejected_with_the_filter_named(t):
    meter = t.meter(filters={"model": "gpt-4"})
    cust = t.customer()["external_id"]
    good = {**event(cust, meter["event_name"]), "properties": {"credits": 2, "model": "gpt-4"}}
    bad = {**event(cust, meter["event_name"]), "properties": {"credits": 2, "model": "gpt-3"}}
    body = t.send({"events": [good, bad]})
    assert body["accepted"] == 1 and codes(body) == ["FILTER_NOT_MATCHED"]
    assert "model='gpt-4'" in body["rejected"][0]["detail"] and "model='gpt-3'" in body["rejected"][0]["detail"]


def test_more_than_90_days_old_is_400_alone_and_rejected_in_a_batch(t, setup):
    name, cust, _, _ = setup
    old = event(cust, name, timestamp=ago(days=91))
    assert t.send(old, status=400)["code"] == "TIMESTAMP_TOO_OLD"
    body = t.send({"events": [old, event(cust, name, timestamp=ago(days=89))]})
    assert codes(body) == ["TIMESTAMP_TOO_OLD"] and body["accepted"] == 1


def test_more_than_5_minutes_in_the_future_is_rejected_for_clock_skew(t, setup):
    name, cust, _, _ = setup
    ahead = event(cust, name, timestamp=ago(minutes=-6))
    body = t.send(ahead, status=400)
    assert body["code"] == "TIMESTAMP_IN_FUTURE" and "clock skew" in body["detail"]
    body = t.send({"events": [ahead, event(cust, name, timestamp=ago(minutes=-4))]})
    assert codes(body) == ["TIMESTAMP_IN_FUTURE"] and body["accepted"] == 1


def test_24_hours_or_more_in_the_past_is_accepted_and_flagged_late(t, setup):
    name, cust, _, _ = setup
    late = event(cust, name, 5, timestamp=ago(hours=24, seconds=1))
    body = t.send({"events": [late, event(cust, name, 1, timestamp=ago(hours=23))]})
    assert body["accepted"] == 2 and body["rejected"] == []
    assert [w["code"] for w in body["warnings"]] == ["LATE_EVENT"] and body["warnings"][0]["index"] == 0
    t.wait_usage(cust, name, 6)
    logged = {e["event_id"]: e["status"] for e in t.log(external_customer_id=cust)}
    assert logged[late["event_id"]] == "LATE"


def test_a_timestamp_without_offset_or_not_rfc3339_is_rejected(t, setup):
    name, cust, _, _ = setup
    body = t.send(
        {"events": [event(cust, name, timestamp="2026-04-17 10:00:00"), event(cust, name, timestamp="yesterday")]}
    )
    assert codes(body) == ["INVALID_TIMESTAMP", "INVALID_TIMESTAMP"]


# -- exactly once ---------------------------------------------------------------------------------------


def test_same_event_id_and_payload_is_a_duplicate_and_changes_nothing(t, setup):
    name, cust, _, _ = setup
    e = event(cust, name, 7)
    assert t.send(e)["accepted"] == 1
    assert t.send(e) == {"accepted": 0, "duplicates": 1, "rejected": [], "warnings": []}
    t.settle()
    t.wait_usage(cust, name, 7)


def test_same_event_id_with_another_payload_is_an_idempotency_conflict(t, setup):
    name, cust, _, _ = setup
    e = event(cust, name, 7)
    t.send(e)
    changed = {**e, "properties": {"credits": 8}}
    body = t.send(changed, status=409)
    assert body["code"] == "IDEMPOTENCY_CONFLICT" and e["event_id"] in body["detail"]
    assert codes(t.send({"events": [changed]})) == ["IDEMPOTENCY_CONFLICT"]
    t.settle()
    t.wait_usage(cust, name, 7)


def test_retrying_a_whole_batch_after_a_timeout_never_double_counts(t, setup):
    name, cust, _, _ = setup
    batch = {"events": [event(cust, name, 1) for _ in range(50)]}
    assert t.send(batch)["accepted"] == 50
    for _ in range(2):  # the client never saw the answer: it sends the batch again
        assert t.send(batch)["duplicates"] == 50
    t.settle()
    t.wait_usage(cust, name, 50)


def test_the_same_event_id_twice_in_one_batch_counts_once(t, setup):
    name, cust, _, _ = setup
    e = event(cust, name, 3)
    body = t.send({"events": [e, e, {**e, "properties": {"credits": 4}}]})
    assert (body["accepted"], body["duplicates"], codes(body)) == (1, 1, ["IDEMPOTENCY_CONFLICT"])
    t.wait_usage(cust, name, 3)


def test_three_identical_events_without_event_id_count_three_with_one_event_id_once(t, setup):
    """Issue 18 (seed 001 sends one api.calls event per call, without event_id): each is a new event, and
    the 202 warns that a retry would count it again; the same event with an event_id counts once."""
    name, cust, _, _ = setup
    bare = {"event_name": name, "external_customer_id": cust, "properties": {"credits": 2}}
    answers = [t.send(bare) for _ in range(3)]
    assert [a["accepted"] for a in answers] == [1, 1, 1]
    warned = [w for a in answers for w in a["warnings"] if w["code"] == "EVENT_ID_ASSIGNED"]
    assert len({w["event_id"] for w in warned}) == 3 and "retry" in warned[0]["detail"]
    keyed = {**bare, "event_id": unique("a")}
    assert [t.send(keyed)["accepted"] for _ in range(3)] == [1, 0, 0]
    t.wait_usage(cust, name, 8)


# -- keys ---------------------------------------------------------------------------------------------------


def test_a_customer_key_ingests_for_its_own_customer_only(t, setup):
    name, cust, _, customer = setup
    other = t.customer()["external_id"]
    ck = t.customer_client(customer["id"])
    assert t.send({"event_id": unique("e"), "event_name": name, "properties": {"credits": 1}}, c=ck)["accepted"] == 1
    assert t.send(event(cust, name, 1), c=ck)["accepted"] == 1
    body = t.send(event(other, name, 1), c=ck, status=403)
    assert body["code"] == "CUSTOMER_NOT_ALLOWED"
    assert codes(t.send({"events": [event(other, name, 1)]}, c=ck)) == ["CUSTOMER_NOT_ALLOWED"]
    t.wait_usage(cust, name, 2)
    # It reads its own usage and event log, not another customer's.
    assert Decimal(ok(ck.get("/v1/usage", params={"event_name": name, "from": ago(days=1)}))["value"]) == 2
    assert problem(ck.get("/v1/usage", params={"event_name": name, "external_customer_id": other}), 404)
    assert {e["external_customer_id"] for e in ok(ck.get("/v1/ingest/events"))["data"]} == {cust}


def test_operator_keys_need_usage_ingest(t, setup):
    name, cust, _, _ = setup
    for role in ("OWNER", "ADMIN"):
        assert t.send(event(cust, name), c=t.operator(role))["accepted"] == 1
    for role in ("MEMBER", "BILLING_ADMIN"):
        body = problem(t.operator(role).post("/v1/ingest/events", json=event(cust, name)), 403)
        assert "usage:ingest" in body["detail"]


# -- rate limits ---------------------------------------------------------------------------------------------


def test_exceeding_the_ingestion_rate_answers_429_with_retry_after(server):
    own = fresh_tenant(server, "rate limited")
    name = own.meter()["event_name"]
    cust = own.customer()["external_id"]
    settings = ok(
        own.owner.put("/v1/ingest/settings", json={"rate_limit_per_second": 30, "key_rate_limit_per_second": 20})
    )
    assert settings["rate_limit_per_second"] == 30 and settings["key_rate_limit_per_second"] == 20
    r = own.owner.post("/v1/ingest/events", json={"events": [event(cust, name) for _ in range(21)]})
    assert problem(r, 429)["code"] == "RATE_LIMITED" and r.headers["Retry-After"] == "1"
    # Within one second: 15 pass, 15 more exceed the key's 20 events/s.
    for _ in range(3):
        first = own.owner.post("/v1/ingest/events", json={"events": [event(cust, name) for _ in range(15)]})
        second = own.owner.post("/v1/ingest/events", json={"events": [event(cust, name) for _ in range(15)]})
        if first.status_code == 202 and second.status_code == 429:
            break
        time.sleep(1)
    assert second.status_code == 429 and int(second.headers["Retry-After"]) >= 1
    body = second.json()
    assert "events per second" in body["detail"] and "backoff" in body["detail"]
    time.sleep(1.1)
    assert own.send({"events": [event(cust, name) for _ in range(15)]})["accepted"] == 15
    assert problem(own.operator("MEMBER").put("/v1/ingest/settings", json={"retention_days": 5}), 403)
    assert problem(own.owner.put("/v1/ingest/settings", json={"retention_days": 0}), 422)


# -- the event log (Event Debugger) --------------------------------------------------------------------------


def test_the_event_log_filters_by_customer_meter_status_and_time(t):
    m1, m2 = t.meter(), t.meter(function="COUNT")
    a, b = t.customer()["external_id"], t.customer()["external_id"]
    t.send(
        {
            "events": [
                event(a, m1["event_name"], 1),
                event(b, m1["event_name"], 1),
                event(a, m2["event_name"]),
                event(a, "Nope.Meter"),
            ]
        }
    )
    dup = event(a, m1["event_name"], 5)
    t.send(dup)
    t.send(dup)
    of_a = t.log(external_customer_id=a)
    assert {e["status"] for e in of_a} == {"ACCEPTED", "REJECTED", "DUPLICATE"}
    assert all(e["external_customer_id"] == a for e in of_a)
    rejected = t.log(external_customer_id=a, status="REJECTED")
    assert [e["code"] for e in rejected] == ["METER_NOT_FOUND"] and rejected[0]["reason"].startswith("metric not found")
    assert rejected[0]["payload"]["event_name"] == "Nope.Meter"
    by_meter = t.log(event_name=m1["event_name"], status="ACCEPTED")
    assert {e["external_customer_id"] for e in by_meter} == {a, b} and {e["meter_id"] for e in by_meter} == {m1["id"]}
    accepted = t.log(external_customer_id=a, event_name=m1["event_name"], status="ACCEPTED")
    assert sorted(e["properties"]["credits"] for e in accepted) == [1, 5]
    assert t.log(external_customer_id=a, to=ago(hours=1)) == []
    assert len(t.log(external_customer_id=a, limit=2)) == 2
    newest_first = [e["received_at"] for e in of_a]
    assert newest_first == sorted(newest_first, reverse=True)


# -- the usage query (Query Tool) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "field", "values", "expected"),
    [
        ("COUNT", None, [1, 2, 3], "3"),
        ("SUM", "properties.credits", [1, 2, Decimal("3.5")], "6.5"),
        ("MAX", "properties.credits", [1, 9, 3], "9"),
        ("AVG", "properties.credits", [1, 2, 6], "3"),
        ("LATEST", "properties.credits", [4, 8, 5], "5"),
    ],
)
def test_the_usage_query_applies_the_meters_aggregation(t, function, field, values, expected):
    meter = t.meter(function=function, field=field)
    cust = t.customer()["external_id"]
    t.send(
        {"events": [event(cust, meter["event_name"], v, timestamp=ago(minutes=30 - i)) for i, v in enumerate(values)]}
    )
    t.wait_usage(cust, meter["event_name"], expected)


def test_usage_per_hour_day_and_month_windows(t, setup):
    name, cust, _, _ = setup
    t.send(
        {
            "events": [
                event(cust, name, 1, timestamp=ago(days=40)),
                event(cust, name, 2, timestamp=ago(days=2, hours=1)),
                event(cust, name, 3, timestamp=ago(days=2)),
                event(cust, name, 4, timestamp=ago(minutes=1)),
            ]
        }
    )
    t.wait_usage(cust, name, 10)
    days = t.usage(cust, name, window="DAY", **{"from": ago(days=3)})
    assert sum(Decimal(w["value"]) for w in days["data"]) == 9 and Decimal(days["value"]) == 9
    assert all(w["to"] > w["from"] for w in days["data"]) and 3 <= len(days["data"]) <= 4
    hours = t.usage(cust, name, window="HOUR", **{"from": ago(days=3)})
    assert sorted(Decimal(w["value"]) for w in hours["data"] if w["value"] != "0") == [2, 3, 4]
    months = t.usage(cust, name, window="MONTH", **{"from": ago(days=60)})
    assert Decimal(months["value"]) == 10 and sum(Decimal(w["value"]) for w in months["data"]) == 10
    assert problem(
        t.owner.get(
            "/v1/usage",
            params={"external_customer_id": cust, "event_name": name, "window": "HOUR", "from": ago(days=80)},
        ),
        422,
    )
    assert problem(t.owner.get("/v1/usage", params={"external_customer_id": cust}), 422)


# -- domain events --------------------------------------------------------------------------------------------


def test_one_batch_accepted_and_one_events_rejected_event_per_request(t, setup):
    name, cust, _, _ = setup
    batch = {"events": [event(cust, name) for _ in range(20)] + [event(cust, "Wrong.Name"), event("nobody", name)]}
    t.send(batch)
    t.send(batch)  # a retry: its stored events were announced already

    def domain_events():
        t.settle()
        found = ok(t.owner.get("/v1/billing-events", params={"type": "usage."}))["data"]
        return [e for e in found if cust in str(e["data"])]

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mine = domain_events()
        if sum(e["type"] == "usage.events_rejected" for e in mine) >= 2:
            break
        time.sleep(0.2)
    accepted = [e for e in mine if e["type"] == "usage.batch_accepted"]
    rejected = [e for e in mine if e["type"] == "usage.events_rejected"]
    assert len(accepted) == 1 and accepted[0]["data"]["events"] == 20 and accepted[0]["data"]["customers"] == [cust]
    assert len(rejected) == 2 and rejected[0]["data"]["count"] == 2
    assert {r["code"] for r in rejected[0]["data"]["rejected"]} == {"METER_NOT_FOUND", "CUSTOMER_NOT_FOUND"}
