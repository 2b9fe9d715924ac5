"""Payments and dunning: charge finalized invoices, retry what fails, move subscriptions between ACTIVE
and PAST_DUE (seed 000 "Subscription stuck in PAST_DUE"), Stripe webhooks (seed 002).

The rules (schedule, final state, grace period, what a provider error is) are in
``tollgate.domain.payments``; this module reads, calls the provider and writes. Every write of a
payment attempt changes the invoice (attempt recorded, PAID or UNCOLLECTIBLE), the subscription
(PAST_DUE / ACTIVE / CANCELLED, attempt count, overdue since) and the outbox events in one
transaction, conditional on the revisions it read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from tollgate.domain.billing.invoices import Invoice, InvoiceAction, InvoiceStatus
from tollgate.domain.catalog.plans import GRACE_PERIOD_KEY
from tollgate.domain.clock import to_rfc3339, utcnow
from tollgate.domain.customers import Customer
from tollgate.domain.errors import BadRequest, Conflict, InvalidInput, NotFound, ServiceUnavailable
from tollgate.domain.events import DomainEvent
from tollgate.domain.money import plain
from tollgate.domain.payments import (
    FinalStatus,
    NextAttempt,
    PaymentAttempt,
    PaymentOutcome,
    PaymentSettings,
    PaymentStatus,
    attempts_made,
    grace_period_days,
    next_attempt,
    parse_payment_settings,
    payment_status,
)
from tollgate.domain.subscriptions import Action, Subscription, SubscriptionStatus, Transition
from tollgate.ports.billing import InvoiceRepository
from tollgate.ports.catalog import CatalogRepository
from tollgate.ports.customers import CustomerRepository, SubscriptionRepository
from tollgate.ports.payments import (
    ChargeRequest,
    ChargeResult,
    CheckoutRequest,
    CheckoutSession,
    DunningStarter,
    DuplicateWebhook,
    PaymentRepository,
    PaymentWrite,
    ProviderFactory,
    SubscriptionSave,
)

ATTEMPTS = 3  # a lost race is re-read and retried this many times


class TransientError(Exception):
    """A lost race the dunning state machine retries (its Retry names this error)."""


KEY_REVOKED_REASON = "subscription cancelled: payment failed after the last dunning attempt"


class WebhookVerifier(Protocol):
    def __call__(self, payload: str, signature: str | None, secret: str) -> dict[str, Any]:
        """The verified event (JSON), or ``BadRequest`` for a bad signature (stripe's own check)."""
        ...


@dataclass(frozen=True)
class PaymentRepos:
    invoices: InvoiceRepository
    subscriptions: SubscriptionRepository
    customers: CustomerRepository
    catalog: CatalogRepository
    payments: PaymentRepository
    providers: ProviderFactory
    dunning: DunningStarter
    verify_webhook: WebhookVerifier
    clock: Callable[[], datetime] = utcnow


# -- settings ---------------------------------------------------------------------------------------------


def get_payment_settings(repos: PaymentRepos, tenant_id: str) -> PaymentSettings:
    return repos.payments.get_payment_settings(tenant_id)


def put_payment_settings(repos: PaymentRepos, tenant_id: str, data: dict[str, Any]) -> PaymentSettings:
    current = repos.payments.get_payment_settings(tenant_id)
    settings = parse_payment_settings(tenant_id, data, current=current, at=repos.clock())
    event = DomainEvent(
        "payment_settings.updated",
        tenant_id,
        settings.updated_at or repos.clock(),
        {"provider": settings.provider, "livemode": settings.livemode, "max_attempts": settings.max_attempts},
    ).with_id("payment_settings", str(settings.revision))
    repos.payments.save_payment_settings(settings, current.revision, [event])
    return settings


# -- payment methods --------------------------------------------------------------------------------------


def set_payment_method(repos: PaymentRepos, tenant_id: str, customer_id: str, data: dict[str, Any]) -> Customer:
    """Save the customer's default payment method (seed 000: "If payment method is outdated, direct the
    customer to update it in the portal"). The next dunning attempt, or a retry-payment, uses it."""
    method = data.get("payment_method")
    if not isinstance(method, str) or not method.startswith("pm_") or len(method) > 255:
        raise InvalidInput("payment_method must be a payment method id such as pm_card_visa", field="payment_method")
    customer = repos.customers.get(tenant_id, customer_id)
    if customer is None:
        raise NotFound(f"Customer not found: {customer_id}.")
    provider_customer = data.get("provider_customer_id", customer.provider_customer_id)
    after = replace(customer, payment_method=method, provider_customer_id=provider_customer)
    event = DomainEvent(
        "customer.payment_method_updated",
        tenant_id,
        repos.clock(),
        {"customer_id": customer_id, "payment_method": method},
    ).with_id(customer_id, "payment_method", method, to_rfc3339(repos.clock()))
    repos.customers.update(customer, after, [event])
    # Invoices that waited for a payment method (never attempted) are collected now.
    for invoice in repos.invoices.list_invoices(tenant_id, customer_id=customer_id, status=InvoiceStatus.FINALIZED):
        if invoice.amount_due > 0 and attempts_made(invoice.payment_attempts) == 0:
            repos.dunning.start(tenant_id, invoice.invoice_id, "m1")
    return after


# -- one attempt ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptOutcome:
    invoice: Invoice
    subscription: Subscription | None
    attempt: PaymentAttempt | None  # None: nothing was attempted (see ``note``)
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "invoice_id": self.invoice.invoice_id,
            "invoice_status": self.invoice.status.value,
            "amount_due": plain(self.invoice.amount_due),
            "attempt": self.attempt.to_json() if self.attempt else None,
            "payment_attempt_count": attempts_made(self.invoice.payment_attempts),
            "subscription_status": self.subscription.status.value if self.subscription else None,
            "note": self.note,
        }


