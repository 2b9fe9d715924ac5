"""Every bad price or quantity raises InvalidInput naming the offending field."""

from decimal import Decimal

import pytest

from tollgate.domain.errors import InvalidInput
from tollgate.domain.pricing import Price, Tier, parse_price, quote

GOOD_TIERS = [
    {"up_to": 1000, "unit_amount": "0.10"},
    {"up_to": 10000, "unit_amount": "0.05"},
    {"up_to": None, "unit_amount": "0.04"},
]


def with_tiers(*up_tos, model="graduated"):
    return {"model": model, "currency": "USD", "tiers": [{"up_to": up_to, "unit_amount": "1"} for up_to in up_tos]}


BAD_PRICES = [
    # tier order and the final open tier
    pytest.param(with_tiers(1000, 500, None), "tiers[1].up_to", id="tiers-unsorted"),
    pytest.param(with_tiers(1000, 1000, None), "tiers[1].up_to", id="tiers-overlapping"),
    pytest.param(with_tiers(1000, 5000, 10000, model="volume"), "tiers[2].up_to", id="tiers-missing-final-null"),
    pytest.param(with_tiers(None, 5000, None), "tiers[0].up_to", id="tiers-null-not-last"),
    pytest.param(with_tiers(0, None), "tiers[0].up_to", id="tiers-first-bound-zero"),
    pytest.param(with_tiers("-5", None), "tiers[0].up_to", id="tiers-negative-bound"),
    pytest.param({"model": "graduated", "currency": "USD", "tiers": []}, "tiers", id="tiers-empty"),
    pytest.param({"model": "graduated", "currency": "USD", "tiers": {"up_to": None}}, "tiers", id="tiers-not-a-list"),
    pytest.param({"model": "graduated", "currency": "USD", "tiers": ["x"]}, "tiers[0]", id="tier-not-an-object"),
    pytest.param(
        {"model": "graduated", "currency": "USD", "tiers": [{"unit_amount": "1"}]},
        "tiers[0].up_to",
        id="tier-without-up-to",
    ),
    pytest.param(
        {"model": "graduated", "currency": "USD", "tiers": [{"up_to": None, "unit_price": "1"}]},
        "tiers[0].unit_price",
        id="tier-unknown-field",
    ),
    # negative amounts
    pytest.param({"model": "per_unit", "currency": "USD", "unit_amount": "-0.01"}, "unit_amount", id="negative-unit"),
    pytest.param({"model": "flat", "currency": "USD", "flat_amount": "-9.99"}, "flat_amount", id="negative-flat"),
    pytest.param(
        {"model": "volume", "currency": "USD", "tiers": [{"up_to": 10}, {"up_to": None, "flat_amount": "-5"}]},
        "tiers[1].flat_amount",
        id="negative-tier-flat",
    ),
    pytest.param(
        {"model": "graduated", "currency": "USD", "tiers": [{"up_to": None, "unit_amount": "-1"}]},
        "tiers[0].unit_amount",
        id="negative-tier-unit",
    ),
    pytest.param(
        {"model": "package", "currency": "USD", "package_size": 10, "package_amount": "-1"},
        "package_amount",
        id="negative-package-amount",
    ),
    pytest.param(
        {"model": "percentage", "currency": "USD", "rate_percent": "-2.9"}, "rate_percent", id="negative-rate"
    ),
    pytest.param(
        {"model": "percentage", "currency": "USD", "rate_percent": "2.9", "min_amount": "-0.30"},
        "min_amount",
        id="negative-min",
    ),
    pytest.param(
        {"model": "per_unit", "currency": "USD", "unit_amount": "1", "included_units": "-1"},
        "included_units",
        id="negative-included-units",
    ),
    # too many digits for an 18-digit decimal
    pytest.param(
        {"model": "per_unit", "currency": "USD", "unit_amount": "0.0000000000000000001"},
        "unit_amount",
        id="too-many-decimal-places",
    ),
    pytest.param(
        {"model": "flat", "currency": "USD", "flat_amount": "1234567890123456789"}, "flat_amount", id="too-many-digits"
    ),
    pytest.param(with_tiers("0.1234567890123456789", None), "tiers[0].up_to", id="tier-bound-too-precise"),
    # package size
    pytest.param(
        {"model": "package", "currency": "USD", "package_size": 0, "package_amount": "10"},
        "package_size",
        id="package-size-zero",
    ),
    pytest.param(
        {"model": "package", "currency": "USD", "package_size": "-100", "package_amount": "10"},
        "package_size",
        id="package-size-negative",
    ),
    pytest.param(
        {"model": "package", "currency": "USD", "package_size": 10, "package_amount": "1", "package_rounding": "even"},
        "package_rounding",
        id="package-rounding-unknown",
    ),
    # model and currency
    pytest.param({"model": "tiered", "currency": "USD"}, "model", id="unknown-model"),
    pytest.param({"currency": "USD", "unit_amount": "1"}, "model", id="missing-model"),
    pytest.param({"model": "flat", "flat_amount": "1"}, "currency", id="missing-currency"),
    pytest.param({"model": "flat", "currency": "ABC", "flat_amount": "1"}, "currency", id="unknown-currency"),
    pytest.param(
        {"model": "flat", "currency": "XAU", "flat_amount": "1"}, "currency", id="currency-without-minor-units"
    ),
    # required field missing for the model
    pytest.param({"model": "flat", "currency": "USD"}, "flat_amount", id="flat-without-flat-amount"),
    pytest.param({"model": "per_unit", "currency": "USD"}, "unit_amount", id="per-unit-without-unit-amount"),
    pytest.param({"model": "graduated", "currency": "USD"}, "tiers", id="graduated-without-tiers"),
    pytest.param({"model": "volume", "currency": "USD", "tiers": None}, "tiers", id="volume-with-null-tiers"),
    pytest.param(
        {"model": "package", "currency": "USD", "package_amount": "10"}, "package_size", id="package-without-size"
    ),
    pytest.param(
        {"model": "package", "currency": "USD", "package_size": 10}, "package_amount", id="package-without-amount"
    ),
    pytest.param({"model": "percentage", "currency": "USD"}, "rate_percent", id="percentage-without-rate"),
    # fields that do not belong
    pytest.param(
        {"model": "per_unit", "currency": "USD", "unit_amount": "1", "tiers": GOOD_TIERS},
        "tiers",
        id="field-of-other-model",
    ),
    pytest.param(
        {"model": "flat", "currency": "USD", "flat_amount": "1", "included_units": "10"},
        "included_units",
        id="included-units-on-flat",
    ),
    pytest.param({"model": "flat", "currency": "USD", "flat_amount": "1", "amount": "1"}, "amount", id="unknown-field"),
    # floats are never accepted
    pytest.param({"model": "per_unit", "currency": "USD", "unit_amount": 0.1}, "unit_amount", id="float-amount"),
    pytest.param(
        {"model": "graduated", "currency": "USD", "tiers": [{"up_to": 10.5}, {"up_to": None}]},
        "tiers[0].up_to",
        id="float-bound",
    ),
]


