"""Every numbered cause of seed 000 ("Usage Ingestion": "Events not appearing in the Event Log", "metric not
found", "Late arrival warnings") and of seed 001's sections 1, 2, 4 and 6, reproduced over HTTP with the
seeds' own payloads: first the symptom, then the documented fix working."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.e2e.conftest import client
from tests.e2e.ingest_kit import ago, fresh_tenant, ok, problem, unique

pytestmark = pytest.mark.e2e


@pytest.fixture
def t(server):
    """A tenant with seed 001's setup: meter model.usage summing properties.credits, customer cust_123."""
    tenant = fresh_tenant(server, "seed")
    tenant.model_usage = tenant.meter(event_name="model.usage", function="SUM", field="properties.credits")
    tenant.customer("cust_123")
    return tenant


def statuses(t, **params) -> list[tuple[str, str | None]]:
    return [(e["status"], e.get("code")) for e in t.log(**params)]


# -- seed 000: Events not appearing in the Event Log ----------------------------------------------------------
# Seed 000's payload counts a quantity: its billable unit here is "api.calls", the SUM of quantity.


@pytest.fixture
def calls(t):
    return t.meter(event_name="api.calls", function="SUM", field="quantity")


def seed000(**fields) -> dict:
    return {"customerId": "cust_123", "metricId": "api.calls", "quantity": 1, "timestamp": ago(minutes=1), **fields}


def test_seed000_1_verify_the_endpoint(t, calls):
    # Symptom: sent to another URL, the event goes nowhere; the 404 says where ingestion is.
    for wrong in ("/v1/events", "/v1/usage/events", "/api/v1/ingest/events"):
        r = t.owner.post(wrong, json=seed000())
        assert r.status_code == 404, wrong
        if wrong.startswith("/v1/"):
            assert "POST /v1/ingest/events" in problem(r, 404)["detail"]
    assert t.log() == []
    # Fix: /v1/ingest/events.
    assert t.send(seed000())["accepted"] == 1
    assert statuses(t) == [("ACCEPTED", None)]


def test_seed000_2_validate_the_payload(t, calls):
    # The seed's payload exactly as shown (customerId, metricId, quantity, timestamp).
    literal = {"customerId": "cust_123", "metricId": "api.calls", "quantity": 1, "timestamp": "2026-04-17T10:00:00Z"}
    if datetime.now(UTC) - datetime(2026, 4, 17, 10, tzinfo=UTC) > timedelta(days=90):
        # Its timestamp is now more than 90 days old: item 3 of the same seed applies.
        assert t.send(literal, status=400)["code"] == "TIMESTAMP_TOO_OLD"
    else:
        assert t.send(literal)["accepted"] == 1
    # Symptom: a required field missing, or a metricId that is no active billable unit.
    assert t.send({"metricId": "api.calls", "quantity": 1}, status=400)["code"] == "MISSING_CUSTOMER"
    assert t.send({"customerId": "cust_123", "quantity": 1}, status=400)["code"] == "MISSING_EVENT_NAME"
    body = t.send(seed000(metricId="api.tokens"))
    assert body["rejected"][0]["code"] == "METER_NOT_FOUND" and body["rejected"][0]["detail"].startswith(
        "metric not found"
    )
    # Fix: the same shape, every field valid.
    assert t.send(seed000(quantity=3))["accepted"] == 1
    assert statuses(t, status="ACCEPTED") == [("ACCEPTED", None)]
    t.wait_usage("cust_123", "api.calls", 3)


def test_seed000_3_check_timestamp(t, calls):
    body = t.send(seed000(timestamp=ago(days=91)), status=400)
    assert body["code"] == "TIMESTAMP_TOO_OLD" and "90 days" in body["detail"]
    body = t.send(seed000(timestamp=ago(minutes=-6)), status=400)
    assert body["code"] == "TIMESTAMP_IN_FUTURE" and "clock skew" in body["detail"]
    # Fix: a correct clock.
    assert t.send(seed000(timestamp=ago(seconds=5)))["accepted"] == 1
    t.wait_usage("cust_123", "api.calls", 1)


def test_seed000_4_run_diagnostics(t, calls):
    t.send({"events": [seed000(metricId="Api.Calls")]})
    found = ok(t.owner.get("/v1/ingest/diagnose"))
    assert found["status"] == "issues_found" and found["causes"][0]["code"] == "METER_NAME_CASE"
    assert "api.calls" in found["causes"][0]["detail"] or "Api.Calls" in found["causes"][0]["detail"]
    clean = fresh_tenant(t.server, "clean")
    clean.meter(event_name="api.calls", function="SUM", field="quantity")
    assert ok(clean.owner.get("/v1/ingest/diagnose"))["status"] == "ok"


