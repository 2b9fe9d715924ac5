"""Issue 4 over HTTP: products, meters, plans and versions (immutability once published), the quote
endpoint honouring every pricing semantic, roles, events, and tenant isolation on every catalog route."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.e2e.conftest import client, wait_until

pytestmark = pytest.mark.e2e

PROBLEM = "application/problem+json"


def ok(r: httpx.Response, status: int = 200) -> dict:
    assert r.status_code == status, f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}"
    return r.json()


def problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}"
    assert r.headers["content-type"] == PROBLEM
    return r.json()


def unique(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}"


def new_meter(c: httpx.Client, **fields) -> dict:
    body = {"event_name": unique("api.calls"), "aggregation": {"function": "COUNT"}, **fields}
    return ok(c.post("/v1/meters", json=body), 201)


# -- products -------------------------------------------------------------------------------------


def test_product_crud_and_archive(owner):
    created = ok(owner.post("/v1/products", json={"name": "Weather API", "metadata": {"team": "forecasts"}}), 201)
    pid = created["id"]
    assert pid.startswith("prod_") and created["status"] == "DRAFT"
    assert ok(owner.get(f"/v1/products/{pid}")) == created
    assert pid in [p["id"] for p in ok(owner.get("/v1/products"))["data"]]
    patched = ok(
        owner.patch(f"/v1/products/{pid}", json={"description": "Forecasts by the hour", "status": "PUBLISHED"})
    )
    assert patched["status"] == "PUBLISHED" and patched["description"] == "Forecasts by the hour"
    assert patched["published_at"] is not None
    assert pid in [p["id"] for p in ok(owner.get("/v1/products", params={"status": "PUBLISHED"}))["data"]]
    archived = ok(owner.delete(f"/v1/products/{pid}"))
    assert archived["status"] == "ARCHIVED" and archived["archived_at"]
    body = problem(owner.patch(f"/v1/products/{pid}", json={"name": "again"}), 409)
    assert "ARCHIVED" in body["detail"]
    problem(owner.delete(f"/v1/products/{pid}"), 409)


def test_a_missing_product_is_a_404_echoing_the_id(owner):
    body = problem(owner.get("/v1/products/prod_x"), 404)
    assert body["detail"] == "Product not found: prod_x"
    assert body["instance"] == "/v1/products/prod_x"


def test_product_validation_is_a_422_naming_the_field(owner):
    body = problem(owner.post("/v1/products", json={"name": ""}), 422)
    assert body["field"] == "name" and "name" in body["detail"]
    body = problem(owner.post("/v1/products", json={"name": "x", "metadata": {"ratio": 0.5}}), 422)
    assert body["field"] == "metadata.ratio"
    body = problem(owner.post("/v1/products", json={"name": "x", "price": 9}), 422)
    assert "price" in body["detail"]


# -- meters ---------------------------------------------------------------------------------------


def test_meter_lifecycle_and_unique_event_names(owner):
    name = unique("model.usage")
    meter = new_meter(
        owner,
        event_name=name,
        code="tokens",
        aggregation={"function": "SUM", "field": "properties.tokens"},
        filters={"model": "gpt-4"},
        usage_reset="CUMULATIVE",
    )
    mid = meter["id"]
    assert mid.startswith("mtr_") and meter["status"] == "ACTIVE"
    assert meter["aggregation"] == {"function": "SUM", "field": "properties.tokens"}
    assert (meter["filters"], meter["usage_reset"], meter["published_in"]) == ({"model": "gpt-4"}, "CUMULATIVE", [])
    assert ok(owner.get(f"/v1/meters/{mid}")) == meter

    taken = problem(owner.post("/v1/meters", json={"event_name": name, "aggregation": {"function": "COUNT"}}), 409)
    assert mid in taken["detail"] and name in taken["detail"]
    # Event names are case-sensitive: another case is another name.
    other_case = new_meter(owner, event_name=name.upper())
    assert [m["id"] for m in ok(owner.get("/v1/meters", params={"event_name": name}))["data"]] == [mid]

    renamed = ok(
        owner.patch(
            f"/v1/meters/{mid}", json={"name": "LLM tokens", "aggregation": {"function": "MAX", "field": "quantity"}}
        )
    )
    assert renamed["name"] == "LLM tokens" and renamed["aggregation"] == {"function": "MAX", "field": "quantity"}

    archived = ok(owner.post(f"/v1/meters/{mid}/archive"))
    assert archived["status"] == "ARCHIVED" and archived["archived_at"]
    problem(owner.post(f"/v1/meters/{mid}/archive"), 409)
    assert mid in [m["id"] for m in ok(owner.get("/v1/meters", params={"status": "ARCHIVED"}))["data"]]
    # The name is free again; the archived meter cannot come back while another active meter holds it.
    successor = new_meter(owner, event_name=name)
    problem(owner.post(f"/v1/meters/{mid}/activate"), 409)
    ok(owner.post(f"/v1/meters/{successor['id']}/archive"))
    assert ok(owner.post(f"/v1/meters/{mid}/activate"))["status"] == "ACTIVE"
    assert other_case["status"] == "ACTIVE"


@pytest.mark.parametrize(
    "aggregation, field",
    [
        ({"function": "SUM"}, "aggregation.field"),
        ({"function": "AVG"}, "aggregation.field"),
        ({"function": "UNIQUE_COUNT"}, "aggregation.field"),
        ({"function": "COUNT", "field": "quantity"}, "aggregation.field"),
        ({"function": "SUM", "field": "tokens"}, "aggregation.field"),
    ],
)
def test_meter_aggregation_rules_are_422s_naming_the_field(owner, aggregation, field):
    body = problem(owner.post("/v1/meters", json={"event_name": unique("e"), "aggregation": aggregation}), 422)
    assert body["field"] == field and field in body["detail"]


def test_an_unknown_aggregation_function_is_a_422(owner):
    body = problem(owner.post("/v1/meters", json={"event_name": "e", "aggregation": {"function": "MEDIAN"}}), 422)
    assert body["errors"][0]["field"].startswith("aggregation.function")


# -- plans and versions ---------------------------------------------------------------------------


def graduated(currency: str = "USD") -> dict:
    return {
        "model": "graduated",
        "currency": currency,
        "tiers": [{"up_to": 1000, "unit_amount": "0"}, {"up_to": None, "unit_amount": "0.002"}],
    }


def test_plan_versioning_and_immutability(owner):
    product = ok(owner.post("/v1/products", json={"name": "LLM API"}), 201)
    meter = new_meter(owner, aggregation={"function": "SUM", "field": "properties.tokens"})
    created = ok(
        owner.post(
            "/v1/plans",
            json={
                "name": "Pro",
                "code": "pro-usd",
                "currency": "USD",
                "billing_interval": "MONTH",
                "trial_days": 14,
                "product_id": product["id"],
                "metadata": {"max_payment_overdue_days": 3},
                "fees": [{"name": "Platform fee", "amount": "49.00", "timing": "in_advance"}],
                "usage_prices": [{"meter_id": meter["id"], "price": graduated()}],
                "minimum_commitment": "100.00",
                "entitlements": [{"meter_id": meter["id"], "limit": 1000000, "hard": False, "reset": "PERIODIC"}],
            },
        ),
        201,
    )
    plan_id = created["id"]
    assert plan_id.startswith("plan_") and created["current_version"] is None and created["latest_version"] == 1
    assert [(v["version"], v["status"]) for v in created["versions"]] == [(1, "DRAFT")]

    v1 = ok(owner.get(f"/v1/plans/{plan_id}/versions/1"))
    assert v1["status"] == "DRAFT" and v1["currency"] == "USD"
    assert v1["fees"] == [{"name": "Platform fee", "amount": "49.00", "timing": "in_advance"}]
    assert v1["usage_prices"][0]["price"]["tiers"][1]["up_to"] is None
    assert v1["entitlements"] == [{"meter_id": meter["id"], "limit": "1000000", "hard": False, "reset": "PERIODIC"}]
    assert v1["minimum_commitment"] == "100.00"

    # A DRAFT can be edited (PUT replaces its prices).
    edited = ok(
        owner.put(
            f"/v1/plans/{plan_id}/versions/1",
            json={
                "fees": [{"name": "Platform fee", "amount": "39.00"}],
                "usage_prices": [{"meter_id": meter["id"], "price": graduated()}],
                "entitlements": [{"meter_id": meter["id"], "limit": "500000"}],
            },
        )
    )
    assert edited["fees"][0]["amount"] == "39.00" and edited["minimum_commitment"] is None

    published = ok(owner.post(f"/v1/plans/{plan_id}/versions/1/publish"))
    assert published["status"] == "PUBLISHED" and published["current"] and not published["superseded"]
    assert ok(owner.get(f"/v1/plans/{plan_id}"))["current_version"] == 1

    # Published versions are immutable.
    body = problem(owner.put(f"/v1/plans/{plan_id}/versions/1", json={"fees": []}), 409)
    assert "published versions are immutable; create a new version" in body["detail"]
    problem(owner.post(f"/v1/plans/{plan_id}/versions/1/publish"), 409)
    assert ok(owner.get(f"/v1/plans/{plan_id}/versions/1"))["fees"][0]["amount"] == "39.00"

    # The meter's aggregation is locked while version 1 is published.
    locked = problem(
        owner.patch(
            f"/v1/meters/{meter['id']}", json={"aggregation": {"function": "MAX", "field": "properties.tokens"}}
        ),
        409,
    )
    assert plan_id in locked["detail"] and "version 1" in locked["detail"]
    assert ok(owner.get(f"/v1/meters/{meter['id']}"))["published_in"] == [{"plan_id": plan_id, "version": 1}]

    # A new version copies the latest; publishing it supersedes (does not archive) version 1.
    v2 = ok(owner.post(f"/v1/plans/{plan_id}/versions"), 201)
    assert (v2["version"], v2["status"], v2["fees"]) == (2, "DRAFT", edited["fees"])
    problem(owner.post(f"/v1/plans/{plan_id}/versions"), 409)  # one draft at a time
    ok(owner.put(f"/v1/plans/{plan_id}/versions/2", json={"fees": [{"name": "Platform fee", "amount": "59.00"}]}))
    ok(owner.post(f"/v1/plans/{plan_id}/versions/2/publish"))
    plan = ok(owner.get(f"/v1/plans/{plan_id}"))
    assert plan["current_version"] == 2 and plan["latest_version"] == 2
    assert [(v["version"], v["status"], v["superseded"], v["current"]) for v in plan["versions"]] == [
        (1, "PUBLISHED", True, False),
        (2, "PUBLISHED", False, True),
    ]
    assert ok(owner.get(f"/v1/plans/{plan_id}/versions/1"))["fees"][0]["amount"] == "39.00"
    assert plan_id in [p["id"] for p in ok(owner.get("/v1/plans"))["data"]]

    # Archiving version 1 releases the meter; archiving the current version falls back to none here.
    assert ok(owner.post(f"/v1/plans/{plan_id}/versions/1/archive"))["status"] == "ARCHIVED"
    assert ok(owner.get(f"/v1/meters/{meter['id']}"))["published_in"] == []
    problem(owner.put(f"/v1/plans/{plan_id}/versions/1", json={}), 409)
    ok(owner.post(f"/v1/plans/{plan_id}/versions/2/archive"))
    assert ok(owner.get(f"/v1/plans/{plan_id}"))["current_version"] is None


def test_plan_fields_change_but_currency_does_not(owner):
    plan = ok(owner.post("/v1/plans", json={"name": "Basic", "currency": "EUR"}), 201)
    patched = ok(
        owner.patch(f"/v1/plans/{plan['id']}", json={"name": "Basic+", "metadata": {"max_payment_overdue_days": 5}})
    )
    assert patched["name"] == "Basic+" and patched["metadata"] == {"max_payment_overdue_days": 5}
    problem(owner.patch(f"/v1/plans/{plan['id']}", json={"currency": "USD"}), 422)


def test_publishing_needs_every_meter_to_exist_and_be_active(owner):
    meter = new_meter(owner)
    plan = ok(
        owner.post(
            "/v1/plans",
            json={"name": "Metered", "currency": "USD", "entitlements": [{"meter_id": "mtr_nope", "limit": 10}]},
        ),
        201,
    )
    body = problem(owner.post(f"/v1/plans/{plan['id']}/versions/1/publish"), 409)
    assert "mtr_nope" in body["detail"]
    ok(owner.put(f"/v1/plans/{plan['id']}/versions/1", json={"entitlements": [{"meter_id": meter["id"], "limit": 10}]}))
    ok(owner.post(f"/v1/meters/{meter['id']}/archive"))
    body = problem(owner.post(f"/v1/plans/{plan['id']}/versions/1/publish"), 409)
    assert meter["id"] in body["detail"] and "ARCHIVED" in body["detail"]
    assert ok(owner.get(f"/v1/plans/{plan['id']}/versions/1"))["status"] == "DRAFT"


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"currency": "XYZ"}, "currency"),
        ({"usage_prices": [{"meter_id": "mtr_x", "price": graduated("EUR")}]}, "usage_prices[0].price.currency"),
        (
            {
                "usage_prices": [
                    {"meter_id": "mtr_x", "price": {**graduated(), "tiers": [{"up_to": 10}, {"up_to": 20}]}}
                ]
            },
            "usage_prices[0].price.tiers[1].up_to",
        ),
        ({"fees": [{"name": "Base", "amount": "9.999"}]}, "fees[0].amount"),
        ({"trial_days": -3}, "trial_days"),
    ],
)
def test_invalid_plans_are_422s_naming_the_field(owner, extra, field):
    body = problem(owner.post("/v1/plans", json={"name": "Bad", "currency": "USD", **extra}), 422)
    assert body["field"] == field and field in body["detail"]


def test_unknown_plans_and_versions_are_404s(owner):
    assert problem(owner.get("/v1/plans/plan_x"), 404)["detail"] == "Plan not found: plan_x"
    plan = ok(owner.post("/v1/plans", json={"name": "P", "currency": "USD"}), 201)
    for version in ("9", "0", "latest"):
        body = problem(owner.get(f"/v1/plans/{plan['id']}/versions/{version}"), 404)
        assert body["detail"] == f"Plan version not found: {plan['id']} version {version}"


def test_catalog_events_reach_the_event_log(server, owner):
    meter = new_meter(owner)
    plan = ok(owner.post("/v1/plans", json={"name": "Evented", "currency": "USD"}), 201)
    ok(owner.post(f"/v1/plans/{plan['id']}/versions/1/publish"))

    def logged():
        types = {
            (e["type"], e["data"].get("meter_id") or e["data"].get("plan_id"))
            for prefix in ("meter.", "plan")
            for e in ok(owner.get("/v1/billing-events", params={"type": prefix, "limit": 100}))["data"]
        }
        wanted = {("meter.created", meter["id"]), ("plan.created", plan["id"]), ("plan_version.published", plan["id"])}
        return wanted <= types

    server.stack.drain()
    wait_until(logged, timeout=15)


# -- roles ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def role_clients(server, owner):
    out = {}
    for role in ("MEMBER", "BILLING_ADMIN", "ADMIN"):
        key = ok(owner.post("/v1/api-keys", json={"kind": "operator", "role": role, "name": f"catalog {role}"}), 201)
        out[role] = client(server, key["secret"], server.tenant_id)
    return out


def test_member_reads_the_catalog_but_cannot_change_it(role_clients):
    member = role_clients["MEMBER"]
    ok(member.get("/v1/products"))
    ok(member.get("/v1/meters"))
    ok(member.get("/v1/plans"))
    ok(
        member.post(
            "/v1/prices/quote", json={"price": {"model": "flat", "currency": "USD", "flat_amount": "5"}, "quantity": 0}
        )
    )
    for r in (
        member.post("/v1/products", json={"name": "x"}),
        member.post("/v1/meters", json={"event_name": "x", "aggregation": {"function": "COUNT"}}),
        member.post("/v1/plans", json={"name": "x", "currency": "USD"}),
    ):
        assert "catalog:write" in problem(r, 403)["detail"]


def test_billing_admin_cannot_touch_the_catalog(role_clients):
    billing = role_clients["BILLING_ADMIN"]
    for r in (
        billing.get("/v1/products"),
        billing.get("/v1/meters"),
        billing.get("/v1/plans"),
        billing.post(
            "/v1/prices/quote", json={"price": {"model": "flat", "currency": "USD", "flat_amount": "5"}, "quantity": 0}
        ),
    ):
        assert "BILLING_ADMIN" in problem(r, 403)["detail"]


def test_admin_writes_the_catalog(role_clients):
    ok(role_clients["ADMIN"].post("/v1/products", json={"name": "by admin"}), 201)


# -- tenant isolation -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tenant_b(server):
    boot = server.stack.bootstrap_tenant("B")
    b = client(server, boot.operator_key, boot.tenant_id)
    product = ok(b.post("/v1/products", json={"name": "B's product"}), 201)
    meter = ok(b.post("/v1/meters", json={"event_name": "b.calls", "aggregation": {"function": "COUNT"}}), 201)
    plan = ok(b.post("/v1/plans", json={"name": "B's plan", "currency": "USD"}), 201)
    return b, product["id"], meter["id"], plan["id"]


def test_another_tenants_catalog_ids_answer_404_on_every_route(owner, tenant_b):
    b, product_id, meter_id, plan_id = tenant_b
    calls = [
        ("GET", f"/v1/products/{product_id}", None, f"Product not found: {product_id}"),
        ("PATCH", f"/v1/products/{product_id}", {"name": "stolen"}, f"Product not found: {product_id}"),
        ("DELETE", f"/v1/products/{product_id}", None, f"Product not found: {product_id}"),
        ("GET", f"/v1/meters/{meter_id}", None, f"Meter not found: {meter_id}"),
        ("PATCH", f"/v1/meters/{meter_id}", {"name": "stolen"}, f"Meter not found: {meter_id}"),
        ("POST", f"/v1/meters/{meter_id}/archive", None, f"Meter not found: {meter_id}"),
        ("POST", f"/v1/meters/{meter_id}/activate", None, f"Meter not found: {meter_id}"),
        ("GET", f"/v1/plans/{plan_id}", None, f"Plan not found: {plan_id}"),
        ("PATCH", f"/v1/plans/{plan_id}", {"name": "stolen"}, f"Plan not found: {plan_id}"),
        ("POST", f"/v1/plans/{plan_id}/versions", None, f"Plan not found: {plan_id}"),
        ("GET", f"/v1/plans/{plan_id}/versions/1", None, f"Plan not found: {plan_id}"),
        ("PUT", f"/v1/plans/{plan_id}/versions/1", {"fees": []}, f"Plan not found: {plan_id}"),
        ("POST", f"/v1/plans/{plan_id}/versions/1/publish", None, f"Plan not found: {plan_id}"),
        ("POST", f"/v1/plans/{plan_id}/versions/1/archive", None, f"Plan not found: {plan_id}"),
    ]
    for method, path, body, detail in calls:
        r = owner.request(method, path, json=body)
        assert problem(r, 404)["detail"] == detail, f"{method} {path}"
        # ... exactly what an id that exists nowhere answers.
        nowhere = (
            path.replace(product_id, "prod_nowhere").replace(meter_id, "mtr_nowhere").replace(plan_id, "plan_nowhere")
        )
        n = owner.request(method, nowhere, json=body)
        assert n.status_code == 404
        assert n.json()["detail"] == detail.replace(product_id, "prod_nowhere").replace(
            meter_id, "mtr_nowhere"
        ).replace(plan_id, "plan_nowhere")
    # Nothing of B's is listed for A, and B's resources are untouched.
    assert product_id not in [p["id"] for p in ok(owner.get("/v1/products"))["data"]]
    assert meter_id not in [m["id"] for m in ok(owner.get("/v1/meters"))["data"]]
    assert plan_id not in [p["id"] for p in ok(owner.get("/v1/plans"))["data"]]
    assert ok(b.get(f"/v1/products/{product_id}"))["name"] == "B's product"
    assert ok(b.get(f"/v1/meters/{meter_id}"))["status"] == "ACTIVE"
    b_plan = ok(b.get(f"/v1/plans/{plan_id}"))
    assert b_plan["name"] == "B's plan" and [v["status"] for v in b_plan["versions"]] == ["DRAFT"]


def test_a_plan_cannot_reference_another_tenants_product(owner, tenant_b):
    _, product_id, meter_id, _ = tenant_b
    body = problem(owner.post("/v1/plans", json={"name": "x", "currency": "USD", "product_id": product_id}), 422)
    assert body["field"] == "product_id" and f"Product not found: {product_id}" in body["detail"]
    plan = ok(
        owner.post(
            "/v1/plans", json={"name": "x", "currency": "USD", "entitlements": [{"meter_id": meter_id, "limit": 1}]}
        ),
        201,
    )
    assert meter_id in problem(owner.post(f"/v1/plans/{plan['id']}/versions/1/publish"), 409)["detail"]


def test_event_names_are_per_tenant(owner, tenant_b):
    new_meter(owner, event_name="b.calls")  # B holds "b.calls" too: no conflict across tenants


# -- the quote endpoint ---------------------------------------------------------------------------


def quote(c: httpx.Client, price: dict, quantity) -> dict:
    return ok(c.post("/v1/prices/quote", json={"price": price, "quantity": quantity}))


def usd(model: str, **fields) -> dict:
    return {"model": model, "currency": "USD", **fields}


TWO_TIERS = [{"up_to": 1000, "unit_amount": "0.10"}, {"up_to": None, "unit_amount": "0.05"}]


def test_quote_shape_with_amount_currency_and_breakdown(owner):
    body = quote(
        owner,
        usd(
            "graduated",
            tiers=[
                {"up_to": 1000, "unit_amount": "0.10"},
                {"up_to": 10000, "unit_amount": "0.05"},
                {"up_to": None, "unit_amount": "0.04"},
            ],
        ),
        "15000",
    )
    assert body["amount"] == "750.00" and body["currency"] == "USD"
    assert [line["amount"] for line in body["breakdown"]] == ["100.00", "450.00", "200.00"]
    assert [line["tier"] for line in body["breakdown"]] == [1, 2, 3]
    assert {"unrounded", "quantity", "included_units", "billable_quantity"} <= body.keys()
    assert body["quantity"] == "15000"


@pytest.mark.parametrize(
    "model, quantity, amount, tiers_used",
    [
        ("graduated", "1000", "100.00", [1]),
        ("graduated", "1001", "100.05", [1, 2]),
        ("volume", "1000", "100.00", [1]),
        ("volume", "1001", "50.05", [2]),
    ],
)
def test_tier_bounds_are_inclusive(owner, model, quantity, amount, tiers_used):
    body = quote(owner, usd(model, tiers=TWO_TIERS), quantity)
    assert body["amount"] == amount
    assert [line["tier"] for line in body["breakdown"]] == tiers_used


def test_graduated_charges_the_first_tiers_flat_amount_at_zero_usage(owner):
    tiers = [
        {"up_to": 100, "unit_amount": "0", "flat_amount": "10"},
        {"up_to": None, "unit_amount": "0.5", "flat_amount": "5"},
    ]
    body = quote(owner, usd("graduated", tiers=tiers), "0")
    assert body["amount"] == "10.00" and len(body["breakdown"]) == 1
    assert quote(owner, usd("graduated", tiers=tiers), "101")["amount"] == "15.50"


def test_volume_prices_every_unit_at_the_reached_tier(owner):
    tiers = [
        {"up_to": 100, "unit_amount": "1", "flat_amount": "20"},
        {"up_to": 1000, "unit_amount": "0.50"},
        {"up_to": None, "unit_amount": "0.25"},
    ]
    assert quote(owner, usd("volume", tiers=tiers), "0")["amount"] == "20.00"
    assert quote(owner, usd("volume", tiers=tiers), "500")["amount"] == "250.00"
    assert quote(owner, usd("volume", tiers=tiers), "2000")["amount"] == "500.00"


@pytest.mark.parametrize(
    "rounding, quantity, amount, packages",
    [
        ("up", "2500", "30.00", "3"),
        ("down", "2500", "20.00", "2"),
        ("up", "2000", "20.00", "2"),
        ("up", "0", "0.00", "0"),
        ("down", "0", "0.00", "0"),
    ],
)
def test_package_rounds_up_or_down_and_zero_units_cost_nothing(owner, rounding, quantity, amount, packages):
    price = usd("package", package_size=1000, package_amount="10", package_rounding=rounding)
    body = quote(owner, price, quantity)
    assert body["amount"] == amount and body["breakdown"][0]["packages"] == packages


@pytest.mark.parametrize("value, amount", [("0", "0.30"), ("5", "0.30"), ("100", "2.90"), ("1234.56", "35.80")])
def test_percentage_with_a_minimum(owner, value, amount):
    assert quote(owner, usd("percentage", rate_percent="2.9", min_amount="0.30"), value)["amount"] == amount


def test_included_units_come_off_first(owner):
    price = usd("per_unit", unit_amount="0.01", included_units="1000")
    body = quote(owner, price, "1500")
    assert (body["amount"], body["billable_quantity"], body["included_units"]) == ("5.00", "500", "1000")
    assert quote(owner, price, "800")["amount"] == "0.00"
    tiered = usd("graduated", tiers=TWO_TIERS, included_units="500")
    assert quote(owner, tiered, "1500")["amount"] == "100.00"


@pytest.mark.parametrize(
    "currency, unit_amount, amount",
    [
        ("USD", "0.125", "0.13"),
        ("USD", "0.135", "0.14"),
        ("EUR", "0.005", "0.01"),
        ("JPY", "0.5", "1"),
        ("JPY", "2.5", "3"),
        ("KWD", "1.2345", "1.235"),
        ("KWD", "0.0005", "0.001"),
    ],
)
def test_rounding_is_half_up_to_the_currencys_minor_units(owner, currency, unit_amount, amount):
    body = quote(owner, {"model": "per_unit", "currency": currency, "unit_amount": unit_amount}, 1)
    assert (body["amount"], body["currency"]) == (amount, currency)


@pytest.mark.parametrize(
    "price, quantity, field",
    [
        pytest.param(usd("per_unit", unit_amount="1") | {"currency": "XYZ"}, "1", "currency", id="unknown-currency"),
        pytest.param(
            usd("graduated", tiers=[{"up_to": 1000}, {"up_to": 500}, {"up_to": None}]),
            "1",
            "tiers[1].up_to",
            id="unsorted-tiers",
        ),
        pytest.param(
            usd("volume", tiers=[{"up_to": 1000}, {"up_to": 5000}]), "1", "tiers[1].up_to", id="missing-final-null"
        ),
        pytest.param(usd("per_unit", unit_amount="-0.01"), "1", "unit_amount", id="negative-amount"),
        pytest.param(
            usd("graduated", tiers=[{"up_to": 10}, {"up_to": None, "unit_amount": "-1"}]),
            "1",
            "tiers[1].unit_amount",
            id="negative-tier",
        ),
        pytest.param(usd("flat", flat_amount="1234567890123456789"), "1", "flat_amount", id="too-many-digits"),
        pytest.param(usd("per_unit", unit_amount="0.0000000000000000001"), "1", "unit_amount", id="too-many-places"),
        pytest.param(usd("per_unit", unit_amount=0.1), "1", "unit_amount", id="json-float"),
        pytest.param(usd("per_unit", unit_amount="1"), "-5", "quantity", id="negative-quantity"),
        pytest.param(usd("per_unit", unit_amount="1"), 1.5, "quantity", id="float-quantity"),
        pytest.param({"currency": "USD"}, "1", "model", id="no-model"),
    ],
)
def test_bad_prices_are_422s_naming_the_field(owner, price, quantity, field):
    body = problem(owner.post("/v1/prices/quote", json={"price": price, "quantity": quantity}), 422)
    assert body["field"] == field
    assert field in body["detail"]
    assert body["code"] == "INVALID_INPUT"


def test_a_quote_without_a_price_is_a_422(owner):
    body = problem(owner.post("/v1/prices/quote", json={"quantity": "1"}), 422)
    assert body["errors"][0]["field"] == "price"


def test_the_quote_route_is_in_the_openapi_document(anonymous):
    doc = anonymous.get("/openapi.json").json()
    op = doc["paths"]["/v1/prices/quote"]["post"]
    assert op["x-tollgate-access"]["permission"] == "catalog:read"
    request = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    response = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    schemas = doc["components"]["schemas"]
    assert {"price", "quantity"} <= schemas[request]["properties"].keys()
    assert {"amount", "currency", "breakdown"} <= schemas[response]["properties"].keys()
    for path in ("/v1/products", "/v1/meters", "/v1/plans", "/v1/plans/{plan_id}/versions/{version}/publish"):
        assert path in doc["paths"]


# -- the DynamoDB adapter's own guards (races the use cases' pre-checks cannot see) ----------------


def test_the_dynamodb_adapter_guards_event_names_and_revisions_itself(server):
    from dataclasses import replace

    from tollgate import wiring
    from tollgate.domain.catalog import MeterAction, new_meter
    from tollgate.domain.clock import utcnow
    from tollgate.domain.errors import Conflict

    repo = wiring.catalog_repository()
    tenant = server.tenant_id
    name = unique("race.calls")

    def meter(meter_id: str):
        return new_meter(
            meter_id=meter_id,
            tenant_id=tenant,
            data={"event_name": name, "aggregation": {"function": "COUNT"}},
            at=utcnow(),
        )

    first = meter(f"mtr_race_{uuid.uuid4().hex[:8]}")
    repo.add_meter(first, [])
    # A second ACTIVE meter with the same event name loses on the claim item, whatever the pre-checks saw.
    with pytest.raises(Conflict) as taken:
        repo.add_meter(meter(f"mtr_race_{uuid.uuid4().hex[:8]}"), [])
    assert first.meter_id in taken.value.detail
    # A write based on a stale revision loses.
    renamed = replace(first, name="renamed", revision=2)
    repo.save_meter(renamed, first, [])
    with pytest.raises(Conflict):
        repo.save_meter(replace(first, name="stale", revision=2), first, [])
    # Archiving releases the claim; the lookups see both states.
    archived = replace(renamed.apply(MeterAction.ARCHIVE, utcnow()), revision=3)
    repo.save_meter(archived, renamed, [])
    second = meter(f"mtr_race_{uuid.uuid4().hex[:8]}")
    repo.add_meter(second, [])
    assert repo.find_meter_by_event_name(tenant, name).meter_id == second.meter_id
    folded = repo.find_meters_by_event_name_ignoring_case(tenant, name.upper())
    assert {m.meter_id for m in folded} == {first.meter_id, second.meter_id}
    # Reactivating the first one would give the name two active meters: refused by the claim.
    with pytest.raises(Conflict):
        repo.save_meter(replace(archived.apply(MeterAction.ACTIVATE, utcnow()), revision=4), archived, [])
    assert repo.get_meter(tenant, first.meter_id).status.value == "ARCHIVED"


# -- loose types (issue 13, class 8) ----------------------------------------------------------------


@pytest.mark.parametrize("segment", ["\u0661", "%C2%B9", "%EF%BC%91", "0", "100001", "9" * 40, "1.0"])
def test_a_plan_version_path_takes_only_ascii_digits_in_range(owner, segment):
    created = ok(owner.post("/v1/plans", json={"name": "Digits", "currency": "USD"}), 201)
    for method, suffix in [("GET", ""), ("PUT", ""), ("POST", "/publish"), ("POST", "/archive")]:
        path = f"/v1/plans/{created['id']}/versions/{segment}{suffix}"
        r = owner.request(method, path, json={} if method == "PUT" else None)
        assert problem(r, 404)["detail"].startswith(f"Plan version not found: {created['id']} version ")
    assert ok(owner.get(f"/v1/plans/{created['id']}/versions/1"))["status"] == "DRAFT"


def test_trial_days_true_is_not_one_day(owner):
    body = problem(owner.post("/v1/plans", json={"name": "Trial", "currency": "USD", "trial_days": True}), 422)
    assert "trial_days" in body["detail"]
    entitlement = {"meter_id": "mtr_x", "limit": "5", "hard": 1}
    body = problem(owner.post("/v1/plans", json={"name": "E", "currency": "USD", "entitlements": [entitlement]}), 422)
    assert "hard" in body["detail"]


def test_a_lone_surrogate_in_a_product_name_is_a_400_naming_it_and_nothing_is_stored(owner):
    """Refused at the HTTP edge (tollgate.api.json_body), before any route: the body is not valid Unicode."""
    before = len(ok(owner.get("/v1/products"))["data"])
    raw = b'{"name": "\\udc00x"}'
    body = problem(owner.post("/v1/products", content=raw, headers={"content-type": "application/json"}), 400)
    assert body["code"] == "INVALID_UNICODE" and "$.name" in body["detail"] and "surrogate" in body["detail"]
    assert len(ok(owner.get("/v1/products"))["data"]) == before


@pytest.mark.parametrize(
    "path",
    [
        "/v1/products/{id}",
        "/v1/meters/{id}",
        "/v1/plans/{id}",
        "/v1/plans/{id}/versions/1",
        "/v1/customers/{id}",
        "/v1/subscriptions/{id}",
        "/v1/migrations/{id}",
    ],
)
def test_an_id_longer_than_any_stored_one_is_a_404_echoing_a_bounded_part_of_it(owner, path):
    """A 3,000-character id is longer than a DynamoDB sort key may be: it names nothing (404), and the
    detail echoes 80 characters of it, not all of them."""
    body = problem(owner.get(path.replace("{id}", "x" * 3000)), 404)
    assert "x" * 80 in body["detail"] and len(body["detail"]) < 300
