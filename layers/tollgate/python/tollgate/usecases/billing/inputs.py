"""Gathering what the billing pipeline reads (``tollgate.domain.billing.pipeline.BillingInputs``).

Every read goes through the page snapshot (a bill run's bulk reads, or item by item for a preview or a
retry); usage and credit notes are read per subscription. A missing subscription, customer, plan
version or meter, a period that is not billable and an unreadable usage store are ``BillingFailure``s.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tollgate.domain.billing.errors import BillingErrorCode, BillingFailure, UsageDataUnavailable
from tollgate.domain.billing.fees import ends_with_period
from tollgate.domain.billing.invoices import Invoice, invoice_id_for
from tollgate.domain.billing.pipeline import BillingInputs, MeteredUsage
from tollgate.domain.billing.plan_in_effect import history_needed, plans_for_period
from tollgate.domain.billing.usage import UsageAggregate, usage_window
from tollgate.domain.catalog.meters import Meter
from tollgate.domain.catalog.plans import PlanVersion
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.periods import Period
from tollgate.domain.subscriptions import PlanRef, Subscription
from tollgate.domain.usage.aggregation import Window, floor_to
from tollgate.usecases.billing.late_usage import gather_late_usage
from tollgate.usecases.billing.snapshot import PageSnapshot


def gather_inputs(
    snapshot: PageSnapshot,
    subscription_id: str,
    period: Period,
    existing: Invoice | None,
    now: datetime,
    *,
    preview: bool = False,
) -> BillingInputs:
    """Everything billing ``subscription_id`` for ``period`` reads, in the order a failure is reported."""
    repos, tenant_id = snapshot.repos, snapshot.tenant_id
    sub = snapshot.subscription(subscription_id)
    if sub is None:
        raise BillingFailure(BillingErrorCode.SUBSCRIPTION_NOT_FOUND, f"Subscription {subscription_id} was not found.")
    check_period(sub, period, now, preview=preview)
    customer = snapshot.customer(sub.customer_id)
    if customer is None:
        raise BillingFailure(
            BillingErrorCode.CUSTOMER_NOT_FOUND,
            f"Customer {sub.customer_id} of subscription {subscription_id} was not found.",
        )
    # Which plan versions: the period's (usage, arrears fees) and the next period's (advance fees).
    history = repos.subscriptions.history(tenant_id, subscription_id) if history_needed(sub) else []
    during_ref, next_ref = plans_for_period(sub, history, period.end)
    version = _version(snapshot, during_ref)
    next_period = sub.period(period.end)
    ends = ends_with_period(sub, history, period, next_period)
    next_version = None if ends else (version if next_ref == during_ref else _version(snapshot, next_ref))
    usage = _metered_usage(snapshot, sub, version, period, now if preview else None)
    late = gather_late_usage(
        snapshot, sub, period, now, lambda meter, start, end: read_usage(snapshot, sub.customer_id, meter, start, end)
    )
    return BillingInputs(
        invoice_id=invoice_id_for(tenant_id, subscription_id, period.start),
        subscription=sub,
        customer=customer,
        period=period,
        now=now,
        version=version,
        next_version=next_version,
        next_period=None if ends else next_period,
        usage=usage,
        credit_notes=tuple(repos.credit_notes.available_credit_notes(tenant_id, customer.customer_id, sub.currency)),
        wallet=snapshot.wallet(customer.customer_id, sub.currency),
        settings=snapshot.settings(),
        existing=existing,
        preview=preview,
        late_usage=late,
    )


def _version(snapshot: PageSnapshot, ref: PlanRef) -> PlanVersion:
    version = snapshot.version(ref)
    if version is None:
        raise BillingFailure(
            BillingErrorCode.PLAN_VERSION_NOT_FOUND, f"Plan {ref.plan_id} version {ref.version} was not found."
        )
    return version


def _metered_usage(
    snapshot: PageSnapshot, sub: Subscription, version: PlanVersion, period: Period, until: datetime | None
) -> tuple[MeteredUsage, ...]:
    """The usage of each usage price of the plan over its window (up to ``until`` for a preview)."""
    usage = []
    for usage_price in version.content.usage_prices:
        meter = snapshot.meter(usage_price.meter_id)
        if meter is None:
            raise BillingFailure(
                BillingErrorCode.METER_NOT_FOUND,
                f"Meter {usage_price.meter_id} of plan {version.plan_id} v{version.version} was not found.",
            )
        start, end = usage_window(meter, sub.started_at, period.start, period.end, sub.ended_at)
        read_end = end
        if until is not None and until < end:
            # A preview counts the current, still open hour too (read-your-writes): hours are attributed by
            # their start, so reading up to the end of this hour (never past the period's) adds exactly it.
            read_end = min(end, floor_to(until, Window.HOUR) + timedelta(hours=1))
            end = max(until, start)
        aggregate = read_usage(snapshot, sub.customer_id, meter, start, read_end)
        usage.append(MeteredUsage(usage_price, meter, aggregate, start, end))
    return tuple(usage)


def read_usage(
    snapshot: PageSnapshot, customer_id: str, meter: Meter, start: datetime, end: datetime
) -> UsageAggregate:
    try:
        return snapshot.repos.usage.aggregate(snapshot.tenant_id, customer_id, meter, start, end)
    except BillingFailure:
        raise
    except Exception as exc:  # the usage store's own errors (throttling, timeouts): the data is unavailable
        raise UsageDataUnavailable(
            f"Reading usage of meter {meter.meter_id} failed ({type(exc).__name__}: {str(exc)[:200]}); "
            "re-run the bill run."
        ) from exc


def _is_billing_period(sub: Subscription, period: Period) -> bool:
    """One of the subscription's periods, or the last one cut short at the subscription's end."""
    if period.end <= period.start or period.start < sub.started_at:
        return False
    full = sub.period(period.start)
    if full.start != period.start:
        return False
    return full.end == period.end or (sub.ended_at is not None and period.end == sub.ended_at < full.end)


def check_period(sub: Subscription, period: Period, now: datetime, *, preview: bool) -> None:
    """PERIOD_NOT_BILLABLE unless ``period`` is one of the subscription's periods that has ended."""
    if not _is_billing_period(sub, period):
        expected = sub.period(max(period.start, sub.started_at))
        raise BillingFailure(
            BillingErrorCode.PERIOD_NOT_BILLABLE,
            f"{to_rfc3339(period.start)} to {to_rfc3339(period.end)} is not a billing period of subscription "
            f"{sub.subscription_id} (the period there is {to_rfc3339(expected.start)} to {to_rfc3339(expected.end)}).",
        )
    if not preview and period.end > now:
        raise BillingFailure(
            BillingErrorCode.PERIOD_NOT_BILLABLE,
            f"The period ends at {to_rfc3339(period.end)}: it is billed once it has ended.",
        )
    if sub.ended_at is not None and period.start >= sub.ended_at:
        raise BillingFailure(
            BillingErrorCode.PERIOD_NOT_BILLABLE,
            f"Subscription {sub.subscription_id} ended at {to_rfc3339(sub.ended_at)}, before this period.",
        )
