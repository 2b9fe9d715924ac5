"""Flat: ``flat_amount`` whatever the quantity (a platform fee, a setup fee)."""

from __future__ import annotations

from decimal import Decimal

from tollgate.domain.pricing.types import ZERO, BreakdownLine, Rated


def rate_flat(flat_amount: Decimal, quantity: Decimal) -> Rated:
    """Charge ``flat_amount``; ``quantity`` only appears on the breakdown line."""
    return flat_amount, [BreakdownLine(units=quantity, unit_amount=ZERO, flat_amount=flat_amount, amount=flat_amount)]
