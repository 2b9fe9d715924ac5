"""Tax: built-in per-tenant rates, or an external tax engine (Avalara/Vertex style) behind a port.

Tax is computed on the taxable amount: the invoice subtotal less the credit notes applied to it.

- ``EXCLUSIVE``: prices exclude tax; each rate adds ``round(taxable x rate / 100)`` on top.
- ``INCLUSIVE``: prices include tax; each rate's share is extracted,
  ``round(taxable x rate / (100 + sum of rates))``, shown on its own line and *not* added to the total.
- ``NONE`` (the default): no tax lines.

Each tax line is rounded once, half-up, to the currency's minor units.

An external engine is called through the ``TaxProvider`` port with the tenant's timeout (seconds);
a timeout or any error of the engine fails the bill with TAX_CALCULATION_FAILED (retry that invoice
with ``POST /v1/invoices/{id}/retry`` once the engine is back). The built-in calculator is the
``builtin`` provider.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tollgate.domain.billing.invoices import InvoiceLine, LineKind
from tollgate.domain.errors import InvalidInput
from tollgate.domain.money import plain, round_money, to_decimal

ZERO = Decimal(0)
BUILTIN = "builtin"


class TaxMode(StrEnum):
    NONE = "NONE"
    EXCLUSIVE = "EXCLUSIVE"
    INCLUSIVE = "INCLUSIVE"


@dataclass(frozen=True)
class TaxRate:
    name: str
    rate_percent: Decimal

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "rate_percent": plain(self.rate_percent)}


def parse_rates(raw: Any) -> tuple[TaxRate, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple) or len(raw) > 10:
        raise InvalidInput("tax rates must be a list of at most 10 {name, rate_percent}", field="tax.rates")
    rates = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InvalidInput("each tax rate must be an object {name, rate_percent}", field=f"tax.rates[{i}]")
        name = str(item.get("name") or "Tax")
        rate = to_decimal(item.get("rate_percent"), f"tax.rates[{i}].rate_percent")
        if not ZERO <= rate <= 100:
            raise InvalidInput("rate_percent must be between 0 and 100", field=f"tax.rates[{i}].rate_percent")
        rates.append(TaxRate(name, rate))
    return tuple(rates)


@dataclass(frozen=True)
class TaxRequest:
    """What a tax engine is asked: the invoice's taxable lines and who buys."""

    tenant_id: str
    invoice_id: str
    customer_id: str
    customer_metadata: dict[str, str]
    currency: str
    mode: TaxMode
    rates: tuple[TaxRate, ...]  # the tenant's built-in rates (external engines decide their own)
    taxable_amount: Decimal
    lines: tuple[InvoiceLine, ...] = ()


@dataclass(frozen=True)
class TaxAmount:
    name: str
    rate_percent: Decimal
    amount: Decimal  # rounded to minor units


@dataclass(frozen=True)
class TaxResult:
    amounts: tuple[TaxAmount, ...] = ()
    inclusive: bool = False
    provider: str = BUILTIN
    details: dict[str, Any] = field(default_factory=dict)


class BuiltinTaxProvider:
    """The tenant's own rates, exclusive or inclusive (see the module docstring)."""

    name = BUILTIN

    def calculate(self, request: TaxRequest, timeout_seconds: float) -> TaxResult:
        if request.mode is TaxMode.NONE or not request.rates:
            return TaxResult(provider=self.name)
        base = request.taxable_amount
        inclusive = request.mode is TaxMode.INCLUSIVE
        divisor = Decimal(100) + (sum((r.rate_percent for r in request.rates), ZERO) if inclusive else ZERO)
        return TaxResult(
            tuple(
                TaxAmount(r.name, r.rate_percent, round_money(base * r.rate_percent / divisor, request.currency))
                for r in request.rates
            ),
            inclusive=inclusive,
            provider=self.name,
        )


def tax_lines(result: TaxResult, taxable: Decimal) -> list[InvoiceLine]:
    return [
        InvoiceLine(
            LineKind.TAX,
            f"{t.name} {plain(t.rate_percent)}%" + (" (included)" if result.inclusive else ""),
            t.amount,
            {
                "rate_percent": plain(t.rate_percent),
                "taxable_amount": plain(taxable),
                "inclusive": result.inclusive,
                "provider": result.provider,
            },
        )
        for t in result.amounts
    ]