@pytest.mark.parametrize(("data", "field"), BAD_PRICES)
def test_an_invalid_price_is_rejected_naming_the_field(data, field):
    with pytest.raises(InvalidInput) as error:
        parse_price(data)
    assert error.value.extra["field"] == field
    assert error.value.status == 422


def test_a_price_that_is_not_an_object_is_rejected():
    with pytest.raises(InvalidInput) as error:
        parse_price(["flat"])  # type: ignore[arg-type]
    assert error.value.extra["field"] == "price"


@pytest.mark.parametrize(
    "quantity",
    [Decimal("-1"), -1, "-0.5", 1.5, "1e3", "12345678901234567890", None],
)
def test_an_invalid_quantity_is_rejected_naming_the_quantity(quantity):
    price = parse_price({"model": "per_unit", "currency": "USD", "unit_amount": "1"})
    with pytest.raises(InvalidInput) as error:
        quote(price, quantity)
    assert error.value.extra["field"] == "quantity"


def test_a_price_built_directly_is_validated_too():
    with pytest.raises(InvalidInput) as error:
        Price(model="volume", currency="USD", tiers=(Tier(up_to=Decimal(10)), Tier(up_to=Decimal(5)), Tier(up_to=None)))
    assert error.value.extra["field"] == "tiers[1].up_to"
    with pytest.raises(InvalidInput) as error:
        Price(model="package", currency="USD", package_size=Decimal(0), package_amount=Decimal(1))
    assert error.value.extra["field"] == "package_size"


def test_a_valid_price_parses_with_defaults():
    price = parse_price({"model": "graduated", "currency": "USD", "tiers": GOOD_TIERS})
    assert price.tiers[2] == Tier(up_to=None, unit_amount=Decimal("0.04"), flat_amount=Decimal(0))
    assert price.included_units == Decimal(0)
    # null for a field that does not apply is accepted (JSON clients often send every key)
    assert parse_price({"model": "flat", "currency": "USD", "flat_amount": "1", "tiers": None}).flat_amount == 1
