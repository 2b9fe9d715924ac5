"""Volume tiers, checked against worked examples from vendors' public docs and tests.

Each case names its source; adapted cases say how.
"""

from decimal import Decimal

import pytest

from tollgate.domain.pricing import parse_price, quote

STRIPE = "https://docs.stripe.com/subscriptions/pricing-models/tiered-pricing#volume-based-pricing"
LAGO_DOC = "https://getlago.com/docs/guide/plans/charges/charge-models/volume"
LAGO_SPEC = "getlago/lago-api spec/services/charge_models/volume_service_spec.rb"
OPENMETER = "openmeterio/openmeter openmeter/billing/rating/service/rate/tieredvolume_test.go"
FLEXPRICE_VOLUME = "flexprice/flexprice-docs docs/product-catalogue/plans/billing-models/volume-tiered.mdx"
FLEXPRICE_PACKAGE = "flexprice/flexprice-docs docs/product-catalogue/plans/billing-models/package.mdx"
ZUPLO = "https://zuplo.com/docs/articles/monetization/pricing-models"  # zuplo/docs ...pricing-models.mdx
AFORO = "https://docs.aforo.ai/features/rate-plans"


def tiers(*rows):
    """(up_to, unit_amount, flat_amount) rows -> the tiers JSON."""
    return [{"up_to": up_to, "unit_amount": unit, "flat_amount": flat} for up_to, unit, flat in rows]


# Stripe's Typographic fonts: 1-5 at 7 USD, 6-10 at 6.5 USD, 11+ at 6 USD (no flat amounts).
STRIPE_FONTS = tiers((5, "7", "0"), (10, "6.5", "0"), (None, "6", "0"))
# Lago doc: four tiers, each with a 10 USD fixed fee.
LAGO_API_CALLS = tiers(
    (10000, "0.0010", "10"), (50000, "0.0008", "10"), (100000, "0.0006", "10"), (None, "0.0004", "10")
)
# Lago spec: 0-100 at 2 + 10 flat, 101-200 at 1, 201+ at 0.5 + 50 flat.
LAGO = tiers((100, "2", "10"), (200, "1", "0"), (None, "0.5", "50"))
# Lago spec "when first tier flat amount is zero": 0-1 free, 2-100 at 2 + 10, 101+ at 0.5 + 50.
LAGO_FREE_FIRST = tiers((1, "0", "0"), (100, "2", "10"), (None, "0.5", "50"))
# OpenMeter: up to 5 flat 100, up to 10 flat 150, up to 15 at 10, then 5.
OPENMETER_TIERS = tiers((5, "0", "100"), (10, "0", "150"), (15, "10", "0"), (None, "5", "0"))
# Flexprice volume-tiered: same unit prices as Lago's doc, no flat fees.
FLEXPRICE_TIERS = tiers((10000, "0.0010", "0"), (50000, "0.0008", "0"), (100000, "0.0006", "0"), (None, "0.0004", "0"))
# Flexprice "Package" doc: 1-1,000 -> 50, 1,001-5,000 -> 200, 5,001-10,000 -> 350 for the whole range.
# Adapted: in our vocabulary that is a volume price with flat-only tiers. Flexprice has no tier
# above 10,000; our contract requires a final up_to null, so one is added (not exercised).
FLEXPRICE_RANGES = tiers((1000, "0", "50"), (5000, "0", "200"), (10000, "0", "350"), (None, "0", "350"))
# Zuplo volume: 0-1,000 at 0.10, 1,001-10,000 at 0.05, 10,001+ at 0.01.
ZUPLO_TIERS = tiers((1000, "0.10", "0"), (10000, "0.05", "0"), (None, "0.01", "0"))
# Aforo volume: 0-1,000 at 0.010, 1,001-10,000 at 0.008, 10,001+ at 0.005.
AFORO_TIERS = tiers((1000, "0.010", "0"), (10000, "0.008", "0"), (None, "0.005", "0"))