def _invoice_event(type_: str, invoice: Invoice, attempt: PaymentAttempt | None, **extra: Any) -> DomainEvent:
    """The billing pipeline's invoice event, with the payment attempt; its id is derived from the attempt."""
    from tollgate.usecases.billing import _invoice_event as invoice_event

    number, at = (str(attempt.number), to_rfc3339(attempt.at)) if attempt else ("0", "")
    payment = {
        "payment_attempt_count": attempts_made(invoice.payment_attempts),
        **({"attempt": attempt.to_json()} if attempt else {}),
    }
    return invoice_event(type_, invoice, number, at, **payment, **extra)


def _sub_event(type_: str, sub: Subscription, **data: Any) -> DomainEvent:
    from tollgate.usecases.subscriptions import _event

    return _event(type_, sub, dunning_attempts=sub.dunning_attempts, **data)


def _exhausted(
    invoice: Invoice, sub: Subscription | None, settings: PaymentSettings, now: datetime, attempt: PaymentAttempt | None
) -> tuple[Invoice, Subscription | None, list[Transition], list[DomainEvent], str | None]:
    """After the last failed attempt: the invoice is UNCOLLECTIBLE; the subscription CANCELLED (keys
    revoked) or left PAST_DUE, per ``final_subscription_status``."""
    final = replace(
        invoice.moved(InvoiceAction.MARK_UNCOLLECTIBLE, now, uncollectible_at=now), revision=invoice.revision
    )
    events = [_invoice_event("invoice.marked_uncollectible", final, attempt, reason="dunning_exhausted")]
    history: list[Transition] = []
    if sub is None or not sub.live or settings.final_subscription_status is not FinalStatus.CANCELLED:
        return final, sub, history, events, None
    cancelled = sub.moved(Action.CANCEL, cancelled_at=now, ended_at=now, cancel_at_period_end=False, pending_plan=None)
    detail = {"invoice_id": invoice.invoice_id, "reason": "dunning_exhausted"}
    history.append(Transition(now, Action.CANCEL.value, sub.status, cancelled.status, detail))
    events.append(
        _sub_event("subscription.cancelled", cancelled, reason="dunning_exhausted", invoice_id=invoice.invoice_id)
    )
    return final, cancelled, history, events, KEY_REVOKED_REASON


