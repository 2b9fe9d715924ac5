"""The sandbox payment provider: no money moves; the payment method's name decides the outcome, like
Stripe's test cards (``tollgate.domain.sandbox_payments.SANDBOX_METHODS``):

- ``pm_card_visa``, ``pm_card_mastercard``: succeed;
- ``pm_card_chargeDeclined``, ``pm_card_chargeDeclinedInsufficientFunds``, ``pm_card_chargeDeclinedExpiredCard``:
  declined (generic_decline, insufficient_funds, expired_card);
- ``pm_sandbox_declineTwiceThenSucceed``: declined at attempts 1 and 2, paid at attempt 3;
- ``pm_sandbox_providerError``: the provider fails (as if it were down): not an attempt.

Deterministic per (payment method, attempt number), so a repeated attempt (same idempotency key)
gets the same answer, as Stripe replays an idempotent request."""

from __future__ import annotations

from tollgate.domain.ids import deterministic_id
from tollgate.domain.sandbox_payments import sandbox_outcome
from tollgate.ports.payments import ChargeRequest, ChargeResult, CheckoutRequest, CheckoutSession

CHECKOUT_BASE = "https://sandbox.tollgate.invalid/checkout"


class SandboxProvider:
    name = "sandbox"

    def __init__(self, *, livemode: bool = False) -> None:
        self.livemode = livemode

    def charge(self, request: ChargeRequest) -> ChargeResult:
        answer = sandbox_outcome(request.payment_method, request.attempt)
        payment_id = request.payment_id or deterministic_id("pi_sandbox", request.tenant_id, request.invoice_id)
        return ChargeResult(answer.outcome, payment_id, answer.decline_code, answer.message)

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        session_id = deterministic_id("cs_sandbox", request.tenant_id, request.session_key)
        customer = request.provider_customer_id or deterministic_id(
            "cus_sandbox", request.tenant_id, request.customer_id
        )
        return CheckoutSession(session_id, f"{CHECKOUT_BASE}/{session_id}", customer)