CASES = [
    # STRIPE: volume table, 1 -> 7, 5 -> 35, 6 -> 39, 20 -> 120, 25 -> 150 USD.
    pytest.param(STRIPE_FONTS, "1", "7.00", id="stripe-1-font"),
    pytest.param(STRIPE_FONTS, "5", "35.00", id="stripe-5-fonts"),
    pytest.param(STRIPE_FONTS, "6", "39.00", id="stripe-6-fonts-all-at-6.5"),
    pytest.param(STRIPE_FONTS, "20", "120.00", id="stripe-20-fonts"),
    pytest.param(STRIPE_FONTS, "25", "150.00", id="stripe-25-fonts"),
    # LAGO_DOC: 65,000 API calls -> 65,000 x 0.0006 + 10 = 49.
    pytest.param(LAGO_API_CALLS, "65000", "49.00", id="lago-doc-65000"),
    # LAGO_SPEC: 0 -> 10 (first tier's flat), 1 -> 12, 100 -> 210, 100.5 -> 100.5 (second tier),
    # 101 -> 101, 200 -> 200, 300 -> 0.5 x 300 + 50 = 200, 210 -> 155 ("fixed charge" case).
    pytest.param(LAGO, "0", "10.00", id="lago-0-first-flat"),
    pytest.param(LAGO, "1", "12.00", id="lago-1"),
    pytest.param(LAGO, "100", "210.00", id="lago-100-top-of-tier-1"),
    pytest.param(LAGO, "100.5", "100.50", id="lago-100.5-fractional-in-tier-2"),
    pytest.param(LAGO, "101", "101.00", id="lago-101"),
    pytest.param(LAGO, "200", "200.00", id="lago-200-top-of-tier-2"),
    pytest.param(LAGO, "300", "200.00", id="lago-300"),
    pytest.param(LAGO, "210", "155.00", id="lago-210"),
    # LAGO_SPEC: "when first tier flat amount is zero" -> 0 at zero usage.
    pytest.param(LAGO_FREE_FIRST, "0", "0.00", id="lago-0-free-first-tier"),
    # OPENMETER: 0 -> 100 ("last price, no usage"), 3 -> 100, 5 -> 100, 14 -> 140, 15 -> 150,
    # 16 -> 80, 100 -> 500.
    pytest.param(OPENMETER_TIERS, "0", "100.00", id="openmeter-0-first-flat"),
    pytest.param(OPENMETER_TIERS, "3", "100.00", id="openmeter-3"),
    pytest.param(OPENMETER_TIERS, "5", "100.00", id="openmeter-5-top-of-tier-1"),
    pytest.param(OPENMETER_TIERS, "14", "140.00", id="openmeter-14"),
    pytest.param(OPENMETER_TIERS, "15", "150.00", id="openmeter-15-top-of-tier-3"),
    pytest.param(OPENMETER_TIERS, "16", "80.00", id="openmeter-16-cheaper-than-15"),
    pytest.param(OPENMETER_TIERS, "100", "500.00", id="openmeter-100"),
    # OPENMETER: "ubp first tier, no usage", a single unbounded tier at 5 -> 0.
    pytest.param(tiers((None, "5", "0")), "0", "0.00", id="openmeter-single-tier-0"),
    # FLEXPRICE_VOLUME: 65,000 calls -> 65,000 x 0.0006 = 39.
    pytest.param(FLEXPRICE_TIERS, "65000", "39.00", id="flexprice-65000"),
    # FLEXPRICE_PACKAGE: 4,500 messages -> 200, and 1,500 messages -> still 200.
    pytest.param(FLEXPRICE_RANGES, "4500", "200.00", id="flexprice-ranges-4500"),
    pytest.param(FLEXPRICE_RANGES, "1500", "200.00", id="flexprice-ranges-1500"),
    # ZUPLO: 15,000 units -> 15,000 x 0.01 = 150.
    pytest.param(ZUPLO_TIERS, "15000", "150.00", id="zuplo-15000"),
    # AFORO: 15,000 units -> 15,000 x 0.005 = 75.
    pytest.param(AFORO_TIERS, "15000", "75.00", id="aforo-15000"),
]


@pytest.mark.parametrize(("tier_rows", "quantity", "expected"), CASES)
def test_volume_pricing_charges_all_units_at_the_reached_tier(tier_rows, quantity, expected):
    price = parse_price({"model": "volume", "currency": "USD", "tiers": tier_rows})
    assert quote(price, Decimal(quantity)).amount == Decimal(expected)


def test_volume_pricing_shows_one_line_for_the_reached_tier():
    # Lago spec, 300 units: flat 50 + 0.5 per unit, all in tier 3.
    price = parse_price({"model": "volume", "currency": "USD", "tiers": LAGO})
    (line,) = quote(price, Decimal(300)).breakdown
    assert (line.tier, line.units, line.unit_amount, line.flat_amount, line.amount) == (
        3,
        Decimal(300),
        Decimal("0.5"),
        Decimal(50),
        Decimal(200),
    )
