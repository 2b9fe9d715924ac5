"""Graduated tiers, checked against worked examples from vendors' public docs and tests.

Each case names its source. Where the vendor's semantics differ from ours the comment says how
the case was adapted; cases marked "derived" apply a rule the source states in words to a
quantity it gives no number for.
"""

from decimal import Decimal

import pytest

from tollgate.domain.pricing import parse_price, quote

STRIPE = "https://docs.stripe.com/subscriptions/pricing-models/tiered-pricing#graduated-pricing"
LAGO_SPEC = "getlago/lago-api spec/services/charge_models/graduated_service_spec.rb"
OPENMETER = "openmeterio/openmeter openmeter/billing/rating/service/rate/tieredgraduated_test.go"
ZUPLO = "https://zuplo.com/docs/articles/monetization/pricing-models"  # zuplo/docs ...pricing-models.mdx
AFORO = "https://docs.aforo.ai/features/rate-plans"


def tiers(*rows):
    """(up_to, unit_amount, flat_amount) rows -> the tiers JSON."""
    return [{"up_to": up_to, "unit_amount": unit, "flat_amount": flat} for up_to, unit, flat in rows]


# Stripe's Typographic fonts: 1-5 at 7 USD, 6-10 at 6.5 USD, 11+ at 6 USD.
STRIPE_FONTS = tiers((5, "7", "0"), (10, "6.5", "0"), (None, "6", "0"))
# Lago: 0-10 at 10 + 2 flat, 11-20 at 5 + 3 flat, 21+ at 5 + 3 flat. Lago writes ranges as
# from/to (11..20); with the integer usages below that is our up_to 10 / 20 / null.
LAGO = tiers((10, "10", "2"), (20, "5", "3"), (None, "5", "3"))
# Lago "with decimal adjacent ranges": 0-0.1 at 10, 0.1-1 at 5, 1+ at 2.
LAGO_DECIMAL = tiers(("0.1", "10", "0"), ("1", "5", "0"), (None, "2", "0"))
# Lago "when first tier flat amount is zero": 0-0.01 free, 0.01-10 at 10 + 2, 11+ at 5 + 3.
LAGO_FREE_FIRST = tiers(("0.01", "0", "0"), (10, "10", "2"), (None, "5", "3"))
# OpenMeter: up to 5 flat 100, up to 10 flat 50 (no unit price), up to 15 at 5, then 1.
OPENMETER_TIERS = tiers((5, "0", "100"), (10, "0", "50"), (15, "5", "0"), (None, "1", "0"))
# OpenMeter TestGraduatedTieredWithUnitConfig: 0-5 at 10, 5+ at 8.
OPENMETER_UNIT_CONFIG = tiers((5, "10", "0"), (None, "8", "0"))
# Zuplo graduated: 0-1,000 at 0.10, 1,001-10,000 at 0.05, 10,001+ at 0.01.
ZUPLO_TIERS = tiers((1000, "0.10", "0"), (10000, "0.05", "0"), (None, "0.01", "0"))
# Zuplo "Included Usage with Overage": first 10,000 flat 0, then 0.01 per call.
ZUPLO_OVERAGE = tiers((10000, "0", "0"), (None, "0.01", "0"))
# Aforo graduated (staircase): 0-1,000 at 0.010, 1,001-10,000 at 0.008, 10,001+ at 0.005.
AFORO_TIERS = tiers((1000, "0.010", "0"), (10000, "0.008", "0"), (None, "0.005", "0"))


