"""The sandbox provider's test payment methods, named like Stripe's (``tollgate.adapters.payments.sandbox``).
Pure and deterministic: the same method and attempt number always give the same outcome."""

from __future__ import annotations

from dataclasses import dataclass, replace

from tollgate.domain.payments import PaymentOutcome


@dataclass(frozen=True)
class SandboxMethod:
    outcome: PaymentOutcome
    decline_code: str = ""
    message: str = ""
    declines_before_success: int = 0  # decline attempts 1..n, then succeed


SANDBOX_METHODS: dict[str, SandboxMethod] = {
    # Named like Stripe's test PaymentMethods.
    "pm_card_visa": SandboxMethod(PaymentOutcome.SUCCEEDED),
    "pm_card_mastercard": SandboxMethod(PaymentOutcome.SUCCEEDED),
    "pm_card_chargeDeclined": SandboxMethod(PaymentOutcome.DECLINED, "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": SandboxMethod(
        PaymentOutcome.DECLINED, "insufficient_funds", "Your card has insufficient funds."
    ),
    "pm_card_chargeDeclinedExpiredCard": SandboxMethod(
        PaymentOutcome.DECLINED, "expired_card", "Your card has expired."
    ),
    # Sandbox only: the provider fails (as if Stripe were down) - not an attempt.
    "pm_sandbox_providerError": SandboxMethod(
        PaymentOutcome.ERROR, "api_error", "The payment provider is unavailable."
    ),
    # Sandbox only: declined at attempts 1 and 2 (insufficient funds), paid at attempt 3.
    "pm_sandbox_declineTwiceThenSucceed": SandboxMethod(
        PaymentOutcome.SUCCEEDED, "insufficient_funds", "Your card has insufficient funds.", declines_before_success=2
    ),
}


def sandbox_outcome(payment_method: str, attempt: int) -> SandboxMethod:
    """What the sandbox provider answers for ``payment_method`` at attempt ``attempt`` (deterministic)."""
    method = SANDBOX_METHODS.get(payment_method)
    if method is None:
        return SandboxMethod(
            PaymentOutcome.DECLINED, "payment_method_unknown", f"No such payment method: {payment_method}."
        )
    if method.declines_before_success and attempt <= method.declines_before_success:
        return replace(method, outcome=PaymentOutcome.DECLINED)
    if method.outcome is PaymentOutcome.SUCCEEDED:
        return SandboxMethod(PaymentOutcome.SUCCEEDED)
    return method
