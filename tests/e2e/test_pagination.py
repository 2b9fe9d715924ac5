"""Every list route pages (``limit``, ``starting_after`` = the previous page's ``next_cursor``): a walk
with a small limit returns every item exactly once and ends with ``has_more`` false; a cursor is
refused (400 INVALID_CURSOR) by another tenant, by another list and when edited; limits outside
1 to 100 are refused before anything is read."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from tests.e2e import builders
from tests.e2e.billing_kit import bill, ended_subscription, own_tenant, tenant_of
from tests.e2e.builders import ok
from tests.e2e.ingest_kit import problem

LIMIT = 2
N = LIMIT + 1  # one more than a page: every walk needs two pages


def walk(
    c: httpx.Client, path: str, params: dict[str, Any], limit: int = LIMIT, key: str = "id"
) -> tuple[list[Any], int]:
    """Every ``key`` of the items the list returns, page by page, and the number of pages."""
    ids: list[Any] = []
    cursor, pages = None, 0
    while True:
        page = ok(c.get(path, params={**params, "limit": limit, **({"starting_after": cursor} if cursor else {})}))
        pages += 1
        assert len(page["data"]) <= limit
        ids += [item[key] if key else item for item in page["data"]]
        assert page["has_more"] is (page["next_cursor"] is not None)
        if not page["has_more"]:
            return ids, pages
        cursor = page["next_cursor"]
        assert pages < 50, "the walk does not end"


@pytest.fixture(scope="module")
def tenant(server) -> tuple[httpx.Client, dict[str, tuple[str, dict[str, str], set[str]]]]:
    """A tenant with N items of every kind, and per case: (path, filters, the ids the walk must return)."""
    t = own_tenant(server, "pagination")
    cases: dict[str, tuple[str, dict[str, str], set[str]]] = {}
    products = {ok(t.post("/v1/products", json={"name": f"p{i}"}), 201)["id"] for i in range(N)}
    cases["products"] = ("/v1/products", {}, products)
    meters = {
        ok(t.post("/v1/meters", json={"event_name": f"e{i}", "aggregation": {"function": "COUNT"}}), 201)["id"]
        for i in range(N)
    }
    cases["meters"] = ("/v1/meters", {}, meters)
    plans = [builders.plan(t) for _ in range(N)]
    cases["plans"] = ("/v1/plans", {}, {p["id"] for p in plans})
    customers = [builders.customer(t) for _ in range(N)]
    cases["customers"] = ("/v1/customers", {}, {c["id"] for c in customers})
    cust = customers[0]
    subs = [ended_subscription(t, cust["id"], plans[i]["id"]) for i in range(N)]
    cases["subscriptions"] = ("/v1/subscriptions", {}, {s["id"] for s in subs})
    cases["subscriptions of a customer"] = ("/v1/subscriptions", {"customer_id": cust["id"]}, {s["id"] for s in subs})
    invoices = {bill(tenant_of(t), s["id"]).invoice_id for s in subs}
    cases["invoices"] = ("/v1/invoices", {}, invoices)
    cases["invoices of a customer"] = ("/v1/invoices", {"customer_id": cust["id"]}, invoices)
    cases["invoices by status"] = ("/v1/invoices", {"status": "FINALIZED"}, invoices)
    one = sorted(invoices)[0]
    notes = {ok(t.post("/v1/credit-notes", json={"invoice_id": one, "amount": "0.01"}), 201)["id"] for _ in range(N)}
    cases["credit notes"] = ("/v1/credit-notes", {}, notes)
    cases["credit notes of an invoice"] = ("/v1/credit-notes", {"invoice_id": one}, notes)
    cases["credit notes of a customer"] = ("/v1/credit-notes", {"customer_id": cust["id"]}, notes)
    wallets = {
        ok(t.post("/v1/wallets", json={"customer_id": cust["id"], "currency": cur}), 201)["id"]
        for cur in ("USD", "EUR", "GBP")
    }
    cases["wallets"] = ("/v1/wallets", {}, wallets)
    cases["wallets of a customer"] = ("/v1/wallets", {"customer_id": cust["id"]}, wallets)
    coupons = {ok(t.post("/v1/coupons", json={"percent_off": "10"}), 201)["id"] for _ in range(N)}
    cases["coupons"] = ("/v1/coupons", {}, coupons)
    keys = {k["id"] for k in ok(t.get("/v1/api-keys", params={"limit": 100}))["data"]}  # the OWNER key
    keys |= {ok(t.post("/v1/api-keys", json={"kind": "operator", "role": "MEMBER"}), 201)["id"] for _ in range(N)}
    cases["api keys"] = ("/v1/api-keys", {}, keys)
    runs = {
        ok(t.post("/v1/bill-runs", json={"as_of": f"200{i}-01-01T00:00:00Z", "customer_ids": [cust["id"]]}), 202)["id"]
        for i in range(N)
    }
    cases["bill runs"] = ("/v1/bill-runs", {}, runs)
    endpoints = {
        ok(t.post("/v1/webhook-endpoints", json={"url": f"http://127.0.0.1:9/hook{i}"}), 201)["id"] for i in range(N)
    }
    cases["webhook endpoints"] = ("/v1/webhook-endpoints", {}, endpoints)
    policy = {"name": "p", "meters": {"e0": 1}}  # meter e0 (above)
    made = [ok(t.post("/v1/gateway/policies", json={**policy, "routes": [f"GET /p{i}/*"]}), 201) for i in range(N)]
    policies = {p["policy_id"] for p in made}
    cases["gateway policies"] = ("/v1/gateway/policies", {}, policies)
    return t, cases


CASES = [
    "products",
    "meters",
    "plans",
    "customers",
    "subscriptions",
    "subscriptions of a customer",
    "invoices",
    "invoices of a customer",
    "invoices by status",
    "credit notes",
    "credit notes of an invoice",
    "credit notes of a customer",
    "wallets",
    "wallets of a customer",
    "coupons",
    "api keys",
    "bill runs",
    "webhook endpoints",
    "gateway policies",
]


@pytest.mark.parametrize("case", CASES)
def test_a_walk_returns_every_item_once_and_ends(tenant, case):
    t, cases = tenant
    path, params, expected = cases[case]
    key = "policy_id" if case == "gateway policies" else "id"
    ids, pages = walk(t, path, params, key=key)
    assert len(ids) == len(set(ids)), f"an item came twice: {ids}"
    assert set(ids) == expected
    assert pages >= 2
    # One page holding everything says there is no more.
    whole = ok(t.get(path, params={**params, "limit": 100}))
    assert {i[key] for i in whole["data"]} == expected and whole["has_more"] is False and whole["next_cursor"] is None


def test_the_event_log_pages_newest_first(tenant):
    t, _ = tenant
    ids, pages = walk(t, "/v1/billing-events", {"type": "product."})
    assert len(ids) == len(set(ids)) >= N and pages >= 2
    assert ids == [e["id"] for e in ok(t.get("/v1/billing-events", params={"type": "product."}))["data"]]


def first_cursor(t: httpx.Client, path: str) -> str:
    page = ok(t.get(path, params={"limit": 1}))
    assert page["has_more"]
    return page["next_cursor"]


@pytest.mark.parametrize("path", ["/v1/products", "/v1/customers", "/v1/invoices", "/v1/bill-runs", "/v1/api-keys"])
def test_a_cursor_of_another_tenant_or_another_list_or_edited_is_400_and_reads_nothing(owner, tenant, path):
    t, _ = tenant
    cursor = first_cursor(t, path)
    # Another tenant (the shared e2e tenant) sending it: refused, whether or not it has items there.
    assert problem(owner.get(path, params={"starting_after": cursor}), 400)["code"] == "INVALID_CURSOR"
    other = "/v1/coupons" if path != "/v1/coupons" else "/v1/plans"
    assert problem(t.get(other, params={"starting_after": cursor}), 400)["code"] == "INVALID_CURSOR"
    key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    # The partition it names (the table's, or the index's for a list read from an index) moved elsewhere.
    moved = {name: "T#someone-else" if name.endswith("pk") else value for name, value in key.items()}
    edited = base64.urlsafe_b64encode(json.dumps(moved).encode()).decode()
    for bad in (edited, "x", "not a cursor!", cursor[:-3], base64.urlsafe_b64encode(b"[1]").decode()):
        assert problem(t.get(path, params={"starting_after": bad}), 400)["code"] == "INVALID_CURSOR"


@pytest.mark.parametrize("limit", ["0", "101", "x", "-1", "2.5"])
def test_a_limit_outside_1_to_100_is_refused(tenant, limit):
    t, _ = tenant
    for path in ("/v1/products", "/v1/invoices", "/v1/billing-events", "/v1/customers"):
        body = problem(t.get(path, params={"limit": limit}), 422)
        assert "limit" in json.dumps(body)


def test_customers_still_take_the_cursor_parameter(tenant):
    t, cases = tenant
    page = ok(t.get("/v1/customers", params={"limit": LIMIT}))
    rest = ok(t.get("/v1/customers", params={"limit": 100, "cursor": page["next_cursor"]}))
    assert {c["id"] for c in page["data"] + rest["data"]} == cases["customers"][2]


def test_the_ingestion_event_log_pages_newest_first_through_one_instant(server):
    from tests.e2e.ingest_kit import event, fresh_tenant

    t = fresh_tenant(server, "paging the event log")
    meter = t.meter(function="COUNT")
    cust = t.customer()["external_id"]
    # One request: its five entries (three stored, two rejected) share one received_at.
    body = {
        "events": [event(cust, meter["event_name"]) for _ in range(3)]
        + [event(cust, "no.such.meter") for _ in range(2)]
    }
    sent = t.send(body)
    assert sent["accepted"] == 3 and len(sent["rejected"]) == 2
    t.settle()
    whole = ok(t.owner.get("/v1/ingest/events", params={"limit": 100}))
    assert len(whole["data"]) == 5 and not whole["has_more"] and whole["next_cursor"] is None
    seen, cursor = [], None
    while True:
        params = {"limit": LIMIT, **({"starting_after": cursor} if cursor else {})}
        page = ok(t.owner.get("/v1/ingest/events", params=params))
        seen += page["data"]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert seen == whole["data"]
    other = fresh_tenant(server, "someone else's log")
    assert problem(other.owner.get("/v1/ingest/events", params={"starting_after": cursor}), 400)["code"] == (
        "INVALID_CURSOR"
    )


def test_the_lists_inside_a_plan_a_subscription_a_migration_and_a_bill_run_page(server):
    t = own_tenant(server, "nested pages")
    p = builders.plan(t)
    for _ in range(N - 1):
        builders.new_version(t, p["id"], fee="11.00")
    versions, pages = walk(t, f"/v1/plans/{p['id']}/versions", {}, key="version")
    assert versions == list(range(1, N + 1)) and pages >= 2
    detail = ok(t.get(f"/v1/plans/{p['id']}"))
    assert [v["version"] for v in detail["versions"]] == versions and detail["versions_has_more"] is False

    subs = [builders.subscribe(t, builders.customer(t)["id"], p["id"]) for _ in range(N)]
    target = builders.plan(t)
    started = ok(t.post("/v1/migrations", json={"from_plan_id": p["id"], "to_plan_id": target["id"]}), 202)
    done = builders.wait_for(
        lambda: (m := ok(t.get(f"/v1/migrations/{started['id']}")))["status"] != "RUNNING" and m, timeout=30
    )
    assert done["status"] == "COMPLETED" and done["results_has_more"] is False
    results, pages = walk(t, f"/v1/migrations/{started['id']}/results", {}, key="subscription_id")
    assert sorted(results) == sorted(s["id"] for s in subs) and pages >= 2

    history = ok(t.get(f"/v1/subscriptions/{subs[0]['id']}/history"))["data"]
    assert len(history) >= 2  # created, then migrated
    lines, pages = walk(t, f"/v1/subscriptions/{subs[0]['id']}/history", {}, limit=1, key="")
    assert lines == history and pages == len(history)

    cust = builders.customer(t)
    q = builders.plan(t)
    ended = [ended_subscription(t, cust["id"], q["id"]) for _ in range(N)]
    run = ok(t.post("/v1/bill-runs", json={"customer_ids": [cust["id"]]}), 202)
    finished = builders.wait_for(
        lambda: (r := ok(t.get(f"/v1/bill-runs/{run['id']}")))["status"] != "RUNNING" and r, timeout=60
    )
    assert {r["subscription_id"] for r in finished["results"]} == {s["id"] for s in ended}
    results, pages = walk(t, f"/v1/bill-runs/{run['id']}/results", {}, key="subscription_id")
    assert sorted(results) == sorted(s["id"] for s in ended) and pages >= 2
    invoiced, _ = walk(t, f"/v1/bill-runs/{run['id']}/results", {"status": "INVOICED"}, key="subscription_id")
    assert sorted(invoiced) == sorted(results)