CASES = [
    # STRIPE: "Total for graduated tiered pricing" table (1 -> 7, 5 -> 35, 6 -> 41.5, 20 -> 127.5, 25 -> 157.5 USD).
    pytest.param(STRIPE_FONTS, "1", "7.00", id="stripe-1-font"),
    pytest.param(STRIPE_FONTS, "5", "35.00", id="stripe-5-fonts"),
    pytest.param(STRIPE_FONTS, "6", "41.50", id="stripe-6-fonts"),
    pytest.param(STRIPE_FONTS, "20", "127.50", id="stripe-20-fonts"),
    pytest.param(STRIPE_FONTS, "25", "157.50", id="stripe-25-fonts"),
    # LAGO_SPEC: "when aggregation is 0" applies the first tier's flat amount -> 2.
    pytest.param(LAGO, "0", "2.00", id="lago-0-first-flat-only"),
    # LAGO_SPEC: aggregation 1 -> 12, 10 -> 102, 11 -> 110, 12 -> 115, 21 -> 163.
    pytest.param(LAGO, "1", "12.00", id="lago-1"),
    pytest.param(LAGO, "10", "102.00", id="lago-10-top-of-tier-1"),
    pytest.param(LAGO, "11", "110.00", id="lago-11-reaches-tier-2"),
    pytest.param(LAGO, "12", "115.00", id="lago-12"),
    pytest.param(LAGO, "21", "163.00", id="lago-21-reaches-tier-3"),
    # LAGO_SPEC: decimal adjacent ranges, 0.05 -> 0.5 and 0.5 -> 3.0 (0.1 x 10 + 0.4 x 5).
    pytest.param(LAGO_DECIMAL, "0.05", "0.50", id="lago-fractional-within-tier-1"),
    pytest.param(LAGO_DECIMAL, "0.5", "3.00", id="lago-fractional-across-tiers"),
    # LAGO_SPEC: "when first tier flat amount is zero" -> 0 at zero usage.
    pytest.param(LAGO_FREE_FIRST, "0", "0.00", id="lago-0-free-first-tier"),
    # OPENMETER: "single period multiple tier usage", 22 units -> 100 + 50 + 5 x 5 + 7 x 1 = 182.
    pytest.param(OPENMETER_TIERS, "22", "182.00", id="openmeter-22"),
    # OPENMETER: the max-spend case's comment totals 12 units as 100 + 50 + 2 x 5 = 160.
    pytest.param(OPENMETER_TIERS, "12", "160.00", id="openmeter-12"),
    # OPENMETER: at zero usage the first line of a period bills tier 1's flat 100 (the "last line,
    # no usage, minimum price set" case has PreviousBilledAmount 100 "due to flat fee of 100 for
    # tier 1"). Adapted: we quote a whole period at once, so 0 units -> 100.
    pytest.param(OPENMETER_TIERS, "0", "100.00", id="openmeter-0-first-flat"),
    # OPENMETER: TestGraduatedTieredWithUnitConfig, 8 units -> 5 x 10 + 3 x 8 = 74. Adapted: OpenMeter
    # gets the 8 from 7,500,001 tokens / 1e6 rounded up; we have no unit conversion, so we pass 8.
    pytest.param(OPENMETER_UNIT_CONFIG, "8", "74.00", id="openmeter-unit-config-8"),
    # ZUPLO: 15,000 units -> 100 + 450 + 50 = 600.
    pytest.param(ZUPLO_TIERS, "15000", "600.00", id="zuplo-15000"),
    # ZUPLO "Included Usage with Overage": 10,000 included, then 0.01 per additional call (derived:
    # the doc gives the rule, not these totals).
    pytest.param(ZUPLO_OVERAGE, "10000", "0.00", id="zuplo-overage-all-included"),
    pytest.param(ZUPLO_OVERAGE, "12500", "25.00", id="zuplo-overage-2500-over"),
    # AFORO: 15,000 units -> 10 + 72 + 25 = 107.
    pytest.param(AFORO_TIERS, "15000", "107.00", id="aforo-15000"),
]


@pytest.mark.parametrize(("tier_rows", "quantity", "expected"), CASES)
def test_graduated_pricing_charges_each_tiers_units_at_that_tiers_rate(tier_rows, quantity, expected):
    price = parse_price({"model": "graduated", "currency": "USD", "tiers": tier_rows})
    assert quote(price, Decimal(quantity)).amount == Decimal(expected)


def test_graduated_pricing_counts_the_upper_bound_unit_in_its_own_tier():
    # Stripe's tier "1-5": the 5th font is still at 7 USD (inclusive bound), the 6th is not.
    price = parse_price({"model": "graduated", "currency": "USD", "tiers": STRIPE_FONTS})
    lines = quote(price, Decimal(5)).breakdown
    assert [(line.tier, line.units) for line in lines] == [(1, Decimal(5))]
    lines = quote(price, Decimal(6)).breakdown
    assert [(line.tier, line.units) for line in lines] == [(1, Decimal(5)), (2, Decimal(1))]


def test_graduated_pricing_breaks_the_total_down_per_reached_tier():
    # Lago's amount_details for 21 units: 10 x 10 + 2, 10 x 5 + 3, 1 x 5 + 3.
    price = parse_price({"model": "graduated", "currency": "USD", "tiers": LAGO})
    lines = quote(price, Decimal(21)).breakdown
    assert [(line.tier, line.units, line.amount) for line in lines] == [
        (1, Decimal(10), Decimal(102)),
        (2, Decimal(10), Decimal(53)),
        (3, Decimal(1), Decimal(8)),
    ]