def settle(
    invoice: Invoice,
    sub: Subscription | None,
    attempt: PaymentAttempt,
    settings: PaymentSettings,
    *,
    payment_id: str = "",
    other_overdue: bool = False,
) -> tuple[Invoice, SubscriptionSave | None, list[DomainEvent]]:
    """The invoice, subscription and events after ``attempt`` (see ``tollgate.domain.payments``).
    ``other_overdue``: another invoice of the subscription is still overdue (a success then leaves the
    subscription PAST_DUE)."""
    now = attempt.at
    attempts = (*invoice.payment_attempts, attempt)
    recorded = replace(
        invoice,
        payment_attempts=attempts,
        payment_id=payment_id or invoice.payment_id,
        updated_at=now,
        revision=invoice.revision + 1,
    )
    events: list[DomainEvent] = []
    sub_after: Subscription | None = None
    history: list[Transition] = []
    revoke = None
    detail = {"invoice_id": invoice.invoice_id, "attempt": attempt.number}
    owed = invoice.status in (InvoiceStatus.FINALIZED, InvoiceStatus.UNCOLLECTIBLE)
    if not owed:
        # Settled meanwhile (paid elsewhere, voided): the attempt is recorded; a success here is money to give back.
        final = recorded
        if attempt.outcome is PaymentOutcome.SUCCEEDED:
            events.append(
                _invoice_event("invoice.payment_after_settlement", final, attempt, refund_due=plain(attempt.amount))
            )
    elif attempt.outcome is PaymentOutcome.SUCCEEDED:
        final = replace(
            recorded.moved(
                InvoiceAction.PAY,
                now,
                paid_at=now,
                totals=replace(invoice.totals, paid=invoice.totals.paid + invoice.amount_due),
            ),
            revision=recorded.revision,
        )
        events.append(_invoice_event("invoice.paid", final, attempt, paid_by="payment"))
        overdue = sub is not None and (sub.status is SubscriptionStatus.PAST_DUE or sub.payment_overdue_since)
        if sub is not None and sub.live and overdue and not other_overdue:
            sub_after = replace(
                sub.moved(Action.PAYMENT_SUCCEEDED),
                dunning_attempts=0,
                payment_overdue_since=None,
                version=sub.version + 1,
            )
            history.append(Transition(now, Action.PAYMENT_SUCCEEDED.value, sub.status, sub_after.status, detail))
            events.append(_sub_event("subscription.reactivated", sub_after, invoice_id=invoice.invoice_id))
    elif attempt.outcome is PaymentOutcome.DECLINED:
        made = attempts_made(attempts)
        last = made >= settings.max_attempts and invoice.status is InvoiceStatus.FINALIZED
        final = recorded
        events.append(_invoice_event("invoice.payment_failed", final, attempt, final_attempt=last))
        if sub is not None and sub.live and sub.status is not SubscriptionStatus.TRIALING:
            moved = sub.moved(Action.PAYMENT_FAILED)
            sub_after = replace(moved, dunning_attempts=made, payment_overdue_since=sub.payment_overdue_since or now)
            history.append(Transition(now, Action.PAYMENT_FAILED.value, sub.status, sub_after.status, detail))
            if sub.status is not SubscriptionStatus.PAST_DUE:
                events.append(_sub_event("subscription.past_due", sub_after, invoice_id=invoice.invoice_id))
        if last:
            final, after, more_history, more_events, revoke = _exhausted(
                final, sub_after or sub, settings, now, attempt
            )
            sub_after = after if after is not sub else sub_after
            history += more_history
            events += more_events
        if sub_after is not None and sub is not None:
            sub_after = replace(sub_after, version=sub.version + 1)
    else:  # provider error: recorded, not an attempt
        final = recorded
        events.append(_invoice_event("invoice.payment_error", final, attempt))
    save = (
        SubscriptionSave(sub_after, sub.version, history, revoke) if sub_after is not None and sub is not None else None
    )
    return final, save, events


