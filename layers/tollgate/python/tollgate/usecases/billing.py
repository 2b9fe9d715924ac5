"""Bill one subscription for one period, preview the upcoming invoice, retry an invoice, email it.

``bill_subscription`` is what a bill run calls per subscription (and ``retry_invoice`` per invoice).
It is idempotent: the invoice id is derived from (tenant, subscription, period start), an invoice
already FINALIZED (or PAID, VOID, UNCOLLECTIBLE) is answered ALREADY_INVOICED without writing, and
the finalizing write is one transaction conditional on everything it replaces -- the invoice's
revision (or its absence), the subscription's version (its pending charges are consumed exactly
once), each credit note's and the wallet's revision. A lost race re-reads and recomputes (up to
three times); if the invoice was finalized meanwhile the answer is ALREADY_INVOICED.

Expected failures (``BillingFailure``: WALLET_INSUFFICIENT_FUNDS, USAGE_DATA_UNAVAILABLE,
TAX_CALCULATION_FAILED, ...) are answered FAILED with their code, never raised: one subscription's
failure never stops a bill run. Nothing of the bill is written then (no invoice lines, no burn, no
consumed charge or credit); only a FAILED record under the invoice's id, with the error code and the
attempt count, so ``retry_invoice`` can reprocess exactly that one, and ``invoice.failed`` in the
event log. Unexpected errors (bugs, DynamoDB outages) propagate to the caller.

After a successful finalization the invoice is emailed (best effort: a failure is recorded as
``invoice.send_failed`` and never fails the bill).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from tollgate.domain.billing.attribution import attribution
from tollgate.domain.billing.credit_notes import CreditNote, apply_credit_notes
from tollgate.domain.billing.delivery import SENDABLE, InvoiceDelivery, invoice_email
from tollgate.domain.billing.discounts import discount_line
from tollgate.domain.billing.errors import (
    BillingErrorCode,
    BillingFailure,
    InvoiceNotSent,
    SendFailure,
    TaxCalculationFailed,
    UsageDataUnavailable,
)
from tollgate.domain.billing.fees import (
    charge_lines,
    due_charges,
    ends_with_period,
    fee_lines,
    fees_covering,
    minimum_commitment_line,
)
from tollgate.domain.billing.invoices import (
    ISSUED,
    Invoice,
    InvoiceAction,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    invoice_id_for,
    totals_of,
)
from tollgate.domain.billing.plan_in_effect import history_needed, plans_for_period
from tollgate.domain.billing.settings import BillingSettings
from tollgate.domain.billing.tax import BUILTIN, BuiltinTaxProvider, TaxMode, TaxRequest, TaxResult, tax_lines
from tollgate.domain.billing.usage import UsageAggregate, usage_line, usage_window
from tollgate.domain.billing.wallets import Wallet, apply_wallet, is_prepaid, wallet_id_for
from tollgate.domain.catalog.plans import PlanVersion
from tollgate.domain.clock import to_rfc3339, utcnow
from tollgate.domain.customers import Customer
from tollgate.domain.errors import Conflict, NotFound
from tollgate.domain.events import DomainEvent
from tollgate.domain.money import plain
from tollgate.domain.periods import Period
from tollgate.domain.subscriptions import PlanRef, Subscription
from tollgate.ports.billing import (
    BillingSettingsRepository,
    BillingWrite,
    ChargeConsumption,
    CreditNoteRepository,
    InvoiceRepository,
    Mailer,
    MailRejected,
    TaxProvider,
    UsageReader,
    WalletRepository,
)
from tollgate.ports.catalog import CatalogRepository
from tollgate.ports.customers import CustomerRepository, SubscriptionRepository

_log = logging.getLogger(__name__)
ZERO = Decimal(0)
ATTEMPTS = 3  # a lost race is recomputed this many times before answering CONCURRENT_UPDATE
_TAX_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="tax-provider")


@dataclass(frozen=True)
class BillingRepos:
    """Everything the billing use cases touch (``tollgate.wiring.billing_repos()`` builds it on AWS)."""

    subscriptions: SubscriptionRepository
    customers: CustomerRepository
    catalog: CatalogRepository
    invoices: InvoiceRepository
    credit_notes: CreditNoteRepository
    wallets: WalletRepository
    settings: BillingSettingsRepository
    usage: UsageReader
    mailer: Mailer
    # External tax engines by name; "builtin" (the tenant's own rates) is always available.
    tax_providers: Mapping[str, TaxProvider] = field(default_factory=dict)
    clock: Callable[[], datetime] = utcnow

    def tax_provider(self, name: str) -> TaxProvider | None:
        if name == BUILTIN:
            return self.tax_providers.get(BUILTIN) or BuiltinTaxProvider()
        return self.tax_providers.get(name)

    def tax_provider_names(self) -> list[str]:
        return sorted({BUILTIN, *self.tax_providers})


class CachedCatalogReads:
    """A read-through cache of plan versions and meters over a CatalogRepository, for one bill-run
    page: a published version never changes, and a meter's definition is locked while a published
    version uses it, so many subscriptions on the same plan read the catalog once."""

    def __init__(self, catalog: CatalogRepository) -> None:
        self._catalog = catalog
        self._cache: dict[tuple[str, ...], Any] = {}

    def get_version(self, tenant_id: str, plan_id: str, version: int):
        key = ("version", tenant_id, plan_id, str(version))
        if key not in self._cache:
            self._cache[key] = self._catalog.get_version(tenant_id, plan_id, version)
        return self._cache[key]

    def get_meter(self, tenant_id: str, meter_id: str):
        key = ("meter", tenant_id, meter_id)
        if key not in self._cache:
            self._cache[key] = self._catalog.get_meter(tenant_id, meter_id)
        return self._cache[key]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._catalog, name)


def for_bill_run(repos: BillingRepos) -> BillingRepos:
    """``repos`` with catalog reads cached: build it once per page of a bill run."""
    return replace(repos, catalog=CachedCatalogReads(repos.catalog))


class _Once:
    """Values read in bulk for a bill-run page, each served once: the first read of a subscription,
    customer, invoice or wallet comes from the page's batch reads; a second read (a retry after a lost
    race) goes to the repository, so it always sees the current item."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, ...], Any] = {}

    def put(self, key: tuple[str, ...], value: Any) -> None:
        self._values[key] = value

    def take(self, key: tuple[str, ...], read: Callable[[], Any]) -> Any:
        return self._values.pop(key) if key in self._values else read()


