"""Verify a Tollgate webhook (Standard Webhooks: https://www.standardwebhooks.com/).

    from tollgate_sdk import verify_webhook, WebhookVerificationError

    event = verify_webhook(request_body_bytes, request_headers, "whsec_...")
    event["type"], event["data"]

Checks ``webhook-signature`` (any of its space-separated ``v1,<base64>`` signatures: during a secret
rotation Tollgate signs with both secrets) against an HMAC-SHA256 of ``"{webhook-id}.{webhook-timestamp}.{body}"``
keyed with the base64 bytes after ``whsec_``, and refuses a timestamp more than 5 minutes away from now
(replays). Pass the body exactly as received (bytes), before any JSON parsing. Standard library only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from tollgate_sdk.errors import TollgateError

SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60


class WebhookVerificationError(TollgateError):
    """The request is not a genuine, fresh Tollgate webhook (answer it 400 and ignore it)."""


def _key(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        return secret
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX) + "==")
    except (binascii.Error, ValueError) as exc:
        raise WebhookVerificationError("The secret is not a whsec_ secret (base64 after 'whsec_').") from exc


def sign(secret: str | bytes, webhook_id: str, timestamp: int, body: bytes | str) -> str:
    """The ``v1,<base64>`` signature of a message (what Tollgate sends)."""
    data = body.encode() if isinstance(body, str) else body
    mac = hmac.new(_key(secret), f"{webhook_id}.{timestamp}.".encode() + data, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verify_webhook(
    body: bytes | str, headers: Mapping[str, str], secret: str | bytes, *, now: float | None = None
) -> dict[str, Any]:
    """The event (``{"type", "timestamp", "data"}``) when the signature and timestamp hold; else
    :class:`WebhookVerificationError`."""
    lowered = {k.lower(): v for k, v in headers.items()}
    webhook_id = lowered.get("webhook-id")
    timestamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not (webhook_id and timestamp and signatures):
        raise WebhookVerificationError("Missing webhook-id, webhook-timestamp or webhook-signature header.")
    try:
        sent_at = int(timestamp)
    except ValueError as exc:
        raise WebhookVerificationError("webhook-timestamp is not Unix seconds.") from exc
    if abs((time.time() if now is None else now) - sent_at) > TOLERANCE_SECONDS:
        raise WebhookVerificationError("webhook-timestamp is more than 5 minutes away from now (a replay?).")
    expected = sign(secret, webhook_id, sent_at, body).encode()
    for candidate in signatures.split(" "):
        if candidate.startswith("v1,") and hmac.compare_digest(candidate.encode(), expected):
            return json.loads(body)
    raise WebhookVerificationError("No signature matches: check the endpoint's secret (whsec_...).")
