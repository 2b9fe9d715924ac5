"""The prices of a plan version: what PUT replaces and what publishing freezes.

- ``fees``: recurring flat fees ``{"name", "amount", "timing": "in_advance" | "in_arrears"}``;
- ``usage_prices``: one per meter, ``{"meter_id", "price": <price object of tollgate.domain.pricing>}``,
  the price in the plan's currency;
- ``minimum_commitment``: an optional amount per billing period;
- ``entitlements``: one per meter, ``{"meter_id", "limit", "hard", "reset": PERIODIC | CUMULATIVE |
  NEVER}``, enforced by the gateway.

``parse_content`` validates them against the plan currency; every InvalidInput names the field path
(``usage_prices[0].price.tiers[1].up_to``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tollgate.domain.catalog.common import money_amount, prefixed, text
from tollgate.domain.errors import InvalidInput
from tollgate.domain.money import plain, to_decimal
from tollgate.domain.pricing import Price, parse_price


class FeeTiming(StrEnum):
    IN_ADVANCE = "in_advance"
    IN_ARREARS = "in_arrears"


class EntitlementReset(StrEnum):
    PERIODIC = "PERIODIC"
    CUMULATIVE = "CUMULATIVE"
    NEVER = "NEVER"


MAX_FEES = 20
MAX_USAGE_PRICES = 50
MAX_ENTITLEMENTS = 50
MAX_METERS_PER_VERSION = 50  # keeps publishing within one DynamoDB transaction
MAX_TIERS = 100


@dataclass(frozen=True)
class Fee:
    name: str
    amount: Decimal
    timing: FeeTiming = FeeTiming.IN_ADVANCE

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "amount": plain(self.amount), "timing": self.timing.value}


@dataclass(frozen=True)
class UsagePrice:
    meter_id: str
    price: Price

    def to_json(self) -> dict[str, Any]:
        return {"meter_id": self.meter_id, "price": self.price.to_json()}


@dataclass(frozen=True)
class Entitlement:
    meter_id: str
    limit: Decimal
    hard: bool = True
    reset: EntitlementReset = EntitlementReset.PERIODIC

    def to_json(self) -> dict[str, Any]:
        return {"meter_id": self.meter_id, "limit": plain(self.limit), "hard": self.hard, "reset": self.reset.value}


@dataclass(frozen=True)
class VersionContent:
    """The priced part of a plan version (what PUT replaces and what publishing freezes)."""

    fees: tuple[Fee, ...] = ()
    usage_prices: tuple[UsagePrice, ...] = ()
    minimum_commitment: Decimal | None = None
    entitlements: tuple[Entitlement, ...] = ()

    def meter_ids(self) -> list[str]:
        """Every meter the version references (usage prices, then entitlements), without repeats."""
        ids = [u.meter_id for u in self.usage_prices] + [e.meter_id for e in self.entitlements]
        return list(dict.fromkeys(ids))

    def to_json(self) -> dict[str, Any]:
        return {
            "fees": [f.to_json() for f in self.fees],
            "usage_prices": [u.to_json() for u in self.usage_prices],
            "minimum_commitment": None if self.minimum_commitment is None else plain(self.minimum_commitment),
            "entitlements": [e.to_json() for e in self.entitlements],
        }


CONTENT_FIELDS = ("fees", "usage_prices", "minimum_commitment", "entitlements")


def parse_content(data: Mapping[str, Any], currency: str) -> VersionContent:
    """Validate a version's prices against the plan ``currency``; InvalidInput names the field path
    (``usage_prices[0].price.tiers[1].up_to``)."""
    unknown = set(data) - set(CONTENT_FIELDS)
    if unknown:
        name = min(unknown)
        raise InvalidInput(f"unknown field {name!r}", field=name)
    fees = tuple(
        _fee(item, f"fees[{i}]", currency) for i, item in enumerate(_items(data.get("fees"), "fees", MAX_FEES))
    )
    usage_prices = tuple(
        _usage_price(item, f"usage_prices[{i}]", currency)
        for i, item in enumerate(_items(data.get("usage_prices"), "usage_prices", MAX_USAGE_PRICES))
    )
    _unique_meters([u.meter_id for u in usage_prices], "usage_prices")
    entitlements = tuple(
        _entitlement(item, f"entitlements[{i}]")
        for i, item in enumerate(_items(data.get("entitlements"), "entitlements", MAX_ENTITLEMENTS))
    )
    _unique_meters([e.meter_id for e in entitlements], "entitlements")
    raw_minimum = data.get("minimum_commitment")
    minimum = None if raw_minimum is None else money_amount(raw_minimum, "minimum_commitment", currency)
    content = VersionContent(fees, usage_prices, minimum, entitlements)
    if len(content.meter_ids()) > MAX_METERS_PER_VERSION:
        raise InvalidInput(
            f"a plan version may reference at most {MAX_METERS_PER_VERSION} meters", field="usage_prices"
        )
    return content


def _items(value: Any, field: str, maximum: int) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise InvalidInput(f"{field} must be a list", field=field)
    if len(value) > maximum:
        raise InvalidInput(f"{field} has more than {maximum} entries", field=field)
    return list(value)


def _object(value: Any, path: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{path} must be an object", field=path)
    unknown = set(value) - allowed
    if unknown:
        name = min(unknown)
        raise InvalidInput(f"unknown field {name!r}", field=f"{path}.{name}")
    return value


def _fee(value: Any, path: str, currency: str) -> Fee:
    item = _object(value, path, {"name", "amount", "timing"})
    if item.get("amount") is None:
        raise InvalidInput(f"{path}.amount is required", field=f"{path}.amount")
    try:
        timing = FeeTiming(item.get("timing") or FeeTiming.IN_ADVANCE)
    except ValueError:
        raise InvalidInput(f'{path}.timing must be "in_advance" or "in_arrears"', field=f"{path}.timing") from None
    return Fee(text(item.get("name"), f"{path}.name"), money_amount(item["amount"], f"{path}.amount", currency), timing)


def _usage_price(value: Any, path: str, currency: str) -> UsagePrice:
    item = _object(value, path, {"meter_id", "price"})
    meter_id = text(item.get("meter_id"), f"{path}.meter_id")
    raw = item.get("price")
    if raw is None:
        raise InvalidInput(f"{path}.price is required", field=f"{path}.price")
    if isinstance(raw, Mapping) and isinstance(raw.get("tiers"), list) and len(raw["tiers"]) > MAX_TIERS:
        raise InvalidInput(f"{path}.price.tiers has more than {MAX_TIERS} tiers", field=f"{path}.price.tiers")
    try:
        price = raw if isinstance(raw, Price) else parse_price(raw)
    except InvalidInput as error:
        raise prefixed(error, f"{path}.price") from None
    if price.currency != currency:
        raise InvalidInput(
            f"{path}.price.currency is {price.currency} but the plan is priced in {currency}; "
            "every price of a plan uses the plan's currency",
            field=f"{path}.price.currency",
        )
    return UsagePrice(meter_id, price)


def _entitlement(value: Any, path: str) -> Entitlement:
    item = _object(value, path, {"meter_id", "limit", "hard", "reset"})
    meter_id = text(item.get("meter_id"), f"{path}.meter_id")
    if item.get("limit") is None:
        raise InvalidInput(f"{path}.limit is required", field=f"{path}.limit")
    limit = to_decimal(item["limit"], f"{path}.limit")
    if limit < 0:
        raise InvalidInput(f"{path}.limit must not be negative", field=f"{path}.limit")
    hard = item.get("hard", True)
    if not isinstance(hard, bool):
        raise InvalidInput(f"{path}.hard must be true or false", field=f"{path}.hard")
    try:
        reset = EntitlementReset(item.get("reset") or EntitlementReset.PERIODIC)
    except ValueError:
        raise InvalidInput(f"{path}.reset must be PERIODIC, CUMULATIVE or NEVER", field=f"{path}.reset") from None
    return Entitlement(meter_id, limit, hard, reset)


def _unique_meters(meter_ids: list[str], field: str) -> None:
    seen: set[str] = set()
    for index, meter_id in enumerate(meter_ids):
        if meter_id in seen:
            raise InvalidInput(
                f"{field}[{index}].meter_id: meter {meter_id} appears twice; one entry per meter",
                field=f"{field}[{index}].meter_id",
            )
        seen.add(meter_id)