class _View:
    """A repository whose named reads are served from a ``_Once`` first; everything else goes through."""

    def __init__(self, inner: Any, once: _Once, reads: dict[str, Callable[..., tuple[str, ...]]]) -> None:
        self._inner, self._once, self._reads = inner, once, reads

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        key_of = self._reads.get(name)
        if key_of is None:
            return attr
        return lambda *args, **kwargs: self._once.take(key_of(*args, **kwargs), lambda: attr(*args, **kwargs))


class _PageSettings:
    """The tenant's billing settings, read once per page."""

    def __init__(self, inner: BillingSettingsRepository) -> None:
        self._inner, self._cache = inner, {}

    def get_settings(self, tenant_id: str) -> BillingSettings:
        if tenant_id not in self._cache:
            self._cache[tenant_id] = self._inner.get_settings(tenant_id)
        return self._cache[tenant_id]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def prefetch_page(
    repos: BillingRepos, tenant_id: str, subscriptions: list[Subscription], periods: Mapping[str, Period]
) -> BillingRepos:
    """``repos`` for billing one page: the subscriptions (already read), their customers, invoices and
    wallets read in a few BatchGetItem calls instead of one GetItem each; settings once per page. A
    brand-new invoice has no delivery record yet, so its email does not read one."""
    once = _Once()
    customer_ids = sorted({s.customer_id for s in subscriptions})
    invoice_ids = {
        s.subscription_id: invoice_id_for(tenant_id, s.subscription_id, periods[s.subscription_id].start)
        for s in subscriptions
    }
    wallet_ids = sorted({wallet_id_for(tenant_id, s.customer_id, s.currency) for s in subscriptions})
    prefetch = getattr(repos.invoices, "prefetch", None)
    if prefetch is None:
        return replace(repos, settings=_PageSettings(repos.settings))
    customers, invoices, wallets = prefetch(
        tenant_id, customer_ids=customer_ids, invoice_ids=list(invoice_ids.values()), wallet_ids=wallet_ids
    )
    for s in subscriptions:
        once.put(("sub", tenant_id, s.subscription_id), s)
    for c in customer_ids:
        once.put(("customer", tenant_id, c), customers.get(c))
    for i in invoice_ids.values():
        invoice = invoices.get(i)
        once.put(("invoice", tenant_id, i), invoice)
        if invoice is None or invoice.status not in ISSUED:  # never sent: no delivery record
            once.put(("delivery", tenant_id, i), None)
    for w in wallet_ids:
        once.put(("wallet", tenant_id, w), wallets.get(w))
    return replace(
        repos,
        subscriptions=_View(repos.subscriptions, once, {"get": lambda t, i: ("sub", t, i)}),
        customers=_View(repos.customers, once, {"get": lambda t, c: ("customer", t, c)}),
        invoices=_View(
            repos.invoices,
            once,
            {"get_invoice": lambda t, i: ("invoice", t, i), "get_delivery": lambda t, i: ("delivery", t, i)},
        ),
        wallets=_View(repos.wallets, once, {"find_wallet": lambda t, c, cur: ("wallet", t, wallet_id_for(t, c, cur))}),
        settings=_PageSettings(repos.settings),
    )


