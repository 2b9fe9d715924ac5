"""Issue 18 item 6 over HTTP: a tenant bills through an external tax engine (AvaTax, by its official SDK,
against a fake of its HTTP API). The engine times out: the bill fails with TAX_CALCULATION_FAILED; once it
answers, retrying that invoice succeeds with the engine's tax."""

from __future__ import annotations

import pytest

from tests.e2e import builders
from tests.e2e.billing_kit import bill, ended_subscription, own_tenant, tenant_of
from tests.e2e.builders import ok
from tests.fakes.tax_engines import FakeTaxEngines
from tollgate.adapters.tax import configured_providers

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("engine", ["avalara", "stripe_tax"])
def test_an_engine_timeout_fails_the_bill_and_the_invoice_retry_succeeds_once_it_answers(server, engine):
    from tollgate import wiring

    t = own_tenant(server, f"tax {engine}")
    with FakeTaxEngines(rate_percent="8.5") as fake:
        env = {
            "TOLLGATE_AVATAX_ACCOUNT_ID": "1100000000",
            "TOLLGATE_AVATAX_LICENSE_KEY": "license",
            "TOLLGATE_AVATAX_URL": fake.url,
            "TOLLGATE_STRIPE_TAX_API_KEY": "sk_test_fake",
            "TOLLGATE_STRIPE_TAX_API_BASE": fake.url,
        }
        wiring.tax_providers()[engine] = configured_providers(env)[engine]
        try:
            settings = {"tax": {"mode": "EXCLUSIVE", "provider": engine, "timeout_seconds": "0.3"}}
            ok(t.put("/v1/settings/billing", json=settings))
            cust = builders.customer(t, metadata={"country": "US", "postal_code": "94105"})
            sub = ended_subscription(t, cust["id"], builders.plan(t, fee="50.00")["id"])
            fake.delay = 1.0
            result = bill(tenant_of(t), sub["id"])
            assert (result.status, result.error_code) == ("FAILED", "TAX_CALCULATION_FAILED")
            failed = ok(t.get(f"/v1/invoices/{result.invoice_id}"))
            assert failed["status"] == "FAILED" and failed["error_code"] == "TAX_CALCULATION_FAILED"
            fake.delay = 0.0
            retried = ok(t.post(f"/v1/invoices/{result.invoice_id}/retry"))
            assert retried["status"] == "INVOICED"
            totals = retried["invoice"]["totals"]
            assert (totals["tax"], totals["total"]) == ("8.50", "108.50")  # 2 x 50.00 in advance, 8.5 %
        finally:
            wiring.tax_providers().pop(engine, None)
