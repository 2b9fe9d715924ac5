"""The Stripe payment provider (the ``stripe`` package; imported on first use, not at cold start).

- One PaymentIntent per invoice, created with the invoice id as idempotency key (``metadata``:
  tenant_id, invoice_id), and confirmed off-session once per attempt with ``<invoice id>:<attempt>``
  as idempotency key: a retried attempt is replayed by Stripe, never charged twice.
- The customer is created on first charge (idempotency key: tenant + customer) when Tollgate does not
  know its Stripe id yet; ``pm_default`` means "the customer's saved payment method" (set by Checkout).
- Card errors are declines (an attempt); connection, rate-limit, API and authentication errors are
  provider errors (not an attempt; dunning tries again later). ``processing`` (asynchronous methods)
  is reported as a provider error too: the ``payment_intent.succeeded`` webhook completes it.
- Checkout: a session in ``setup`` mode that saves the customer's first payment method.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tollgate.domain.errors import BadRequest
from tollgate.domain.money import minor_units
from tollgate.domain.payments import PaymentOutcome
from tollgate.ports.payments import ChargeRequest, ChargeResult, CheckoutRequest, CheckoutSession

DEFAULT_METHOD = "pm_default"
WEBHOOK_TOLERANCE_SECONDS = 300


def minor_amount(amount: Decimal, currency: str) -> int:
    """Stripe's integer amount in the currency's minor units (the invoice amount is already rounded)."""
    return int((amount * (Decimal(10) ** minor_units(currency))).to_integral_value())


class StripeProvider:
    name = "stripe"

    def __init__(self, api_key: str, *, livemode: bool, http_client: Any = None, max_network_retries: int = 2) -> None:
        import stripe

        self.livemode = livemode
        self._stripe = stripe
        self._client = stripe.StripeClient(api_key, http_client=http_client, max_network_retries=max_network_retries)

    def _customer(self, request: ChargeRequest | CheckoutRequest) -> str:
        if request.provider_customer_id:
            return request.provider_customer_id
        customer = self._client.v1.customers.create(
            {
                "email": request.customer_email or "",
                "metadata": {"tenant_id": request.tenant_id, "customer_id": request.customer_id},
            },
            {"idempotency_key": f"customer:{request.tenant_id}:{request.customer_id}"},
        )
        return customer.id

    def _method(self, customer: str, method: str) -> str:
        if method != DEFAULT_METHOD:
            return method
        methods = self._client.v1.customers.payment_methods.list(customer, {"limit": 1})
        if not methods.data:
            raise self._stripe.InvalidRequestError(
                "The customer has no saved payment method.", "payment_method", code="payment_method_missing"
            )
        return methods.data[0].id

    def charge(self, request: ChargeRequest) -> ChargeResult:
        stripe = self._stripe
        payment_id = request.payment_id
        try:
            customer = self._customer(request)
            method = self._method(customer, request.payment_method)
            amount = minor_amount(request.amount, request.currency)
            if not payment_id:
                intent = self._client.v1.payment_intents.create(
                    {
                        "amount": amount,
                        "currency": request.currency.lower(),
                        "customer": customer,
                        "description": request.description,
                        "metadata": {"tenant_id": request.tenant_id, "invoice_id": request.invoice_id},
                    },
                    {"idempotency_key": request.invoice_id},
                )
                payment_id = intent.id
            elif (current := self._client.v1.payment_intents.retrieve(payment_id)).amount != amount:
                self._client.v1.payment_intents.update(
                    current.id, {"amount": amount}, {"idempotency_key": f"{request.idempotency_key}:amount"}
                )
            intent = self._client.v1.payment_intents.confirm(
                payment_id,
                {"payment_method": method, "off_session": True},
                {"idempotency_key": request.idempotency_key},
            )
        except stripe.CardError as exc:
            error = exc.error
            intent_id = getattr(getattr(error, "payment_intent", None), "id", None) or payment_id
            code = (
                (getattr(error, "decline_code", None) or exc.code or "card_declined")
                if error
                else (exc.code or "card_declined")
            )
            return ChargeResult(PaymentOutcome.DECLINED, intent_id or "", code, exc.user_message or str(exc))
        except (
            stripe.InvalidRequestError
        ) as exc:  # no such payment method, customer deleted...: retrying as is will not help
            return ChargeResult(
                PaymentOutcome.DECLINED, payment_id or "", exc.code or "invalid_request", exc.user_message or str(exc)
            )
        except stripe.StripeError as exc:  # connection, rate limit, API, authentication errors
            return ChargeResult(
                PaymentOutcome.ERROR, payment_id or "", exc.code or type(exc).__name__, exc.user_message or str(exc)
            )
        if intent.status == "succeeded":
            return ChargeResult(PaymentOutcome.SUCCEEDED, intent.id, provider_customer_id=customer)
        if intent.status == "processing":
            return ChargeResult(
                PaymentOutcome.ERROR,
                intent.id,
                "processing",
                "The payment is processing; its webhook settles it.",
                customer,
            )
        last = getattr(intent, "last_payment_error", None)
        code = (getattr(last, "decline_code", None) or getattr(last, "code", None)) if last else None
        return ChargeResult(
            PaymentOutcome.DECLINED,
            intent.id,
            code or intent.status,
            getattr(last, "message", "") or intent.status,
            customer,
        )

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        customer = self._customer(request)
        session = self._client.v1.checkout.sessions.create(
            {
                "mode": "setup",
                "currency": request.currency.lower(),
                "customer": customer,
                "success_url": request.success_url,
                "cancel_url": request.cancel_url,
                "metadata": request.metadata,
                "setup_intent_data": {"metadata": request.metadata},
            },
            {"idempotency_key": f"checkout:{request.tenant_id}:{request.session_key}"},
        )
        return CheckoutSession(session.id, session.url or "", customer)  # Stripe sets url on an open session


def verify_webhook(payload: str, signature: str | None, secret: str) -> dict[str, Any]:
    """The event, if ``signature`` (the Stripe-Signature header) is Stripe's over ``payload`` with
    ``secret`` and at most 5 minutes old (stripe's own check); else 400, nothing changed."""
    import json

    from stripe import SignatureVerificationError, WebhookSignature

    try:
        WebhookSignature.verify_header(payload, signature, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS)
    except SignatureVerificationError as exc:
        raise BadRequest(
            f"Stripe signature verification failed ({exc.user_message or exc}): check that the signing secret "
            "(whsec_…) set with PUT /v1/settings/payments is this endpoint's, and that the body reaches Tollgate "
            "unmodified.",
            code="INVALID_SIGNATURE",
        ) from None
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError):  # not JSON, an integer past Python's digit limit, nesting too deep
        raise BadRequest("The webhook body is not JSON Tollgate can read.", code="INVALID_WEBHOOK_PAYLOAD") from None
    if not isinstance(event, dict):
        raise BadRequest("The webhook body is not a Stripe event object.", code="INVALID_WEBHOOK_PAYLOAD")
    return event
