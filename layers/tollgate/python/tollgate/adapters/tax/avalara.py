"""Avalara AvaTax behind the ``TaxProvider`` port, through the official ``Avalara`` SDK (``AvataxClient``).

Each invoice is quoted as an uncommitted ``SalesOrder`` (``POST /api/v2/transactions/create``): one line
per taxable invoice line, the buyer's address from the customer's metadata; AvaTax's ``summary`` (one
entry per jurisdiction and tax) becomes the invoice's tax lines."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tollgate.adapters.tax import buyer_address
from tollgate.domain.billing.tax import TaxAmount, TaxMode, TaxRequest, TaxResult
from tollgate.domain.clock import utcnow
from tollgate.domain.money import round_money

APP = ("Tollgate", "1.0", "tollgate")


class TaxEngineError(Exception):
    """The engine answered with an error (the use case records it as TAX_CALCULATION_FAILED)."""


class AvaTaxProvider:
    name = "avalara"

    def __init__(self, *, account_id: str, license_key: str, company_code: str, environment: str) -> None:
        self.account_id = account_id
        self.license_key = license_key
        self.company_code = company_code
        self.environment = environment

    def _client(self, timeout_seconds: float) -> Any:
        from avalara import AvataxClient

        client = AvataxClient(*APP, self.environment, timeout_limit=timeout_seconds)
        return client.add_credentials(self.account_id, self.license_key)

    def calculate(self, request: TaxRequest, timeout_seconds: float) -> TaxResult:
        if request.mode is TaxMode.NONE or request.taxable_amount == 0:
            return TaxResult(provider=self.name)
        response = self._client(timeout_seconds).create_transaction(self._model(request))
        if response.status_code >= 400:
            raise TaxEngineError(f"AvaTax answered {response.status_code}: {response.text[:300]}")
        body = response.json(parse_float=Decimal)
        amounts = tuple(
            TaxAmount(
                str(s.get("taxName") or s.get("jurisName") or "Tax"),
                Decimal(str(s.get("rate", 0))) * 100,
                round_money(Decimal(str(s.get("tax", 0))), request.currency),
            )
            for s in body.get("summary") or ()
        )
        inclusive = request.mode is TaxMode.INCLUSIVE
        return TaxResult(amounts, inclusive=inclusive, provider=self.name, details={"avatax_code": body.get("code")})

    def _model(self, request: TaxRequest) -> dict[str, Any]:
        inclusive = request.mode is TaxMode.INCLUSIVE
        lines = [ln for ln in request.lines if ln.amount] or []
        items = [
            {"number": str(n), "amount": str(ln.amount), "description": ln.description[:255], "taxIncluded": inclusive}
            for n, ln in enumerate(lines, 1)
        ] or [{"number": "1", "amount": str(request.taxable_amount), "taxIncluded": inclusive}]
        address = buyer_address(request.customer_metadata)
        return {
            "type": "SalesOrder",  # a quote: nothing is committed to the tenant's AvaTax records
            "code": request.invoice_id,
            "companyCode": self.company_code,
            "customerCode": request.customer_id,
            "currencyCode": request.currency,
            "date": utcnow().date().isoformat(),
            "lines": items,
            "addresses": {
                "singleLocation": {
                    "line1": address.get("line1", ""),
                    "city": address.get("city", ""),
                    "region": address.get("region", ""),
                    "postalCode": address.get("postal_code", ""),
                    "country": address.get("country", ""),
                }
            },
        }