INVOICED, ALREADY_INVOICED, FAILED = "INVOICED", "ALREADY_INVOICED", "FAILED"


@dataclass(frozen=True)
class BillResult:
    """The outcome of billing one subscription for one period (what a bill run records)."""

    invoice_id: str
    status: str  # INVOICED | ALREADY_INVOICED | FAILED
    error_code: str | None = None
    detail: str = ""
    invoice: Invoice | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "invoice_id": self.invoice_id,
            "status": self.status,
            "error_code": self.error_code,
            "detail": self.detail,
        }


# -- the pipeline ----------------------------------------------------------------------------------------


@dataclass
class _Computed:
    invoice: Invoice
    subscription: Subscription
    customer: Customer
    charges_now: list[tuple[str, str, str]]
    charges_later: list[tuple[str, str, str]]
    credit_notes: list[tuple[CreditNote, int]]  # (after consumption, revision before)
    wallet: tuple[Wallet, int] | None  # (after the burn, revision before)
    warnings: list[str]
    settings: BillingSettings


def _fail(code: BillingErrorCode, detail: str) -> BillingFailure:
    return BillingFailure(code, detail)


def _version(repos: BillingRepos, tenant_id: str, ref: PlanRef) -> PlanVersion:
    version = repos.catalog.get_version(tenant_id, ref.plan_id, ref.version)
    if version is None:
        raise _fail(BillingErrorCode.PLAN_VERSION_NOT_FOUND, f"Plan {ref.plan_id} version {ref.version} was not found.")
    return version


def _read_usage(
    repos: BillingRepos, tenant_id: str, customer_id: str, meter, start: datetime, end: datetime
) -> UsageAggregate:
    try:
        return repos.usage.aggregate(tenant_id, customer_id, meter, start, end)
    except BillingFailure:
        raise
    except Exception as exc:  # the usage store's own errors (throttling, timeouts): the data is unavailable
        raise UsageDataUnavailable(
            f"Reading usage of meter {meter.meter_id} failed ({type(exc).__name__}: {str(exc)[:200]}); re-run the bill run."
        ) from exc


def _calculate_tax(repos: BillingRepos, settings: BillingSettings, request: TaxRequest) -> TaxResult:
    provider = repos.tax_provider(settings.tax_provider)
    if provider is None:
        raise TaxCalculationFailed(
            f"Tax provider {settings.tax_provider!r} is not available in this deployment; choose another in PUT /v1/settings/billing."
        )
    if settings.tax_provider == BUILTIN:
        return provider.calculate(request, settings.tax_timeout_seconds)
    timeout = settings.tax_timeout_seconds
    future = _TAX_POOL.submit(provider.calculate, request, timeout)
    try:
        return future.result(timeout=timeout)
    except FutureTimeout:
        future.cancel()
        raise TaxCalculationFailed(
            f"Tax provider {settings.tax_provider!r} did not answer within {timeout:g}s; retry the invoice "
            f"(POST /v1/invoices/{request.invoice_id}/retry)."
        ) from None
    except BillingFailure:
        raise
    except Exception as exc:
        raise TaxCalculationFailed(
            f"Tax provider {settings.tax_provider!r} failed ({type(exc).__name__}: {str(exc)[:200]}); retry the invoice "
            f"(POST /v1/invoices/{request.invoice_id}/retry)."
        ) from exc


