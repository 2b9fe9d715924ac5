"""Quoting: apply included units, dispatch to the model, round the total once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tollgate.domain.errors import InvalidInput
from tollgate.domain.money import exact, plain, round_money, to_decimal
from tollgate.domain.pricing.models.flat import rate_flat
from tollgate.domain.pricing.models.graduated import rate_graduated
from tollgate.domain.pricing.models.package import rate_package
from tollgate.domain.pricing.models.per_unit import rate_per_unit
from tollgate.domain.pricing.models.percentage import rate_percentage
from tollgate.domain.pricing.models.volume import rate_volume
from tollgate.domain.pricing.price import Price, parse_price
from tollgate.domain.pricing.types import ZERO, BreakdownLine, Rated


@dataclass(frozen=True)
class Quote:
    """The price of a quantity: ``amount`` rounded once, ``unrounded`` exact, and the lines."""

    amount: Decimal
    unrounded: Decimal
    currency: str
    quantity: Decimal
    included_units: Decimal
    billable_quantity: Decimal
    breakdown: list[BreakdownLine]

    def to_json(self) -> dict[str, Any]:
        """Decimal strings throughout; line amounts are rounded for display only."""
        return {
            "amount": plain(self.amount),
            "currency": self.currency,
            "unrounded": plain(self.unrounded),
            "quantity": plain(self.quantity),
            "included_units": plain(self.included_units),
            "billable_quantity": plain(self.billable_quantity),
            "breakdown": [line.to_json(self.currency) for line in self.breakdown],
        }


def quote(price: Price | Mapping[str, Any], quantity: Decimal | int | str) -> Quote:
    """Price ``quantity`` units (or, for percentage, the metered value) with ``price``.

    ``included_units`` are subtracted first (floored at 0); the model then computes an exact
    total with ``Decimal``, which is rounded once, half-up, to the currency's minor units.
    ``quantity`` may be a Decimal, an int or a decimal string; a float or a negative quantity
    raises ``InvalidInput(field="quantity")``. A dict ``price`` is parsed with ``parse_price``.
    """
    if not isinstance(price, Price):
        price = parse_price(price)
    quantity = to_decimal(quantity, "quantity")
    if quantity < 0:
        raise InvalidInput("quantity must not be negative", field="quantity")
    with exact():
        billable = max(quantity - price.included_units, ZERO)
        unrounded, lines = _rate(price, billable)
    return Quote(
        amount=round_money(unrounded, price.currency),
        unrounded=unrounded,
        currency=price.currency,
        quantity=quantity,
        included_units=price.included_units,
        billable_quantity=billable,
        breakdown=lines,
    )


def _rate(price: Price, quantity: Decimal) -> Rated:
    # Price validation guarantees the fields each branch reads are present.
    match price.model:
        case "flat":
            assert price.flat_amount is not None
            return rate_flat(price.flat_amount, quantity)
        case "per_unit":
            assert price.unit_amount is not None
            return rate_per_unit(price.unit_amount, quantity)
        case "graduated":
            return rate_graduated(price.tiers, quantity)
        case "volume":
            return rate_volume(price.tiers, quantity)
        case "package":
            assert price.package_size is not None and price.package_amount is not None
            return rate_package(price.package_size, price.package_amount, price.package_rounding, quantity)
        case "percentage":
            assert price.rate_percent is not None
            return rate_percentage(price.rate_percent, price.min_amount, quantity)
    raise AssertionError(f"unhandled model {price.model}")
