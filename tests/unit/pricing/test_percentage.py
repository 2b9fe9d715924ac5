"""Percentage pricing, checked against worked examples from vendors' public docs and tests.

Lago's percentage model also has a fixed fee per event and per-transaction minimums/maximums;
those need the individual events, which a price applied to a meter's aggregate does not have.
Lago cases below keep only the rate part, or a single transaction, and say so.
"""

from decimal import Decimal

import pytest

from tollgate.domain.pricing import parse_price, quote

LAGO_SPEC = "getlago/lago-api spec/services/charge_models/percentage_service_spec.rb"
AFORO = "https://docs.aforo.ai/features/rate-plans"


def percentage(rate, min_amount=None, included=None):
    price = {"rate_percent": rate}
    if min_amount is not None:
        price["min_amount"] = min_amount
    if included is not None:
        price["included_units"] = included
    return price


CASES = [
    # LAGO_SPEC "with small units amount": 4 at 2.9% = 0.116 (rounded here to 0.12 USD).
    pytest.param(percentage("2.9"), "4", "0.116", "0.12", id="lago-small-amount"),
    # LAGO_SPEC "does not apply max and min if not premium": (10 + 80 + 10000) x 2.99% = 301.691.
    pytest.param(percentage("2.99"), "10090", "301.691", "301.69", id="lago-10090-at-2.99"),
    # LAGO_SPEC "applies the min and max per transaction": the 10 transaction pays the 1.75 minimum
    # (10 x 2.99% = 0.299 < 1.75) and the 80 one pays 2.392. Adapted: Lago applies the minimum
    # per transaction; ours floors the period's aggregate, so each is quoted as a one-transaction period.
    pytest.param(percentage("2.99", min_amount="1.75"), "10", "1.75", "1.75", id="lago-min-applies"),
    pytest.param(percentage("2.99", min_amount="1.75"), "80", "2.392", "2.39", id="lago-above-min"),
    # LAGO_SPEC "when free units are not set": 800 x 1.3% = 10.4 (Lago's 18.4 adds 4 events x 2.0
    # fixed fee, which we do not model).
    pytest.param(percentage("1.3"), "800", "10.4", "10.40", id="lago-800-at-1.3"),
    # LAGO_SPEC "when fixed amount value is 0": 250 free of 800 -> (800 - 250) x 1.3% = 7.15
    # (Lago's free_units_per_total_aggregation is our included_units; its 11.15 adds 4.0 of
    # per-event fixed fees, which we do not model).
    pytest.param(percentage("1.3", included="250"), "800", "7.15", "7.15", id="lago-250-free-of-800"),
    # LAGO_SPEC "when aggregation value is 0" and "when rate is 0": no percentage charge.
    pytest.param(percentage("1.3"), "0", "0", "0.00", id="lago-zero-value"),
    pytest.param(percentage("0"), "800", "0", "0.00", id="lago-zero-rate"),
    # AFORO: charge = max(minFee, rawValue x ratePercent / 100) (derived: formula, no worked number).
    pytest.param(percentage("2.9", min_amount="0.30"), "5", "0.30", "0.30", id="aforo-formula-min-wins"),
    pytest.param(percentage("2.9", min_amount="0.30"), "100", "2.9", "2.90", id="aforo-formula-rate-wins"),
]


@pytest.mark.parametrize(("fields", "value", "unrounded", "expected"), CASES)
def test_percentage_pricing_charges_a_share_of_the_value_with_a_floor(fields, value, unrounded, expected):
    price = parse_price({"model": "percentage", "currency": "USD", **fields})
    result = quote(price, Decimal(value))
    assert result.unrounded == Decimal(unrounded)
    assert result.amount == Decimal(expected)


def test_percentage_minimum_is_a_floor_on_the_period_even_without_usage():
    # Our semantics (and Aforo's formula): max(min_amount, 0 x rate) = min_amount.
    result = quote({"model": "percentage", "currency": "USD", "rate_percent": "2.9", "min_amount": "0.30"}, 0)
    assert result.amount == Decimal("0.30")
