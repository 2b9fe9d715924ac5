"""Entitlement events a snapshot change announces (through the outbox):

- ``entitlement.threshold_reached``: a meter's usage crossed a percentage of its limit (the policy's
  ``threshold_percentages``, default 80 and 100);
- ``entitlement.limit_reached``: usage reached a hard limit (requests are refused from now on);
- ``entitlement.reset``: a new period started (usage counts from zero);
- ``access.changed``: the answer for the key changed (subscription, payment or key state).

Event ids are derived from what they report, so a snapshot rebuilt twice announces once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from tollgate.domain.clock import to_rfc3339
from tollgate.domain.events import DomainEvent
from tollgate.domain.gateway.snapshot import AccessSnapshot, MeterState
from tollgate.domain.money import plain


def _access_state(s: AccessSnapshot | None) -> tuple:
    if s is None:
        return ()
    return (
        s.key_state,
        s.subscription_id,
        s.subscription_status,
        s.plan_id,
        s.payment_required,
        s.overdue_since,
        s.grace_days,
        s.uncollectible,
        s.free,
    )


def _meter_events(
    tenant_id: str,
    base: dict,
    name: str,
    old: MeterState | None,
    new: MeterState,
    percentages: Iterable[int],
    now: datetime,
) -> list[DomainEvent]:
    period = to_rfc3339(new.period_start) if new.period_start else "-"
    data = {
        **base,
        "meter": name,
        "meter_id": new.meter_id,
        "used": plain(new.used),
        "limit": plain(new.limit) if new.limit is not None else None,
        "period_start": period,
    }
    events = []
    if old is not None and old.period_start != new.period_start and new.period_start is not None:
        events.append(DomainEvent("entitlement.reset", tenant_id, now, data).with_id(base["customer_id"], name, period))
    if new.limit is None or new.limit <= 0:
        return events
    before = old.used if old is not None and old.period_start == new.period_start else Decimal(0)
    for pct in sorted(set(percentages)):
        mark = new.limit * pct / 100
        if before < mark <= new.used:
            events.append(
                DomainEvent("entitlement.threshold_reached", tenant_id, now, {**data, "percentage": pct}).with_id(
                    base["customer_id"], name, period, str(pct)
                )
            )
    if new.hard and before < new.limit <= new.used:
        events.append(
            DomainEvent("entitlement.limit_reached", tenant_id, now, data).with_id(base["customer_id"], name, period)
        )
    return events


def changes(
    old: AccessSnapshot | None, new: AccessSnapshot, percentages: Iterable[int], now: datetime
) -> list[DomainEvent]:
    """The events of going from ``old`` (None: first build) to ``new``."""
    base = {"customer_id": new.customer_id, "subscription_id": new.subscription_id, "key_id": new.key_id}
    events: list[DomainEvent] = []
    if old is not None and _access_state(old) != _access_state(new):
        data = {
            **base,
            "key_state": new.key_state.value,
            "subscription_status": new.subscription_status,
            "plan_id": new.plan_id,
            "overdue_since": to_rfc3339(new.overdue_since) if new.overdue_since else None,
        }
        events.append(
            DomainEvent("access.changed", new.tenant_id, now, data).with_id(new.key_id, to_rfc3339(new.built_at))
        )
    pcts = list(percentages)
    for name, meter in new.meters.items():
        previous = old.meters.get(name) if old is not None else None
        if previous is None and old is None:
            continue  # a first build announces nothing about usage that was already there
        events.extend(_meter_events(new.tenant_id, base, name, previous, meter, pcts, now))
    return events
