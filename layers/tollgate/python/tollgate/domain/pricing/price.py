"""The price object: parsing the public JSON contract into a validated, immutable ``Price``.

Every rule broken raises ``InvalidInput(detail, field=...)`` naming the field path, e.g.
``field="tiers[2].up_to"``. Rules:

- ``model`` is one of ``MODELS``; ``currency`` is an ISO 4217 code with minor units.
- The fields a model needs are present (flat: ``flat_amount``; per_unit: ``unit_amount``;
  graduated/volume: ``tiers``; package: ``package_size`` and ``package_amount``; percentage:
  ``rate_percent``). Unknown fields, and non-null fields of another model, are rejected.
- Amounts, quantities and bounds are decimal strings or integers (never JSON floats), at most
  18 digits, and not negative; ``package_size`` is greater than 0.
- Tiers are strictly ascending from 0 (``up_to`` > previous ``up_to``), and only the last tier,
  which must be there, has ``up_to: null``. ``unit_amount``/``flat_amount`` default to 0.
- ``package_rounding`` is ``"up"`` (default) or ``"down"``; ``min_amount`` (percentage) and
  ``included_units`` (any usage model, not flat) default to 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from tollgate.domain.errors import InvalidInput
from tollgate.domain.money import minor_units, plain, to_decimal
from tollgate.domain.pricing.types import ZERO, Tier

MODELS = ("flat", "per_unit", "graduated", "volume", "package", "percentage")

# model -> (required fields, optional fields), besides "model" and "currency".
_MODEL_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "flat": (frozenset({"flat_amount"}), frozenset()),
    "per_unit": (frozenset({"unit_amount"}), frozenset({"included_units"})),
    "graduated": (frozenset({"tiers"}), frozenset({"included_units"})),
    "volume": (frozenset({"tiers"}), frozenset({"included_units"})),
    "package": (frozenset({"package_size", "package_amount"}), frozenset({"package_rounding", "included_units"})),
    "percentage": (frozenset({"rate_percent"}), frozenset({"min_amount", "included_units"})),
}
_AMOUNT_FIELDS = (
    "flat_amount",
    "unit_amount",
    "package_size",
    "package_amount",
    "rate_percent",
    "min_amount",
    "included_units",
)
_TIER_FIELDS = ("up_to", "unit_amount", "flat_amount")
_ROUNDINGS = ("up", "down")


@dataclass(frozen=True)
class Price:
    """A validated price; build it with ``parse_price`` (direct construction is validated too)."""

    model: str
    currency: str
    flat_amount: Decimal | None = None
    unit_amount: Decimal | None = None
    tiers: tuple[Tier, ...] = ()
    package_size: Decimal | None = None
    package_amount: Decimal | None = None
    package_rounding: str = "up"
    rate_percent: Decimal | None = None
    min_amount: Decimal = ZERO
    included_units: Decimal = ZERO

    def __post_init__(self) -> None:
        _validate(self)

    def to_json(self) -> dict[str, Any]:
        """The public JSON form: decimal strings, ``up_to`` an integer when whole, else a string."""
        required, optional = _MODEL_FIELDS[self.model]
        out: dict[str, Any] = {"model": self.model, "currency": self.currency}
        for name in sorted(required | optional):
            value = getattr(self, name)
            if name == "tiers":
                out[name] = [
                    {
                        "up_to": _bound_json(tier.up_to),
                        "unit_amount": plain(tier.unit_amount),
                        "flat_amount": plain(tier.flat_amount),
                    }
                    for tier in value
                ]
            else:
                out[name] = plain(value) if isinstance(value, Decimal) else value
        return out


def parse_price(data: Mapping[str, Any]) -> Price:
    """Parse the public price JSON (a dict) into a ``Price``; raise ``InvalidInput`` naming the field."""
    if not isinstance(data, Mapping):
        raise InvalidInput("a price must be a JSON object", field="price")
    model = data.get("model")
    if model is None:
        raise InvalidInput("model is required", field="model")
    if model not in MODELS:
        raise InvalidInput(f"unknown model {model!r}; expected one of {', '.join(MODELS)}", field="model")
    required, optional = _MODEL_FIELDS[model]
    known = {"model", "currency", *_AMOUNT_FIELDS, "tiers", "package_rounding"}
    for key, value in data.items():
        if key not in known:
            raise InvalidInput(f"unknown field {key!r}", field=str(key))
        if value is not None and key not in required | optional | {"model", "currency"}:
            raise InvalidInput(f"{key} does not apply to model {model}", field=key)
    for key in ("currency", *sorted(required)):
        if data.get(key) is None:
            raise InvalidInput(f"{key} is required for model {model}", field=key)

    values: dict[str, Any] = {"model": model, "currency": data["currency"]}
    for key in _AMOUNT_FIELDS:
        if data.get(key) is not None:
            values[key] = to_decimal(data[key], key)
    if data.get("tiers") is not None:
        values["tiers"] = _parse_tiers(data["tiers"])
    if data.get("package_rounding") is not None:
        values["package_rounding"] = data["package_rounding"]
    return Price(**values)


def _parse_tiers(raw: Any) -> tuple[Tier, ...]:
    if not isinstance(raw, list) or not raw:
        raise InvalidInput("tiers must be a non-empty list", field="tiers")
    tiers = []
    for index, item in enumerate(raw):
        path = f"tiers[{index}]"
        if not isinstance(item, Mapping):
            raise InvalidInput(f"{path} must be an object", field=path)
        for key in item:
            if key not in _TIER_FIELDS:
                raise InvalidInput(f"unknown field {key!r}", field=f"{path}.{key}")
        if "up_to" not in item:
            raise InvalidInput(f"{path}.up_to is required (null for the last tier)", field=f"{path}.up_to")
        up_to = None if item["up_to"] is None else to_decimal(item["up_to"], f"{path}.up_to")
        unit_amount, flat_amount = (
            ZERO if item.get(key) is None else to_decimal(item[key], f"{path}.{key}")
            for key in ("unit_amount", "flat_amount")
        )
        tiers.append(Tier(up_to=up_to, unit_amount=unit_amount, flat_amount=flat_amount))
    return tuple(tiers)


def _validate(price: Price) -> None:
    if price.model not in MODELS:
        raise InvalidInput(f"unknown model {price.model!r}; expected one of {', '.join(MODELS)}", field="model")
    minor_units(price.currency)
    required, optional = _MODEL_FIELDS[price.model]
    defaults = {f.name: f.default for f in fields(Price) if f.name not in ("model", "currency")}
    for name, default in defaults.items():
        value = getattr(price, name)
        if name in required and (value is None or value == ()):
            raise InvalidInput(f"{name} is required for model {price.model}", field=name)
        if name not in required | optional and value != default:
            raise InvalidInput(f"{name} does not apply to model {price.model}", field=name)
    for name in _AMOUNT_FIELDS:
        value = getattr(price, name)
        if value is not None:
            _non_negative(value, name)
    if price.package_size is not None and price.package_size <= 0:
        raise InvalidInput("package_size must be greater than 0", field="package_size")
    if price.package_rounding not in _ROUNDINGS:
        raise InvalidInput('package_rounding must be "up" or "down"', field="package_rounding")
    if required & {"tiers"}:
        _validate_tiers(price.tiers)


def _validate_tiers(tiers: tuple[Tier, ...]) -> None:
    lower = ZERO
    for index, tier in enumerate(tiers):
        path = f"tiers[{index}]"
        _non_negative(tier.unit_amount, f"{path}.unit_amount")
        _non_negative(tier.flat_amount, f"{path}.flat_amount")
        is_last = index == len(tiers) - 1
        if tier.up_to is None:
            if not is_last:
                raise InvalidInput("only the last tier may have up_to null", field=f"{path}.up_to")
            continue
        to_decimal(tier.up_to, f"{path}.up_to")
        if is_last:
            raise InvalidInput("the last tier must have up_to null (no upper bound)", field=f"{path}.up_to")
        if tier.up_to <= lower:
            raise InvalidInput(
                f"up_to must be greater than {plain(lower)}: tiers are strictly ascending from 0",
                field=f"{path}.up_to",
            )
        lower = tier.up_to


def _non_negative(value: Decimal, field: str) -> None:
    if to_decimal(value, field) < 0:
        raise InvalidInput(f"{field} must not be negative", field=field)


def _bound_json(up_to: Decimal | None) -> int | str | None:
    if up_to is None:
        return None
    return int(up_to) if up_to == up_to.to_integral_value() else plain(up_to)