def _is_billing_period(sub: Subscription, period: Period) -> bool:
    """One of the subscription's periods, or the last one cut short at the subscription's end."""
    if period.end <= period.start or period.start < sub.started_at:
        return False
    full = sub.period(period.start)
    if full.start != period.start:
        return False
    return full.end == period.end or (sub.ended_at is not None and period.end == sub.ended_at < full.end)


def _check_period(sub: Subscription, period: Period, now: datetime, *, preview: bool) -> None:
    if not _is_billing_period(sub, period):
        expected = sub.period(max(period.start, sub.started_at))
        raise _fail(
            BillingErrorCode.PERIOD_NOT_BILLABLE,
            f"{to_rfc3339(period.start)} to {to_rfc3339(period.end)} is not a billing period of subscription "
            f"{sub.subscription_id} (the period there is {to_rfc3339(expected.start)} to {to_rfc3339(expected.end)}).",
        )
    if not preview and period.end > now:
        raise _fail(
            BillingErrorCode.PERIOD_NOT_BILLABLE,
            f"The period ends at {to_rfc3339(period.end)}: it is billed once it has ended.",
        )
    if sub.ended_at is not None and period.start >= sub.ended_at:
        raise _fail(
            BillingErrorCode.PERIOD_NOT_BILLABLE,
            f"Subscription {sub.subscription_id} ended at {to_rfc3339(sub.ended_at)}, before this period.",
        )


