"""Percentage: a share of the metered value (e.g. a SUM of transaction amounts), with a floor.

``amount = max(min_amount, value * rate_percent / 100)``. The value is the meter's aggregate
for the period, not a count of events, and ``min_amount`` is a floor on the whole period's
charge (it applies even when the value is 0). Per-transaction fees and per-transaction minimums
(as Lago offers) are not modelled: they need the individual events, not the aggregate.
"""

from __future__ import annotations

from decimal import Decimal

from tollgate.domain.pricing.types import BreakdownLine, Rated


def rate_percentage(rate_percent: Decimal, min_amount: Decimal, value: Decimal) -> Rated:
    """``max(min_amount, value * rate_percent / 100)``."""
    amount = max(min_amount, value * rate_percent / 100)
    line = BreakdownLine(units=value, rate_percent=rate_percent, min_amount=min_amount, amount=amount)
    return amount, [line]
