"""Quoting a price: what a price object charges for a quantity (no catalog access)."""

from __future__ import annotations

from typing import Any

from tollgate.domain.errors import InvalidInput
from tollgate.domain.pricing import Quote, quote


def quote_price(price: Any, quantity: Any) -> Quote:
    """Price ``quantity`` with a price object. Every InvalidInput names its field in the detail too
    ("tiers[1].up_to: ...")."""
    try:
        return quote(price, quantity)
    except InvalidInput as error:
        field = error.extra.get("field")
        if field and field not in error.detail:
            raise InvalidInput(f"{field}: {error.detail}", **error.extra) from None
        raise
