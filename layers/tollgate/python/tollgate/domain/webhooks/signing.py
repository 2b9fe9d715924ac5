"""The Standard Webhooks signature of one attempt (https://www.standardwebhooks.com/).

Headers: ``webhook-id`` (the message id, the same on every retry), ``webhook-timestamp`` (Unix seconds of
this attempt) and ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` per
signing secret, space-separated (two during a secret rotation). Signed with the official
``standardwebhooks`` library (pure Python, no dependencies)."""

from __future__ import annotations

from datetime import datetime

from standardwebhooks.webhooks import Webhook


def signature_headers(message_id: str, body: str, secrets: list[str], at: datetime) -> dict[str, str]:
    timestamp = int(at.timestamp())
    signatures = " ".join(Webhook(secret).sign(message_id, at, body) for secret in secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
    }
