"""The pricing engine: turn a price and a metered quantity into an exact, rounded-once amount.

Pure domain code: no I/O, no boto3, no float; ``decimal.Decimal`` throughout.

Public API: ``parse_price(dict) -> Price``, ``quote(price, quantity) -> Quote`` (with
``Quote.to_json()``), and the ``Price``, ``Tier``, ``Quote`` and ``BreakdownLine`` types.

Price JSON (amounts and quantities are decimal strings, ``up_to`` an integer, a decimal string
or null)::

    {"model": "flat" | "per_unit" | "graduated" | "volume" | "package" | "percentage",
     "currency": "USD",
     "flat_amount": "9.99",                                   # flat
     "unit_amount": "0.01",                                   # per_unit
     "tiers": [{"up_to": 1000, "unit_amount": "0.10", "flat_amount": "0"}, ...,
               {"up_to": null, "unit_amount": "0.04"}],       # graduated, volume
     "package_size": 1000, "package_amount": "10", "package_rounding": "up" | "down",
     "rate_percent": "2.9", "min_amount": "0.30",            # percentage
     "included_units": "1000"}                                # optional, any usage model

Semantics:

- Tier bounds are inclusive: with ``up_to: 1000`` the 1000th unit is in that tier. Tiers are
  strictly ascending and the last has ``up_to: null``. Fractional quantities are allowed.
- graduated: each tier's units at that tier's ``unit_amount``, plus that tier's ``flat_amount``
  once usage reaches the tier; the first tier's flat amount is charged even at zero usage.
- volume: all units at the ``unit_amount`` of the tier that holds the total, plus that tier's
  ``flat_amount`` (the first tier's at zero usage).
- package: ceil (floor with ``package_rounding: "down"``) of units / ``package_size``, times
  ``package_amount``; zero units cost nothing.
- percentage: ``max(min_amount, value * rate_percent / 100)`` where value is the meter's
  aggregate (e.g. a SUM of transaction amounts); ``min_amount`` defaults to 0.
- flat: ``flat_amount`` whatever the quantity. per_unit: ``quantity * unit_amount``.
- ``included_units`` are subtracted from the quantity before any model applies (floored at 0).
- The total is computed exactly and rounded once, half-up, to the currency's ISO 4217 minor
  units (USD 2, JPY 0, KWD 3). Breakdown line amounts are rounded for display only, so they
  may not add up to the rounded total.
"""

from tollgate.domain.pricing.engine import Quote, quote
from tollgate.domain.pricing.price import MODELS, Price, parse_price
from tollgate.domain.pricing.types import BreakdownLine, Tier

__all__ = ["MODELS", "BreakdownLine", "Price", "Quote", "Tier", "parse_price", "quote"]
