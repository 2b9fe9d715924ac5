"""Stripe Tax behind the ``TaxProvider`` port, through the official ``stripe`` library
(``StripeClient``: Stripe's tax calculations endpoint, ``tax.calculations.create``).

Line amounts go to Stripe as integers in the currency's minor units with the tenant's tax behavior
(exclusive or inclusive); the calculation's ``tax_breakdown`` becomes the invoice's tax lines."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tollgate.adapters.tax import buyer_address
from tollgate.domain.billing.tax import TaxAmount, TaxMode, TaxRequest, TaxResult
from tollgate.domain.money import minor_units


class StripeTaxProvider:
    name = "stripe_tax"

    def __init__(self, *, api_key: str, api_base: str | None = None) -> None:
        self.api_key = api_key
        self.api_base = api_base

    def _client(self, timeout_seconds: float) -> Any:
        import stripe

        bases: Any = {"api": self.api_base} if self.api_base else {}
        return stripe.StripeClient(
            self.api_key,
            base_addresses=bases,
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout_seconds),
        )

    def calculate(self, request: TaxRequest, timeout_seconds: float) -> TaxResult:
        if request.mode is TaxMode.NONE or request.taxable_amount == 0:
            return TaxResult(provider=self.name)
        scale = Decimal(10) ** minor_units(request.currency)
        behavior = "inclusive" if request.mode is TaxMode.INCLUSIVE else "exclusive"
        lines = [ln for ln in request.lines if ln.amount] or []
        items = [
            {"amount": int(ln.amount * scale), "reference": f"line-{n}", "tax_behavior": behavior}
            for n, ln in enumerate(lines, 1)
        ] or [{"amount": int(request.taxable_amount * scale), "reference": "line-1", "tax_behavior": behavior}]
        address = buyer_address(request.customer_metadata)
        params: dict[str, Any] = {
            "currency": request.currency.lower(),
            "line_items": items,
            "customer_details": {"address": address, "address_source": "billing"},
        }
        calculation = self._client(timeout_seconds).tax.calculations.create(params=params).to_dict()
        amounts = tuple(
            TaxAmount(
                str((b.get("tax_rate_details") or {}).get("tax_type") or "tax").upper(),
                Decimal(str((b.get("tax_rate_details") or {}).get("percentage_decimal") or "0")),
                Decimal(int(b.get("amount") or 0)) / scale,
            )
            for b in calculation.get("tax_breakdown") or ()
            if b.get("amount")
        )
        return TaxResult(
            amounts,
            inclusive=request.mode is TaxMode.INCLUSIVE,
            provider=self.name,
            details={"stripe_calculation": calculation.get("id")},
        )
