"""Payments and dunning: charge finalized invoices, retry what fails, move subscriptions between ACTIVE
and PAST_DUE (seed 000 "Subscription stuck in PAST_DUE"), Stripe webhooks (seed 002).

The rules (schedule, final state, grace period, what a provider error is) are in
``tollgate.domain.payments`` and ``tollgate.domain.payment_settings``; these modules read, call the
provider and write:

- ``attempts``: one attempt on an invoice, and retry-payment;
- ``settlement``: what an attempt does to the invoice and the subscription (pure);
- ``dunning``: the dunning workflow's steps, the payment state, PAST_DUE ended by a settled invoice;
- ``webhooks``: Stripe webhook events;
- ``checkout``: the customer's payment method and the hosted checkout page;
- ``settings``: the tenant's payment settings.

The names below are the package's public use cases (``from tollgate.usecases import payments``)."""

from tollgate.usecases.payments.attempts import AttemptOutcome, attempt_payment, retry_payment
from tollgate.usecases.payments.checkout import create_checkout, set_payment_method
from tollgate.usecases.payments.dunning import (
    loop_counters,
    plan_continuation,
    plan_dunning,
    reconcile_subscription,
    start_collection,
    subscription_payment_status,
)
from tollgate.usecases.payments.repos import PaymentRepos, TransientError, WebhookVerifier
from tollgate.usecases.payments.settings import get_payment_settings, put_payment_settings
from tollgate.usecases.payments.settlement import KEY_REVOKED_REASON, settle
from tollgate.usecases.payments.webhooks import WebhookResult, handle_stripe_webhook

__all__ = [
    "KEY_REVOKED_REASON",
    "AttemptOutcome",
    "PaymentRepos",
    "TransientError",
    "WebhookResult",
    "WebhookVerifier",
    "attempt_payment",
    "create_checkout",
    "get_payment_settings",
    "handle_stripe_webhook",
    "loop_counters",
    "plan_continuation",
    "plan_dunning",
    "put_payment_settings",
    "reconcile_subscription",
    "retry_payment",
    "set_payment_method",
    "settle",
    "start_collection",
    "subscription_payment_status",
]
