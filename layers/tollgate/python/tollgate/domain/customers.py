"""Customers: who a tenant bills. Found by id or by the tenant's own external id (unique per tenant)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tollgate.domain.errors import InvalidInput
from tollgate.domain.money import minor_units

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Metadata key for a per-customer payment grace period (days), as in Zuplo's max_payment_overdue_days.
GRACE_PERIOD_KEY = "max_payment_overdue_days"


@dataclass(frozen=True)
class Customer:
    customer_id: str
    tenant_id: str
    external_id: str
    created_at: datetime
    name: str = ""
    email: str | None = None
    currency: str = "USD"
    timezone: str = "UTC"
    metadata: dict[str, str] = field(default_factory=dict)
    # Where payments come from: the provider's default payment method and customer id (Stripe: pm_…, cus_…).
    payment_method: str | None = None
    provider_customer_id: str | None = None

    @property
    def grace_period_days(self) -> int | None:
        value = self.metadata.get(GRACE_PERIOD_KEY)
        return int(value) if value is not None else None


def validate_customer_fields(
    *, external_id: str, email: str | None, currency: str, timezone: str, metadata: dict
) -> None:
    if not external_id or len(external_id) > 255:
        raise InvalidInput(
            "external_id is required (your own id for this customer, at most 255 characters).", field="external_id"
        )
    if email is not None and not _EMAIL.match(email):
        raise InvalidInput(f"email {email!r} is not an email address.", field="email")
    minor_units(currency)  # raises InvalidInput(field="currency") for an unknown ISO 4217 code
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"timezone {timezone!r} is not an IANA time zone such as 'Europe/Paris'.", field="timezone"
        ) from None
    grace = metadata.get(GRACE_PERIOD_KEY)
    if grace is not None:
        try:
            ok = Decimal(str(grace)) == int(str(grace)) and int(str(grace)) >= 0
        except (ValueError, ArithmeticError):
            ok = False
        if not ok:
            raise InvalidInput(
                f"metadata.{GRACE_PERIOD_KEY} must be a whole number of days >= 0.",
                field=f"metadata.{GRACE_PERIOD_KEY}",
            )
