"""GET /v1/ingest/diagnose names each documented cause (seed 000 item 4, seed 001's checklist and its
section 3 "No charges in billing"), and answers "ok" once the cause is fixed."""

from __future__ import annotations

import pytest

from tests.e2e import builders
from tests.e2e.ingest_kit import ago, event, fresh_tenant, ok

pytestmark = pytest.mark.e2e


@pytest.fixture
def t(server):
    tenant = fresh_tenant(server, "diagnose")
    tenant.m = tenant.meter(event_name="model.usage")
    tenant.c = tenant.customer("cust_123")
    return tenant


def diagnose(t, c=None, **params) -> dict:
    return ok((c or t.owner).get("/v1/ingest/diagnose", params=params))


def causes(t, c=None, **params) -> list[str]:
    return [x["code"] for x in diagnose(t, c, **params)["causes"]]


def subscribe_priced(t, meter_id: str | None) -> dict:
    prices = (
        [{"meter_id": meter_id, "price": {"model": "per_unit", "currency": "USD", "unit_amount": "0.01"}}]
        if meter_id
        else []
    )
    plan = builders.plan(t.owner, usage_prices=prices)
    return builders.subscribe(t.owner, t.c["id"], plan["id"])


def test_nothing_wrong_answers_ok(t):
    body = diagnose(t)
    assert body["status"] == "ok" and body["causes"] == [] and "No problems found" in body["summary"]
    subscribe_priced(t, t.m["id"])
    t.send(event("cust_123", "model.usage"))
    body = diagnose(t)
    assert body["status"] == "ok" and body["checked"]["stored_events"] == 1


def test_meter_name_case(t):
    assert causes(t, event_name="Model.Usage") == ["METER_NAME_CASE"]
    t.send(event("cust_123", "Model.Usage"))
    (cause,) = diagnose(t)["causes"][:1]
    assert (
        cause["code"] == "METER_NAME_CASE"
        and cause["count"] == 1
        and cause["examples"][0]["event_name"] == "Model.Usage"
    )
    assert diagnose(t, event_name="model.usage")["causes"][0]["code"] == "METER_NAME_CASE"  # the recent rejection stays


def test_missing_customer(t):
    assert causes(t, external_customer_id="cust_999") == ["CUSTOMER_NOT_FOUND"]
    t.send(event("cust_999", "model.usage"))
    assert "CUSTOMER_NOT_FOUND" in causes(t)


def test_inactive_meter(t):
    ok(t.owner.post(f"/v1/meters/{t.m['id']}/archive"))
    assert "METER_INACTIVE" in causes(t, event_name="model.usage")
    t.send(event("cust_123", "model.usage"))
    assert "METER_INACTIVE" in causes(t)


def test_clock_skew(t):
    t.send({"events": [event("cust_123", "model.usage", timestamp=ago(minutes=-30))]})
    (cause,) = [c for c in diagnose(t)["causes"] if c["code"] == "CLOCK_SKEW"]
    assert "NTP" in cause["fix"]


def test_missing_and_non_numeric_aggregation_field(t):
    t.send(
        {
            "events": [
                {"event_name": "model.usage", "external_customer_id": "cust_123", "properties": {"tokens": 2}},
                {"event_name": "model.usage", "external_customer_id": "cust_123", "properties": {"credits": "2"}},
            ]
        }
    )
    found = {c["code"]: c for c in diagnose(t)["causes"]}
    assert "AGGREGATION_FIELD_MISSING" in found and "AGGREGATION_FIELD_NOT_NUMERIC" in found
    assert '"credits": 2' in found["AGGREGATION_FIELD_NOT_NUMERIC"]["fix"]


def test_key_without_ingestion_permission(t):
    member_key = t.key(kind="operator", role="MEMBER", name="integration")
    member = t.client_for(member_key)
    assert member.post("/v1/ingest/events", json=event("cust_123", "model.usage")).status_code == 403
    (cause,) = [c for c in diagnose(t, member)["causes"] if c["code"] == "KEY_WITHOUT_INGESTION_PERMISSION"]
    assert "MEMBER" in cause["detail"] and "OWNER or ADMIN" in cause["fix"]
    key_id = ok(t.owner.get("/v1/api-keys"))["data"]
    member_id = next(k["id"] for k in key_id if k.get("name") == "integration")
    assert "KEY_WITHOUT_INGESTION_PERMISSION" in causes(t, key_id=member_id)
    assert "KEY_WITHOUT_INGESTION_PERMISSION" not in causes(t)


def test_no_charges_customer_not_subscribed_then_meter_not_in_plan_then_fixed(t):
    t.send(event("cust_123", "model.usage"))
    assert causes(t) == ["NO_CHARGES_NOT_SUBSCRIBED"]  # seed 001 3B
    sub = subscribe_priced(t, None)
    assert causes(t) == ["NO_CHARGES_METER_NOT_IN_PLAN"]  # seed 001 3A
    ok(t.owner.delete(f"/v1/subscriptions/{sub['id']}"))
    subscribe_priced(t, t.m["id"])
    assert diagnose(t)["status"] == "ok"


def test_a_customer_key_diagnoses_its_own_customer(t):
    other = t.customer()
    t.send(event(other["external_id"], "Model.Usage"))
    assert "METER_NAME_CASE" in causes(t)
    ck = t.customer_client(t.c["id"])
    body = diagnose(t, ck)
    assert body["checked"]["customer"] == "cust_123"
    assert "METER_NAME_CASE" not in [c["code"] for c in body["causes"]]  # another customer's rejections stay private
