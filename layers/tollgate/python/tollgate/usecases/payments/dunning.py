"""The dunning workflow's steps (plan the next attempt, start a collection), the payment state the
gateway reads, and ending PAST_DUE when an invoice is settled outside a payment."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from tollgate.domain.catalog.plans import GRACE_PERIOD_KEY
from tollgate.domain.clock import utcnow
from tollgate.domain.errors import Conflict
from tollgate.domain.payments import NextAttempt, PaymentStatus, grace_period_days, next_attempt, payment_status
from tollgate.domain.subscriptions import Action, Subscription, SubscriptionStatus, Transition, subscription_event
from tollgate.ports.billing import InvoiceRepository
from tollgate.ports.customers import SubscriptionRepository
from tollgate.ports.payments import PaymentWrite, SubscriptionSave
from tollgate.usecases.payments.repos import PaymentRepos, TransientError, count_outcome, overdue_invoices
from tollgate.usecases.payments.settlement import exhausted


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
        end = exhausted(invoice, sub, settings, repos.clock(), None)
        final = replace(end.invoice, revision=invoice.revision + 1)
        save = None
        if end.subscription is not None and sub is not None:
            after = replace(end.subscription, version=sub.version + 1)
            save = SubscriptionSave(after, sub.version, end.history, end.revoke_keys_reason)
        try:
            repos.payments.commit_payment(PaymentWrite(final, invoice.revision, save, end.events))
        except Conflict:
            raise TransientError(f"invoice {invoice_id} changed while dunning ended; planning again") from None
        count_outcome(invoice, final)
    return step


def loop_counters(state: dict[str, Any]) -> dict[str, int]:
    """The dunning definition's counters, carried through every task: pauses after errors in this execution
    and its generation (how many executions came before it by continue-as-new)."""
    return {"pauses": int(state.get("pauses") or 0), "generation": int(state.get("generation") or 0)}


def plan_continuation(state: dict[str, Any], execution: str) -> dict[str, Any]:
    """The next generation of a dunning run whose history grew long: its execution name (the run's own name
    with ``-g<n>``, so a retried start finds it) and its input (the counters start again)."""
    generation = loop_counters(state)["generation"] + 1
    base = re.sub(r"-g\d+$", "", execution) or state["invoice_id"]
    return {
        "name": f"{base}-g{generation}"[:80],
        "input": {
            "tenant_id": state["tenant_id"],
            "invoice_id": state["invoice_id"],
            "pauses": 0,
            "generation": generation,
        },
    }


def start_collection(repos: PaymentRepos, tenant_id: str, invoice_id: str) -> str:
    """Start the invoice's dunning workflow (one per invoice: a redelivered event starts nothing new)."""
    return repos.dunning.start(tenant_id, invoice_id)


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


def reconcile_subscription(
    invoices: InvoiceRepository,
    subscriptions: SubscriptionRepository,
    tenant_id: str,
    subscription_id: str,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """After an invoice is settled outside a payment (mark-paid, void, a credit note): a PAST_DUE
    subscription with no other overdue invoice is ACTIVE again (best effort; a lost race is left to the
    next payment event)."""
    sub = subscriptions.get(tenant_id, subscription_id)
    if sub is None or not sub.live or not (sub.status is SubscriptionStatus.PAST_DUE or sub.payment_overdue_since):
        return
    if overdue_invoices(invoices, tenant_id, sub.customer_id, subscription_id):
        return
    after = replace(
        sub.moved(Action.PAYMENT_SUCCEEDED), dunning_attempts=0, payment_overdue_since=None, version=sub.version + 1
    )
    now = clock()
    with contextlib.suppress(Conflict):  # lost race: the next payment event settles it
        subscriptions.save(
            after,
            expected_version=sub.version,
            events=[subscription_event("subscription.reactivated", after, now, reason="invoice_settled")],
            history=[
                Transition(now, Action.PAYMENT_SUCCEEDED.value, sub.status, after.status, {"reason": "invoice settled"})
            ],
        )
