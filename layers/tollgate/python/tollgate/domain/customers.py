"""Customers: who a tenant bills. Found by id or by the tenant's own external id (unique per tenant)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tollgate.domain.catalog import common
from tollgate.domain.catalog.plans import MAX_GRACE_PERIOD_DAYS
from tollgate.domain.errors import InvalidInput
from tollgate.domain.money import minor_units

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Metadata key for a per-customer payment grace period (days), as in Zuplo's max_payment_overdue_days.
GRACE_PERIOD_KEY = "max_payment_overdue_days"
MAX_EMAIL = 254  # RFC 5321 path limit
MAX_TIMEZONE = 64


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
    *, external_id: str, email: str | None, currency: str, timezone: str, metadata: dict, name: str = ""
) -> None:
    """Every field a client sets on a customer, judged before anything is stored (422 naming the field)."""
    common.external_id(external_id)
    common.text(name, "name", required=False, max_length=common.MAX_NAME)
    if email is not None:
        common.text(email, "email", max_length=MAX_EMAIL)
        if not _EMAIL.match(email):
            raise InvalidInput(f"email {email!r} is not an email address.", field="email")
    minor_units(currency)  # raises InvalidInput(field="currency") for an unknown ISO 4217 code
    common.text(timezone, "timezone", max_length=MAX_TIMEZONE)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput(
            f"timezone {timezone!r} is not an IANA time zone such as 'Europe/Paris'.", field="timezone"
        ) from None
    common.string_metadata(metadata)
    grace = metadata.get(GRACE_PERIOD_KEY)
    if grace is not None and not _whole_days(grace):
        raise InvalidInput(
            f"metadata.{GRACE_PERIOD_KEY} must be a whole number of days from 0 to {MAX_GRACE_PERIOD_DAYS}.",
            field=f"metadata.{GRACE_PERIOD_KEY}",
        )


def _whole_days(value: object) -> bool:
    text = str(value)
    return text.isascii() and text.isdigit() and int(text) <= MAX_GRACE_PERIOD_DAYS
