"""Package pricing, checked against worked examples from vendors' public docs and tests.

Stripe has no package model; it divides the quantity (``transform_quantity``) before a per-unit
price, which is the same computation as our package_size / package_amount.
"""

from decimal import Decimal

import pytest

from tollgate.domain.pricing import parse_price, quote

STRIPE_QUANTITIES = "https://docs.stripe.com/billing/subscriptions/quantities#quantity-transformation"
STRIPE_TRANSFORM = "https://docs.stripe.com/billing/subscriptions/usage-based/transform-quantities"
ZUPLO = "https://zuplo.com/docs/articles/monetization/pricing-models"  # zuplo/docs ...pricing-models.mdx
OPENMETER = "openmeterio/openmeter openmeter/billing/rating/service/rate/package_test.go"
LAGO_SPEC = "getlago/lago-api spec/services/charge_models/package_service_spec.rb"
LAGO_DOC = "https://getlago.com/docs/guide/plans/charges/charge-models/package"


def package(size, amount, rounding="up", included=None):
    price = {"package_size": size, "package_amount": amount, "package_rounding": rounding}
    if included is not None:
        price["included_units"] = included
    return price


STRIPE_PER_5_USERS = package(5, "10")  # transform_quantity[divide_by]=5, round=up, 10 USD
STRIPE_CAR_HOURS = package(60, "10")  # minutes reported, divide_by=60, round=up, 10 USD an hour
STRIPE_EMAILS = package(1000, "0.10", "down")  # divide_by=1000, round=down, 0.10 USD
ZUPLO_PACKAGES = package(1000, "10.00")
OPENMETER_PACKAGES = package(10, "15")
LAGO_PACKAGES = package(10, "100")

CASES = [
    # STRIPE_QUANTITIES: 10 USD for every 5 users or portion thereof: 1, 3, 5 -> 10 USD; 6, 7 -> 20 USD.
    pytest.param(STRIPE_PER_5_USERS, "1", "10.00", id="stripe-1-user"),
    pytest.param(STRIPE_PER_5_USERS, "3", "10.00", id="stripe-3-users"),
    pytest.param(STRIPE_PER_5_USERS, "5", "10.00", id="stripe-5-users"),
    pytest.param(STRIPE_PER_5_USERS, "6", "20.00", id="stripe-6-users"),
    pytest.param(STRIPE_PER_5_USERS, "7", "20.00", id="stripe-7-users"),
    # STRIPE_TRANSFORM: 150 minutes -> 3 hours rounded up -> 30 USD.
    pytest.param(STRIPE_CAR_HOURS, "150", "30.00", id="stripe-150-minutes"),
    # STRIPE_QUANTITIES "Metered usage": 0.10 USD for every 1000 emails, rounding down (derived:
    # the doc gives the rule, not these totals).
    pytest.param(STRIPE_EMAILS, "2500", "0.20", id="stripe-emails-2500-round-down"),
    pytest.param(STRIPE_EMAILS, "999", "0.00", id="stripe-emails-999-round-down"),
    # ZUPLO: usage 0 -> 0, 500 -> 10, 1,000 -> 10, 1,001 -> 20, 5,500 -> 60.
    pytest.param(ZUPLO_PACKAGES, "0", "0.00", id="zuplo-0"),
    pytest.param(ZUPLO_PACKAGES, "500", "10.00", id="zuplo-500"),
    pytest.param(ZUPLO_PACKAGES, "1000", "10.00", id="zuplo-1000"),
    pytest.param(ZUPLO_PACKAGES, "1001", "20.00", id="zuplo-1001"),
    pytest.param(ZUPLO_PACKAGES, "5500", "60.00", id="zuplo-5500"),
    # OPENMETER: 10 per package at 15: no usage -> nothing; 10 -> 15; 5 -> 15.
    pytest.param(OPENMETER_PACKAGES, "0", "0.00", id="openmeter-0"),
    pytest.param(OPENMETER_PACKAGES, "10", "15.00", id="openmeter-10"),
    pytest.param(OPENMETER_PACKAGES, "5", "15.00", id="openmeter-5"),
    # OPENMETER: TestGetNumberOfPackages, 1 -> 1, 9 -> 1, 11 -> 2 packages (x 15).
    pytest.param(OPENMETER_PACKAGES, "1", "15.00", id="openmeter-1"),
    pytest.param(OPENMETER_PACKAGES, "9", "15.00", id="openmeter-9"),
    pytest.param(OPENMETER_PACKAGES, "11", "30.00", id="openmeter-11"),
    # OPENMETER: "overflow into second package", 17 + 5 = 22 units -> 3 packages. Adapted: OpenMeter
    # bills the 15 that the split line adds; we quote the period total, 45.
    pytest.param(OPENMETER_PACKAGES, "22", "45.00", id="openmeter-22"),
    # OPENMETER: "max spend set and hit" comments 60 + 50 units as 90 + 75 = 165 before the cap.
    pytest.param(OPENMETER_PACKAGES, "110", "165.00", id="openmeter-110"),
    # LAGO_SPEC: 121 units, 100 per 10 -> 13 packages = 1300; 10 free units -> 12 packages = 1200;
    # 200 free units -> 0 (Lago's free_units are our included_units).
    pytest.param(LAGO_PACKAGES, "121", "1300.00", id="lago-121"),
    pytest.param(package(10, "100", included=10), "121", "1200.00", id="lago-121-with-10-free"),
    pytest.param(package(10, "100", included=200), "121", "0.00", id="lago-free-units-above-usage"),
    # LAGO_DOC: 5 USD per 100 units, first 100 free: 201 units -> 0 + 5 + 5 = 10.
    pytest.param(package(100, "5", included=100), "201", "10.00", id="lago-doc-201-first-100-free"),
]


@pytest.mark.parametrize(("fields", "quantity", "expected"), CASES)
def test_package_pricing_charges_whole_packages(fields, quantity, expected):
    price = parse_price({"model": "package", "currency": "USD", **fields})
    assert quote(price, Decimal(quantity)).amount == Decimal(expected)


def test_package_rounding_defaults_to_charging_a_started_package_in_full():
    price = parse_price({"model": "package", "currency": "USD", "package_size": 5, "package_amount": "10"})
    assert price.package_rounding == "up"
    assert quote(price, Decimal(6)).breakdown[0].packages == Decimal(2)


def test_package_pricing_accepts_fractional_usage():
    # 2.5 GB with 1 GB packages: up -> 3 packages, down -> 2 (Stripe's "every full gigabyte").
    up = parse_price({"model": "package", "currency": "USD", "package_size": 1, "package_amount": "1"})
    down = parse_price(
        {"model": "package", "currency": "USD", "package_size": 1, "package_amount": "1", "package_rounding": "down"}
    )
    assert quote(up, Decimal("2.5")).amount == Decimal("3.00")
    assert quote(down, Decimal("2.5")).amount == Decimal("2.00")
