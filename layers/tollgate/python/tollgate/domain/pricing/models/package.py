"""Package: usage is sold in whole packages of ``package_size`` units at ``package_amount`` each.

The number of packages is ``ceil(quantity / package_size)`` (a started package is charged in
full), or ``floor(...)`` with ``package_rounding: "down"`` (only complete packages are charged).
Zero units cost nothing. Fractional quantities and package sizes are allowed.
"""

from __future__ import annotations

from decimal import Decimal

from tollgate.domain.pricing.types import BreakdownLine, Rated


def count_packages(quantity: Decimal, package_size: Decimal, rounding: str) -> Decimal:
    """Whole packages in a non-negative ``quantity``, rounded ``"up"`` or ``"down"``."""
    whole = quantity // package_size
    if rounding == "up" and quantity % package_size:
        whole += 1
    return whole


def rate_package(package_size: Decimal, package_amount: Decimal, rounding: str, quantity: Decimal) -> Rated:
    """``packages * package_amount``."""
    packages = count_packages(quantity, package_size, rounding)
    amount = packages * package_amount
    line = BreakdownLine(
        units=quantity, packages=packages, package_size=package_size, package_amount=package_amount, amount=amount
    )
    return amount, [line]
