"""The SDK's verify_webhook: accepts what Tollgate signs (and what the official standardwebhooks library
signs), both signatures during a rotation; refuses a wrong secret, a changed body, a stale timestamp and
missing headers. No network."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook
from tollgate_sdk import WebhookVerificationError, verify_webhook

from tollgate.domain.webhooks.endpoints import new_secret
from tollgate.domain.webhooks.signing import signature_headers

BODY = json.dumps({"type": "customer.created", "timestamp": "2026-11-29T10:00:00Z", "data": {"customer_id": "cus_1"}})


def _signed(secrets: list[str], body: str = BODY, at: datetime | None = None) -> dict[str, str]:
    return signature_headers("evt_1", body, secrets, at or datetime.now(UTC))


def test_a_tollgate_signature_verifies_with_the_sdk_and_with_standardwebhooks():
    secret = new_secret()
    headers = _signed([secret])
    assert verify_webhook(BODY.encode(), headers, secret)["data"] == {"customer_id": "cus_1"}
    assert Webhook(secret).verify(BODY, headers)["type"] == "customer.created"


def test_during_a_rotation_either_secret_verifies():
    old, new = new_secret(), new_secret()
    headers = _signed([new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert verify_webhook(BODY, headers, secret)["type"] == "customer.created"


def test_a_standardwebhooks_signature_verifies_with_the_sdk():
    secret = new_secret()
    now = datetime.now(UTC)
    headers = {
        "Webhook-Id": "msg_1",
        "Webhook-Timestamp": str(int(now.timestamp())),
        "Webhook-Signature": Webhook(secret).sign("msg_1", now, BODY),
    }
    assert verify_webhook(BODY, headers, secret)["type"] == "customer.created"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, s: (BODY, h, new_secret()),  # another secret
        lambda h, s: (BODY.replace("cus_1", "cus_2"), h, s),  # a changed body
        lambda h, s: (BODY, {k: v for k, v in h.items() if k != "webhook-signature"}, s),  # no signature
        lambda h, s: (BODY, {**h, "webhook-id": "evt_2"}, s),  # another message id
    ],
)
def test_anything_else_is_refused(tamper):
    secret = new_secret()
    body, headers, key = tamper(_signed([secret]), secret)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(body, headers, key)


def test_a_stale_timestamp_is_refused():
    secret = new_secret()
    headers = _signed([secret], at=datetime.fromtimestamp(time.time() - 3600, UTC))
    with pytest.raises(WebhookVerificationError, match="5 minutes"):
        verify_webhook(BODY, headers, secret)
