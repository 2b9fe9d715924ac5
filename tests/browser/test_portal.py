"""The customer portal in headless Chromium, at a phone's width (390 px): the done-when walk of issue 21.

Open the portal from a portal session link (POST /v1/portal-sessions), see the usage against the
entitlement (bar), regenerate the subscription's key (the new key shown once, the old one revoked) and
change the payment method (sandbox payments). Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import re
import time
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.artifacts import screenshot

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def ok(r: httpx.Response, status: int = 200) -> dict:
    assert r.status_code == status, f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}"
    return r.json()


@pytest.fixture(scope="module")
def shop(web_server) -> dict:
    """A customer on a plan with an entitlement of 100 calls, with a key and 7 calls metered."""
    owner = httpx.Client(
        base_url=web_server.url,
        headers={"Authorization": f"Bearer {web_server.owner_key}", "X-Tenant-Id": web_server.tenant_id},
        timeout=30,
    )
    tag = uuid.uuid4().hex[:6]
    meter = ok(
        owner.post(
            "/v1/meters",
            json={
                "name": "API calls",
                "event_name": f"api_calls_{tag}",
                "aggregation": {"function": "SUM", "field": "quantity"},
            },
        ),
        201,
    )
    plans = {}
    for name, fee, limit in (("Starter", "19.00", "100"), ("Scale", "99.00", "10000")):
        body = {
            "name": f"{name} {tag}",
            "currency": "USD",
            "billing_interval": "MONTH",
            "fees": [{"name": "Platform fee", "amount": fee, "timing": "in_advance"}],
            "entitlements": [{"meter_id": meter["id"], "limit": limit, "hard": True}],
        }
        plans[name] = ok(owner.post("/v1/plans", json=body), 201)
        ok(owner.post(f"/v1/plans/{plans[name]['id']}/versions/1/publish"))
    customer = ok(
        owner.post(
            "/v1/customers", json={"external_id": f"acme-{tag}", "name": "Acme Robotics", "email": "ops@acme.example"}
        ),
        201,
    )
    sub = ok(
        owner.post("/v1/subscriptions", json={"customer_id": customer["id"], "plan_id": plans["Starter"]["id"]}), 201
    )
    key = ok(owner.post(f"/v1/subscriptions/{sub['id']}/keys", json={"name": "production"}), 201)
    events = [
        {
            "event_name": meter["event_name"],
            "external_customer_id": customer["external_id"],
            "quantity": q,
            "event_id": f"{tag}-{i}",
        }
        for i, q in enumerate((3, 4))
    ]
    ok(owner.post("/v1/ingest/events", json={"events": events}), 202)
    deadline = time.monotonic() + 15
    params = {"customer_id": customer["id"], "meter_id": meter["id"]}
    while ok(owner.get("/v1/usage", params=params))["value"] != "7":
        assert time.monotonic() < deadline, "usage never reached 7"
        time.sleep(0.2)
    session = ok(
        owner.post(
            "/v1/portal-sessions", json={"customer_id": customer["id"], "return_url": "https://acme.example/account"}
        ),
        201,
    )
    return {"owner": owner, "meter": meter, "customer": customer, "sub": sub, "key": key, "session": session}


@pytest.fixture
def phone(chromium_browser):
    context = chromium_browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    context.set_default_timeout(20_000)
    tab = context.new_page()
    yield tab
    context.close()


def test_a_link_without_a_session_says_where_to_get_one(phone, web_server):
    phone.goto(f"{web_server.url}/portal/")
    expect(phone.get_by_role("alert")).to_contain_text("opens from the link your provider gives you")


def test_the_portal_walk_on_a_phone(phone, web_server, shop):
    key = shop["key"]
    phone.goto(shop["session"]["url"])
    expect(phone.get_by_role("heading", level=1, name="Customer portal")).to_be_visible()
    expect(phone.get_by_text("Acme Robotics · ops@acme.example")).to_be_visible()
    # The token left the address bar for sessionStorage; a reload keeps the session.
    assert "session=" not in phone.url and phone.url.endswith("/portal/")
    assert phone.evaluate("sessionStorage.getItem('tollgate.portal.session')").startswith("portal_")
    expect(phone.get_by_role("link", name="Back to the site")).to_have_attribute("href", "https://acme.example/account")

    # Usage against the entitlement: a bar (role meter) and its text.
    bar = phone.get_by_role("meter", name="API calls usage against the entitlement")
    expect(bar).to_have_attribute("aria-valuenow", "7")
    expect(bar).to_have_attribute("aria-valuemax", "100")
    expect(phone.get_by_test_id("usage-text")).to_contain_text("7 of 100 used (7%)")
    expect(phone.get_by_role("figure", name=re.compile("API calls per day"))).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    phone.get_by_role("heading", name="Usage").scroll_into_view_if_needed()
    screenshot(phone, "portal-usage-phone")

    # Regenerate the key: asked once more, then the new secret is shown (once) and the old key is revoked.
    subscription = phone.get_by_role("article", name=re.compile("Subscription Starter"))
    subscription.get_by_role("button", name=f"Regenerate key {key['display']}").click()
    subscription.get_by_role("button", name="Yes, revoke it and make a new key").click()
    expect(subscription.get_by_role("status").first).to_contain_text(f"Key {key['display']} is revoked")
    secret = subscription.get_by_test_id("new-secret").inner_text()
    assert secret.startswith("sk_live_") and secret != key["secret"]
    expect(subscription.get_by_role("row", name=re.compile(re.escape(key["display"])))).to_contain_text("REVOKED")
    expect(subscription.get_by_role("row", name=re.compile(re.escape(secret[-4:])))).to_contain_text("ACTIVE")
    screenshot(phone, "portal-key-regenerated-phone")
    time.sleep(1.1)  # the local authorizer cache (1 s)
    me = httpx.get(f"{web_server.url}/v1/portal/me", headers={"Authorization": f"Bearer {key['secret']}"})
    assert me.status_code == 401 and "revoked" in me.json()["detail"]
    me = httpx.get(f"{web_server.url}/v1/portal/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["customer_id"] == shop["customer"]["id"]
    subscription.get_by_role("button", name="I have saved it").click()
    expect(subscription.get_by_test_id("new-secret")).to_have_count(0)  # shown once: gone for good

    # Payment method (sandbox payments), with the keyboard: Tab to the select, pick, Enter to submit.
    form = phone.get_by_role("form", name="Update the payment method")
    form.get_by_label("New payment method").select_option("pm_card_mastercard")
    form.get_by_label("New payment method").focus()
    phone.keyboard.press("Tab")
    expect(form.get_by_role("button", name="Update payment method")).to_be_focused()
    phone.keyboard.press("Enter")
    expect(form.get_by_role("status")).to_contain_text("Payment method updated to pm_card_mastercard")
    expect(phone.get_by_test_id("payment-method")).to_have_text("pm_card_mastercard")
    customer = ok(shop["owner"].get(f"/v1/customers/{shop['customer']['id']}"))
    assert customer["payment_method"] == "pm_card_mastercard"
    screenshot(phone, "portal-payment-method-phone")


def test_the_portal_on_a_desktop(page, web_server, shop):
    page.set_viewport_size({"width": 1024, "height": 900})
    session = ok(shop["owner"].post("/v1/portal-sessions", json={"customer_id": shop["customer"]["id"]}), 201)
    page.goto(session["url"])
    expect(page.get_by_role("meter", name="API calls usage against the entitlement")).to_have_attribute(
        "aria-valuenow", "7"
    )
    expect(page.get_by_role("combobox", name="New plan")).to_contain_text("Scale")
    screenshot(page, "portal-desktop")
