"""Volume tiers: every unit at the rate of the tier that holds the total, plus that tier's flat fee.

The tier holding the total is the first whose ``up_to`` is ``None`` or ``>= quantity``
(inclusive bounds). At zero usage that is the first tier, so its flat amount is charged.
Unlike graduated pricing the total can drop when usage crosses into a cheaper tier.
"""

from __future__ import annotations

from decimal import Decimal

from tollgate.domain.pricing.types import BreakdownLine, Rated, Tier


def reached_tier(tiers: tuple[Tier, ...], quantity: Decimal) -> int:
    """0-based index of the tier that holds ``quantity``."""
    for index, tier in enumerate(tiers):
        if tier.up_to is None or quantity <= tier.up_to:
            return index
    raise AssertionError("validated tiers end with an unbounded tier")


def rate_volume(tiers: tuple[Tier, ...], quantity: Decimal) -> Rated:
    """``quantity * unit_amount + flat_amount`` of the reached tier."""
    index = reached_tier(tiers, quantity)
    tier = tiers[index]
    amount = quantity * tier.unit_amount + tier.flat_amount
    line = BreakdownLine(
        tier=index + 1, units=quantity, unit_amount=tier.unit_amount, flat_amount=tier.flat_amount, amount=amount
    )
    return amount, [line]
