"""GET /v1/ingest/diagnose: which documented cause explains missing or wrong usage (seed 000 "Run
diagnostics", seed 001's checklist).

It looks at the caller's setup (the key, the meters, the customer and its subscriptions) and at what
ingestion did recently (rejections by code, late arrivals, customers with stored events) and answers
with the causes that apply, each with evidence and the fix; or ``"status": "ok"`` when none does.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tollgate.domain.access import Caller, KeyKind, Permission, Role, roles_with
from tollgate.domain.catalog.meters import MeterStatus
from tollgate.domain.clock import utcnow
from tollgate.domain.usage.aggregation import Window, floor_to, hour_of
from tollgate.domain.usage.events import Code
from tollgate.ports.usage import LogQuery, UsageEventStore

MAX_EXAMPLES = 3


@dataclass
class Cause:
    code: str
    title: str
    detail: str
    fix: str
    count: int = 0
    examples: list[dict[str, Any]] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
            "fix": self.fix,
            "count": self.count,
            "examples": self.examples or [],
        }


# Rejection code -> (cause code, title, fix). The seeds' documented causes, in Tollgate's words.
REJECTION_CAUSES: dict[str, tuple[str, str, str]] = {
    Code.METER_NOT_FOUND.value: (
        "METER_NOT_FOUND",
        'Events name a meter that does not exist ("metric not found")',
        "Send the exact event name of an active meter (GET /v1/meters), or create the meter.",
    ),
    Code.METER_ARCHIVED.value: (
        "METER_INACTIVE",
        "Events name an archived (inactive) meter",
        "Activate the meter (POST /v1/meters/{id}/activate), then resend the events.",
    ),
    Code.CUSTOMER_NOT_FOUND.value: (
        "CUSTOMER_NOT_FOUND",
        "Events name a customer that does not exist",
        "Create the customer first (POST /v1/customers) or send the external_id of an existing one.",
    ),
    Code.TIMESTAMP_IN_FUTURE.value: (
        "CLOCK_SKEW",
        "Events are more than 5 minutes in the future (clock skew)",
        "Sync the sending server's clock (NTP); send timestamps in UTC with an offset (…Z).",
    ),
    Code.TIMESTAMP_TOO_OLD.value: (
        "TIMESTAMP_TOO_OLD",
        "Events are more than 90 days old",
        "Check the timestamps your client sends; usage older than 90 days is not accepted.",
    ),
    Code.AGGREGATION_FIELD_MISSING.value: (
        "AGGREGATION_FIELD_MISSING",
        "Events lack the meter's aggregation field (property name mismatch or missing properties)",
        "Send the property the meter aggregates (its aggregation.field), spelled exactly, inside properties.",
    ),
    Code.AGGREGATION_FIELD_NOT_NUMERIC.value: (
        "AGGREGATION_FIELD_NOT_NUMERIC",
        "Events send the aggregation field as a string (or another non-number) for a SUM/MAX/AVG/LATEST meter",
        'Send a JSON number: "credits": 2, not "credits": "2".',
    ),
    Code.AGGREGATION_FIELD_INVALID.value: (
        "AGGREGATION_FIELD_INVALID",
        "Events send an object, list or boolean to a UNIQUE_COUNT meter",
        "Send a string or a number.",
    ),
    Code.FILTER_NOT_MATCHED.value: (
        "FILTER_NOT_MATCHED",
        "Events do not match the meter's filters",
        "Send the property values the meter's filters require, or change the filters.",
    ),
    Code.IDEMPOTENCY_CONFLICT.value: (
        "IDEMPOTENCY_CONFLICT",
        "The same event_id was reused for different events",
        "Give every event its own event_id; a retry must resend the same payload.",
    ),
    Code.CUSTOMER_NOT_ALLOWED.value: (
        "CUSTOMER_KEY_FOR_ANOTHER_CUSTOMER",
        "A customer API key sent events for another customer",
        "Use each customer's own key, or an operator key with usage:ingest.",
    ),
}
PAYLOAD_CODES = {
    Code.INVALID_EVENT.value,
    Code.MISSING_EVENT_NAME.value,
    Code.MISSING_CUSTOMER.value,
    Code.INVALID_TIMESTAMP.value,
    Code.INVALID_QUANTITY.value,
    Code.EVENT_TOO_LARGE.value,
}


def diagnose(
    *,
    caller: Caller,
    events: UsageEventStore,
    customers,
    subscriptions,
    catalog,
    tenancy,
    external_customer_id: str | None = None,
    event_name: str | None = None,
    key_id: str | None = None,
    hours: int = 24,
    now: datetime | None = None,
) -> dict[str, Any]:
    tenant = caller.tenant_id
    now = now or utcnow()
    start = now - timedelta(hours=hours)
    causes: list[Cause] = []

    # -- the key -----------------------------------------------------------------------------------
    role: Role | None = caller.role if caller.kind is KeyKind.OPERATOR else None
    key_label = "this key"
    if key_id:
        key = tenancy.get_key(tenant, key_id)
        if key is None:
            causes.append(
                Cause(
                    "KEY_NOT_FOUND",
                    "The key named in key_id does not exist",
                    f"No key {key_id} in this tenant.",
                    "Check the key id (GET /v1/api-keys).",
                )
            )
        else:
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
    if role is not None and Permission.USAGE_INGEST not in _role_permissions(role):
        needed = " or ".join(r.value for r in roles_with(Permission.USAGE_INGEST))
        causes.append(
            Cause(
                "KEY_WITHOUT_INGESTION_PERMISSION",
                "The key has no ingestion permission",
                f"{key_label} is an operator key with role {role.value}, which lacks usage:ingest: POST /v1/ingest/events "
                "answers 403 for it.",
                f"Ingest with an operator key of role {needed}, or with the customer's API key (sk_live_…).",
            )
        )

    # -- the catalog ---------------------------------------------------------------------------------
    meters = catalog.list_meters(tenant)
    active = [m for m in meters if m.status is MeterStatus.ACTIVE]
    if not active:
        causes.append(
            Cause(
                "NO_ACTIVE_METERS",
                "No active meter",
                "The tenant has no active meter: every event is rejected.",
                "Create a meter (POST /v1/meters).",
            )
        )
    if event_name:
        exact = catalog.find_meter_by_event_name(tenant, event_name)
        if exact is None or exact.status is not MeterStatus.ACTIVE:
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
                        f"No active meter is named {event_name!r}; {', '.join(repr(s) for s in similar)} is. Event names are case-sensitive.",
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

    focus = None
    if caller.kind is KeyKind.CUSTOMER:
        focus = customers.get(tenant, caller.customer_id or "")
    elif external_customer_id:
        focus = customers.get_by_external_id(tenant, external_customer_id)
        if focus is None:
            causes.append(
                Cause(
                    "CUSTOMER_NOT_FOUND",
                    "The customer does not exist",
                    f"No customer has external_customer_id {external_customer_id!r}: its events are rejected.",
                    "Create the customer (POST /v1/customers) or use the right external id.",
                )
            )

    # -- recent ingestion --------------------------------------------------------------------------------
    by_code: dict[str, list[Any]] = defaultdict(list)
    stored: dict[tuple[str, str], int] = Counter()
    late = 0
    hour = floor_to(now, Window.HOUR)
    while hour >= floor_to(start, Window.HOUR):
        key = hour_of(hour)
        for line in events.log_hour(
            LogQuery(
                tenant,
                key,
                external_customer_id=focus.external_id if focus else external_customer_id,
                statuses=frozenset({"REJECTED"}),
            )
        ):
            if line.received_at >= start:
                by_code[line.code].append(line)
        for entry in events.index_hour(tenant, key, focus.customer_id if focus else None, None):
            if entry.received_at >= start:
                stored[(entry.customer_id, entry.meter_id)] += len(entry.accepted | entry.late)
                late += len(entry.late)
        hour -= timedelta(hours=1)

    for code, lines in sorted(by_code.items(), key=lambda kv: -len(kv[1])):
        examples = [
            {
                "event_id": l.event_id,
                "event_name": l.event_name,
                "external_customer_id": l.external_customer_id,
                "detail": l.detail,
            }
            for l in lines[:MAX_EXAMPLES]
        ]
        if code == Code.METER_NOT_FOUND.value:
            case_lines = [l for l in lines if "Did you mean" in l.detail]
            other = [l for l in lines if "Did you mean" not in l.detail]
            if case_lines:
                names = sorted({l.event_name for l in case_lines if l.event_name})
                causes.append(
                    Cause(
                        "METER_NAME_CASE",
                        "Event names differ from the meter's only by case",
                        f"{len(case_lines)} events were rejected because their event name ({', '.join(repr(n) for n in names)}) "
                        "matches an active meter's only when case is ignored. Event names are case-sensitive.",
                        'Send the meter\'s event name exactly, e.g. "model.usage" rather than "Model.Usage".',
                        len(case_lines),
                        [e for e in examples if "Did you mean" in e["detail"]] or examples,
                    )
                )
            if not other:
                continue
            lines = other
        if code in PAYLOAD_CODES:
            cause = (
                "INVALID_PAYLOAD",
                "Events are malformed (missing or invalid fields)",
                "Send event_name, the customer, an RFC 3339 timestamp and numbers as JSON numbers.",
            )
        else:
            cause = REJECTION_CAUSES.get(code, (code, f"Events rejected with {code}", "See each rejection's detail."))
        causes.append(
            Cause(
                cause[0],
                cause[1],
                f"{len(lines)} events rejected with {code} in the last {hours} hours.",
                cause[2],
                len(lines),
                examples,
            )
        )

    total_stored = sum(stored.values())
    if late and late * 10 >= max(total_stored, 1):
        causes.append(
            Cause(
                "LATE_ARRIVALS",
                "Many events arrive late (24 hours or more after their timestamp)",
                f"{late} of {total_stored} events stored in the last {hours} hours were late arrivals.",
                "Check the sending server's clock and ensure NTP is configured; flush buffered events sooner.",
                late,
            )
        )

    # -- no charges in billing: events stored, but nothing would price them ---------------------------
    meter_by_id = {m.meter_id: m for m in meters}
    checked_customers = {c for c, _ in stored} | ({focus.customer_id} if focus else set())
    for customer_id in sorted(checked_customers):
        subs = [s for s in subscriptions.list_for_customer(tenant, customer_id) if s.live]
        priced: set[str] = set()
        for s in subs:
            version = catalog.get_version(tenant, s.plan.plan_id, s.plan.version)
            if version is not None:
                priced |= {u.meter_id for u in version.content.usage_prices}
        customer = customers.get(tenant, customer_id)
        label = repr(customer.external_id) if customer else customer_id
        metered = sorted(m for c, m in stored if c == customer_id)
        if not subs:
            if metered or focus is not None:
                causes.append(
                    Cause(
                        "NO_CHARGES_NOT_SUBSCRIBED",
                        "No charges in billing: the customer has no active subscription",
                        f"Customer {label} has events"
                        + (
                            f" ({sum(stored[(customer_id, m)] for m in metered)} in the last {hours} hours)"
                            if metered
                            else ""
                        )
                        + " but no live subscription, so nothing bills them.",
                        "Create a subscription for the customer (POST /v1/subscriptions) to a plan that prices the meter.",
                        examples=[
                            {
                                "customer_id": customer_id,
                                "external_customer_id": customer.external_id if customer else None,
                            }
                        ],
                    )
                )
            continue
        for meter_id in metered:
            if meter_id not in priced:
                meter = meter_by_id.get(meter_id)
                causes.append(
                    Cause(
                        "NO_CHARGES_METER_NOT_IN_PLAN",
                        "No charges in billing: the customer's plan does not price this meter",
                        f"Customer {label} sends events for meter {meter_id} ({meter.event_name if meter else '?'!r}), but none "
                        f"of its live subscriptions ({', '.join(s.subscription_id for s in subs)}) is on a plan version with a "
                        "usage price for that meter.",
                        "Add the meter to the plan (a new plan version with a usage price for it) and move the subscription to it.",
                        stored[(customer_id, meter_id)],
                        [{"customer_id": customer_id, "meter_id": meter_id}],
                    )
                )

    checked = {
        "from": start.isoformat().replace("+00:00", "Z"),
        "to": now.isoformat().replace("+00:00", "Z"),
        "active_meters": len(active),
        "stored_events": total_stored,
        "rejected_events": sum(len(v) for v in by_code.values()),
        "late_events": late,
        "customer": focus.external_id if focus else external_customer_id,
    }
    if not causes:
        return {
            "status": "ok",
            "summary": f"No problems found: {total_stored} events stored and none rejected in the last {hours} hours; "
            "the key may ingest and every customer with events has a subscription that prices its meters.",
            "causes": [],
            "checked": checked,
        }
    return {
        "status": "issues_found",
        "summary": f"{len(causes)} cause(s) found; the most frequent first.",
        "causes": [c.to_json() for c in causes],
        "checked": checked,
    }


def _role_permissions(role: Role):
    from tollgate.domain.access import ROLE_PERMISSIONS

    return ROLE_PERMISSIONS[role]
