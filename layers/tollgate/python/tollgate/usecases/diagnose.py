"""GET /v1/ingest/diagnose: which documented cause explains missing or wrong usage (seed 000 "Run
diagnostics", seed 001's checklist).

It looks at the caller's setup (the key, the meters, the customer and its subscriptions) and at what
ingestion did recently (rejections by code, late arrivals, customers with stored events) and answers
with the causes that apply, each with evidence and the fix; or ``"status": "ok"`` when none does.
The steps, in order: the key, the catalog, the customer in focus, recent ingestion, billing.
The causes and their wording live in ``diagnose_causes``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tollgate.domain.access import ROLE_PERMISSIONS, Caller, KeyKind, Permission, Role, roles_with
from tollgate.domain.catalog.meters import Meter, MeterStatus
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.customers import Customer
from tollgate.domain.usage.aggregation import Window, floor_to, hour_of
from tollgate.domain.usage.events import Code
from tollgate.ports.catalog import CatalogRepository
from tollgate.ports.customers import CustomerRepository, SubscriptionRepository
from tollgate.ports.usage import LogEntry, LogQuery, UsageEventStore
from tollgate.usecases.diagnose_causes import Cause, rejection_cause
from tollgate.usecases.gateway.diagnose import gateway_causes

MAX_EXAMPLES = 3
CASE_HINT = "Did you mean"  # in METER_NOT_FOUND details when an active meter differs only by case


def diagnose(
    *,
    caller: Caller,
    events: UsageEventStore,
    customers: CustomerRepository,
    subscriptions: SubscriptionRepository,
    catalog: CatalogRepository,
    tenancy: Any,
    now: datetime,
    external_customer_id: str | None = None,
    event_name: str | None = None,
    key_id: str | None = None,
    hours: int = 24,
    gateway: Any = None,
) -> dict[str, Any]:
    """The causes that explain missing or wrong usage for the caller (or the customer/key/event name named)."""
    tenant = caller.tenant_id
    start = now - timedelta(hours=hours)
    causes = _key_causes(caller, tenancy, key_id)
    meters = catalog.list_meters(tenant)
    active = [m for m in meters if m.status is MeterStatus.ACTIVE]
    causes += _catalog_causes(catalog, tenant, active, event_name)
    focus, focus_causes = _focus(caller, customers, external_customer_id)
    causes += focus_causes
    recent = _recent_ingestion(events, tenant, focus, external_customer_id, start, now)
    causes += _rejection_causes(recent.by_code, hours)
    causes += _late_causes(recent, hours)
    causes += _billing_causes(customers, subscriptions, catalog, tenant, meters, recent, focus, hours)
    causes += gateway_causes(gateway, tenant, start)  # gateway meter calls that metered nothing (issue 15)
    checked = {
        "from": to_rfc3339(start),
        "to": to_rfc3339(now),
        "active_meters": len(active),
        "stored_events": recent.total_stored,
        "rejected_events": sum(len(v) for v in recent.by_code.values()),
        "late_events": recent.late,
        "customer": focus.external_id if focus else external_customer_id,
    }
    if not causes:
        return {
            "status": "ok",
            "summary": f"No problems found: {recent.total_stored} events stored and none rejected in the last {hours} "
            "hours; the key may ingest and every customer with events has a subscription that prices its meters.",
            "causes": [],
            "checked": checked,
        }
    return {
        "status": "issues_found",
        "summary": f"{len(causes)} cause(s) found; the most frequent first.",
        "causes": [c.to_json() for c in causes],
        "checked": checked,
    }


def _key_causes(caller: Caller, tenancy: Any, key_id: str | None) -> list[Cause]:
    """The key named (or the calling key): does it exist, is it active, may it ingest?"""
    causes: list[Cause] = []
    role: Role | None = caller.role if caller.kind is KeyKind.OPERATOR else None
    key_label = "this key"
    key = tenancy.get_key(caller.tenant_id, key_id) if key_id else None
    if key_id and key is None:
        causes.append(
            Cause(
                "KEY_NOT_FOUND",
                "The key named in key_id does not exist",
                f"No key {key_id} in this tenant.",
                "Check the key id (GET /v1/api-keys).",
            )
        )
    if key is not None:
        role, key_label = (key.role if key.kind is KeyKind.OPERATOR else None), f"key {key_id}"
        if key.status.value != "ACTIVE":
            causes.append(
                Cause(
                    "KEY_REVOKED",
                    "The ingestion key is revoked",
                    f"{key_label} is revoked.",
                    "Create a new key (POST /v1/api-keys).",
                )
            )
    if role is not None and Permission.USAGE_INGEST not in ROLE_PERMISSIONS[role]:
        needed = " or ".join(r.value for r in roles_with(Permission.USAGE_INGEST))
        causes.append(
            Cause(
                "KEY_WITHOUT_INGESTION_PERMISSION",
                "The key has no ingestion permission",
                f"{key_label} is an operator key with role {role.value}, which lacks usage:ingest: "
                "POST /v1/ingest/events answers 403 for it.",
                f"Ingest with an operator key of role {needed}, or with the customer's API key (sk_live_…).",
            )
        )
    return causes


def _catalog_causes(
    catalog: CatalogRepository, tenant: str, active: list[Meter], event_name: str | None
) -> list[Cause]:
    """No active meter at all, or the event name named matches no active meter (case, archived, unknown)."""
    causes: list[Cause] = []
    if not active:
        causes.append(
            Cause(
                "NO_ACTIVE_METERS",
                "No active meter",
                "The tenant has no active meter: every event is rejected.",
                "Create a meter (POST /v1/meters).",
            )
        )
    if not event_name:
        return causes
    exact = catalog.find_meter_by_event_name(tenant, event_name)
    if exact is not None and exact.status is MeterStatus.ACTIVE:
        return causes
    similar = sorted(
        {
            m.event_name
            for m in catalog.find_meters_by_event_name_ignoring_case(tenant, event_name)
            if m.status is MeterStatus.ACTIVE
        }
    )
    if similar:
        causes.append(
            Cause(
                "METER_NAME_CASE",
                "The event name differs from the meter's only by case",
                f"No active meter is named {event_name!r}; {', '.join(repr(s) for s in similar)} is. "
                "Event names are case-sensitive.",
                f"Send event_name {similar[0]!r}.",
            )
        )
    elif exact is not None:
        causes.append(
            Cause(
                "METER_INACTIVE",
                "The meter is archived (inactive)",
                f"Meter {exact.meter_id} ({event_name!r}) is archived: its events are rejected.",
                f"Activate it: POST /v1/meters/{exact.meter_id}/activate.",
            )
        )
    else:
        causes.append(
            Cause(
                "METER_NOT_FOUND",
                "No meter has this event name",
                f"No meter is named {event_name!r}.",
                "Create the meter or fix the name.",
            )
        )
    return causes


def _focus(
    caller: Caller, customers: CustomerRepository, external_customer_id: str | None
) -> tuple[Customer | None, list[Cause]]:
    """The customer diagnosis focuses on: the customer key's own, or the one named (if it exists)."""
    if caller.kind is KeyKind.CUSTOMER:
        return customers.get(caller.tenant_id, caller.customer_id or ""), []
    if not external_customer_id:
        return None, []
    focus = customers.get_by_external_id(caller.tenant_id, external_customer_id)
    if focus is not None:
        return focus, []
    return None, [
        Cause(
            "CUSTOMER_NOT_FOUND",
            "The customer does not exist",
            f"No customer has external_customer_id {external_customer_id!r}: its events are rejected.",
            "Create the customer (POST /v1/customers) or use the right external id.",
        )
    ]


