"""Per unit: ``quantity * unit_amount``, fractional quantities included."""

from __future__ import annotations

from decimal import Decimal

from tollgate.domain.pricing.types import ZERO, BreakdownLine, Rated


def rate_per_unit(unit_amount: Decimal, quantity: Decimal) -> Rated:
    """Every unit at ``unit_amount``."""
    amount = quantity * unit_amount
    return amount, [BreakdownLine(units=quantity, unit_amount=unit_amount, flat_amount=ZERO, amount=amount)]
