"""A webhook endpoint: where a tenant receives events, which types, and the secrets that sign them."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from tollgate.domain.errors import InvalidInput

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # Standard Webhooks asks for 24 to 64 random bytes
MAX_ENDPOINTS_PER_TENANT = 20
MAX_ENABLED_EVENTS = 100
DEFAULT_ROTATION_OVERLAP = timedelta(hours=24)
MAX_ROTATION_OVERLAP = timedelta(days=7)
ALL_EVENTS = "*"


def new_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes (the Standard Webhooks secret format)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


@dataclass(frozen=True)
class WebhookEndpoint:
    endpoint_id: str
    tenant_id: str
    url: str
    secret: str
    created_at: datetime
    updated_at: datetime
    description: str = ""
    enabled_events: tuple[str, ...] = (ALL_EVENTS,)
    disabled: bool = False
    disabled_reason: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    # During a rotation the previous secret keeps signing (a second signature) until it expires.
    previous_secret: str | None = None
    previous_secret_expires_at: datetime | None = None
    # Set by the first failed attempt after a success; cleared by the next success.
    failing_since: datetime | None = None
    version: int = 1

    def wants(self, event_type: str) -> bool:
        return not self.disabled and (ALL_EVENTS in self.enabled_events or event_type in self.enabled_events)

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, and the previous one while its overlap lasts."""
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires is not None and now < expires:
            return [self.secret, self.previous_secret]
        return [self.secret]

    def rotated(self, now: datetime, overlap: timedelta) -> WebhookEndpoint:
        return replace(
            self,
            secret=new_secret(),
            previous_secret=self.secret,
            previous_secret_expires_at=now + overlap,
            updated_at=now,
            version=self.version + 1,
        )


def validate_enabled_events(types: list[str], known: set[str]) -> tuple[str, ...]:
    """``["*"]`` or known event types (each once)."""
    if not types:
        raise InvalidInput(
            'enabled_events is empty: send ["*"] for every event type, or types listed by GET /v1/webhook-event-types.',
            field="enabled_events",
        )
    if len(types) > MAX_ENABLED_EVENTS:
        raise InvalidInput(f"enabled_events lists at most {MAX_ENABLED_EVENTS} types.", field="enabled_events")
    unknown = sorted({t for t in types if t != ALL_EVENTS and t not in known})
    if unknown:
        raise InvalidInput(
            f"Unknown event types {unknown[:5]}: GET /v1/webhook-event-types lists the types you can subscribe to.",
            field="enabled_events",
        )
    return tuple(dict.fromkeys(types))


def validate_overlap(seconds: int | None) -> timedelta:
    if seconds is None:
        return DEFAULT_ROTATION_OVERLAP
    if not 0 <= seconds <= MAX_ROTATION_OVERLAP.total_seconds():
        raise InvalidInput(
            f"overlap_seconds must be between 0 and {int(MAX_ROTATION_OVERLAP.total_seconds())} (7 days).",
            field="overlap_seconds",
        )
    return timedelta(seconds=seconds)