def _overdue_invoices(
    invoices: InvoiceRepository, tenant_id: str, customer_id: str, subscription_id: str
) -> list[Invoice]:
    """The subscription's invoices still unpaid after a failed attempt."""
    return [
        i
        for i in invoices.list_invoices(tenant_id, customer_id=customer_id, subscription_id=subscription_id)
        if i.status in (InvoiceStatus.FINALIZED, InvoiceStatus.UNCOLLECTIBLE)
        and i.amount_due > 0
        and any(a.outcome is PaymentOutcome.DECLINED for a in i.payment_attempts)
    ]


def _other_overdue(repos: PaymentRepos, invoice: Invoice) -> bool:
    """Whether another invoice of the subscription is unpaid after a failed attempt."""
    overdue = _overdue_invoices(repos.invoices, invoice.tenant_id, invoice.customer_id, invoice.subscription_id)
    return any(i.invoice_id != invoice.invoice_id for i in overdue)


def _charge(
    repos: PaymentRepos, invoice: Invoice, attempt_no: int, trigger: str, settings: PaymentSettings, now: datetime
) -> tuple[PaymentAttempt, str]:
    """Make attempt ``attempt_no`` with the provider (or settle a zero amount / refuse a missing method)."""
    if invoice.amount_due <= 0:
        return PaymentAttempt(
            attempt_no, now, PaymentOutcome.SUCCEEDED, invoice.amount_due, trigger, message="nothing due"
        ), ""
    customer = repos.customers.get(invoice.tenant_id, invoice.customer_id)
    method = customer.payment_method if customer else None
    if not method:
        if trigger == "manual":
            raise Conflict(
                f"Customer {invoice.customer_id} has no payment method on file: have them add one in the portal "
                f"(PUT /v1/portal/payment-method) or set it (PUT /v1/customers/{invoice.customer_id}/payment-method), then retry.",
                code="PAYMENT_METHOD_MISSING",
            )
        return PaymentAttempt(
            attempt_no,
            now,
            PaymentOutcome.DECLINED,
            invoice.amount_due,
            trigger,
            decline_code="payment_method_missing",
            message="The customer has no payment method on file.",
        ), ""
    request = ChargeRequest(
        tenant_id=invoice.tenant_id,
        invoice_id=invoice.invoice_id,
        attempt=attempt_no,
        amount=invoice.amount_due,
        currency=invoice.currency,
        customer_id=invoice.customer_id,
        payment_method=method,
        provider_customer_id=customer.provider_customer_id if customer else None,
        payment_id=invoice.payment_id,
        customer_email=customer.email if customer else None,
        description=f"Invoice {invoice.invoice_id} ({to_rfc3339(invoice.period_start)[:10]} - {to_rfc3339(invoice.period_end)[:10]})",
    )
    try:
        result = repos.providers(settings).charge(request)
    except Exception as exc:
        result = ChargeResult(PaymentOutcome.ERROR, message=f"{type(exc).__name__}: {exc}")
    if customer and result.provider_customer_id and result.provider_customer_id != customer.provider_customer_id:
        repos.customers.set_provider_customer_id(invoice.tenant_id, invoice.customer_id, result.provider_customer_id)
    attempt = PaymentAttempt(
        attempt_no,
        now,
        result.outcome,
        invoice.amount_due,
        trigger,
        payment_id=result.payment_id,
        payment_method=method,
        decline_code=result.decline_code,
        message=result.message,
    )
    return attempt, result.payment_id


