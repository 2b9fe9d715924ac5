"""Seed 000, "Bill run partially failed": some customers succeed and others fail in the same bill run;
the run's detail shows per-customer results with error codes, and each cause has its fix:
WALLET_INSUFFICIENT_FUNDS (prepaid customer short of balance: top up), USAGE_DATA_UNAVAILABLE (the usage
store was down: re-run the bill run), TAX_CALCULATION_FAILED (the tax engine timed out: retry that invoice).
Everything runs for real: the bill-run state machine on moto, the billing pipeline, the usage reader."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e import billing_kit, builders
from tests.e2e.builders import ok, wait_for
from tests.fakes.billing import SlowTaxProvider
from tollgate import wiring
from tollgate.domain.billing.errors import UsageDataUnavailable

pytestmark = pytest.mark.e2e


def finished(c, run_id: str, attempts: int = 1) -> dict:
    return wait_for(
        lambda: (r := ok(c.get(f"/v1/bill-runs/{run_id}")))["status"] != "RUNNING" and r["attempts"] >= attempts and r,
        timeout=90,
    )


def by_sub(run: dict) -> dict[str, dict]:
    return {r["subscription_id"]: r for r in run["results"]}


def test_each_failure_code_is_shown_per_subscription_and_each_fix_works(server, monkeypatch):
    t = billing_kit.own_tenant(server, "partial bill run")
    plan = builders.plan(t, fee="10.00")
    fine = billing_kit.ended_subscription(t, builders.customer(t)["id"], plan["id"])
    prepaid_customer = builders.customer(t, metadata={"billing_mode": "prepaid"})
    ok(t.post("/v1/wallets", json={"customer_id": prepaid_customer["id"], "initial_balance": "1.00"}), 201)
    prepaid = billing_kit.ended_subscription(t, prepaid_customer["id"], plan["id"])

    # 1. The prepaid customer cannot pay; the others are invoiced.
    run = finished(t, ok(t.post("/v1/bill-runs", json={}), 202)["id"])
    assert run["status"] == "PARTIALLY_FAILED"
    results = by_sub(run)
    assert results[fine["id"]]["status"] == "INVOICED" and results[fine["id"]]["invoice_id"]
    assert results[prepaid["id"]]["status"] == "FAILED"
    assert results[prepaid["id"]]["error_code"] == "WALLET_INSUFFICIENT_FUNDS"
    # Fix: top up the wallet, then re-run the bill run: only the failed subscription is billed again.
    wallet = ok(t.get("/v1/wallets", params={"customer_id": prepaid_customer["id"]}))["data"][0]
    ok(t.post(f"/v1/wallets/{wallet['id']}/top-up", json={"amount": "100.00"}))
    ok(t.post(f"/v1/bill-runs/{run['id']}/rerun"), 202)
    rerun = finished(t, run["id"], attempts=2)
    assert rerun["status"] == "COMPLETED"
    assert by_sub(rerun)[prepaid["id"]]["status"] == "INVOICED"
    assert by_sub(rerun)[fine["id"]]["invoice_id"] == results[fine["id"]]["invoice_id"]  # not billed twice


def test_usage_data_unavailable_is_fixed_by_rerunning_the_bill_run(server, monkeypatch):
    t = billing_kit.own_tenant(server, "usage down")
    sub = billing_kit.ended_subscription(t, builders.customer(t)["id"], builders.plan(t)["id"])

    class DownUsageStore:
        def aggregate(self, *args, **kwargs):
            raise UsageDataUnavailable("usage table throttled")

    real = wiring.billing_repos

    def repos_with_usage_down():
        from dataclasses import replace

        return replace(real(), usage=DownUsageStore())

    # The pipeline only reads usage for usage prices: give the plan one.
    meter = ok(
        t.post("/v1/meters", json={"event_name": f"api.{uuid.uuid4().hex[:6]}", "aggregation": {"function": "COUNT"}}),
        201,
    )
    plan = builders.plan(
        t,
        usage_prices=[
            {"meter_id": meter["id"], "price": {"model": "per_unit", "currency": "USD", "unit_amount": "0.01"}}
        ],
    )
    metered = billing_kit.ended_subscription(t, builders.customer(t)["id"], plan["id"])
    monkeypatch.setattr(wiring, "billing_repos", repos_with_usage_down)
    run = finished(t, ok(t.post("/v1/bill-runs", json={}), 202)["id"])
    results = by_sub(run)
    assert results[metered["id"]]["error_code"] == "USAGE_DATA_UNAVAILABLE"
    assert results[sub["id"]]["status"] == "INVOICED"  # one failure never stops the others
    monkeypatch.setattr(wiring, "billing_repos", real)  # the usage store is back
    ok(t.post(f"/v1/bill-runs/{run['id']}/rerun"), 202)
    assert finished(t, run["id"], attempts=2)["status"] == "COMPLETED"


def test_tax_calculation_failed_is_fixed_by_retrying_that_invoice(server):
    t = billing_kit.own_tenant(server, "tax timeout")
    slow = SlowTaxProvider(delay=2.0, name=f"slow-{uuid.uuid4().hex[:6]}")
    wiring.tax_providers()[slow.name] = slow
    try:
        ok(
            t.put(
                "/v1/settings/billing",
                json={"tax": {"mode": "EXCLUSIVE", "provider": slow.name, "timeout_seconds": "0.2"}},
            )
        )
        sub = billing_kit.ended_subscription(t, builders.customer(t)["id"], builders.plan(t)["id"])
        run = finished(t, ok(t.post("/v1/bill-runs", json={}), 202)["id"])
        result = by_sub(run)[sub["id"]]
        assert result["status"] == "FAILED" and result["error_code"] == "TAX_CALCULATION_FAILED"
        slow.delay = 0  # the engine answers again
        ok(t.post(f"/v1/invoices/{result['invoice_id']}/retry"))
        invoice = ok(t.get(f"/v1/invoices/{result['invoice_id']}"))
        assert invoice["status"] in ("FINALIZED", "PAID")
        invoices = ok(t.get("/v1/invoices", params={"subscription_id": sub["id"]}))["data"]
        assert len(invoices) == 1
    finally:
        wiring.tax_providers().pop(slow.name, None)


def test_usage_the_pricing_engine_refuses_fails_only_its_subscription_and_the_page_is_invoiced(server, monkeypatch):
    """Issue 13 class 2, on the local stack: the bill-run state machine, the page task, the real pipeline."""
    from decimal import Decimal

    from tollgate.domain.billing.usage import UsageAggregate

    t = billing_kit.own_tenant(server, "refused usage")
    meter = ok(
        t.post("/v1/meters", json={"event_name": f"api.{uuid.uuid4().hex[:6]}", "aggregation": {"function": "COUNT"}}),
        201,
    )
    plan = builders.plan(
        t,
        fee="10.00",
        usage_prices=[
            {"meter_id": meter["id"], "price": {"model": "per_unit", "currency": "USD", "unit_amount": "0.01"}}
        ],
    )
    customers = [builders.customer(t) for _ in range(4)]
    subs = [billing_kit.ended_subscription(t, c["id"], plan["id"]) for c in customers]
    refused = {customers[1]["id"]: Decimal("-1000"), customers[2]["id"]: Decimal("1E+125")}

    real = wiring.billing_repos

    class RefusedUsage:
        """The real usage reader, except for two customers whose stored usage the pricing engine refuses."""

        def __init__(self, inner):
            self.inner = inner

        def aggregate(self, tenant_id, customer_id, meter, start, end):
            if customer_id in refused:
                return UsageAggregate(refused[customer_id], [])
            return self.inner.aggregate(tenant_id, customer_id, meter, start, end)

    def repos_with_refused_usage():
        from dataclasses import replace

        repos = real()
        return replace(repos, usage=RefusedUsage(repos.usage))

    monkeypatch.setattr(wiring, "billing_repos", repos_with_refused_usage)
    run = finished(t, ok(t.post("/v1/bill-runs", json={}), 202)["id"])
    results = by_sub(run)
    assert run["status"] == "PARTIALLY_FAILED"
    assert {results[s["id"]]["status"] for s in (subs[0], subs[3])} == {"INVOICED"}
    for sub in subs[1:3]:
        assert (results[sub["id"]]["status"], results[sub["id"]]["error_code"]) == ("FAILED", "USAGE_INVALID")
        invoice = ok(t.get(f"/v1/invoices/{results[sub['id']]['invoice_id']}"))
        assert invoice["status"] == "FAILED" and invoice["error_code"] == "USAGE_INVALID"
    assert "PAGE_FAILED" not in {r["error_code"] for r in run["results"]}
