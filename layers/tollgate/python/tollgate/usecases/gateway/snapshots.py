"""Access snapshots: built from the key, customer, subscription, plan version, payments, wallet and usage;
stored next to the key (one GetItem per uncached decision) and rebuilt when one of them changes:

- eagerly, by ``refresh_customer``: the usage aggregator after each batch, and the gateway-access
  consumer for subscription, plan, payment, invoice, wallet, customer and key events (outbox -> EventBridge);
- by the product gateway sync (``usecases.gateway_sync``) for the subscriptions it gives a usage
  identifier, or whose identifier an unlink removed;
- lazily, as a safety net: a snapshot older than ``MAX_AGE`` or past a meter's period end is rebuilt
  on the next check.

A rebuild compares the old and new snapshot and records the entitlement events (``thresholds``).
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from tollgate.domain.access import KeyKind
from tollgate.domain.billing.invoices import InvoiceStatus
from tollgate.domain.catalog.plan_prices import EntitlementReset
from tollgate.domain.gateway import thresholds
from tollgate.domain.gateway.grace import grace_days
from tollgate.domain.gateway.policy import DEFAULT_THRESHOLDS
from tollgate.domain.gateway.snapshot import AccessSnapshot, KeyState, MeterState
from tollgate.domain.keys import ApiKey, KeyStatus
from tollgate.domain.subscriptions import Subscription
from tollgate.usecases.gateway.policies import tenant_policies
from tollgate.usecases.gateway.repos import GatewayRepos

MAX_AGE = timedelta(minutes=5)


def _subscription(repos: GatewayRepos, key: ApiKey) -> Subscription | None:
    assert key.customer_id is not None
    if key.subscription_id:
        return repos.subscriptions.get(key.tenant_id, key.subscription_id)
    subs = repos.subscriptions.list_for_customer(key.tenant_id, key.customer_id)
    live = [s for s in subs if s.live]
    pool = live or subs
    return max(pool, key=lambda s: s.started_at) if pool else None


def _meters(repos: GatewayRepos, sub: Subscription, content, now: datetime) -> dict[str, MeterState]:
    entitled = {e.meter_id: e for e in content.entitlements}
    period = sub.period(now)
    out: dict[str, MeterState] = {}
    for meter_id in content.meter_ids():
        meter = repos.catalog.get_meter(sub.tenant_id, meter_id)
        if meter is None:
            continue
        ent = entitled.get(meter_id)
        reset = ent.reset if ent else EntitlementReset.PERIODIC
        start, end = (period.start, period.end) if reset is EntitlementReset.PERIODIC else (sub.started_at, None)
        until = end or now + timedelta(hours=2)
        used = repos.usage.aggregate(sub.tenant_id, sub.customer_id, meter, start, until).quantity
        out[meter.event_name] = MeterState(
            meter_id=meter_id,
            used=used,
            limit=ent.limit if ent else None,
            hard=ent.hard if ent else False,
            reset=reset.value,
            period_start=start,
            period_end=end,
        )
    return out


def _rate_limit(meta: dict) -> tuple[int, int] | None:
    for key, window in (("rate_limit_per_second", 1), ("rate_limit_per_minute", 60)):
        value = str(meta.get(key) or "")
        if value.isascii() and value.isdigit() and 0 < int(value) <= 1_000_000:
            return int(value), window
    return None


def build(repos: GatewayRepos, key: ApiKey, now: datetime) -> AccessSnapshot:
    base = AccessSnapshot(
        tenant_id=key.tenant_id,
        key_id=key.key_id,
        key_state=KeyState.ACTIVE if key.status is KeyStatus.ACTIVE else KeyState.REVOKED,
        built_at=now,
        key_display=key.display,
        key_note=_revocation_note(key),
        customer_id=key.customer_id,
    )
    sub = _subscription(repos, key) if base.key_state is KeyState.ACTIVE else None
    if sub is None:
        return base
    plan = repos.catalog.get_plan(sub.tenant_id, sub.plan.plan_id)
    version = repos.catalog.get_version(sub.tenant_id, sub.plan.plan_id, sub.plan.version)
    customer = repos.customers.get(sub.tenant_id, sub.customer_id)
    plan_meta = dict(plan.metadata) if plan else {}
    cust_meta = dict(customer.metadata) if customer else {}
    content = version.content if version else None
    free = content is None or not (
        any(f.amount > 0 for f in content.fees) or content.usage_prices or content.minimum_commitment
    )
    prepaid = "true" in (str(plan_meta.get("prepaid", "")).lower(), str(cust_meta.get("prepaid", "")).lower())
    wallet = repos.wallets.find_wallet(sub.tenant_id, sub.customer_id, sub.currency) if prepaid else None
    return replace(
        base,
        subscription_id=sub.subscription_id,
        subscription_status=sub.status.value,
        plan_id=sub.plan.plan_id,
        plan_name=plan.name if plan else sub.plan.plan_id,
        free=free,
        **_payment(repos, sub, free, customer.payment_method if customer else None),
        grace_days=grace_days(
            cust_meta, plan_meta, repos.payments.get_payment_settings(sub.tenant_id).grace_period_days
        ),
        meters=_meters(repos, sub, content, now) if content else {},
        features=frozenset(f.strip() for f in str(plan_meta.get("features", "")).split(",") if f.strip()),
        prepaid=prepaid,
        wallet_balance=wallet.balance if wallet else (Decimal(0) if prepaid else None),
        currency=sub.currency,
        rate_limit=_rate_limit(plan_meta),
        usage_identifier=_usage_identifier(repos, sub, plan.product_id if plan else None),
    )


def _usage_identifier(repos: GatewayRepos, sub: Subscription, product_id: str | None) -> str | None:
    """The subscription's usage identifier at its product's linked gateway (one GetItem, at build only: a
    decision still reads the snapshot alone); the gateway sync refreshes the snapshots it gives one."""
    if repos.links is None or not product_id:
        return None
    return repos.links.usage_identifier(sub.tenant_id, product_id, sub.subscription_id)


def _payment(repos: GatewayRepos, sub: Subscription, free: bool, payment_method: str | None) -> dict:
    """Payment state: overdue since when, a first payment never made (an open invoice never attempted and
    no payment method), an uncollectible invoice."""
    if free:
        return {"overdue_since": sub.payment_overdue_since}
    invoices = repos.invoices.list_invoices(
        sub.tenant_id, customer_id=sub.customer_id, subscription_id=sub.subscription_id
    )
    never_attempted = [
        i for i in invoices if i.status is InvoiceStatus.FINALIZED and i.amount_due > 0 and not i.payment_attempts
    ]
    return {
        "overdue_since": sub.payment_overdue_since,
        "payment_required": bool(sub.payment_overdue_since is None and not payment_method and never_attempted),
        "uncollectible": any(i.status is InvoiceStatus.UNCOLLECTIBLE and i.amount_due > 0 for i in invoices),
    }


def _revocation_note(key: ApiKey) -> str:
    if key.status is KeyStatus.ACTIVE:
        return ""
    if (key.revoked_reason or "").startswith("subscription"):
        return f"it was revoked because its subscription {key.subscription_id} ended"
    return "it was revoked (replaced by a newer key, or withdrawn)"


def _stale(snapshot: AccessSnapshot, now: datetime) -> bool:
    if now - snapshot.built_at > MAX_AGE:
        return True
    return any(
        m.reset == "PERIODIC" and m.period_end is not None and now >= m.period_end for m in snapshot.meters.values()
    )


def _percentages(repos: GatewayRepos, tenant_id: str) -> set[int]:
    found: set[int] = set()
    for policy in tenant_policies(repos, tenant_id):
        found.update(policy.threshold_percentages)
    return found or set(DEFAULT_THRESHOLDS)


_READ = object()


def rebuild(repos: GatewayRepos, key_hash: str, *, stored: object = _READ) -> AccessSnapshot | None:
    """Build the key's snapshot again and store it with the entitlement events of the change (``stored``:
    the snapshot already read, if the caller read it). A key that is not a customer key has none: an
    unknown key costs reads only, never a write."""
    old = repos.store.get_snapshot(key_hash) if stored is _READ else stored
    assert old is None or isinstance(old, AccessSnapshot)
    key = repos.tenancy.find_key_by_hash(key_hash)
    if key is None or key.kind is not KeyKind.CUSTOMER or key.customer_id is None:
        if old is not None:
            with contextlib.suppress(Exception):
                repos.store.delete_snapshot(key_hash)
        return None
    now = repos.clock()
    new = build(repos, key, now)
    repos.store.put_snapshot(key_hash, new, thresholds.changes(old, new, _percentages(repos, key.tenant_id), now))
    return new


def load(repos: GatewayRepos, tenant_id: str, key_hash: str) -> AccessSnapshot | None:
    """The key's snapshot for a decision: one GetItem when it is current; None for a key that is not a
    customer key of ``tenant_id`` (another tenant's key is as unknown as a typo)."""
    snapshot = repos.store.get_snapshot(key_hash)
    if snapshot is None or _stale(snapshot, repos.clock()):
        snapshot = rebuild(repos, key_hash, stored=snapshot)
    if snapshot is None or snapshot.tenant_id != tenant_id:
        return None
    return snapshot


def refresh_customer(repos: GatewayRepos, tenant_id: str, customer_id: str) -> int:
    """Rebuild every snapshot that shows the customer; returns how many."""
    hashes = repos.store.customer_key_hashes(tenant_id, customer_id)
    for key_hash in hashes:
        rebuild(repos, key_hash)
    return len(hashes)


def refresh_customers(repos: GatewayRepos, customers: set[tuple[str, str]]) -> int:
    """After usage changed (the usage aggregator) or an event about them: rebuild the snapshots of these
    (tenant, customer) pairs. A failure is logged and left to the snapshot's age limit: it never fails
    the caller's own work."""
    from tollgate.observability import logger

    rebuilt = 0
    for tenant_id, customer_id in sorted(customers):
        try:
            rebuilt += refresh_customer(repos, tenant_id, customer_id)
        except Exception:
            logger.exception(
                "gateway snapshot refresh failed", extra={"tenant_id": tenant_id, "customer_id": customer_id}
            )
    return rebuilt
