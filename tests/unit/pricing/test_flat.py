"""Flat pricing: the same amount whatever the usage, with amounts from vendors' public docs and tests."""

from decimal import Decimal

import pytest

from tollgate.domain.pricing import parse_price, quote

ZUPLO = "https://zuplo.com/docs/articles/monetization/pricing-models"  # zuplo/docs ...pricing-models.mdx
ZUPLO_PLANS = "https://zuplo.com/docs/articles/monetization/plan-examples"
STRIPE = "https://docs.stripe.com/billing/subscriptions/usage-based/pricing-models#flat-rate"
OPENMETER = "openmeterio/openmeter openmeter/billing/rating/service/rate/flat_test.go"

CASES = [
    # ZUPLO: recurring platform fee 99.00 and one-time setup fee 500.00.
    pytest.param("99.00", "0", "99.00", id="zuplo-platform-fee-no-usage"),
    pytest.param("99.00", "12345", "99.00", id="zuplo-platform-fee-with-usage"),
    pytest.param("500.00", "1", "500.00", id="zuplo-setup-fee"),
    # ZUPLO_PLANS: "Basic Fixed Monthly Plan", a flat 9.99/month with 1,000 requests included.
    pytest.param("9.99", "1000", "9.99", id="zuplo-starter-plan"),
    # STRIPE: Togethere's basic level, 10 USD per month and 100 USD per year.
    pytest.param("10", "1", "10.00", id="stripe-basic-monthly"),
    pytest.param("100", "1", "100.00", id="stripe-basic-yearly"),
    # OPENMETER: TestFlatLineCalculation, flat 100 with a line quantity of 1 -> 100.
    pytest.param("100", "1", "100.00", id="openmeter-flat-100"),
]


@pytest.mark.parametrize(("flat_amount", "quantity", "expected"), CASES)
def test_flat_pricing_charges_the_flat_amount_whatever_the_quantity(flat_amount, quantity, expected):
    price = parse_price({"model": "flat", "currency": "USD", "flat_amount": flat_amount})
    assert quote(price, Decimal(quantity)).amount == Decimal(expected)


def test_flat_pricing_describes_itself_as_one_line():
    (line,) = quote({"model": "flat", "currency": "USD", "flat_amount": "9.99"}, Decimal(3)).breakdown
    assert (line.units, line.unit_amount, line.flat_amount, line.amount) == (
        Decimal(3),
        Decimal(0),
        Decimal("9.99"),
        Decimal("9.99"),
    )