def attempt_payment(
    repos: PaymentRepos, tenant_id: str, invoice_id: str, *, trigger: str, number: int | None = None
) -> AttemptOutcome:
    """Make attempt ``number`` (default: the next one) on the invoice now.

    The attempt number is fixed at the first read, and the provider is called at most once per call:
    after a lost race the same result is written against the invoice as it is now (recorded even if the
    invoice was settled meanwhile, as money to give back), and an attempt someone else recorded under the
    same number is returned as is. The provider's idempotency key (``<invoice>:<number>``) covers a retried
    Lambda."""
    charged: tuple[PaymentAttempt, str] | None = None
    for _ in range(ATTEMPTS):
        invoice = repos.invoices.get_invoice(tenant_id, invoice_id)
        if invoice is None:
            raise NotFound(f"Invoice not found: {invoice_id}.")
        sub = repos.subscriptions.get(tenant_id, invoice.subscription_id)
        made = attempts_made(invoice.payment_attempts)
        if number is None:
            number = made + 1
        if made >= number:
            done = next(
                (a for a in invoice.payment_attempts if a.number == number and a.outcome is not PaymentOutcome.ERROR),
                None,
            )
            return AttemptOutcome(invoice, sub, done, "already attempted")
        if charged is None and invoice.status not in (InvoiceStatus.FINALIZED, InvoiceStatus.UNCOLLECTIBLE):
            return AttemptOutcome(invoice, sub, None, f"the invoice is {invoice.status.value}: nothing to collect")
        settings = repos.payments.get_payment_settings(tenant_id)
        if charged is None:
            charged = _charge(repos, invoice, number, trigger, settings, repos.clock())
        attempt, payment_id = charged
        other = (
            attempt.outcome is PaymentOutcome.SUCCEEDED
            and sub is not None
            and sub.status is SubscriptionStatus.PAST_DUE
            and _other_overdue(repos, invoice)
        )
        final, save, events = settle(invoice, sub, attempt, settings, payment_id=payment_id, other_overdue=other)
        try:
            repos.payments.commit_payment(PaymentWrite(final, invoice.revision, save, events))
        except Conflict:
            continue
        return AttemptOutcome(final, save.subscription if save else sub, attempt)
    raise Conflict(f"Invoice {invoice_id} kept changing; retry.", code="CONCURRENT_UPDATE")


def reconcile_subscription(
    invoices: InvoiceRepository, subscriptions: SubscriptionRepository, tenant_id: str, subscription_id: str
) -> None:
    """After an invoice is settled outside a payment (mark-paid, void, a credit note): a PAST_DUE
    subscription with no other overdue invoice is ACTIVE again (best effort; a lost race is left to the
    next payment event)."""
    sub = subscriptions.get(tenant_id, subscription_id)
    if sub is None or not sub.live or not (sub.status is SubscriptionStatus.PAST_DUE or sub.payment_overdue_since):
        return
    if _overdue_invoices(invoices, tenant_id, sub.customer_id, subscription_id):
        return
    after = replace(
        sub.moved(Action.PAYMENT_SUCCEEDED), dunning_attempts=0, payment_overdue_since=None, version=sub.version + 1
    )
    now = utcnow()
    try:
        subscriptions.save(
            after,
            expected_version=sub.version,
            events=[_sub_event("subscription.reactivated", after, reason="invoice_settled")],
            history=[
                Transition(now, Action.PAYMENT_SUCCEEDED.value, sub.status, after.status, {"reason": "invoice settled"})
            ],
        )
    except Conflict:
        pass


# -- the dunning workflow's tasks -------------------------------------------------------------------------


def plan_dunning(repos: PaymentRepos, tenant_id: str, invoice_id: str) -> NextAttempt:
    invoice = repos.invoices.get_invoice(tenant_id, invoice_id)
    if invoice is None:
        return NextAttempt(True, f"invoice {invoice_id} not found")
    customer = repos.customers.get(tenant_id, invoice.customer_id)
    settings = repos.payments.get_payment_settings(tenant_id)
    step = next_attempt(
        owed=invoice.owed,
        amount_due=invoice.amount_due,
        has_payment_method=bool(customer and customer.payment_method),
        attempts=invoice.payment_attempts,
        settings=settings,
        now=repos.clock(),
    )
    if step.exhausted:  # e.g. the schedule was shortened after the last attempt: the final state still applies
        sub = repos.subscriptions.get(tenant_id, invoice.subscription_id)
        final, after, history, events, revoke = _exhausted(invoice, sub, settings, repos.clock(), None)
        final = replace(final, revision=invoice.revision + 1)
        save = None
        if after is not None and sub is not None and after is not sub:
            save = SubscriptionSave(replace(after, version=sub.version + 1), sub.version, history, revoke)
        try:
            repos.payments.commit_payment(PaymentWrite(final, invoice.revision, save, events))
        except Conflict:
            raise TransientError(f"invoice {invoice_id} changed while dunning ended; planning again") from None
    return step