def _compute(
    repos: BillingRepos,
    tenant_id: str,
    subscription_id: str,
    period: Period,
    existing: Invoice | None,
    *,
    preview: bool = False,
) -> _Computed:
    now = repos.clock()
    sub = repos.subscriptions.get(tenant_id, subscription_id)
    if sub is None:
        raise _fail(BillingErrorCode.SUBSCRIPTION_NOT_FOUND, f"Subscription {subscription_id} was not found.")
    _check_period(sub, period, now, preview=preview)
    customer = repos.customers.get(tenant_id, sub.customer_id)
    if customer is None:
        raise _fail(
            BillingErrorCode.CUSTOMER_NOT_FOUND,
            f"Customer {sub.customer_id} of subscription {subscription_id} was not found.",
        )
    invoice_id = invoice_id_for(tenant_id, subscription_id, period.start)
    currency = sub.currency

    # Which plan versions: the period's (usage, arrears fees) and the next period's (advance fees).
    history = repos.subscriptions.history(tenant_id, subscription_id) if history_needed(sub) else []
    during_ref, next_ref = plans_for_period(sub, history, period.end)
    version = _version(repos, tenant_id, during_ref)
    next_period = sub.period(period.end)
    ends = ends_with_period(sub, history, period, next_period)
    next_version = None if ends else (version if next_ref == during_ref else _version(repos, tenant_id, next_ref))

    # 1. usage, one line per usage price.
    usage: list[InvoiceLine] = []
    for usage_price in version.content.usage_prices:
        meter = repos.catalog.get_meter(tenant_id, usage_price.meter_id)
        if meter is None:
            raise _fail(
                BillingErrorCode.METER_NOT_FOUND,
                f"Meter {usage_price.meter_id} of plan {version.plan_id} v{version.version} was not found.",
            )
        start, end = usage_window(
            meter, sub.started_at, period.start, min(period.end, now) if preview else period.end, sub.ended_at
        )
        usage.append(
            usage_line(
                usage_price, meter, _read_usage(repos, tenant_id, sub.customer_id, meter, start, end), start, end
            )
        )

    # 2. fees, prorations, minimum commitment.
    first_period = period.start <= sub.started_at
    fees = fee_lines(
        version=version,
        period=period,
        next_version=next_version,
        next_period=None if ends else next_period,
        first_period=first_period,
        trial_end=sub.trial_end,
    )
    charges_now, charges_later = due_charges(sub.pending_charges, period.end)
    prorations = charge_lines(charges_now, currency)
    counted = sum((ln.amount for ln in usage), ZERO) + fees_covering(version, period, sub.trial_end)
    minimum = minimum_commitment_line(version.content.minimum_commitment, counted, currency, period)
    lines: list[InvoiceLine] = [*fees, *usage, *prorations, *([minimum] if minimum else [])]

    # 3. the subscription's discount, then credit notes, up to what is left of the subtotal.
    if (
        sub.discount is not None
        and (line := discount_line(sub.discount, totals_of(lines).subtotal, currency)) is not None
    ):
        lines.append(line)
    notes = repos.credit_notes.available_credit_notes(tenant_id, customer.customer_id, currency)
    before = {n.credit_note_id: n.revision for n in notes}
    credit_lines, consumed = apply_credit_notes(notes, invoice_id, max(totals_of(lines).total, ZERO))
    lines += credit_lines

    # 4. tax on what is left.
    taxable = max(totals_of(lines).total, ZERO)
    settings = repos.settings.get_settings(tenant_id)
    if settings.tax_mode is not TaxMode.NONE or settings.tax_provider != BUILTIN:
        request = TaxRequest(
            tenant_id=tenant_id,
            invoice_id=invoice_id,
            customer_id=customer.customer_id,
            customer_metadata=dict(customer.metadata),
            currency=currency,
            mode=settings.tax_mode,
            rates=settings.tax_rates,
            taxable_amount=taxable,
            lines=tuple(lines),
        )
        lines += tax_lines(_calculate_tax(repos, settings, request), taxable)

    # 5. the prepaid wallet.
    warnings: list[str] = []
    wallet = repos.wallets.find_wallet(tenant_id, customer.customer_id, currency)
    prepaid = is_prepaid(customer)
    total = totals_of(lines).total
    if preview and prepaid and total > (wallet.balance if wallet else ZERO):
        warnings.append(
            f"{BillingErrorCode.WALLET_INSUFFICIENT_FUNDS.value}: the prepaid wallet cannot cover {plain(total)} {currency} yet."
        )
        prepaid = False
    wallet_line, burnt = apply_wallet(wallet, total, prepaid=prepaid, invoice_id=invoice_id, at=now)
    if wallet_line:
        lines.append(wallet_line)

    totals = totals_of(lines)
    attr = attribution(lines, totals)
    attr["period"] = {"start": to_rfc3339(period.start), "end": to_rfc3339(period.end)}
    attr["plan"] = {"plan_id": version.plan_id, "version": version.version}
    if next_version is not None and next_version is not version:
        attr["next_period_plan"] = {"plan_id": next_version.plan_id, "version": next_version.version}
    if warnings:
        attr["warnings"] = warnings
    invoice = Invoice(
        invoice_id=invoice_id,
        tenant_id=tenant_id,
        customer_id=customer.customer_id,
        subscription_id=subscription_id,
        currency=currency,
        period_start=period.start,
        period_end=period.end,
        status=existing.status if existing else InvoiceStatus.DRAFT,
        created_at=existing.created_at if existing else now,
        updated_at=now,
        plan_id=version.plan_id,
        plan_version=version.version,
        lines=tuple(lines),
        totals=totals,
        attribution=attr,
        attempts=(existing.attempts if existing else 0) + 1,
        consumed_charges=tuple(charges_now),
        revision=existing.revision if existing else 0,
    )
    return _Computed(
        invoice=invoice,
        subscription=sub,
        customer=customer,
        charges_now=charges_now,
        charges_later=charges_later,
        credit_notes=[(n, before[n.credit_note_id]) for n in consumed],
        wallet=(burnt, wallet.revision) if burnt is not None and wallet is not None else None,
        warnings=warnings,
        settings=settings,
    )


def _invoice_event(type_: str, invoice: Invoice, *parts: str, **extra: Any) -> DomainEvent:
    data = {
        "invoice_id": invoice.invoice_id,
        "customer_id": invoice.customer_id,
        "subscription_id": invoice.subscription_id,
        "status": invoice.status.value,
        "currency": invoice.currency,
        "period_start": to_rfc3339(invoice.period_start),
        "period_end": to_rfc3339(invoice.period_end),
        "total": plain(invoice.totals.total),
        "amount_due": plain(invoice.amount_due),
        **extra,
    }
    return DomainEvent(type_, invoice.tenant_id, utcnow(), data).with_id(invoice.invoice_id, type_, *parts)


