"""Issue 18 item 6: the AvaTax and Stripe Tax adapters, through their official SDKs, against fakes of their
HTTP APIs (tests/fakes/tax_engines.py): the tax comes back as invoice tax amounts in minor units, a slow
engine times out within the tenant's timeout, an error answer is an error."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.fakes.tax_engines import FakeTaxEngines
from tests.timing import assert_prompt
from tollgate.adapters.tax import configured_providers
from tollgate.adapters.tax.avalara import AvaTaxProvider, TaxEngineError
from tollgate.adapters.tax.stripe_tax import StripeTaxProvider
from tollgate.domain.billing.invoices import InvoiceLine, LineKind
from tollgate.domain.billing.tax import TaxMode, TaxRequest

REQUEST = TaxRequest(
    tenant_id="ten_1",
    invoice_id="inv_1",
    customer_id="cus_1",
    customer_metadata={"country": "US", "postal_code": "94105", "region": "CA"},
    currency="USD",
    mode=TaxMode.EXCLUSIVE,
    rates=(),
    taxable_amount=Decimal("123.45"),
    lines=(
        InvoiceLine(LineKind.FEE, "Platform fee", Decimal("100.00"), {}),
        InvoiceLine(LineKind.USAGE, "api.calls", Decimal("23.45"), {}),
    ),
)


@pytest.fixture
def engines():
    with FakeTaxEngines(rate_percent="10") as fake:
        yield fake


def providers(url: str):
    return configured_providers(
        {
            "TOLLGATE_AVATAX_ACCOUNT_ID": "1100000000",
            "TOLLGATE_AVATAX_LICENSE_KEY": "license",
            "TOLLGATE_AVATAX_COMPANY_CODE": "ACME",
            "TOLLGATE_AVATAX_URL": url,
            "TOLLGATE_STRIPE_TAX_API_KEY": "sk_test_fake",
            "TOLLGATE_STRIPE_TAX_API_BASE": url,
        }
    )


def test_both_engines_are_offered_when_configured_and_tax_every_line(engines):
    found = providers(engines.url)
    assert set(found) == {"avalara", "stripe_tax"}
    assert isinstance(found["avalara"], AvaTaxProvider) and isinstance(found["stripe_tax"], StripeTaxProvider)
    for name in ("avalara", "stripe_tax"):
        result = found[name].calculate(REQUEST, timeout_seconds=5)
        assert result.provider == name and not result.inclusive
        assert [(a.rate_percent, a.amount) for a in result.amounts] == [(Decimal(10), Decimal("12.35"))], name
    (ava_path, model), (stripe_path, form) = engines.requests
    assert ava_path == "/api/v2/transactions/create" and model["type"] == "SalesOrder"
    assert [ln["amount"] for ln in model["lines"]] == ["100.00", "23.45"]
    assert model["addresses"]["singleLocation"]["postalCode"] == "94105" and model["companyCode"] == "ACME"
    assert stripe_path == "/v1/tax/calculations" and form["line_items[0][amount]"] == "10000"
    assert form["customer_details[address][country]"] == "US" and form["currency"] == "usd"
    assert configured_providers({}) == {}


@pytest.mark.parametrize("name", ["avalara", "stripe_tax"])
def test_a_slow_engine_times_out_within_the_timeout_and_an_error_answer_raises(engines, name):
    import time

    provider = providers(engines.url)[name]
    engines.delay = 1.0
    started = time.monotonic()
    with pytest.raises(Exception):  # noqa: B017 (each SDK raises its own timeout error)
        provider.calculate(REQUEST, timeout_seconds=0.2)
    assert_prompt(time.monotonic() - started)
    engines.delay, engines.fail_status = 0.0, 503
    with pytest.raises(Exception) as raised:
        provider.calculate(REQUEST, timeout_seconds=5)
    assert name != "avalara" or isinstance(raised.value, TaxEngineError)
