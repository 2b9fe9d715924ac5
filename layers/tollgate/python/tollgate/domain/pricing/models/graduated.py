"""Graduated tiers: each tier's units at that tier's rate, plus the tier's flat fee once reached.

Bounds are inclusive: with ``up_to: 1000`` the 1000th unit is in that tier, and tier ``n`` is
reached once the quantity exceeds tier ``n-1``'s ``up_to`` (so 1000.5 units put 0.5 units in
the second tier). The first tier is always reached, so its flat amount is charged even at
zero usage. There is one breakdown line per reached tier.
"""

from __future__ import annotations

from decimal import Decimal

from tollgate.domain.pricing.types import ZERO, BreakdownLine, Rated, Tier


def rate_graduated(tiers: tuple[Tier, ...], quantity: Decimal) -> Rated:
    """Sum, over the tiers the quantity reaches, of units in the tier * unit_amount + flat_amount."""
    lines: list[BreakdownLine] = []
    lower = ZERO
    for index, tier in enumerate(tiers, start=1):
        upper = quantity if tier.up_to is None else min(quantity, tier.up_to)
        units = max(upper - lower, ZERO)
        amount = units * tier.unit_amount + tier.flat_amount
        lines.append(
            BreakdownLine(
                tier=index, units=units, unit_amount=tier.unit_amount, flat_amount=tier.flat_amount, amount=amount
            )
        )
        if tier.up_to is None or quantity <= tier.up_to:
            break
        lower = tier.up_to
    return sum((line.amount for line in lines), ZERO), lines