def _finalizing_write(repos: BillingRepos, c: _Computed, existing: Invoice | None, finalize: bool) -> BillingWrite:
    now = repos.clock()
    draft = c.invoice
    if not finalize:
        # A draft consumes nothing: charges, credit and wallet are taken when it is finalized.
        saved = draft.moved(InvoiceAction.SAVE_DRAFT, now) if existing else replace(draft, revision=1)
        return BillingWrite(invoice=saved, invoice_expected_revision=existing.revision if existing else None)
    base = draft if existing else replace(draft, status=InvoiceStatus.DRAFT)
    invoice = base.moved(
        InvoiceAction.FINALIZE,
        now,
        finalized_at=now,
        due_at=now + timedelta(days=c.settings.payment_terms_days),
    )
    events = [_invoice_event("invoice.finalized", invoice, "finalized")]
    if invoice.amount_due == 0:
        invoice = replace(invoice.moved(InvoiceAction.PAY, now, paid_at=now), revision=invoice.revision)
        events.append(_invoice_event("invoice.paid", invoice, "paid", paid_by="wallet_or_credit"))
    # The subscription's side, in the same transaction: the charges consumed, billed through the period end.
    sub = c.subscription
    billed = max(sub.billed_through or draft.period_end, draft.period_end)
    following = replace(sub, billed_through=billed).next_bill_period()
    used = any(ln.kind is LineKind.DISCOUNT for ln in invoice.lines) and sub.discount is not None
    after_discount = sub.discount.used_once() if used and sub.discount else None
    charges = ChargeConsumption(
        draft.tenant_id,
        draft.subscription_id,
        sub.version,
        tuple(c.charges_later),
        billed_through=billed,
        next_period_end=following.end if following else None,
        discount_used=used,
        discount_after=after_discount.to_json() if after_discount else None,
    )
    return BillingWrite(
        invoice=invoice,
        invoice_expected_revision=existing.revision if existing else None,
        credit_notes=[(note, revision) for note, revision in c.credit_notes],
        wallet=c.wallet,
        charges=charges,
        events=events,
    )


# Failures worth a FAILED record (retrying can succeed); an unknown subscription or a period that is not
# one of the subscription's (or has not ended) has nothing to retry.
_NOT_RECORDED = frozenset({BillingErrorCode.SUBSCRIPTION_NOT_FOUND, BillingErrorCode.PERIOD_NOT_BILLABLE})


def _record_failure(
    repos: BillingRepos, tenant_id: str, subscription_id: str, period: Period, failure: BillingFailure
) -> None:
    """Best effort: a FAILED record under the invoice's id (nothing else), so it can be retried by id."""
    if failure.error_code in _NOT_RECORDED:
        return
    sub = repos.subscriptions.get(tenant_id, subscription_id)
    if sub is None:
        return  # nothing to retry: the bill run's result says why
    now = repos.clock()
    invoice_id = invoice_id_for(tenant_id, subscription_id, period.start)
    existing = repos.invoices.get_invoice(tenant_id, invoice_id)
    if existing is not None and existing.status in ISSUED:
        return
    fields = {"error_code": failure.error_code.value, "error_detail": failure.detail}
    if existing is None:
        failed = Invoice(
            invoice_id=invoice_id,
            tenant_id=tenant_id,
            customer_id=sub.customer_id,
            subscription_id=subscription_id,
            currency=sub.currency,
            period_start=period.start,
            period_end=period.end,
            status=InvoiceStatus.FAILED,
            created_at=now,
            updated_at=now,
            plan_id=sub.plan.plan_id,
            plan_version=sub.plan.version,
            attempts=1,
            revision=1,
            **fields,
        )
    else:
        failed = existing.moved(
            InvoiceAction.FAIL,
            now,
            lines=(),
            totals=totals_of([]),
            attribution={},
            consumed_charges=(),
            attempts=existing.attempts + 1,
            **fields,
        )
    event = _invoice_event(
        "invoice.failed", failed, str(failed.attempts), error_code=failure.error_code.value, detail=failure.detail
    )
    try:
        repos.invoices.commit(
            BillingWrite(
                invoice=failed, invoice_expected_revision=existing.revision if existing else None, events=[event]
            )
        )
    except Conflict:
        pass  # someone else wrote it meanwhile; the failure is still answered to the caller


