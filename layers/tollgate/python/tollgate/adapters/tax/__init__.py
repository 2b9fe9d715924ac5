"""External tax engines behind the ``TaxProvider`` port: Avalara AvaTax (``avalara.py``, the official
``Avalara`` SDK) and Stripe Tax (``stripe_tax.py``, the official ``stripe`` library).

A deployment offers an engine when its credentials are configured (environment, from the stack's secrets):

- AvaTax: ``TOLLGATE_AVATAX_ACCOUNT_ID``, ``TOLLGATE_AVATAX_LICENSE_KEY``, ``TOLLGATE_AVATAX_COMPANY_CODE``,
  optional ``TOLLGATE_AVATAX_URL`` (default production; "sandbox" for the sandbox);
- Stripe Tax: ``TOLLGATE_STRIPE_TAX_API_KEY``, optional ``TOLLGATE_STRIPE_TAX_API_BASE``.

A tenant then picks it with ``PUT /v1/settings/billing`` ``{"tax": {"provider": "avalara" | "stripe_tax",
"timeout_seconds": ...}}``. The buyer's address is read from the customer's metadata: ``country``,
``postal_code``, ``region``, ``city``, ``line1``. Amounts travel as the engines want them (AvaTax: decimal
amounts; Stripe: integers in minor units) and come back as ``TaxAmount`` rounded to the currency's minor
units. A timeout or any error of the engine surfaces as TAX_CALCULATION_FAILED (the use case waits at most
the tenant's timeout; each adapter also bounds its HTTP call by it)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

ADDRESS_FIELDS = ("line1", "city", "region", "postal_code", "country")


def buyer_address(metadata: Mapping[str, str]) -> dict[str, str]:
    return {k: str(metadata[k]) for k in ADDRESS_FIELDS if metadata.get(k)}


def configured_providers(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The external engines this deployment has credentials for, by name."""
    env = os.environ if env is None else env
    providers: dict[str, Any] = {}
    if env.get("TOLLGATE_AVATAX_ACCOUNT_ID") and env.get("TOLLGATE_AVATAX_LICENSE_KEY"):
        from tollgate.adapters.tax.avalara import AvaTaxProvider

        providers[AvaTaxProvider.name] = AvaTaxProvider(
            account_id=env["TOLLGATE_AVATAX_ACCOUNT_ID"],
            license_key=env["TOLLGATE_AVATAX_LICENSE_KEY"],
            company_code=env.get("TOLLGATE_AVATAX_COMPANY_CODE", "DEFAULT"),
            environment=env.get("TOLLGATE_AVATAX_URL", "production"),
        )
    if env.get("TOLLGATE_STRIPE_TAX_API_KEY"):
        from tollgate.adapters.tax.stripe_tax import StripeTaxProvider

        providers[StripeTaxProvider.name] = StripeTaxProvider(
            api_key=env["TOLLGATE_STRIPE_TAX_API_KEY"], api_base=env.get("TOLLGATE_STRIPE_TAX_API_BASE")
        )
    return providers
