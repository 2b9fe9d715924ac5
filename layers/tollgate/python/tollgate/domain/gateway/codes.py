"""Every code a gateway decision can carry, in decision order, with its HTTP status and title."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROBLEM_BASE = "https://docs.tollgate.dev/problems/"


@dataclass(frozen=True)
class Code:
    code: str
    status: int
    title: str

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.code.lower().replace("_", "-")


KEY_MISSING = Code("KEY_MISSING", 401, "API key missing")
KEY_INVALID = Code("KEY_INVALID", 403, "API key not valid")
NO_SUBSCRIPTION = Code("NO_SUBSCRIPTION", 403, "No subscription")
SUBSCRIPTION_INACTIVE = Code("SUBSCRIPTION_INACTIVE", 403, "Subscription inactive")
PAYMENT_REQUIRED = Code("PAYMENT_REQUIRED", 403, "Payment required")
PAYMENT_OVERDUE = Code("PAYMENT_OVERDUE", 403, "Payment overdue")
INVOICE_UNCOLLECTIBLE = Code("INVOICE_UNCOLLECTIBLE", 403, "Invoice uncollectible")
FEATURE_NOT_FOUND = Code("FEATURE_NOT_FOUND", 403, "Feature not in plan")
USAGE_LIMIT_REACHED = Code("USAGE_LIMIT_REACHED", 403, "Usage limit reached")
FEATURE_UNAVAILABLE = Code("FEATURE_UNAVAILABLE", 403, "Feature unavailable")
NO_CREDIT_AVAILABLE = Code("NO_CREDIT_AVAILABLE", 403, "No credit available")
RATE_LIMITED = Code("RATE_LIMITED", 429, "Rate limit exceeded")
# Built only by clients (the billing backend could not be reached past max_stale_seconds).
BILLING_UNAVAILABLE = Code("BILLING_UNAVAILABLE", 503, "Billing unavailable")

ORDER: tuple[Code, ...] = (
    KEY_MISSING,
    KEY_INVALID,
    NO_SUBSCRIPTION,
    SUBSCRIPTION_INACTIVE,
    PAYMENT_REQUIRED,
    PAYMENT_OVERDUE,
    INVOICE_UNCOLLECTIBLE,
    FEATURE_NOT_FOUND,
    USAGE_LIMIT_REACHED,
    FEATURE_UNAVAILABLE,
    NO_CREDIT_AVAILABLE,
    RATE_LIMITED,
)
OVERRIDABLE = frozenset(c.code for c in ORDER)


@dataclass(frozen=True)
class Denial:
    """A refusal: its code, detail, the numbers that apply and a Retry-After (seconds) when one helps."""

    code: Code
    detail: str
    fields: dict[str, Any] = field(default_factory=dict)
    retry_after: int | None = None

    def problem(self, status: int | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "type": self.code.type,
            "title": self.code.title,
            "status": status or self.code.status,
            "code": self.code.code,
            "detail": self.detail,
            **self.fields,
            **(extra or {}),
        }
