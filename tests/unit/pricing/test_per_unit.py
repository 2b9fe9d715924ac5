"""Per-unit pricing, checked against worked examples from vendors' public docs and tests."""

from decimal import Decimal

import pytest

from tollgate.domain.pricing import parse_price, quote

ZUPLO = "https://zuplo.com/docs/articles/monetization/pricing-models"  # zuplo/docs ...pricing-models.mdx
OPENMETER = "openmeterio/openmeter openmeter/billing/rating/service/rate/unit_test.go"
STRIPE_QUANTITIES = "https://docs.stripe.com/billing/subscriptions/quantities"
AFORO = "https://docs.aforo.ai/features/rate-plans"


def per_unit(amount, included=None):
    price = {"unit_amount": amount}
    if included is not None:
        price["included_units"] = included
    return price


CASES = [
    # ZUPLO: 0.001 per unit x 100,000 API calls = 100.
    pytest.param(per_unit("0.001"), "100000", "100.00", id="zuplo-100000-calls"),
    # OPENMETER: "unit price, no usage" -> nothing; "usage present", 10 x 100 = 1000;
    # "max spend set, but not hit", 10 x 10 = 100.
    pytest.param(per_unit("10"), "0", "0.00", id="openmeter-no-usage"),
    pytest.param(per_unit("100"), "10", "1000.00", id="openmeter-10-at-100"),
    pytest.param(per_unit("10"), "10", "100.00", id="openmeter-10-at-10"),
    # OPENMETER: "unit config divide+ceil", 2 units at 10 = 20, and "unit config multiply", 120
    # units at 1 = 120. Adapted: OpenMeter derives 2 and 120 from 1,500,001 tokens / 1e6 (ceil)
    # and 100 calls x 1.2; we have no unit conversion, so we pass the converted quantities.
    pytest.param(per_unit("10"), "2", "20.00", id="openmeter-unit-config-divide"),
    pytest.param(per_unit("1"), "120", "120.00", id="openmeter-unit-config-multiply"),
    # STRIPE_QUANTITIES: hosting at 9.99 USD per site: one site 9.99 USD, two sites 19.98 USD.
    pytest.param(per_unit("9.99"), "1", "9.99", id="stripe-1-site"),
    pytest.param(per_unit("9.99"), "2", "19.98", id="stripe-2-sites"),
    # ZUPLO "Included Usage with Overage": 10,000 calls included, then 0.01 per additional call
    # (derived: the doc gives the rule, not these totals).
    pytest.param(per_unit("0.01", included="10000"), "9000", "0.00", id="zuplo-within-included"),
    pytest.param(per_unit("0.01", included="10000"), "12500", "25.00", id="zuplo-2500-over-included"),
    # AFORO: charge = max(0, quantity - includedFree) x ratePerUnit (derived: formula, no worked number).
    pytest.param(per_unit("0.002", included="1000"), "1500", "1.00", id="aforo-formula-included-free"),
]


@pytest.mark.parametrize(("fields", "quantity", "expected"), CASES)
def test_per_unit_pricing_charges_quantity_times_unit_amount(fields, quantity, expected):
    price = parse_price({"model": "per_unit", "currency": "USD", **fields})
    assert quote(price, Decimal(quantity)).amount == Decimal(expected)


def test_per_unit_pricing_keeps_sub_cent_unit_amounts_exact_until_the_total():
    # 3 calls at 0.001 is 0.003 exactly; only the total is rounded (to 0.00).
    result = quote({"model": "per_unit", "currency": "USD", "unit_amount": "0.001"}, Decimal(3))
    assert result.unrounded == Decimal("0.003")
    assert result.amount == Decimal("0.00")