def start_collection(repos: PaymentRepos, tenant_id: str, invoice_id: str) -> str:
    """Start the invoice's dunning workflow (one per invoice: a redelivered event starts nothing new)."""
    return repos.dunning.start(tenant_id, invoice_id)


# -- retry-payment and payment state ----------------------------------------------------------------------


def _subscription(repos: PaymentRepos, tenant_id: str, subscription_id: str) -> Subscription:
    sub = repos.subscriptions.get(tenant_id, subscription_id)
    if sub is None:
        raise NotFound(
            f"Subscription not found: {subscription_id}. Check the id, and that X-Tenant-Id is the tenant that owns it."
        )
    return sub


def retry_payment(repos: PaymentRepos, tenant_id: str, subscription_id: str) -> list[AttemptOutcome]:
    """``POST /v1/subscriptions/{id}/retry-payment``: attempt every unpaid invoice of the subscription now,
    oldest first, with the customer's current payment method."""
    sub = _subscription(repos, tenant_id, subscription_id)
    unpaid = [
        i
        for i in repos.invoices.list_invoices(tenant_id, customer_id=sub.customer_id, subscription_id=subscription_id)
        if i.status in (InvoiceStatus.FINALIZED, InvoiceStatus.UNCOLLECTIBLE) and i.amount_due > 0
    ]
    if not unpaid:
        raise Conflict(
            f"Subscription {subscription_id} has no unpaid invoice (it is {sub.status.value}): there is no payment to retry.",
            code="NOTHING_TO_RETRY",
            status_now=sub.status.value,
        )
    outcomes = [
        attempt_payment(repos, tenant_id, i.invoice_id, trigger="manual")
        for i in sorted(unpaid, key=lambda i: i.period_start)
    ]
    for o in outcomes:
        if o.attempt is not None and o.attempt.outcome is PaymentOutcome.DECLINED and o.invoice.owed:
            # The schedule continues from this attempt even if the invoice's dunning had stopped (no payment
            # method at finalization, provider failures); a dunning run still waiting just meets it.
            repos.dunning.start(tenant_id, o.invoice.invoice_id, f"r{o.attempt.number}")
    if all(o.attempt is not None and o.attempt.outcome is PaymentOutcome.ERROR for o in outcomes):
        raise ServiceUnavailable(
            "The payment provider could not be reached; nothing was charged and no attempt was counted. Retry in a few minutes.",
            code="PAYMENT_PROVIDER_UNAVAILABLE",
        )
    return outcomes


def subscription_payment_status(repos: PaymentRepos, sub: Subscription) -> PaymentStatus:
    """paid / pending (overdue, within the grace period) / failed (seed 002)."""
    customer = repos.customers.get(sub.tenant_id, sub.customer_id)
    plan = repos.catalog.get_plan(sub.tenant_id, sub.plan.plan_id)
    days = grace_period_days(
        customer.metadata if customer else {},
        plan.metadata if plan else {},
        repos.payments.get_payment_settings(sub.tenant_id).grace_period_days,
        GRACE_PERIOD_KEY,
    )
    return payment_status(sub.payment_overdue_since, days, repos.clock())


# -- checkout ---------------------------------------------------------------------------------------------


