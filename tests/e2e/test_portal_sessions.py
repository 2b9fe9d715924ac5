"""Issue 21: the customer portal's API. An operator opens a portal session for one customer; the
session's token (in the URL's fragment) acts for that customer on /v1/portal/ routes only: its
subscriptions and keys (regenerate = new key shown once + old revoked), usage against the entitlement,
invoices, payment method, plan change and cancel. Expired, revoked or unknown sessions answer 401."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e import builders
from tests.e2e.billing_kit import own_tenant
from tests.e2e.builders import ok
from tests.e2e.conftest import client

pytestmark = pytest.mark.e2e
PROBLEM = "application/problem+json"


def problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}"
    assert r.headers["content-type"] == PROBLEM
    assert r.headers["X-Request-Id"]
    return r.json()


@pytest.fixture(scope="module")
def world(server):
    owner = own_tenant(server, "portal e2e")
    meter = ok(
        owner.post(
            "/v1/meters",
            json={
                "event_name": f"api_calls_{uuid.uuid4().hex[:6]}",
                "aggregation": {"function": "SUM", "field": "quantity"},
            },
        ),
        201,
    )
    ent = [{"meter_id": meter["id"], "limit": "100", "hard": True}]
    basic = builders.plan(owner, fee="10.00", name="Basic", entitlements=ent)
    pro = builders.plan(owner, fee="50.00", name="Pro", entitlements=[{**ent[0], "limit": "1000"}])
    cust = builders.customer(owner, name="Ada Portal")
    sub = builders.subscribe(owner, cust["id"], basic["id"])
    key = ok(owner.post(f"/v1/subscriptions/{sub['id']}/keys", json={"name": "prod"}), 201)
    return {"owner": owner, "meter": meter, "basic": basic, "pro": pro, "customer": cust, "sub": sub, "key": key}


def open_portal(server, owner: httpx.Client, customer_id: str, **extra) -> tuple[dict, httpx.Client]:
    session = ok(owner.post("/v1/portal-sessions", json={"customer_id": customer_id, **extra}), 201)
    token = urlsplit(session["url"]).fragment.removeprefix("session=")
    return session, client(server, token, None)


def test_a_portal_session_shows_the_customers_subscriptions_usage_and_invoices(server, world):
    owner, sub, meter = world["owner"], world["sub"], world["meter"]
    session, portal = open_portal(server, owner, world["customer"]["id"], return_url="https://example.com/account")
    assert session["url"].startswith(f"{server.url}/portal/#session=portal_")
    expires = datetime.fromisoformat(session["expires_at"].replace("Z", "+00:00"))
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)

    me = ok(portal.get("/v1/portal/me"))
    assert (me["customer_id"], me["kind"], me["customer_name"]) == (world["customer"]["id"], "portal", "Ada Portal")
    assert me["return_url"] == "https://example.com/account" and me["expires_at"] == session["expires_at"]

    subs = ok(portal.get("/v1/portal/subscriptions"))["data"]
    assert [(s["id"], s["plan_name"]) for s in subs] == [(sub["id"], "Basic")]
    assert [k["display"] for k in subs[0]["keys"]] == [world["key"]["display"]]
    assert "secret" not in subs[0]["keys"][0]

    events = [
        {
            "event_name": meter["event_name"],
            "external_customer_id": world["customer"]["external_id"],
            "quantity": 7,
            "event_id": f"e-{uuid.uuid4().hex}",
        }
    ]
    ok(owner.post("/v1/ingest/events", json={"events": events}), 202)
    usage = builders.wait_for(
        lambda: (u := ok(portal.get("/v1/portal/usage"))["data"][0]["meters"][0])["used"] == "7" and u
    )
    assert (usage["limit"], usage["event_name"], usage["hard"]) == ("100", meter["event_name"], True)
    assert sum(float(point["value"]) for point in usage["series"]) == 7

    invoices = ok(portal.get("/v1/portal/invoices"))
    assert [i["subscription_id"] for i in invoices["upcoming"]] == [sub["id"]]


def test_regenerating_a_key_shows_the_new_secret_once_and_revokes_the_old_key(server, world):
    owner, sub, old = world["owner"], world["sub"], world["key"]
    _, portal = open_portal(server, owner, world["customer"]["id"])
    path = f"/v1/portal/subscriptions/{sub['id']}/keys/{old['id']}/regenerate"
    body = ok(portal.post(path), 201)
    assert body["revoked"]["id"] == old["id"] and body["revoked"]["status"] == "REVOKED"
    new = body["key"]
    assert new["secret"].startswith("sk_live_") and new["status"] == "ACTIVE" and new["subscription_id"] == sub["id"]
    # Shown once: the listing has the prefix and last four only.
    keys = ok(portal.get("/v1/portal/subscriptions"))["data"][0]["keys"]
    assert {(k["id"], k["status"]) for k in keys} == {(old["id"], "REVOKED"), (new["id"], "ACTIVE")}
    assert all("secret" not in k for k in keys)
    # Repeating the click mints nothing more.
    assert problem(portal.post(path), 409)["code"] == "KEY_ALREADY_REVOKED"
    assert len(ok(portal.get("/v1/portal/subscriptions"))["data"][0]["keys"]) == 2
    # The old key is refused, the new one works.
    time.sleep(1.1)  # the local authorizer cache (1 s)
    assert "revoked" in problem(client(server, old["secret"], None).get("/v1/portal/me"), 401)["detail"]
    assert ok(client(server, new["secret"], None).get("/v1/portal/me"))["customer_id"] == world["customer"]["id"]
    world["key"] = new


def test_payment_method_plan_change_and_cancel_follow_the_api_rules(server, world):
    owner, sub = world["owner"], world["sub"]
    _, portal = open_portal(server, owner, world["customer"]["id"])
    assert (
        ok(portal.put("/v1/portal/payment-method", json={"payment_method": "pm_card_mastercard"}))["payment_method"]
        == "pm_card_mastercard"
    )
    assert ok(portal.get("/v1/portal/me"))["payment_method"] == "pm_card_mastercard"
    assert problem(portal.put("/v1/portal/payment-method", json={"payment_method": "card-1234"}), 422)

    choices = ok(portal.get(f"/v1/portal/subscriptions/{sub['id']}/plans"))["data"]
    assert [c["name"] for c in choices] == ["Pro"] and choices[0]["recurring_fees"] == "50.00"
    up = ok(portal.post(f"/v1/portal/subscriptions/{sub['id']}/upgrade", json={"plan_id": world["pro"]["id"]}))
    assert up["subscription"]["plan_id"] == world["pro"]["id"] and up["subscription"]["status"] == "ACTIVE"
    again = portal.post(f"/v1/portal/subscriptions/{sub['id']}/upgrade", json={"plan_id": world["pro"]["id"]})
    assert problem(again, 409)["code"] == "SAME_PLAN_VERSION"
    down = ok(portal.post(f"/v1/portal/subscriptions/{sub['id']}/downgrade", json={"plan_id": world["basic"]["id"]}))
    assert down["subscription"]["pending_plan"]["plan_id"] == world["basic"]["id"]
    assert down["subscription"]["plan_id"] == world["pro"]["id"]  # at the period end

    cancelled = ok(portal.delete(f"/v1/portal/subscriptions/{sub['id']}", params={"at_period_end": "true"}))
    assert cancelled["cancel_at_period_end"] is True and cancelled["status"] == "ACTIVE"
    assert ok(owner.get(f"/v1/subscriptions/{sub['id']}"))["cancel_at_period_end"] is True


def test_a_portal_session_is_scoped_to_its_customer_and_the_portal_routes(server, world):
    owner = world["owner"]
    _, portal = open_portal(server, owner, world["customer"]["id"])
    detail = problem(portal.get("/v1/customers"), 401)["detail"]
    assert "portal session" in detail and "operator key" in detail
    other = builders.customer(owner)
    theirs = builders.subscribe(owner, other["id"], world["basic"]["id"])
    assert (
        problem(portal.get(f"/v1/portal/usage?subscription_id={theirs['id']}"), 404)["code"] == "SUBSCRIPTION_NOT_FOUND"
    )
    assert problem(portal.delete(f"/v1/portal/subscriptions/{theirs['id']}"), 404)
    assert ok(owner.get(f"/v1/subscriptions/{theirs['id']}"))["status"] == "ACTIVE"
    # Another tenant's customer, a bad return_url, a customer key on an operator-only portal route.
    stranger = own_tenant(server, "portal stranger")
    assert problem(stranger.post("/v1/portal-sessions", json={"customer_id": world["customer"]["id"]}), 404)
    bad = owner.post("/v1/portal-sessions", json={"customer_id": other["id"], "return_url": "javascript:alert(1)"})
    assert problem(bad, 422)
    customer_key = client(server, world["key"]["secret"], None)
    assert "portal session" in problem(customer_key.get("/v1/portal/subscriptions"), 401)["detail"]


def test_a_revoked_or_unknown_portal_session_is_refused_with_what_to_do(server, world):
    owner = world["owner"]
    session, portal = open_portal(server, owner, world["customer"]["id"])
    ok(portal.get("/v1/portal/me"))
    sid = session["portal_session_id"]
    first = ok(owner.delete(f"/v1/portal-sessions/{sid}"))
    assert first["revoked_at"] and first["url"] is None
    assert ok(owner.delete(f"/v1/portal-sessions/{sid}"))["revoked_at"] == first["revoked_at"]
    time.sleep(1.1)  # the local authorizer cache (1 s)
    detail = problem(portal.get("/v1/portal/me"), 401)["detail"]
    assert "revoked" in detail and "new portal link" in detail
    unknown = client(server, "portal_" + "x" * 43, None)
    assert "Unknown portal session" in problem(unknown.get("/v1/portal/me"), 401)["detail"]
    assert problem(owner.delete("/v1/portal-sessions/pts_missing"), 404)["code"] == "PORTAL_SESSION_NOT_FOUND"


def test_past_invoices_list_and_download_as_pdf_for_the_own_customer_only(server, world):
    from tests.e2e.billing_kit import bill, ended_subscription, tenant_of

    owner = world["owner"]
    cust = builders.customer(owner, name="Grace Invoice")
    sub = ended_subscription(owner, cust["id"], world["basic"]["id"])
    invoice_id = bill(tenant_of(owner), sub["id"], send=False).invoice_id
    _, portal = open_portal(server, owner, cust["id"])
    past = ok(portal.get("/v1/portal/invoices"))["data"]
    assert [i["id"] for i in past] == [invoice_id] and past[0]["amount_due"] == past[0]["totals"]["total"]
    pdf = portal.get(f"/v1/portal/invoices/{invoice_id}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    # Another customer's portal sees neither the invoice nor its PDF.
    _, theirs = open_portal(server, owner, world["customer"]["id"])
    assert problem(theirs.get(f"/v1/portal/invoices/{invoice_id}/pdf"), 404)
    assert problem(theirs.get(f"/v1/portal/invoices/{invoice_id}"), 404)
