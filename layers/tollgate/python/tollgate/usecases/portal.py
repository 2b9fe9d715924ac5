"""The customer portal's use cases: what a portal session (one customer) may see and do, through the
same use cases and rules as the API (seed 002's Developer Portal: the Subscriptions page with each
subscription's key, the usage dashboard, plan changes; seed 000: the customer updates an outdated
payment method itself).

Every subscription, key and invoice is looked up within the session's customer: another customer's id
answers 404 exactly like an unknown one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from tollgate.domain.access import Caller, echo
from tollgate.domain.billing.invoices import Invoice, InvoiceStatus
from tollgate.domain.catalog.common import is_identifier
from tollgate.domain.catalog.plan_prices import EntitlementReset
from tollgate.domain.catalog.plans import Plan, PlanVersion, VersionStatus
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.errors import ConcurrentUpdate, Conflict, InvalidInput, NotFound
from tollgate.domain.keys import ApiKey, KeyStatus
from tollgate.domain.subscriptions import Subscription
from tollgate.domain.usage.aggregation import Window
from tollgate.ports.usage import UsageStore
from tollgate.usecases import subscriptions as subscription_cases
from tollgate.usecases.billing import BillingRepos, get_invoice
from tollgate.usecases.tenancy import IssuedKey, revoke_if_active
from tollgate.usecases.usage import usage_report

Repos = subscription_cases.Repos
REGENERATED = "regenerated in the customer portal"


UNBILLED = frozenset({InvoiceStatus.DRAFT, InvoiceStatus.FAILED})


def billed_invoice(billing: BillingRepos, caller: Caller, invoice_id: str) -> Invoice:
    """One of the customer's invoices as the portal shows it: a DRAFT or FAILED one (nothing billed yet,
    hidden from the list too) answers 404 like an unknown id."""
    invoice = get_invoice(billing, caller.tenant_id, invoice_id, customer_id=caller.customer_id)
    if invoice.status in UNBILLED:
        raise NotFound(
            f"Invoice not found: {echo(invoice_id)}. The portal lists this customer's issued invoices at "
            "GET /v1/portal/invoices.",
        )
    return invoice


def customer_subscriptions(repos: Repos, caller: Caller) -> list[Subscription]:
    """The session's customer's subscriptions, live ones first, newest first."""
    subs = repos.subscriptions.list_for_customer(caller.tenant_id, caller.customer_id or "")
    return sorted(subs, key=lambda s: (not s.live, -s.started_at.timestamp()))


def own_subscription(repos: Repos, caller: Caller, subscription_id: str) -> Subscription:
    sub = repos.subscriptions.get(caller.tenant_id, subscription_id) if is_identifier(subscription_id) else None
    if sub is None or sub.customer_id != caller.customer_id:
        raise NotFound(
            f"Subscription not found: {echo(subscription_id)}. The portal lists this customer's subscriptions "
            "at GET /v1/portal/subscriptions.",
            code="SUBSCRIPTION_NOT_FOUND",
        )
    return sub


def _own_key(repos: Repos, caller: Caller, sub: Subscription, key_id: str) -> ApiKey:
    key = repos.tenancy.get_key(caller.tenant_id, key_id) if is_identifier(key_id) else None
    if key is None or key.subscription_id != sub.subscription_id or key.customer_id != caller.customer_id:
        raise NotFound(
            f"API key not found: {echo(key_id)} is not a key of subscription {sub.subscription_id}. "
            "The subscription lists its keys at GET /v1/portal/subscriptions.",
            code="KEY_NOT_FOUND",
        )
    return key


def regenerate_key(repos: Repos, caller: Caller, subscription_id: str, key_id: str) -> tuple[ApiKey, IssuedKey]:
    """Replace a subscription's key: the old one revoked and a new key (its secret shown once, in this
    answer). The old key is revoked first, only while it is still ACTIVE, so of two regenerates at once one
    wins; the other, like regenerating a revoked key, is 409 KEY_ALREADY_REVOKED and mints nothing."""
    sub = own_subscription(repos, caller, subscription_id)
    old = _own_key(repos, caller, sub, key_id)
    if not sub.live:
        raise Conflict(
            f"Subscription {sub.subscription_id} is {sub.status.value}: a cancelled or expired subscription gets "
            "no keys; the customer must subscribe again.",
            code="SUBSCRIPTION_TERMINAL",
        )
    try:
        if old.status is KeyStatus.REVOKED:
            raise ConcurrentUpdate("revoked already")
        revoked = revoke_if_active(repos.tenancy, old, reason=REGENERATED, clock=repos.clock)
    except ConcurrentUpdate:
        raise Conflict(
            f"API key {old.display} ({old.key_id}) is already revoked ({old.revoked_reason or 'regenerated'}); "
            "regenerate the subscription's active key instead (GET /v1/portal/subscriptions lists them).",
            code="KEY_ALREADY_REVOKED",
        ) from None
    issued = subscription_cases.mint_subscription_key(
        repos, caller, sub.subscription_id, name=old.name or "portal", livemode=old.livemode
    )
    return revoked, issued


def create_key(repos: Repos, caller: Caller, subscription_id: str) -> IssuedKey:
    """A key for a subscription that has no active one (409 KEY_EXISTS otherwise: regenerate it)."""
    sub = own_subscription(repos, caller, subscription_id)
    active = [
        k
        for k in repos.tenancy.subscription_keys(caller.tenant_id, sub.subscription_id)
        if k.status is KeyStatus.ACTIVE
    ]
    if active:
        route = f"POST /v1/portal/subscriptions/{sub.subscription_id}/keys/{active[0].key_id}/regenerate"
        raise Conflict(
            f"Subscription {sub.subscription_id} already has an active key ({active[0].display}); regenerate it "
            f"for a new secret: {route}.",
            code="KEY_EXISTS",
        )
    return subscription_cases.mint_subscription_key(repos, caller, sub.subscription_id, name="portal")


@dataclass(frozen=True)
class PlanChoice:
    plan: Plan
    version: PlanVersion


def plan_choices(repos: Repos, caller: Caller, subscription_id: str) -> list[PlanChoice]:
    """The published plans of the subscription's currency and interval it may move to (not its own version)."""
    return _choices(repos, caller, own_subscription(repos, caller, subscription_id))