def create_checkout(repos: PaymentRepos, tenant_id: str, customer_id: str, data: dict[str, Any]) -> CheckoutSession:
    """A hosted page for the customer's first payment method (Stripe Checkout in setup mode). With
    ``plan_id``, completing it also subscribes the customer to that plan (applied from the provider's
    ``checkout.session.completed`` webhook)."""
    customer = repos.customers.get(tenant_id, customer_id)
    if customer is None:
        raise NotFound(f"Customer not found: {customer_id}.")
    for name in ("success_url", "cancel_url"):
        if not str(data.get(name) or "").startswith(("https://", "http://")):
            raise InvalidInput(f"{name} must be an http(s) URL the customer returns to", field=name)
    metadata = {"tenant_id": tenant_id, "customer_id": customer_id}
    if data.get("plan_id"):
        plan = repos.catalog.get_plan(tenant_id, data["plan_id"])
        if plan is None:
            raise NotFound(f"Plan not found: {data['plan_id']}.")
        metadata["plan_id"] = plan.plan_id
    settings = repos.payments.get_payment_settings(tenant_id)
    request = CheckoutRequest(
        tenant_id=tenant_id,
        customer_id=customer_id,
        currency=customer.currency,
        success_url=data["success_url"],
        cancel_url=data["cancel_url"],
        session_key=str(data.get("idempotency_key") or f"{customer_id}:{repos.clock().isoformat()}"),
        provider_customer_id=customer.provider_customer_id,
        customer_email=customer.email,
        metadata=metadata,
    )
    return repos.providers(settings).create_checkout(request)


# -- webhooks ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookResult:
    event_id: str
    type: str
    duplicate: bool = False
    applied: bool = False
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "received": True,
            "id": self.event_id,
            "type": self.type,
            "duplicate": self.duplicate,
            "applied": self.applied,
            "detail": self.detail,
        }


def handle_stripe_webhook(
    repos: PaymentRepos,
    tenant_id: str,
    payload: str,
    signature: str | None,
    *,
    subscribe: Callable[[str, dict[str, Any]], Any] | None = None,
) -> WebhookResult:
    """Verify (400, nothing changed, on a bad signature), refuse the other Stripe mode, apply once per event id."""
    settings = repos.payments.get_payment_settings(tenant_id)
    if not settings.webhook_secret:
        raise BadRequest(
            "This tenant has no Stripe webhook signing secret: set webhook_secret (whsec_…) in PUT /v1/payment-settings.",
            code="WEBHOOK_NOT_CONFIGURED",
        )
    event = repos.verify_webhook(payload, signature, settings.webhook_secret)
    event_id, type_ = str(event.get("id") or ""), str(event.get("type") or "")
    if not event_id.startswith("evt_"):
        raise BadRequest("The payload is not a Stripe event (no evt_ id).", code="INVALID_WEBHOOK_PAYLOAD")
    livemode = bool(event.get("livemode", False))
    if livemode != settings.livemode:
        mode, tenant_mode = ("live" if livemode else "test"), ("live" if settings.livemode else "test")
        raise BadRequest(
            f"A {mode}-mode Stripe event was sent to a {tenant_mode}-mode tenant. Stripe's test and live modes do not see each "
            f"other: point the {mode}-mode webhook at the tenant configured for {mode} mode, or change livemode in "
            "PUT /v1/payment-settings.",
            code="LIVEMODE_MISMATCH",
        )
    if repos.payments.webhook_seen(tenant_id, event_id):
        return WebhookResult(event_id, type_, duplicate=True, detail="already received: not applied again")
    obj = (event.get("data") or {}).get("object") or {}
    summary = {"type": type_, "livemode": livemode, "object": obj.get("id")}
    try:
        if type_ == "payment_intent.succeeded":
            return _payment_succeeded(repos, tenant_id, event_id, type_, obj, settings, summary)
        if type_ == "checkout.session.completed":
            detail = _checkout_completed(repos, tenant_id, obj, event_id, subscribe)
            repos.payments.commit_payment(PaymentWrite(webhook_event=(tenant_id, event_id, summary)))
            return WebhookResult(event_id, type_, applied=True, detail=detail)
        repos.payments.commit_payment(PaymentWrite(webhook_event=(tenant_id, event_id, summary)))
        return WebhookResult(event_id, type_, detail="recorded; this event type changes nothing in Tollgate")
    except DuplicateWebhook:
        return WebhookResult(event_id, type_, duplicate=True, detail="already received: not applied again")