@dataclass
class _Recent:
    """What ingestion did in the window: rejections by code, events stored per (customer, meter), late ones."""

    by_code: dict[str, list[LogEntry]] = field(default_factory=lambda: defaultdict(list))
    stored: Counter[tuple[str, str]] = field(default_factory=Counter)
    late: int = 0

    @property
    def total_stored(self) -> int:
        return sum(self.stored.values())


def _recent_ingestion(
    events: UsageEventStore,
    tenant: str,
    focus: Customer | None,
    external_customer_id: str | None,
    start: datetime,
    now: datetime,
) -> _Recent:
    recent = _Recent()
    hour = floor_to(now, Window.HOUR)
    external = focus.external_id if focus else external_customer_id
    while hour >= floor_to(start, Window.HOUR):
        key = hour_of(hour)
        rejected = LogQuery(tenant, key, external_customer_id=external, statuses=frozenset({"REJECTED"}))
        for line in events.log_hour(rejected):
            if line.received_at >= start:
                recent.by_code[line.code].append(line)
        for entry in events.index_hour(tenant, key, focus.customer_id if focus else None, None):
            if entry.received_at >= start:
                recent.stored[(entry.customer_id, entry.meter_id)] += len(entry.accepted | entry.late)
                recent.late += len(entry.late)
        hour -= timedelta(hours=1)
    return recent


def _examples(lines: list[LogEntry]) -> list[dict[str, Any]]:
    return [
        {
            "event_id": line.event_id,
            "event_name": line.event_name,
            "external_customer_id": line.external_customer_id,
            "detail": line.detail,
        }
        for line in lines[:MAX_EXAMPLES]
    ]


