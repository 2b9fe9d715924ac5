"""Tollgate's Python SDK: send usage events (``Client``, ``AsyncClient``) and the ``tollgate`` CLI.

from tollgate_sdk import Client
client = Client(api_url="http://127.0.0.1:8000", api_key="sk_test_…")
client.ingest(event_name="tokens.used", external_customer_id="acme", quantity=120)
client.flush()

verify_webhook(body, headers, "whsec_…") checks a webhook's signature (Standard Webhooks).
"""

from tollgate_sdk._version import __version__
from tollgate_sdk.async_client import AsyncClient
from tollgate_sdk.aws_lambda import flush_on_return
from tollgate_sdk.client import Client
from tollgate_sdk.errors import ApiError, EventTooLarge, InvalidEvent, TollgateError
from tollgate_sdk.webhooks import WebhookVerificationError, verify_webhook

__all__ = [
    "ApiError",
    "AsyncClient",
    "Client",
    "EventTooLarge",
    "InvalidEvent",
    "TollgateError",
    "WebhookVerificationError",
    "__version__",
    "flush_on_return",
    "verify_webhook",
]
