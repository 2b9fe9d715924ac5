"""A tenant's billing settings ("Settings -> Finance"): invoice email sender, tax, payment terms.

- ``sender_email``: the address invoices are emailed from. Without it no invoice email can be sent
  (``invoice.send_failed`` with SENDER_NOT_CONFIGURED). Saving it asks the email provider to verify
  the address (SES sends a verification email; locally it is verified at once).
- ``tax``: ``mode`` NONE | EXCLUSIVE | INCLUSIVE, built-in ``rates`` ([{name, rate_percent}]), the
  ``provider`` ("builtin", or the name of an external engine this deployment registers) and the
  engine's ``timeout_seconds``.
- ``payment_terms_days``: days from finalization to the due date (0: due on receipt).
- ``legal_name`` and ``address`` (up to 6 lines): who issues the invoices, printed at the top of the invoice PDF
  (``GET /v1/invoices/{invoice_id}/pdf``; without a legal name, the sender name, then the tenant's name).
- ``invoice_grace_period_days``: days an invoice of a closed period stays DRAFT, recomputed by every bill
  run meanwhile so late usage lands on it, before it is finalized (0: at once; Lago's
  ``invoice_grace_period``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from tollgate.domain.billing.tax import BUILTIN, TaxMode, TaxRate, parse_rates
from tollgate.domain.clock import parse_rfc3339, to_rfc3339
from tollgate.domain.errors import InvalidInput
from tollgate.domain.money import plain

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DEFAULT_TAX_TIMEOUT = 5.0


@dataclass(frozen=True)
class BillingSettings:
    tenant_id: str
    sender_email: str | None = None
    sender_name: str = ""
    tax_mode: TaxMode = TaxMode.NONE
    tax_rates: tuple[TaxRate, ...] = ()
    tax_provider: str = BUILTIN
    tax_timeout_seconds: float = DEFAULT_TAX_TIMEOUT
    payment_terms_days: int = 0
    invoice_grace_period_days: int = 0
    legal_name: str = ""
    address: tuple[str, ...] = ()
    updated_at: datetime | None = None
    revision: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "sender_email": self.sender_email,
            "sender_name": self.sender_name,
            "tax": {
                "mode": self.tax_mode.value,
                "rates": [r.to_json() for r in self.tax_rates],
                "provider": self.tax_provider,
                # a decimal string, as PUT takes it (a read-modify-write sends it back unchanged)
                "timeout_seconds": plain(Decimal(str(self.tax_timeout_seconds)).normalize()),
            },
            "payment_terms_days": self.payment_terms_days,
            "invoice_grace_period_days": self.invoice_grace_period_days,
            "legal_name": self.legal_name,
            "address": list(self.address),
            "updated_at": to_rfc3339(self.updated_at) if self.updated_at else None,
            "revision": self.revision,
        }

    @classmethod
    def from_json(cls, tenant_id: str, d: dict[str, Any]) -> BillingSettings:
        tax = d.get("tax") or {}
        return cls(
            tenant_id=tenant_id,
            sender_email=d.get("sender_email"),
            sender_name=d.get("sender_name") or "",
            tax_mode=TaxMode(tax.get("mode") or TaxMode.NONE),
            tax_rates=tuple(TaxRate(r["name"], Decimal(str(r["rate_percent"]))) for r in tax.get("rates") or []),
            tax_provider=tax.get("provider") or BUILTIN,
            tax_timeout_seconds=float(Decimal(str(tax.get("timeout_seconds", DEFAULT_TAX_TIMEOUT)))),
            payment_terms_days=int(d.get("payment_terms_days") or 0),
            invoice_grace_period_days=int(d.get("invoice_grace_period_days") or 0),
            legal_name=str(d.get("legal_name") or ""),
            address=tuple(str(line) for line in d.get("address") or ()),
            updated_at=parse_rfc3339(d["updated_at"]) if d.get("updated_at") else None,
            revision=int(d.get("revision") or 0),
        )


def _days(data: dict[str, Any], name: str) -> int:
    value = data.get(name, 0)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 365:
        raise InvalidInput(f"{name} must be a whole number of days between 0 and 365", field=name)
    return value


MAX_ADDRESS_LINES = 6
MAX_TEXT_LINE = 200


def _address(data: dict[str, Any]) -> tuple[str, ...]:
    value = data.get("address") or []
    if not isinstance(value, list) or len(value) > MAX_ADDRESS_LINES:
        raise InvalidInput(f"address must be a list of at most {MAX_ADDRESS_LINES} lines", field="address")
    lines = []
    for line in value:
        if not isinstance(line, str) or len(line) > MAX_TEXT_LINE:
            raise InvalidInput(f"each address line must be text of at most {MAX_TEXT_LINE} characters", field="address")
        if line.strip():
            lines.append(line.strip())
    return tuple(lines)


def grace_period_end(settings: BillingSettings, period_end: datetime) -> datetime:
    """When an invoice of a period ending at ``period_end`` may be finalized (its grace period's end)."""
    return period_end + timedelta(days=settings.invoice_grace_period_days)


def parse_settings(
    tenant_id: str, data: dict[str, Any], *, providers: list[str], at: datetime, revision: int
) -> BillingSettings:
    """Validate a PUT body (every field optional; what is left out takes its default)."""
    sender = data.get("sender_email")
    if sender is not None and not _EMAIL.match(str(sender)):
        raise InvalidInput(f"sender_email {sender!r} is not an email address", field="sender_email")
    tax = data.get("tax") or {}
    try:
        mode = TaxMode(str(tax.get("mode") or TaxMode.NONE).upper())
    except ValueError:
        raise InvalidInput("tax.mode must be NONE, EXCLUSIVE or INCLUSIVE", field="tax.mode") from None
    provider = tax.get("provider") or BUILTIN
    if provider not in providers:
        raise InvalidInput(
            f"tax.provider {provider!r} is not available; this deployment offers: {', '.join(providers)}",
            field="tax.provider",
        )
    timeout = tax.get("timeout_seconds", DEFAULT_TAX_TIMEOUT)
    try:
        timeout_value = float(Decimal(str(timeout)))
    except ArithmeticError:
        timeout_value = -1.0
    if not 0 < timeout_value <= 30:
        raise InvalidInput("tax.timeout_seconds must be > 0 and at most 30", field="tax.timeout_seconds")
    terms = data.get("payment_terms_days", 0)
    if not isinstance(terms, int) or isinstance(terms, bool) or not 0 <= terms <= 365:
        raise InvalidInput(
            "payment_terms_days must be a whole number of days between 0 and 365", field="payment_terms_days"
        )
    grace = _days(data, "invoice_grace_period_days")
    legal_name = str(data.get("legal_name") or "").strip()
    if len(legal_name) > MAX_TEXT_LINE:
        raise InvalidInput(f"legal_name must be at most {MAX_TEXT_LINE} characters", field="legal_name")
    address = _address(data)
    rates = parse_rates(tax.get("rates"))
    if mode is not TaxMode.NONE and provider == BUILTIN and not rates:
        raise InvalidInput(
            f"tax.mode {mode.value} with the builtin provider needs at least one rate", field="tax.rates"
        )
    return BillingSettings(
        tenant_id=tenant_id,
        sender_email=sender,
        sender_name=str(data.get("sender_name") or ""),
        tax_mode=mode,
        tax_rates=rates,
        tax_provider=provider,
        tax_timeout_seconds=timeout_value,
        payment_terms_days=terms,
        invoice_grace_period_days=grace,
        legal_name=legal_name,
        address=address,
        updated_at=at,
        revision=revision,
    )