def _choices(repos: Repos, caller: Caller, sub: Subscription) -> list[PlanChoice]:
    out = []
    for plan in repos.catalog.list_plans(caller.tenant_id):
        if (
            plan.current_version is None
            or plan.currency != sub.currency
            or plan.billing_interval.value != sub.interval.value
        ):
            continue
        version = repos.catalog.get_version(caller.tenant_id, plan.plan_id, plan.current_version)
        if version is None or version.status is not VersionStatus.PUBLISHED:
            continue
        if (plan.plan_id, version.version) != (sub.plan.plan_id, sub.plan.version):
            out.append(PlanChoice(plan, version))
    return sorted(out, key=lambda c: (monthly_fees(c.version), c.plan.name))


def offered_target(repos: Repos, caller: Caller, subscription_id: str, plan_id: str, version: int | None) -> None:
    """A portal plan change may only move to one of ``plan_choices`` (each plan's current published
    version): a superseded version (an older, cheaper price) is 422, naming the field."""
    sub = own_subscription(repos, caller, subscription_id)
    offered = {c.plan.plan_id: c.version.version for c in _choices(repos, caller, sub)}
    route = f"GET /v1/portal/subscriptions/{subscription_id}/plans"
    if plan_id == sub.plan.plan_id and version in (None, sub.plan.version):
        return  # the plan it is on: the API's own rule answers (409 SAME_PLAN_VERSION)
    if plan_id == sub.plan.plan_id:
        raise InvalidInput(
            f"version: the subscription is on plan {plan_id} version {sub.plan.version}, the only version of it "
            f"the portal offers; {route} lists the plans it may move to.",
            field="version",
        )
    if plan_id not in offered:
        raise InvalidInput(
            f"plan_id: {echo(plan_id)} is not a plan this subscription may move to; {route} lists them.",
            field="plan_id",
        )
    if version is not None and version != offered[plan_id]:
        raise InvalidInput(
            f"version: plan {plan_id} offers only its current version {offered[plan_id]} here, not {version}; "
            f"omit version or use {offered[plan_id]} ({route} lists the choices).",
            field="version",
        )


def monthly_fees(version: PlanVersion) -> Decimal:
    return sum((f.amount for f in version.content.fees), Decimal(0))


def usage_overview(repos: Repos, store: UsageStore, caller: Caller, sub: Subscription, now: datetime) -> dict[str, Any]:
    """Usage of each of the subscription's meters for its current period against the entitlement (the
    plan version's limit: none means unlimited), with a daily series for a chart."""
    version = repos.catalog.get_version(caller.tenant_id, sub.plan.plan_id, sub.plan.version)
    period = sub.period(now)
    meters = []
    if version is not None and sub.live:
        entitled = {e.meter_id: e for e in version.content.entitlements}
        for meter_id in version.content.meter_ids():
            meter = repos.catalog.get_meter(caller.tenant_id, meter_id)
            if meter is None:
                continue
            ent = entitled.get(meter_id)
            cumulative = ent is not None and ent.reset is not EntitlementReset.PERIODIC
            start = sub.started_at if cumulative else period.start
            report = usage_report(
                repos.customers,
                repos.catalog,
                store,
                caller,
                customer_id=sub.customer_id,
                external_customer_id=None,
                meter_id=meter.meter_id,
                event_name=None,
                start=start,
                end=max(period.end, start) if not cumulative else max(now, period.end),
                window=Window.DAY if not cumulative else Window.MONTH,
                now=now,
            )
            meters.append(
                {
                    "meter_id": meter.meter_id,
                    "name": meter.name,
                    "event_name": meter.event_name,
                    "aggregation": meter.aggregation.to_json(),
                    "used": report["value"],
                    "limit": str(ent.limit) if ent else None,
                    "hard": ent.hard if ent else False,
                    "reset": ent.reset.value if ent else EntitlementReset.PERIODIC.value,
                    "from": report["from"],
                    "to": report["to"],
                    "series": report.get("data", []),
                }
            )
    return {
        "subscription_id": sub.subscription_id,
        "plan_id": sub.plan.plan_id,
        "plan_version": sub.plan.version,
        "period": {"start": to_rfc3339(period.start), "end": to_rfc3339(period.end)},
        "as_of": to_rfc3339(now),
        "meters": meters,
    }