def test_seed000_events_rejected_with_metric_not_found(t, calls):
    (rejected,) = t.send(seed000(metricId="api_calls"))["rejected"]
    assert rejected["code"] == "METER_NOT_FOUND" and "metric not found" in rejected["detail"]
    # Fix: the billable unit's event name, from the catalog.
    assert "api.calls" in [m["event_name"] for m in ok(t.owner.get("/v1/meters"))["data"]]
    assert t.send(seed000())["accepted"] == 1


def test_seed000_late_arrival_warnings(t, calls):
    body = t.send({"events": [seed000(timestamp=ago(hours=30), quantity=4)]})
    late = [w for w in body["warnings"] if w["code"] == "LATE_EVENT"]  # (seed 000's event has no event_id:
    assert body["accepted"] == 1 and len(late) == 1 and "NTP" in late[0]["detail"]  # EVENT_ID_ASSIGNED too)
    t.wait_usage("cust_123", "api.calls", 4)  # flagged, but still processed
    assert statuses(t, status="LATE") == [("LATE", "LATE_EVENT")]
    diagnosis = ok(t.owner.get("/v1/ingest/diagnose"))
    assert "LATE_ARRIVALS" in [c["code"] for c in diagnosis["causes"]]
    # Fix: a synced clock: events arrive on time, and are not flagged.
    assert [w["code"] for w in t.send(seed000(timestamp=ago(seconds=1)))["warnings"]] == ["EVENT_ID_ASSIGNED"]


# -- seed 001, 1: Events not appearing in the dashboard ----------------------------------------------------------


def test_seed001_1a_invalid_event_name(t):
    wrong = {"event_name": "Model.Usage", "external_customer_id": "cust_123"}
    body = t.send(wrong)  # 202: transmitted successfully...
    assert body["accepted"] == 0 and body["rejected"][0]["code"] == "METER_NOT_FOUND"
    assert "Did you mean 'model.usage'" in body["rejected"][0]["detail"]
    assert statuses(t, status="ACCEPTED") == []  # ...but not in the events dashboard as accepted
    assert statuses(t, status="REJECTED") == [("REJECTED", "METER_NOT_FOUND")]
    correct = {"event_name": "model.usage", "external_customer_id": "cust_123", "properties": {"credits": 2}}
    assert t.send(correct)["accepted"] == 1
    assert statuses(t, status="ACCEPTED") == [("ACCEPTED", None)]
    t.wait_usage("cust_123", "model.usage", 2)


def test_seed001_1b_customer_does_not_exist(t):
    payload = {"event_name": "model.usage", "external_customer_id": "cust_456", "properties": {"credits": 2}}
    assert t.send(payload)["rejected"][0]["code"] == "CUSTOMER_NOT_FOUND"
    t.customer("cust_456")  # fix: create the customer first
    assert t.send(payload)["accepted"] == 1
    t.wait_usage("cust_456", "model.usage", 2)


def test_seed001_1c_feature_not_active(t):
    ok(t.owner.post(f"/v1/meters/{t.model_usage['id']}/archive"))
    payload = {
        "event_name": "model.usage",
        "external_customer_id": "cust_123",
        "properties": {"credits": 2},
        "event_id": unique("e"),
    }
    assert t.send(payload)["rejected"][0]["code"] == "METER_ARCHIVED"
    ok(t.owner.post(f"/v1/meters/{t.model_usage['id']}/activate"))  # fix: activate it
    assert t.send(payload)["accepted"] == 1
    t.wait_usage("cust_123", "model.usage", 2)


# -- seed 001, 2: Wrong aggregation values -----------------------------------------------------------------------


def test_seed001_2a_aggregation_field_name_mismatch(t):
    wrong = {"event_name": "model.usage", "external_customer_id": "cust_123", "properties": {"tokens": 2}}
    (r,) = t.send(wrong)["rejected"]
    assert (
        r["code"] == "AGGREGATION_FIELD_MISSING" and "properties.credits" in r["detail"] and "'tokens'" in r["detail"]
    )
    assert t.send({**wrong, "properties": {"credits": 2}})["accepted"] == 1
    t.wait_usage("cust_123", "model.usage", 2)


def test_seed001_2b_wrong_data_type(t):
    wrong = {"event_name": "model.usage", "external_customer_id": "cust_123", "properties": {"credits": "2"}}
    (r,) = t.send(wrong)["rejected"]
    assert r["code"] == "AGGREGATION_FIELD_NOT_NUMERIC"
    assert t.send({**wrong, "properties": {"credits": 2}})["accepted"] == 1
    t.wait_usage("cust_123", "model.usage", 2)
    # Unique Count can use strings or numbers.
    users = t.meter(event_name="active.users", function="UNIQUE_COUNT", field="properties.user_id")
    assert (
        t.send(
            {
                "events": [
                    {
                        "event_name": "active.users",
                        "external_customer_id": "cust_123",
                        "properties": {"user_id": "user_456"},
                    },
                    {"event_name": "active.users", "external_customer_id": "cust_123", "properties": {"user_id": 457}},
                ]
            }
        )["accepted"]
        == 2
    )
    t.wait_usage("cust_123", users["event_name"], 2)


