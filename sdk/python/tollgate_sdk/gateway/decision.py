"""What a client does with a request: the server's answer (fresh, cached or stale) or the fail policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

Source = Literal["server", "cache", "stale", "fail_policy"]
FailPolicy = Literal["allow_known", "allow_all", "deny_all"]
FAIL_POLICIES: tuple[str, ...] = ("allow_known", "allow_all", "deny_all")

BILLING_UNAVAILABLE_TYPE = "https://docs.tollgate.dev/problems/billing-unavailable"


@dataclass(frozen=True)
class Decision:
    """One request's decision. ``problem`` is the RFC 7807 body to return when ``allowed`` is false;
    ``headers`` (e.g. ``Retry-After``) go on that response. ``policy`` is None for a route no policy
    covers (neither checked nor metered). ``source`` says where it came from."""

    allowed: bool
    status: int
    problem: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    subscription_id: str | None = None
    customer_id: str | None = None
    usage_identifier: str | None = None  # the subscription's key at the synced gateway (usageIdentifierKey)
    policy: dict[str, Any] | None = None
    increments: dict[str, Decimal] = field(default_factory=dict)
    source: Source = "server"

    @property
    def covered(self) -> bool:
        return self.policy is not None


def billing_unavailable(instance: str = "") -> dict[str, Any]:
    """The one problem a client builds itself: the backend is unreachable and the key is not known."""
    return {
        "type": BILLING_UNAVAILABLE_TYPE,
        "title": "Billing unavailable",
        "status": 503,
        "code": "BILLING_UNAVAILABLE",
        "detail": "The billing backend could not be reached and the API key could not be verified. "
        "Retry in a few seconds.",
        "instance": instance,
    }


def decision_from(answer: Mapping[str, Any], increments: dict[str, Decimal], source: Source) -> Decision:
    headers = answer.get("headers") or {}
    return Decision(
        allowed=bool(answer.get("allowed")),
        status=_status(answer.get("status"), 200 if answer.get("allowed") else 403),
        problem=answer.get("problem"),
        headers={str(k): str(v) for k, v in headers.items()},
        subscription_id=answer.get("subscription_id"),
        customer_id=answer.get("customer_id"),
        usage_identifier=answer.get("usage_identifier"),
        policy=answer.get("policy"),
        increments=increments,
        source=source,
    )


def fail_decision(
    allow: bool, path: str, increments: dict[str, Decimal], policy: dict[str, Any] | None = None
) -> Decision:
    if allow:
        return Decision(allowed=True, status=200, policy=policy, increments=increments, source="fail_policy")
    return Decision(
        allowed=False,
        status=503,
        problem=billing_unavailable(path),
        headers={"Retry-After": "5"},
        policy=policy,
        increments=increments,
        source="fail_policy",
    )


def decimal_or_none(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        out = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return out if out.is_finite() else None


def increments_of(meters: Mapping[str, object] | None) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for name, value in (meters or {}).items():
        amount = decimal_or_none(value)
        if amount is not None and amount >= 0:
            out[str(name)] = amount
    return out


def _status(value: object, default: int) -> int:
    return value if isinstance(value, int) and 100 <= value <= 599 else default