def bill_subscription(
    repos: BillingRepos,
    tenant_id: str,
    subscription_id: str,
    period_start: datetime,
    period_end: datetime,
    *,
    finalize: bool = True,
    send: bool = True,
) -> BillResult:
    """Bill ``subscription_id`` for the period [period_start, period_end) (one of its billing periods,
    already ended). See the module docstring for idempotency and failures. ``finalize=False`` leaves a
    DRAFT (recomputed by the next call) that consumes nothing; ``send=False`` skips the email."""
    period = Period(period_start, period_end)
    invoice_id = invoice_id_for(tenant_id, subscription_id, period_start)
    for _ in range(ATTEMPTS):
        existing = repos.invoices.get_invoice(tenant_id, invoice_id)
        if existing is not None and existing.status in ISSUED:
            return BillResult(
                invoice_id,
                ALREADY_INVOICED,
                detail=f"Invoice {invoice_id} is {existing.status.value}.",
                invoice=existing,
            )
        try:
            computed = _compute(repos, tenant_id, subscription_id, period, existing)
            write = _finalizing_write(repos, computed, existing, finalize)
            repos.invoices.commit(write)
        except BillingFailure as failure:
            _record_failure(repos, tenant_id, subscription_id, period, failure)
            return BillResult(invoice_id, FAILED, failure.error_code.value, failure.detail)
        except Conflict:
            continue  # lost a race (the invoice, the subscription, a wallet or a credit note changed): recompute
        invoice = write.invoice
        assert invoice is not None
        if finalize and send:
            try:
                _send(repos, invoice, computed.customer, computed.settings)
            except Exception:
                _log.exception("sending invoice %s failed", invoice_id)
        return BillResult(
            invoice_id, INVOICED, detail=f"Invoice {invoice_id} is {invoice.status.value}.", invoice=invoice
        )
    existing = repos.invoices.get_invoice(tenant_id, invoice_id)
    if existing is not None and existing.status in ISSUED:
        return BillResult(
            invoice_id, ALREADY_INVOICED, detail=f"Invoice {invoice_id} is {existing.status.value}.", invoice=existing
        )
    detail = f"Subscription {subscription_id} (or its wallet or credit notes) kept changing while it was billed; retry."
    return BillResult(invoice_id, FAILED, BillingErrorCode.CONCURRENT_UPDATE.value, detail)


def preview_invoice(repos: BillingRepos, tenant_id: str, subscription_id: str, at: datetime | None = None) -> Invoice:
    """The invoice the period containing ``at`` (default: now) would get if it ended now: the same
    pipeline, usage up to now, nothing written (``GET /v1/subscriptions/{id}/upcoming-invoice``).

    Raises NotFound for an unknown subscription, Conflict for one that has ended, and the pipeline's
    ``BillingFailure`` (e.g. USAGE_DATA_UNAVAILABLE, TAX_CALCULATION_FAILED) as a problem. A prepaid
    wallet that cannot cover the total is a warning in ``attribution.warnings``, not an error."""
    sub = repos.subscriptions.get(tenant_id, subscription_id)
    if sub is None:
        raise NotFound(
            f"Subscription not found: {subscription_id}. Check the id, and that X-Tenant-Id is the tenant that owns it."
        )
    if not sub.live:
        raise Conflict(
            f"Subscription {subscription_id} is {sub.status.value}: it has no upcoming invoice.",
            code="SUBSCRIPTION_TERMINAL",
        )
    period = sub.period(at or repos.clock())
    existing = repos.invoices.get_invoice(tenant_id, invoice_id_for(tenant_id, subscription_id, period.start))
    if existing is not None and existing.status in ISSUED:
        return existing
    return _compute(repos, tenant_id, subscription_id, period, None, preview=True).invoice


def retry_invoice(repos: BillingRepos, tenant_id: str, invoice_id: str) -> BillResult:
    """Reprocess one FAILED (or DRAFT) invoice: bill its subscription for its period again, finalizing
    it. NotFound for an unknown id; Conflict naming the state for an invoice already issued."""
    invoice = get_invoice(repos, tenant_id, invoice_id)
    if invoice.status in ISSUED:
        raise Conflict(
            f"Invoice {invoice_id} is {invoice.status.value}: only a FAILED or DRAFT invoice can be retried.",
            code="INVOICE_NOT_RETRYABLE",
            state=invoice.status.value,
        )
    return bill_subscription(repos, tenant_id, invoice.subscription_id, invoice.period_start, invoice.period_end)


