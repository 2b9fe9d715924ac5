"""Value types shared by the price parser, the rating models and the quote."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tollgate.domain.money import plain, round_money

ZERO = Decimal(0)


@dataclass(frozen=True)
class Tier:
    """One tier: units up to and including ``up_to`` (``None`` = no upper bound, last tier only)."""

    up_to: Decimal | None
    unit_amount: Decimal = ZERO
    flat_amount: Decimal = ZERO


@dataclass(frozen=True)
class BreakdownLine:
    """One line of a quote: the units it prices and its exact (unrounded) amount.

    Tier models fill ``tier`` (1-based), ``unit_amount`` and ``flat_amount``; package lines add
    ``packages``, ``package_size`` and ``package_amount``; percentage lines add ``rate_percent`` and ``min_amount``.
    """

    units: Decimal
    amount: Decimal
    tier: int | None = None
    unit_amount: Decimal | None = None
    flat_amount: Decimal | None = None
    packages: Decimal | None = None
    package_size: Decimal | None = None
    package_amount: Decimal | None = None
    rate_percent: Decimal | None = None
    min_amount: Decimal | None = None

    def to_json(self, currency: str) -> dict[str, Any]:
        """Decimal strings; ``amount`` rounded to the currency's minor units for display."""
        out: dict[str, Any] = {}
        if self.tier is not None:
            out["tier"] = self.tier
        out["units"] = plain(self.units)
        for name in (
            "unit_amount",
            "flat_amount",
            "packages",
            "package_size",
            "package_amount",
            "rate_percent",
            "min_amount",
        ):
            value = getattr(self, name)
            if value is not None:
                out[name] = plain(value)
        out["amount"] = plain(round_money(self.amount, currency))
        return out


Rated = tuple[Decimal, list[BreakdownLine]]
"""What every rating model returns: the exact total and the lines that make it up."""