def test_seed001_2c_missing_properties(t):
    wrong = {"event_name": "model.usage", "external_customer_id": "cust_123"}
    (r,) = t.send(wrong)["rejected"]
    assert r["code"] == "AGGREGATION_FIELD_MISSING" and "it has no properties" in r["detail"]
    assert t.send({**wrong, "properties": {"credits": 2}})["accepted"] == 1
    t.wait_usage("cust_123", "model.usage", 2)


# -- seed 001, 4: API errors -------------------------------------------------------------------------------------


def test_seed001_4a_400_bad_request(t):
    body = t.send({"external_customer_id": "cust_123"}, status=400)  # missing event_name
    assert body["code"] == "MISSING_EVENT_NAME"
    r = t.owner.post(
        "/v1/ingest/events", content=b"{event_name: model.usage}", headers={"Content-Type": "application/json"}
    )
    assert problem(r, 400)["code"] == "INVALID_JSON"
    body = t.send(
        {
            "event_name": "model.usage",
            "external_customer_id": "cust_123",
            "properties": {"credits": 2},
            "quantity": "one",
        },
        status=400,
    )
    assert body["code"] == "INVALID_QUANTITY"
    complete = {"event_name": "model.usage", "external_customer_id": "cust_123", "properties": {"credits": 2}}
    assert t.send(complete)["accepted"] == 1


def test_seed001_4b_401_unauthorized(t):
    payload = {"event_name": "model.usage", "external_customer_id": "cust_123", "properties": {"credits": 2}}
    bad = client(t.server, "sk_live_not_a_real_key", t.tenant_id)
    assert "Unknown API key" in problem(bad.post("/v1/ingest/events", json=payload), 401)["detail"]
    assert problem(client(t.server, None, None).post("/v1/ingest/events", json=payload), 401)
    cust = ok(t.owner.get("/v1/customers/external/cust_123"))
    assert t.send(payload, c=t.customer_client(cust["id"]))["accepted"] == 1


def test_seed001_4c_429_too_many_requests(t):
    ok(t.owner.put("/v1/ingest/settings", json={"key_rate_limit_per_second": 10}))
    # Symptom: requests of 6 events in a row: any two inside one 1-second window exceed 10 events/s
    # (this does not depend on how fast the machine answers, unless a request takes a whole second).
    limited = []
    for _ in range(20):
        batch = [
            {
                "event_name": "model.usage",
                "external_customer_id": "cust_123",
                "properties": {"credits": 1},
                "event_id": unique("e"),
            }
            for _ in range(6)
        ]
        r = t.owner.post("/v1/ingest/events", json={"events": batch})
        if r.status_code == 429:
            limited.append(r)
            break
    assert limited and all(r.headers["Retry-After"] == "1" for r in limited)
    # Fix: exponential backoff, and bulk events.
    delay = 0.5
    for _ in range(6):
        time.sleep(delay)
        r = t.owner.post(
            "/v1/ingest/events",
            json={
                "events": [
                    {
                        "event_name": "model.usage",
                        "external_customer_id": "cust_123",
                        "properties": {"credits": 1},
                        "event_id": unique("e"),
                    }
                    for _ in range(10)
                ]
            },
        )
        if r.status_code == 202:
            break
        delay *= 2
    assert r.status_code == 202 and r.json()["accepted"] == 10


# -- seed 001, 6: Duplicate events ---------------------------------------------------------------------------


def test_seed001_6_duplicate_events(t):
    usage = {"event_name": "model.usage", "external_customer_id": "cust_123", "properties": {"credits": 2}}
    # Symptom: a client that retries with a new id each time (or two sources sending the same usage) counts twice.
    t.send({**usage, "event_id": "run-1-attempt-1"})
    t.send({**usage, "event_id": "run-1-attempt-2"})
    t.wait_usage("cust_123", "model.usage", 4)
    # Fix: one event_id per usage event, reused by every retry and every source.
    for _ in range(3):
        t.send({**usage, "event_id": "run-2"})
    t.settle()
    t.wait_usage("cust_123", "model.usage", 6)
    assert statuses(t, status="DUPLICATE") == [("DUPLICATE", "DUPLICATE_EVENT")] * 2
    assert Decimal(t.usage("cust_123", "model.usage")["value"]) == 6