def get_invoice(repos: BillingRepos, tenant_id: str, invoice_id: str, *, customer_id: str | None = None) -> Invoice:
    """The invoice; with ``customer_id`` (a customer key), only if it is that customer's."""
    invoice = repos.invoices.get_invoice(tenant_id, invoice_id)
    if invoice is None or (customer_id is not None and invoice.customer_id != customer_id):
        raise NotFound(
            f"Invoice not found: {invoice_id}. Check the id, and that X-Tenant-Id is the tenant that owns it."
        )
    return invoice


# -- email ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    sent: bool
    delivery: InvoiceDelivery
    reason_code: str | None = None
    reason: str | None = None


def send_invoice(repos: BillingRepos, tenant_id: str, invoice_id: str) -> SendResult:
    """Email a finalized invoice from the tenant's sender to the customer. Every attempt is recorded
    (``invoice.sent`` or ``invoice.send_failed`` with the reason) in the event log; a failure is
    answered, not raised (``raise_for_failure`` turns it into a problem for the API)."""
    invoice = get_invoice(repos, tenant_id, invoice_id)
    if invoice.status not in SENDABLE:
        raise Conflict(
            f"Invoice {invoice_id} is {invoice.status.value}: only finalized invoices are sent.",
            code="INVOICE_NOT_SENDABLE",
            state=invoice.status.value,
        )
    return _send(
        repos, invoice, repos.customers.get(tenant_id, invoice.customer_id), repos.settings.get_settings(tenant_id)
    )


def _send(repos: BillingRepos, invoice: Invoice, customer: Customer | None, settings: BillingSettings) -> SendResult:
    tenant_id, invoice_id = invoice.tenant_id, invoice.invoice_id
    now = repos.clock()
    previous = repos.invoices.get_delivery(tenant_id, invoice_id)
    attempt = (previous.attempts if previous else 0) + 1
    to = customer.email if customer else None
    code: SendFailure | None = None
    reason = message_id = None
    if not to:
        code = SendFailure.CUSTOMER_EMAIL_MISSING
        reason = (
            f"Customer {invoice.customer_id} has no email address: set it (PATCH /v1/customers/{invoice.customer_id} "
            f'{{"email": ...}}) and resend (POST /v1/invoices/{invoice_id}/send).'
        )
    elif not settings.sender_email:
        code = SendFailure.SENDER_NOT_CONFIGURED
        reason = (
            "No invoice sender is configured for this tenant: set sender_email in the billing settings "
            f"(PUT /v1/settings/billing) and resend (POST /v1/invoices/{invoice_id}/send)."
        )
    else:
        subject, text = invoice_email(invoice, customer.name if customer else "", settings.sender_name)
        try:
            message_id = repos.mailer.send(sender=settings.sender_email, to=to, subject=subject, text=text)
        except MailRejected as exc:
            code = SendFailure.EMAIL_REJECTED
            reason = (
                f"The email provider rejected the invoice email from {settings.sender_email} to {to}: {exc}. "
                f"Check that the sender is verified, then resend (POST /v1/invoices/{invoice_id}/send)."
            )
    delivery = InvoiceDelivery(
        tenant_id=tenant_id,
        invoice_id=invoice_id,
        status="FAILED" if code else "SENT",
        attempts=attempt,
        last_attempt_at=now,
        to=to,
        sender=settings.sender_email,
        message_id=message_id,
        reason_code=code.value if code else None,
        reason=reason,
        sent_at=now if not code else (previous.sent_at if previous else None),
    )
    if code:
        event = _invoice_event(
            "invoice.send_failed", invoice, str(attempt), reason_code=code.value, reason=reason, to=to
        )
    else:
        event = _invoice_event("invoice.sent", invoice, str(attempt), to=to, message_id=message_id)
    repos.invoices.save_delivery(delivery, [event])
    return SendResult(not code, delivery, code.value if code else None, reason)


def raise_for_failure(result: SendResult) -> SendResult:
    """The API's answer to a failed send: 409 with the reason code (502 when the provider refused)."""
    if result.sent:
        return result
    error = InvoiceNotSent(result.reason or "The invoice email was not sent.", code=result.reason_code)
    if result.reason_code == SendFailure.EMAIL_REJECTED.value:
        error.status = 502
    raise error
