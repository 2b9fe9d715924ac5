"""Issue 5: customers and the subscription lifecycle over HTTP, including every item of seed 000's
"Subscriptions" section (cancel from TRIALING, migration 409s) and "Key bound to cancelled subscription"."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.e2e.builders import customer, new_version, ok, plan, subscribe, wait_for
from tests.e2e.conftest import client
from tests.timing import assert_prompt

pytestmark = pytest.mark.e2e


def problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


def run_clock(server) -> None:
    """What the subscription-clock schedule does every 5 minutes, now."""
    execution = server.stack.wait_for_execution(server.stack.fire_schedule("subscription-clock"))
    assert execution["status"] == "SUCCEEDED", execution


# -- customers ---------------------------------------------------------------------------------------


def test_customers_by_id_and_external_id_with_a_unique_external_id(owner):
    c = customer(
        owner, external_id="acme-42", currency="EUR", timezone="Europe/Paris", metadata={"max_payment_overdue_days": 5}
    )
    assert ok(owner.get(f"/v1/customers/{c['id']}"))["external_id"] == "acme-42"
    assert ok(owner.get("/v1/customers/external/acme-42"))["id"] == c["id"]
    body = problem(owner.post("/v1/customers", json={"external_id": "acme-42"}), 409)
    assert "acme-42" in body["detail"] and c["id"] in body["detail"]
    patched = ok(
        owner.patch(f"/v1/customers/{c['id']}", json={"email": "billing@acme.test", "metadata": {"tier": "gold"}})
    )
    assert patched["email"] == "billing@acme.test" and patched["metadata"] == {
        "max_payment_overdue_days": "5",
        "tier": "gold",
    }
    assert problem(owner.get("/v1/customers/cus_doesnotexist"), 404)["detail"].startswith(
        "Customer not found: cus_doesnotexist"
    )


@pytest.mark.parametrize("field, value", [("timezone", "Mars/Olympus"), ("currency", "ZZZ"), ("email", "not-an-email")])
def test_bad_customer_fields_are_422_naming_the_field(owner, field, value):
    body = problem(owner.post("/v1/customers", json={"external_id": f"bad-{field}", field: value}), 422)
    assert field in body["detail"]


def test_a_customer_with_a_live_subscription_cannot_be_deleted_until_it_is_cancelled(owner):
    c = customer(owner)
    p = plan(owner)
    s = subscribe(owner, c["id"], p["id"])
    body = problem(owner.delete(f"/v1/customers/{c['id']}"), 409)
    assert s["id"] in body["detail"] and "DELETE /v1/subscriptions" in body["detail"]
    ok(owner.delete(f"/v1/subscriptions/{s['id']}"))
    ok(owner.delete(f"/v1/customers/{c['id']}"))
    assert owner.get(f"/v1/customers/{c['id']}").status_code == 404


# -- pinning and several subscriptions ----------------------------------------------------------------


def test_a_new_plan_version_never_changes_an_existing_subscription(owner):
    c = customer(owner)
    p = plan(owner, fee="10.00")
    before = subscribe(owner, c["id"], p["id"])
    assert before["plan_version"] == 1
    v2 = new_version(owner, p["id"], fee="25.00")
    assert ok(owner.get(f"/v1/subscriptions/{before['id']}"))["plan_version"] == 1
    assert ok(owner.get(f"/v1/plans/{p['id']}/versions/1"))["status"] == "PUBLISHED"  # still serves v1 subscribers
    after = subscribe(owner, customer(owner)["id"], p["id"])
    assert after["plan_version"] == v2
    # The upcoming invoice prices the old subscription at v1's fee, the new one at v2's.
    old_fees = {
        line["amount"]
        for line in ok(owner.get(f"/v1/subscriptions/{before['id']}/upcoming-invoice"))["lines"]
        if line["kind"] == "fee"
    }
    new_fees = {
        line["amount"]
        for line in ok(owner.get(f"/v1/subscriptions/{after['id']}/upcoming-invoice"))["lines"]
        if line["kind"] == "fee"
    }
    assert old_fees == {"10.00"} and new_fees == {"25.00"}


def test_a_customer_can_hold_several_subscriptions_each_with_its_own_key(server, owner):
    c = customer(owner)
    api, credits = plan(owner, name="API"), plan(owner, name="Credit pack", fee="5.00")
    s1, s2 = subscribe(owner, c["id"], api["id"]), subscribe(owner, c["id"], credits["id"])
    k1 = ok(owner.post(f"/v1/subscriptions/{s1['id']}/keys", json={}), 201)
    k2 = ok(owner.post(f"/v1/subscriptions/{s2['id']}/keys", json={"livemode": False}), 201)
    assert k1["secret"].startswith("sk_live_") and k2["secret"].startswith("sk_test_")
    me1 = ok(client(server, k1["secret"], server.tenant_id).get("/v1/portal/me"))
    me2 = ok(client(server, k2["secret"], server.tenant_id).get("/v1/portal/me"))
    assert (me1["subscription_id"], me2["subscription_id"]) == (s1["id"], s2["id"])
    shown = ok(owner.get(f"/v1/subscriptions/{s1['id']}"))
    assert shown["keys"] == [{"id": k1["id"], "display": k1["display"], "status": "ACTIVE", "livemode": True}]
    assert "secret" not in str(shown["keys"])
    assert {s["id"] for s in ok(owner.get("/v1/subscriptions", params={"customer_id": c["id"]}))["data"]} == {
        s1["id"],
        s2["id"],
    }


def test_get_subscription_shows_status_plan_version_period_and_dunning_attempts(owner):
    c = customer(owner, timezone="America/New_York")
    p = plan(owner)
    s = subscribe(owner, c["id"], p["id"], anchor="CALENDAR")
    shown = ok(owner.get(f"/v1/subscriptions/{s['id']}"))
    assert shown["status"] == "ACTIVE" and shown["plan_version"] == 1 and shown["dunning_attempts"] == 0
    start = datetime.fromisoformat(shown["current_period"]["end"].replace("Z", "+00:00"))
    assert start.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York")).hour == 0  # local midnight


# -- seed 000: Key bound to cancelled subscription ------------------------------------------------------


def test_a_key_bound_to_a_cancelled_subscription_is_401_until_the_customer_resubscribes(server, owner):
    c = customer(owner)
    p = plan(owner)
    s = subscribe(owner, c["id"], p["id"])
    key = ok(owner.post(f"/v1/subscriptions/{s['id']}/keys", json={}), 201)
    customer_api = client(server, key["secret"], server.tenant_id)
    ok(customer_api.get("/v1/portal/me"))
    cancelled = ok(owner.delete(f"/v1/subscriptions/{s['id']}"))
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["keys"][0]["status"] == "REVOKED"  # revoked in the same write as the cancellation
    r = wait_for(lambda: (resp := customer_api.get("/v1/portal/me")).status_code == 401 and resp, timeout=5)
    detail = problem(r, 401)["detail"]
    assert "subscription" in detail and s["id"] in detail and "re-subscribe" in detail
    assert owner.post(f"/v1/subscriptions/{s['id']}/keys", json={}).status_code == 409
    again = subscribe(owner, c["id"], p["id"])
    fresh = ok(owner.post(f"/v1/subscriptions/{again['id']}/keys", json={}), 201)
    assert ok(client(server, fresh["secret"], server.tenant_id).get("/v1/portal/me"))["subscription_id"] == again["id"]


# -- seed 000: Cannot cancel a TRIALING subscription ----------------------------------------------------


def test_a_trialing_subscription_is_cancelled_with_delete_not_cancel(owner):
    c = customer(owner)
    p = plan(owner, trial_days=14)
    s = subscribe(owner, c["id"], p["id"])
    assert s["status"] == "TRIALING" and s["trial_end"]
    wrong = problem(owner.post(f"/v1/subscriptions/{s['id']}/cancel"), 404)
    assert "DELETE /v1/subscriptions/{id}" in wrong["detail"]
    assert ok(owner.delete(f"/v1/subscriptions/{s['id']}"))["status"] == "CANCELLED"
    again = problem(owner.delete(f"/v1/subscriptions/{s['id']}"), 409)
    assert "already cancelled" in again["detail"]


def test_a_trial_turns_active_at_its_end_on_its_own(server, owner):
    c = customer(owner)
    p = plan(owner, trial_days=14)
    s = subscribe(owner, c["id"], p["id"], start_at=datetime.now(UTC) - timedelta(days=14, seconds=5))
    assert s["status"] == "TRIALING"
    run_clock(server)
    assert ok(owner.get(f"/v1/subscriptions/{s['id']}"))["status"] == "ACTIVE"
    history = ok(owner.get(f"/v1/subscriptions/{s['id']}/history"))["data"]
    assert [(h["action"], h["to_status"]) for h in history] == [("CREATED", "TRIALING"), ("END_TRIAL", "ACTIVE")]


def test_cancel_at_period_end_keeps_access_until_the_period_ends(server, owner):
    c = customer(owner)
    p = plan(owner)
    start = datetime.now(UTC) - timedelta(days=31) + timedelta(seconds=3)
    s = subscribe(owner, c["id"], p["id"], start_at=start, anchor="ANNIVERSARY")
    period_end = datetime.fromisoformat(s["current_period"]["end"].replace("Z", "+00:00"))
    assert period_end - datetime.now(UTC) < timedelta(days=2)
    scheduled = ok(owner.delete(f"/v1/subscriptions/{s['id']}", params={"at_period_end": "true"}))
    assert scheduled["status"] == "ACTIVE" and scheduled["cancel_at_period_end"] is True
    time.sleep(max(0.0, (period_end - datetime.now(UTC)).total_seconds()) + 0.5)
    run_clock(server)
    assert ok(owner.get(f"/v1/subscriptions/{s['id']}"))["status"] == "CANCELLED"


# -- upgrade / downgrade ---------------------------------------------------------------------------------


def test_an_upgrade_is_prorated_exactly_by_the_second(owner):
    c = customer(owner)
    basic, pro = plan(owner, fee="30.00"), plan(owner, fee="60.00")
    s = subscribe(owner, c["id"], basic["id"], start_at=datetime.now(UTC) - timedelta(days=10))
    out = ok(owner.post(f"/v1/subscriptions/{s['id']}/upgrade", json={"plan_id": pro["id"]}))
    sub = out["subscription"]
    assert sub["plan_id"] == pro["id"] and sub["status"] == "ACTIVE"
    charge = sub["pending_charges"][0]
    at = datetime.fromisoformat(charge["at"].replace("Z", "+00:00"))
    start = datetime.fromisoformat(sub["current_period"]["start"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(sub["current_period"]["end"].replace("Z", "+00:00"))
    expected = Decimal(30) * Decimal((end - at).total_seconds()) / Decimal((end - start).total_seconds())
    shown = expected.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)  # issue 18: money in minor units
    assert out["proration"] == charge["amount"] == str(shown)
    assert Decimal(0) < expected < Decimal(30)
    assert problem(owner.post(f"/v1/subscriptions/{s['id']}/upgrade", json={"plan_id": basic["id"]}), 409)[
        "detail"
    ].endswith("use /downgrade.")


def test_a_downgrade_waits_for_the_period_end(server, owner):
    c = customer(owner)
    pro, basic = plan(owner, fee="60.00"), plan(owner, fee="30.00")
    start = datetime.now(UTC) - timedelta(days=31) + timedelta(seconds=3)
    s = subscribe(owner, c["id"], pro["id"], start_at=start)
    out = ok(owner.post(f"/v1/subscriptions/{s['id']}/downgrade", json={"plan_id": basic["id"]}))
    assert out["proration"] == "0.00" and out["subscription"]["plan_id"] == pro["id"]
    assert out["subscription"]["pending_plan"] == {"plan_id": basic["id"], "version": 1}
    end = datetime.fromisoformat(out["subscription"]["current_period"]["end"].replace("Z", "+00:00"))
    time.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()) + 0.5)
    run_clock(server)
    assert ok(owner.get(f"/v1/subscriptions/{s['id']}"))["plan_id"] == basic["id"]


# -- seed 000: Migration fails with 409 Conflict -------------------------------------------------------------


def test_migrating_a_cancelled_subscription_is_409_terminal(owner):
    c = customer(owner)
    old, new = plan(owner), plan(owner)
    s = subscribe(owner, c["id"], old["id"])
    ok(owner.delete(f"/v1/subscriptions/{s['id']}"))
    body = problem(owner.post(f"/v1/subscriptions/{s['id']}/migrate", json={"plan_id": new["id"]}), 409)
    assert "CANCELLED" in body["detail"] and "terminal" in body["detail"]
    # The fix: a terminal subscription stays as it is; subscribe the customer to the new plan.
    assert subscribe(owner, c["id"], new["id"])["plan_id"] == new["id"]


def test_migrating_to_the_current_plan_is_409_pointing_to_upgrade_and_downgrade(owner):
    c = customer(owner)
    p = plan(owner, fee="10.00")
    s = subscribe(owner, c["id"], p["id"])
    body = problem(owner.post(f"/v1/subscriptions/{s['id']}/migrate", json={"plan_id": p["id"]}), 409)
    assert "/upgrade" in body["detail"] and "/downgrade" in body["detail"]
    v2 = new_version(owner, p["id"], fee="12.00")
    upgraded = ok(owner.post(f"/v1/subscriptions/{s['id']}/upgrade", json={"plan_id": p["id"], "version": v2}))
    assert upgraded["subscription"]["plan_version"] == v2


def test_migrating_while_a_bulk_migration_runs_is_409_until_it_completes(server, owner):
    from functions.migration_tasks import handler as tasks
    from infra.local import lambda_dispatch
    from infra.local.stack import function_name

    old, new, other = plan(owner), plan(owner), plan(owner)
    bulk_subs = [subscribe(owner, customer(owner)["id"], old["id"]) for _ in range(3)]
    lone = subscribe(owner, customer(owner)["id"], other["id"])
    release = threading.Event()

    def slow_tasks(event, context):
        if event.get("task") == "migrate_page":
            release.wait(timeout=30)  # outside the dispatch lock, so the API keeps answering
        with lambda_dispatch.LOCK:
            return tasks.lambda_handler(event, context)

    lambda_dispatch.register(function_name("migration_tasks"), slow_tasks, serialize=False)
    try:
        started = ok(owner.post("/v1/migrations", json={"from_plan_id": old["id"], "to_plan_id": new["id"]}), 202)
        assert started["status"] == "RUNNING"
        body = problem(owner.post(f"/v1/subscriptions/{lone['id']}/migrate", json={"plan_id": new["id"]}), 409)
        assert started["id"] in body["detail"] and "wait" in body["detail"]
        assert problem(owner.post("/v1/migrations", json={"from_plan_id": other["id"], "to_plan_id": new["id"]}), 409)
    finally:
        release.set()
        lambda_dispatch.register(function_name("migration_tasks"), tasks.lambda_handler)
    done = wait_for(
        lambda: (m := ok(owner.get(f"/v1/migrations/{started['id']}")))["status"] != "RUNNING" and m, timeout=30
    )
    assert done["status"] == "COMPLETED" and (done["total"], done["migrated"], done["failed"]) == (3, 3, 0)
    assert {r["subscription_id"] for r in done["results"]} == {s["id"] for s in bulk_subs}
    assert all(ok(owner.get(f"/v1/subscriptions/{s['id']}"))["plan_id"] == new["id"] for s in bulk_subs)
    assert (
        ok(owner.post(f"/v1/subscriptions/{lone['id']}/migrate", json={"plan_id": new["id"]}))["plan_id"] == new["id"]
    )


# -- events and history ------------------------------------------------------------------------------------


def test_every_transition_is_a_domain_event_and_a_history_line(server, owner):
    c = customer(owner)
    p = plan(owner, trial_days=7)
    s = subscribe(owner, c["id"], p["id"])
    ok(owner.delete(f"/v1/subscriptions/{s['id']}"))

    def logged():
        events = ok(owner.get("/v1/billing-events", params={"type": "subscription."}))["data"]
        return {e["type"] for e in events if e["data"].get("subscription_id") == s["id"]} >= {
            "subscription.created",
            "subscription.cancelled",
        }

    wait_for(logged, timeout=10)
    history = ok(owner.get(f"/v1/subscriptions/{s['id']}/history"))["data"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [(None, "TRIALING"), ("TRIALING", "CANCELLED")]


# -- loose types (issue 13, class 8) ------------------------------------------------------------------


def _refused_quickly(request, field: str) -> dict:
    started = time.monotonic()
    r = request()
    assert_prompt(time.monotonic() - started)
    body = problem(r, 422)
    assert field in body["detail"] and body.get("field", field) == field
    return body


@pytest.mark.parametrize("external_id", ["a\u0000b", "bell\u0007", "   ", " padded", "tab\tinside", "\u200b"])
def test_an_unreachable_external_id_is_refused_naming_the_field_and_the_rule_and_nothing_is_stored(owner, external_id):
    before = ok(owner.get("/v1/customers", params={"limit": 100}))["data"]
    body = _refused_quickly(lambda: owner.post("/v1/customers", json={"external_id": external_id}), "external_id")
    assert "printable" in body["detail"] and "whitespace" in body["detail"]
    assert external_id not in [c["external_id"] for c in ok(owner.get("/v1/customers", params={"limit": 100}))["data"]]
    assert len(ok(owner.get("/v1/customers", params={"limit": 100}))["data"]) == len(before)
    c = customer(owner)
    _refused_quickly(lambda: owner.patch(f"/v1/customers/{c['id']}", json={"external_id": external_id}), "external_id")
    assert ok(owner.get(f"/v1/customers/{c['id']}"))["external_id"] == c["external_id"]


def test_a_lone_surrogate_anywhere_in_a_customer_is_a_400_not_a_500(owner):
    """Refused at the HTTP edge (tollgate.api.json_body) with the JSON path of the first bad string."""
    external_id = "ok-" + str(time.time_ns())
    raw = '{"external_id": "' + external_id + '", "name": "\\udc00x", "metadata": {"k": "\\ud800"}}'
    r = owner.post("/v1/customers", content=raw.encode(), headers={"content-type": "application/json"})
    assert problem(r, 400)["code"] == "INVALID_UNICODE"
    assert owner.get(f"/v1/customers/external/{external_id}").status_code == 404, "nothing stored"


def test_booleans_are_not_numbers_and_floats_are_not_integers(owner):
    c, p = customer(owner), plan(owner)
    for field, value in [("version", True), ("trial_days", True), ("trial_days", 1.0), ("version", "1")]:
        body = {"customer_id": c["id"], "plan_id": p["id"], field: value}
        _refused_quickly(lambda body=body: owner.post("/v1/subscriptions", json=body), field)
    _refused_quickly(lambda: owner.post("/v1/customers", json={"external_id": "b1", "metadata": {"vip": True}}), "vip")
    assert ok(owner.get("/v1/subscriptions", params={"customer_id": c["id"]}))["data"] == []


@pytest.mark.parametrize(
    "start_at", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "9999-12-31T23:00:00-05:00", 1e11, "yesterday"]
)
def test_a_start_outside_a_year_either_side_of_now_is_422_and_creates_nothing(server, owner, start_at):
    c, p = customer(owner), plan(owner)
    body = {"customer_id": c["id"], "plan_id": p["id"], "start_at": start_at}
    _refused_quickly(lambda: owner.post("/v1/subscriptions", json=body), "start_at")
    assert ok(owner.get("/v1/subscriptions", params={"customer_id": c["id"]}))["data"] == []
    assert client(server, None, None).get("/health").status_code == 200


def test_a_start_eleven_months_back_is_kept(owner):
    c, p = customer(owner), plan(owner)
    start = (datetime.now(UTC) - timedelta(days=330)).replace(microsecond=0)
    s = subscribe(owner, c["id"], p["id"], start_at=start)
    assert datetime.fromisoformat(s["started_at"].replace("Z", "+00:00")) == start


def test_a_subscription_external_id_follows_the_same_rule(owner):
    c, p = customer(owner), plan(owner)
    body = {"customer_id": c["id"], "plan_id": p["id"], "external_id": "sub\u0000"}
    _refused_quickly(lambda: owner.post("/v1/subscriptions", json=body), "external_id")
    assert ok(owner.get("/v1/subscriptions", params={"customer_id": c["id"]}))["data"] == []