def _rejection_causes(by_code: dict[str, list[LogEntry]], hours: int) -> list[Cause]:
    """One cause per rejection code, the most frequent first; METER_NOT_FOUND by case is its own cause."""
    causes: list[Cause] = []
    for code, all_lines in sorted(by_code.items(), key=lambda kv: -len(kv[1])):
        lines, examples = all_lines, _examples(all_lines)
        if code == Code.METER_NOT_FOUND.value:
            case_lines = [line for line in lines if CASE_HINT in line.detail]
            if case_lines:
                causes.append(_case_cause(case_lines, examples))
            lines = [line for line in lines if CASE_HINT not in line.detail]
            if not lines:
                continue
        cause_code, title, fix = rejection_cause(code)
        detail = f"{len(lines)} events rejected with {code} in the last {hours} hours."
        causes.append(Cause(cause_code, title, detail, fix, len(lines), examples))
    return causes


def _case_cause(case_lines: list[LogEntry], examples: list[dict[str, Any]]) -> Cause:
    names = sorted({line.event_name for line in case_lines if line.event_name})
    return Cause(
        "METER_NAME_CASE",
        "Event names differ from the meter's only by case",
        f"{len(case_lines)} events were rejected because their event name ({', '.join(repr(n) for n in names)}) "
        "matches an active meter's only when case is ignored. Event names are case-sensitive.",
        'Send the meter\'s event name exactly, e.g. "model.usage" rather than "Model.Usage".',
        len(case_lines),
        [e for e in examples if CASE_HINT in e["detail"]] or examples,
    )


def _late_causes(recent: _Recent, hours: int) -> list[Cause]:
    if not recent.late or recent.late * 10 < max(recent.total_stored, 1):
        return []
    return [
        Cause(
            "LATE_ARRIVALS",
            "Many events arrive late (24 hours or more after their timestamp)",
            f"{recent.late} of {recent.total_stored} events stored in the last {hours} hours were late arrivals.",
            "Check the sending server's clock and ensure NTP is configured; flush buffered events sooner.",
            recent.late,
        )
    ]


def _billing_causes(
    customers: CustomerRepository,
    subscriptions: SubscriptionRepository,
    catalog: CatalogRepository,
    tenant: str,
    meters: list[Meter],
    recent: _Recent,
    focus: Customer | None,
    hours: int,
) -> list[Cause]:
    """No charges in billing: events stored, but no live subscription, or no plan that prices the meter."""
    causes: list[Cause] = []
    meter_by_id = {m.meter_id: m for m in meters}
    checked_customers = {c for c, _ in recent.stored} | ({focus.customer_id} if focus else set())
    for customer_id in sorted(checked_customers):
        subs = [s for s in subscriptions.list_for_customer(tenant, customer_id) if s.live]
        customer = customers.get(tenant, customer_id)
        label = repr(customer.external_id) if customer else customer_id
        metered = sorted(m for c, m in recent.stored if c == customer_id)
        if not subs:
            if metered or focus is not None:
                causes.append(_not_subscribed(customer_id, customer, label, metered, recent, hours))
            continue
        priced: set[str] = set()
        for s in subs:
            version = catalog.get_version(tenant, s.plan.plan_id, s.plan.version)
            if version is not None:
                priced |= {u.meter_id for u in version.content.usage_prices}
        for meter_id in metered:
            if meter_id not in priced:
                meter = meter_by_id.get(meter_id)
                causes.append(
                    Cause(
                        "NO_CHARGES_METER_NOT_IN_PLAN",
                        "No charges in billing: the customer's plan does not price this meter",
                        f"Customer {label} sends events for meter {meter_id} ({meter.event_name if meter else '?'!r}), "
                        f"but none of its live subscriptions ({', '.join(s.subscription_id for s in subs)}) is on a "
                        "plan version with a usage price for that meter.",
                        "Add the meter to the plan (a new plan version with a usage price for it) and move the "
                        "subscription to it.",
                        recent.stored[(customer_id, meter_id)],
                        [{"customer_id": customer_id, "meter_id": meter_id}],
                    )
                )
    return causes


def _not_subscribed(
    customer_id: str, customer: Customer | None, label: str, metered: list[str], recent: _Recent, hours: int
) -> Cause:
    counted = f" ({sum(recent.stored[(customer_id, m)] for m in metered)} in the last {hours} hours)" if metered else ""
    return Cause(
        "NO_CHARGES_NOT_SUBSCRIBED",
        "No charges in billing: the customer has no active subscription",
        f"Customer {label} has events{counted} but no live subscription, so nothing bills them.",
        "Create a subscription for the customer (POST /v1/subscriptions) to a plan that prices the meter.",
        examples=[{"customer_id": customer_id, "external_customer_id": customer.external_id if customer else None}],
    )
