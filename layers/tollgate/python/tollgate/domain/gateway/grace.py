"""The payment grace period: the customer's metadata ``max_payment_overdue_days`` (or Zuplo's
``zuplo_max_payment_overdue_days``), else the plan's, else the tenant's payment settings, else 3 days.
0 blocks at once. A value that is not a whole number of days from 0 to 365 is passed over."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

DEFAULT_DAYS = 3
MAX_DAYS = 365
KEYS = ("max_payment_overdue_days", "zuplo_max_payment_overdue_days")


def _days(value: Any) -> int | None:
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 4:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_DAYS:
        return value
    return None


def grace_days(customer: Mapping[str, Any], plan: Mapping[str, Any], tenant_default: int | None) -> int:
    for meta in (customer, plan):
        for key in KEYS:
            days = _days(meta.get(key))
            if days is not None:
                return days
    return tenant_default if tenant_default is not None else DEFAULT_DAYS


def grace_ends_at(overdue_since: datetime, days: int) -> datetime:
    return overdue_since + timedelta(days=days)