def _payment_succeeded(repos, tenant_id, event_id, type_, obj, settings, summary) -> WebhookResult:
    metadata = obj.get("metadata") or {}
    invoice_id = metadata.get("invoice_id")
    if metadata.get("tenant_id") not in (None, tenant_id) or not invoice_id:
        repos.payments.commit_payment(PaymentWrite(webhook_event=(tenant_id, event_id, summary)))
        return WebhookResult(
            event_id, type_, detail="not a Tollgate invoice payment of this tenant: recorded, nothing changed"
        )
    for _ in range(ATTEMPTS):
        invoice = repos.invoices.get_invoice(tenant_id, invoice_id)
        if invoice is not None and not _covers(obj, invoice):
            repos.payments.commit_payment(PaymentWrite(webhook_event=(tenant_id, event_id, summary)))
            return WebhookResult(
                event_id,
                type_,
                detail=f"the payment does not cover invoice {invoice_id} ({plain(invoice.amount_due)} "
                f"{invoice.currency} due): recorded, nothing changed",
            )
        if invoice is None or invoice.status not in (InvoiceStatus.FINALIZED, InvoiceStatus.UNCOLLECTIBLE):
            repos.payments.commit_payment(PaymentWrite(webhook_event=(tenant_id, event_id, summary)))
            state = invoice.status.value if invoice else "unknown"
            return WebhookResult(event_id, type_, detail=f"invoice {invoice_id} is {state}: nothing to apply")
        sub = repos.subscriptions.get(tenant_id, invoice.subscription_id)
        attempt = PaymentAttempt(
            attempts_made(invoice.payment_attempts) + 1,
            repos.clock(),
            PaymentOutcome.SUCCEEDED,
            invoice.amount_due,
            "webhook",
            payment_id=str(obj.get("id") or ""),
            payment_method=str(obj.get("payment_method") or ""),
        )
        final, save, events = settle(invoice, sub, attempt, settings, payment_id=attempt.payment_id)
        try:
            repos.payments.commit_payment(
                PaymentWrite(final, invoice.revision, save, events, webhook_event=(tenant_id, event_id, summary))
            )
        except DuplicateWebhook:
            raise
        except Conflict:
            continue
        return WebhookResult(event_id, type_, applied=True, detail=f"invoice {invoice_id} is PAID")
    raise Conflict(f"Invoice {invoice_id} kept changing; Stripe will redeliver the event.", code="CONCURRENT_UPDATE")


def _covers(obj: dict[str, Any], invoice: Invoice) -> bool:
    """A PaymentIntent pays the invoice if it is in its currency and for at least the amount due."""
    from tollgate.domain.money import minor_units

    amount, currency = obj.get("amount_received", obj.get("amount")), obj.get("currency")
    if currency is not None and str(currency).upper() != invoice.currency:
        return False
    if amount is not None:
        return int(amount) >= int(invoice.amount_due * (10 ** minor_units(invoice.currency)))
    return True


def _checkout_completed(repos, tenant_id, obj, event_id, subscribe) -> str:
    metadata = obj.get("metadata") or {}
    if metadata.get("tenant_id") not in (None, tenant_id):
        return "the session belongs to another tenant: nothing changed"
    customer_id = metadata.get("customer_id")
    customer = repos.customers.get(tenant_id, customer_id) if customer_id else None
    if customer is None:
        return "no Tollgate customer in the session's metadata: nothing changed"
    method = metadata.get("payment_method") or obj.get("payment_method") or customer.payment_method or "pm_default"
    set_payment_method(
        repos, tenant_id, customer_id, {"payment_method": method, "provider_customer_id": obj.get("customer")}
    )
    plan_id = metadata.get("plan_id")
    if plan_id and subscribe is not None:
        try:
            subscribe(
                tenant_id, {"customer_id": customer_id, "plan_id": plan_id, "external_id": f"checkout_{obj.get('id')}"}
            )
        except Conflict:
            pass  # already subscribed by an earlier delivery (the external id is the session's)
        return f"payment method saved; customer {customer_id} subscribed to plan {plan_id}"
    return f"payment method saved for customer {customer_id}"
