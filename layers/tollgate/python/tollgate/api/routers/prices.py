"""POST /v1/prices/quote: what a price charges for a quantity, with the breakdown (no catalog needed)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from pydantic import Field, WithJsonSchema

from tollgate.api.access import requires
from tollgate.api.models import ApiModel
from tollgate.domain.access import Permission
from tollgate.domain.pricing import MODELS
from tollgate.usecases import prices

router = Router()

_DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "examples": ["0.10"]}
DECIMAL_SCHEMA: dict[str, Any] = {
    "anyOf": [_DECIMAL, {"type": "integer"}],
    "description": 'A decimal string such as "9.99" (or an integer), at most 18 digits; never a JSON float.',
}
PRICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Price",
    "description": (
        "A price object. Amounts are decimal strings. Tier bounds are inclusive and strictly ascending; "
        "the last tier has up_to null. graduated: each tier's units at its rate plus its flat amount once "
        "reached (the first tier's even at zero usage); volume: all units at the rate of the tier holding the "
        "total; package: ceil (or floor with package_rounding down) of units / package_size times "
        "package_amount; percentage: max(min_amount, value x rate_percent / 100). included_units are "
        "subtracted first. The total is rounded once, half-up, to the currency's minor units."
    ),
    "required": ["model", "currency"],
    "additionalProperties": False,
    "properties": {
        "model": {"type": "string", "enum": list(MODELS)},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217 code, e.g. USD, JPY, KWD."},
        "flat_amount": DECIMAL_SCHEMA,
        "unit_amount": DECIMAL_SCHEMA,
        "tiers": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["up_to"],
                "properties": {
                    "up_to": {"anyOf": [_DECIMAL, {"type": "integer"}, {"type": "null"}]},
                    "unit_amount": DECIMAL_SCHEMA,
                    "flat_amount": DECIMAL_SCHEMA,
                },
            },
        },
        "package_size": DECIMAL_SCHEMA,
        "package_amount": DECIMAL_SCHEMA,
        "package_rounding": {"type": "string", "enum": ["up", "down"]},
        "rate_percent": DECIMAL_SCHEMA,
        "min_amount": DECIMAL_SCHEMA,
        "included_units": DECIMAL_SCHEMA,
    },
    "examples": [
        {
            "model": "graduated",
            "currency": "USD",
            "tiers": [{"up_to": 1000, "unit_amount": "0.10"}, {"up_to": None, "unit_amount": "0.05"}],
        }
    ],
}

# Typed loosely on purpose: the pricing engine validates every field and names it in its 422.
PriceObject = Annotated[Any, WithJsonSchema(PRICE_SCHEMA)]
DecimalValue = Annotated[Any, WithJsonSchema(DECIMAL_SCHEMA)]


class QuoteIn(ApiModel):
    price: PriceObject
    quantity: DecimalValue = Field(description="Units (or, for percentage, the metered value) to price; not negative.")


class BreakdownLineOut(ApiModel):
    tier: int | None = Field(default=None, description="1-based tier (graduated and volume only).")
    units: str
    unit_amount: str | None = None
    flat_amount: str | None = None
    packages: str | None = None
    package_size: str | None = None
    package_amount: str | None = None
    rate_percent: str | None = None
    min_amount: str | None = None
    amount: str = Field(description="The line's amount, rounded for display only.")


class QuoteOut(ApiModel):
    amount: str = Field(description="The total, rounded once, half-up, to the currency's minor units.")
    currency: str
    unrounded: str
    quantity: str
    included_units: str
    billable_quantity: str
    breakdown: list[BreakdownLineOut]


@router.post(
    "/v1/prices/quote",
    openapi_extensions=requires(Permission.CATALOG_READ),
    tags=["prices"],
    summary="Quote a price for a quantity (amount, currency and breakdown)",
    responses={200: {"description": "The quote", "content": {"application/json": {"model": QuoteOut}}}},
)
def quote_price(body: QuoteIn):
    result = prices.quote_price(body.price, body.quantity)
    # Returned as is: lines carry only the fields their model uses (see QuoteOut for the shape).
    return Response(200, "application/json", result.to_json())
