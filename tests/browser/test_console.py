"""The operator console in headless Chromium: the done-when walk of issue 21 on the local stack.

Sign in; create a billable unit (meter) and a plan, publish its version; create a customer and a
subscription (backdated 40 days, so a billing period has ended: the shared local stack's clock must not
move); send events and watch them in the Event Debugger; query them; run a bill run and open the invoice's
Usage Attribution tab; download its PDF. Screenshots of each screen go to test-artifacts/screenshots/."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.artifacts import screenshot

pytestmark = pytest.mark.browser


def local_minute(at: datetime) -> str:
    """What a datetime-local input takes (the console reads it as UTC)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def sign_in(page, server, key: str) -> None:
    page.goto(f"{server.url}/console/")
    page.get_by_label("Tenant id").fill(server.tenant_id)
    page.get_by_label("Operator key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Console")).to_be_visible()


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button, a[href]')]
  .filter((el) => el.tagName === 'BUTTON' || el.tagName === 'A'
    ? !(el.getAttribute('aria-label') || el.textContent.trim())
    : !(el.labels && el.labels.length) && !el.closest('label') && !el.getAttribute('aria-label'))
  .map((el) => el.outerHTML.slice(0, 120))"""


def assert_labelled(page) -> None:
    """Every control has a name a screen reader announces (a label, its text or aria-label)."""
    assert page.evaluate(UNLABELLED) == []


def open_screen(page, label: str) -> None:
    page.get_by_role("navigation", name="Console").get_by_role("link", name=label, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=label)).to_be_visible()


def test_the_done_when_walk(page, web_server):
    tag = uuid.uuid4().hex[:8]
    event_name, external_id = f"api.call.{tag}", f"acme-{tag}"
    now = datetime.now(UTC)

    page.goto(f"{web_server.url}/console/")
    screenshot(page, "console-sign-in")
    sign_in(page, web_server, web_server.owner_key)
    expect(page.get_by_test_id("role")).to_have_text("OWNER")

    # Catalog → Billable Units: a meter with its exact event name and aggregation.
    open_screen(page, "Billable Units")
    page.get_by_label("Event name").fill(event_name)
    page.get_by_label("Aggregation").select_option("COUNT")
    page.get_by_role("button", name="Create billable unit").click()
    expect(page.get_by_role("status")).to_contain_text(f"Billable unit {event_name} created")
    expect(page.get_by_role("row", name=re.compile(re.escape(event_name)))).to_contain_text("ACTIVE")
    screenshot(page, "console-billable-units")

    # Catalog → Plans: a plan whose version 1 (DRAFT) prices the meter; publish it.
    open_screen(page, "Plans")
    page.get_by_label("Plan name").fill(f"Pro {tag}")
    page.get_by_label("Usage price: billable unit").select_option(label=event_name)
    page.get_by_label("Price per unit").fill("0.10")
    page.get_by_label("Entitlement (units per period)").fill("1000")
    page.get_by_role("button", name="Create plan").click()
    expect(page.get_by_role("heading", level=1, name=f"Plan Pro {tag}")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("DRAFT"))).to_be_visible()
    page.get_by_role("button", name="Publish version 1").click()
    expect(page.get_by_role("status")).to_have_text("Version 1 published.")
    expect(page.get_by_role("row", name=re.compile("PUBLISHED"))).to_be_visible()
    # A new version: a DRAFT copied from version 1, its fee changed, then published (the current one).
    page.get_by_role("button", name="New draft version").click()
    expect(page.get_by_role("heading", name="Version 2 · DRAFT")).to_be_visible()
    page.get_by_label("Recurring fee amount").fill("12.00")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("table", name="Fees")).to_contain_text("12.00 USD")
    page.get_by_role("button", name="Publish version 2").click()
    expect(page.get_by_role("status").first).to_have_text("Version 2 published.")
    page.get_by_role("button", name="Open version 2").click()
    expect(page.get_by_role("heading", name="Version 2 · PUBLISHED")).to_be_visible()
    expect(page.get_by_role("table", name="Usage prices")).to_contain_text("per_unit")
    screenshot(page, "console-plan")

    # Commercial → Customers, then Subscriptions (started 40 days ago: its first period has ended).
    open_screen(page, "Customers")
    page.get_by_label("External id").fill(external_id)
    page.get_by_label("Customer name").fill("Acme Corp")
    page.get_by_label("Email").fill("billing@example.com")
    page.get_by_role("button", name="Create customer").click()
    expect(page.get_by_role("heading", level=1, name="Customer Acme Corp")).to_be_visible()
    customer_id = page.url.rsplit("/", 1)[-1]
    screenshot(page, "console-customer")

    open_screen(page, "Subscriptions")
    page.get_by_label("Customer", exact=True).select_option(customer_id)
    page.get_by_label("Plan (current published version)").select_option(label=f"Pro {tag} (v2)")
    page.get_by_label("Start at (UTC, optional)").fill(local_minute(now - timedelta(days=40)))
    page.get_by_role("button", name="Create subscription").click()
    expect(page.get_by_role("heading", level=1, name=re.compile("^Subscription sub_"))).to_be_visible()
    expect(page.get_by_role("table", name="History")).to_contain_text("CREATED")
    screenshot(page, "console-subscription")

    # Usage Tracking → Event Debugger: 3 events in the ended period, 1 with a misspelt name (rejected).
    open_screen(page, "Event Debugger")
    page.get_by_label("Event name", exact=True).fill(event_name)
    page.get_by_label("Customer external id", exact=True).fill(external_id)
    page.get_by_label("How many events").fill("3")
    page.get_by_label("Event time (UTC, optional)").fill(local_minute(now - timedelta(days=35)))
    page.get_by_role("button", name="Send events").click()
    expect(page.get_by_role("status")).to_contain_text("Accepted 3, duplicates 0, rejected 0")
    page.get_by_label("Event name", exact=True).fill(event_name + "s")
    page.get_by_label("How many events").fill("1")
    page.get_by_label("Event time (UTC, optional)").fill("")
    page.get_by_role("button", name="Send events").click()
    expect(page.get_by_role("status")).to_contain_text("rejected 1 (METER_NOT_FOUND")
    page.get_by_label("Filter by customer external id").fill(external_id)
    log = page.get_by_role("table", name=re.compile("^Events"))
    expect(log.get_by_role("row", name=re.compile("REJECTED"))).to_contain_text("no active meter")
    expect(log.get_by_role("row", name=re.compile("LATE"))).to_have_count(3)  # accepted, flagged late
    assert_labelled(page)
    screenshot(page, "console-event-debugger")

    # Usage Tracking → Query Tool: the 3 events, charted per day.
    open_screen(page, "Query Tool")
    page.get_by_label("Customer external id").fill(external_id)
    page.get_by_label("Billable unit").select_option(label=f"{event_name} (COUNT)")
    page.get_by_label("From (UTC)").fill(local_minute(now - timedelta(days=40)))
    page.get_by_role("button", name="Run query").click()
    expect(page.get_by_test_id("usage-total")).to_have_text("3")
    expect(page.locator("figure.chart canvas")).to_be_visible()
    screenshot(page, "console-query-tool")

    # Billing → Bill Runs: run one now; the subscription's ended period is invoiced.
    open_screen(page, "Bill Runs")
    page.get_by_role("button", name="Start bill run").click()
    expect(page.get_by_role("heading", level=1, name=re.compile("^Bill run br_"))).to_be_visible()
    results = page.get_by_role("table", name="Results per subscription")
    expect(results).to_contain_text("INVOICED", timeout=60_000)
    screenshot(page, "console-bill-run")
    results.get_by_role("link", name=re.compile("^inv_")).first.click()

    # The invoice: lines, then the Usage Attribution tab (pipeline stages and event windows).
    expect(page.get_by_role("heading", level=1, name=re.compile("^Invoice inv_"))).to_be_visible()
    lines = page.get_by_role("table", name="Invoice lines")
    expect(lines.get_by_role("row", name=re.compile(re.escape(event_name)))).to_contain_text("0.30 USD")
    screenshot(page, "console-invoice")
    page.get_by_role("tab", name="Lines").focus()  # the tabs work from the keyboard (arrow keys)
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Usage Attribution")).to_have_attribute("aria-selected", "true")
    stages = page.get_by_role("list", name="Pipeline stages")
    expect(stages).to_contain_text("Raw usage events")
    expect(stages).to_contain_text("event count: 3")
    expect(page.get_by_role("table", name=re.compile("^Event windows of"))).to_contain_text("3")
    assert_labelled(page)
    screenshot(page, "console-usage-attribution")

    # The PDF (GET /v1/invoices/{invoice_id}/pdf).
    invoice_id = page.url.rsplit("/", 1)[-1]
    pdf = page.get_by_role("button", name="Download PDF")
    expect(pdf).to_have_attribute("data-href", f"/v1/invoices/{invoice_id}/pdf")
    with page.expect_download() as download:
        pdf.click()
    assert download.value.suggested_filename == f"{invoice_id}.pdf"
    assert Path(download.value.path()).read_bytes()[:5] == b"%PDF-"


def _key(server, role: str) -> str:
    headers = {"Authorization": f"Bearer {server.owner_key}", "X-Tenant-Id": server.tenant_id}
    answer = httpx.post(
        f"{server.url}/v1/api-keys", json={"kind": "operator", "role": role}, headers=headers, timeout=30
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["secret"]


def test_roles_member_sees_without_changing_and_billing_admin_has_no_catalog(page, web_server):
    sign_in(page, web_server, _key(web_server, "MEMBER"))
    expect(page.get_by_test_id("role")).to_have_text("MEMBER")
    open_screen(page, "Billable Units")
    expect(page.get_by_text("Your role (MEMBER) can view the catalog but not change it.")).to_be_visible()
    expect(page.get_by_role("button", name="Create billable unit")).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, web_server, _key(web_server, "BILLING_ADMIN"))
    nav = page.get_by_role("navigation", name="Console")
    expect(nav.get_by_role("heading", name="Catalog")).to_have_count(0)
    expect(nav.get_by_role("link", name="Customers")).to_be_visible()
    open_screen(page, "Customers")
    expect(page.get_by_role("button", name="Create customer")).to_be_visible()


def test_a_wrong_key_shows_the_problem_and_the_other_screens_load(page, web_server):
    page.goto(f"{web_server.url}/console/")
    page.get_by_label("Tenant id").fill(web_server.tenant_id)
    page.get_by_label("Operator key").fill("afo_not-a-real-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    sign_in(page, web_server, web_server.owner_key)
    for label, name in (
        ("API Keys", "console-api-keys"),
        ("Finance", "console-finance"),
        ("Pricing Calculator", "console-pricing-calculator"),
        ("Integration Diagnosis", "console-integration-diagnosis"),
        ("Local Clock", "console-local-clock"),
        ("Products", "console-products"),
        ("Invoices", "console-invoices"),
        ("Credit Notes", "console-credit-notes"),
        ("Payments", "console-payments"),
        ("Webhooks", "console-webhooks"),
        ("Integrations", "console-integrations"),
    ):
        open_screen(page, label)
        assert_labelled(page)
        screenshot(page, name)
    open_screen(page, "Products")  # a product's page: its gateway link ("Restore to Gateway" once linked)
    page.get_by_label("Product name").fill("Weather API")
    page.get_by_role("button", name="Create product").click()
    page.get_by_role("link", name="Weather API").first.click()
    expect(page.get_by_role("heading", level=1, name="Product Weather API")).to_be_visible()
    expect(page.get_by_text("Not linked: connect a gateway first (Settings → Integrations).")).to_be_visible()
    screenshot(page, "console-product")
    open_screen(page, "Integrations")
    absent = page.get_by_text("This deployment has no gateway integrations API yet.")
    expect(absent.or_(page.get_by_role("table", name="Integrations"))).to_be_visible()  # either, as /v1/integrations
    open_screen(page, "Local Clock")
    expect(page.get_by_test_id("local-now")).to_contain_text(" UTC")  # shown, never advanced: a shared stack
    open_screen(page, "Finance")
    page.get_by_label("Legal name (on invoices)").fill("Browser Tenant Ltd")
    page.get_by_label("Address (one line each)").fill("1 Main Street\nSpringfield")
    page.get_by_label("Sender email").fill("billing@example.com")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_have_text("Finance settings saved.")
    page.reload()
    expect(page.get_by_label("Address (one line each)")).to_have_value("1 Main Street\nSpringfield")
    open_screen(page, "Integration Diagnosis")
    page.get_by_role("button", name="Diagnose").click()
    expect(page.get_by_test_id("diagnosis-status")).to_have_text(re.compile("^(ok|issues_found)$"))


def test_lists_page_through_more_than_100_rows(page, web_server):
    headers = {"Authorization": f"Bearer {web_server.owner_key}", "X-Tenant-Id": web_server.tenant_id}
    with httpx.Client(base_url=web_server.url, headers=headers, timeout=30) as api:
        tag = uuid.uuid4().hex[:8]
        for n in range(101):
            assert api.post("/v1/customers", json={"external_id": f"page-{tag}-{n}"}).status_code == 201
    sign_in(page, web_server, web_server.owner_key)
    open_screen(page, "Customers")
    table = page.get_by_role("table", name="Customers")
    expect(table.get_by_role("row")).to_have_count(101)  # the header and 100 customers
    page.get_by_role("button", name="Next page").click()
    expect(page.get_by_role("button", name="First page")).to_be_visible()
    expect(table.get_by_role("row").nth(1)).not_to_have_text("Nothing yet.")
    page.get_by_role("button", name="First page").click()
    expect(page.get_by_role("button", name="First page")).to_have_count(0)


def test_the_local_clock_advance_bills_the_period_that_ended(page, clock_server):
    """On a stack process of its own: a subscription starts now, the console's Local Clock moves 32 days,
    the daily bill run that was due fires, and the invoice is in Billing → Invoices."""
    headers = {"Authorization": f"Bearer {clock_server.owner_key}", "X-Tenant-Id": clock_server.tenant_id}
    with httpx.Client(base_url=clock_server.url, headers=headers, timeout=30) as api:
        body = {"name": "Clock plan", "currency": "USD", "fees": [{"name": "Platform fee", "amount": "9.00"}]}
        plan = api.post("/v1/plans", json=body).json()
        assert api.post(f"/v1/plans/{plan['id']}/versions/1/publish").status_code == 200
        customer = api.post("/v1/customers", json={"external_id": "clock-customer"}).json()
        subscribed = api.post("/v1/subscriptions", json={"customer_id": customer["id"], "plan_id": plan["id"]})
        assert subscribed.status_code == 201, subscribed.text
    sign_in(page, clock_server, clock_server.owner_key)
    open_screen(page, "Local Clock")
    page.get_by_label("Days").fill("32")
    page.get_by_role("button", name="Advance clock").click()
    expect(page.get_by_role("status")).to_contain_text("The local clock is now", timeout=60_000)
    screenshot(page, "console-local-clock-advanced")
    open_screen(page, "Invoices")
    mine = page.get_by_role("table", name="Invoices").get_by_role("row", name=re.compile(customer["id"]))
    expect(mine).to_contain_text("FINALIZED")
    expect(mine).to_contain_text("18.00 USD")  # the ended period's fee and the next one's, both in advance
