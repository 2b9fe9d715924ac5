"""What a request meters after the response: the policy's status filter, then its increments, where a
value the upstream returned (``X-Tollgate-Meter-<name>``) REPLACES the policy's increment for that
meter (Zuplo's set rule); a response value for a meter the policy does not name is added to the request."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum

from tollgate.domain.gateway.policy import Policy


class MeterReason(StrEnum):
    METERED = "METERED"
    STATUS_NOT_METERED = "STATUS_NOT_METERED"
    NOT_COVERED = "NOT_COVERED"
    KEY_INVALID = "KEY_INVALID"
    DUPLICATE = "DUPLICATE"
    NOTHING_TO_METER = "NOTHING_TO_METER"


def increments(
    policy: Policy | None, explicit: Mapping[str, Decimal] | None, response: Mapping[str, Decimal] | None
) -> dict[str, Decimal]:
    """The request's increments: explicit ones when given, else the policy's; response values replace."""
    base = dict(explicit) if explicit else dict(policy.meters if policy else {})
    for name, value in (response or {}).items():
        base[name] = value
    return {k: v for k, v in base.items() if v > 0}


def judge(policy: Policy | None, explicit: Mapping[str, Decimal] | None, status_code: int) -> MeterReason | None:
    """Why the request is not metered, or None when it is."""
    if policy is None and not explicit:
        return MeterReason.NOT_COVERED
    if policy is not None and not policy.meters_status(status_code):
        return MeterReason.STATUS_NOT_METERED
    if policy is None and not (200 <= status_code <= 299):
        return MeterReason.STATUS_NOT_METERED
    return None
