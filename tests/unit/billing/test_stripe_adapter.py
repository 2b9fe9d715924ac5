"""The Stripe adapter against a fake of Stripe's HTTP API (the stripe library's own client code, no
network): what it sends (idempotency keys, amounts in minor units, off-session confirmation) and how
it reads Stripe's answers (success, card decline, outage)."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import parse_qs

from stripe._http_client import HTTPClient

from tollgate.adapters.payments.stripe import StripeProvider, minor_amount
from tollgate.domain.payments import PaymentOutcome
from tollgate.ports.payments import ChargeRequest


class FakeStripe(HTTPClient):
    """Answers /v1/customers, /v1/payment_intents and /v1/payment_intents/<id>/confirm like Stripe."""

    name = "fake"

    def __init__(self, decline: bool = False, down: bool = False) -> None:
        super().__init__()
        self.decline, self.down = decline, down
        self.calls: list[tuple[str, str, dict, dict]] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        path = url.split("api.stripe.com")[-1]
        form = {k: v[0] for k, v in parse_qs(post_data or "").items()}
        self.calls.append((method, path, dict(headers or {}), form))
        if self.down:
            return json.dumps({"error": {"type": "api_error", "message": "Stripe is down"}}), 500, {}
        if path == "/v1/customers":
            return json.dumps({"id": "cus_123", "object": "customer"}), 200, {}
        if path == "/v1/payment_intents":
            return (
                json.dumps(
                    {
                        "id": "pi_123",
                        "object": "payment_intent",
                        "status": "requires_payment_method",
                        "amount": int(form["amount"]),
                    }
                ),
                200,
                {},
            )
        if path.endswith("/confirm"):
            if self.decline:
                error = {
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "insufficient_funds",
                    "message": "Your card has insufficient funds.",
                    "payment_intent": {"id": "pi_123", "object": "payment_intent"},
                }
                return json.dumps({"error": error}), 402, {}
            return json.dumps({"id": "pi_123", "object": "payment_intent", "status": "succeeded"}), 200, {}
        return json.dumps({"error": {"type": "invalid_request_error", "message": f"no route {path}"}}), 404, {}

    def close(self):
        pass


def _request(**kw) -> ChargeRequest:
    base = {
        "tenant_id": "ten_1",
        "invoice_id": "inv_1",
        "attempt": 2,
        "amount": Decimal("49.99"),
        "currency": "USD",
        "customer_id": "cus_local",
        "payment_method": "pm_card_visa",
    }
    return ChargeRequest(**{**base, **kw})


def test_amounts_are_sent_in_minor_units():
    assert minor_amount(Decimal("49.99"), "USD") == 4999
    assert minor_amount(Decimal(500), "JPY") == 500
    assert minor_amount(Decimal("1.234"), "KWD") == 1234


def test_a_charge_creates_the_payment_intent_per_invoice_and_confirms_per_attempt():
    http = FakeStripe()
    result = StripeProvider("sk_test_x", livemode=False, http_client=http).charge(_request())
    assert (
        result.outcome is PaymentOutcome.SUCCEEDED
        and result.payment_id == "pi_123"
        and result.provider_customer_id == "cus_123"
    )
    (_, _, h1, customer), (_, _, h2, intent), (_, path3, h3, confirm) = http.calls
    assert h1["Idempotency-Key"] == "customer:ten_1:cus_local" and customer["metadata[customer_id]"] == "cus_local"
    assert h2["Idempotency-Key"] == "inv_1" and intent["amount"] == "4999" and intent["currency"] == "usd"
    assert intent["metadata[invoice_id]"] == "inv_1" and intent["metadata[tenant_id]"] == "ten_1"
    assert path3 == "/v1/payment_intents/pi_123/confirm" and h3["Idempotency-Key"] == "inv_1:2"
    assert confirm["off_session"] == "true" and confirm["payment_method"] == "pm_card_visa"


def test_a_card_decline_is_a_declined_attempt_with_the_decline_code():
    result = StripeProvider("sk_test_x", livemode=False, http_client=FakeStripe(decline=True)).charge(
        _request(provider_customer_id="cus_9")
    )
    assert (
        result.outcome is PaymentOutcome.DECLINED
        and result.decline_code == "insufficient_funds"
        and result.payment_id == "pi_123"
    )


def test_an_outage_is_a_provider_error_not_an_attempt():
    http = FakeStripe(down=True)
    provider = StripeProvider("sk_test_x", livemode=False, http_client=http, max_network_retries=0)
    result = provider.charge(_request(provider_customer_id="cus_9"))
    assert result.outcome is PaymentOutcome.ERROR and len(http.calls) == 1  # no retry asked for: one failed create
