"""The tenant's ingestion settings (rate limits, retention) and the rate limit a request must pass."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tollgate.domain.access import Caller
from tollgate.domain.errors import InvalidInput, TooManyRequests
from tollgate.ports.usage import IngestSettings, IngestSettingsRepository, RateLimiter

RATE_WINDOW_SECONDS = 1
SETTING_RANGES = {
    "rate_limit_per_second": (1, 1_000_000),
    "key_rate_limit_per_second": (1, 1_000_000),
    "retention_days": (1, 3650),
}


def effective_settings(repo: IngestSettingsRepository, defaults: IngestSettings, tenant_id: str) -> IngestSettings:
    """The defaults with the tenant's overrides."""
    return IngestSettings(**{**defaults.to_json(), **repo.get(tenant_id)})


def update_settings(
    repo: IngestSettingsRepository, defaults: IngestSettings, tenant_id: str, changes: Mapping[str, Any]
) -> IngestSettings:
    """Store the changed settings, each a whole number (not a boolean) within its range."""
    values = {}
    for name, value in changes.items():
        if value is None:
            continue
        low, high = SETTING_RANGES[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(f"{name} must be a whole number from {low} to {high}.", field=name)
        values[name] = value
    repo.put(tenant_id, {**repo.get(tenant_id), **values})
    return effective_settings(repo, defaults, tenant_id)


def take_rate_limit(limiter: RateLimiter, caller: Caller, settings: IngestSettings, n: int, at: datetime) -> None:
    """Count ``n`` events against the tenant's and the key's limits of this second; 429 when one is used up."""
    limit = min(settings.rate_limit_per_second, settings.key_rate_limit_per_second)
    if n > limit:
        raise TooManyRequests(
            f"This request holds {n} events, more than this key may send per second ({limit}): send smaller "
            "batches, or ask an OWNER/ADMIN to raise the limit (PUT /v1/ingest/settings).",
            retry_after=RATE_WINDOW_SECONDS,
            code="RATE_LIMITED",
        )
    window = int(at.timestamp()) // RATE_WINDOW_SECONDS * RATE_WINDOW_SECONDS
    exceeded = limiter.take(
        caller.tenant_id,
        caller.key_id,
        n,
        window,
        settings.rate_limit_per_second,
        settings.key_rate_limit_per_second,
        RATE_WINDOW_SECONDS,
    )
    if exceeded:
        which = (
            f"the tenant's ingestion rate limit ({settings.rate_limit_per_second} events per second)"
            if exceeded == "tenant"
            else f"this key's ingestion rate limit ({settings.key_rate_limit_per_second} events per second)"
        )
        raise TooManyRequests(
            f"Too many events: {which} is used up for this second. Retry after the Retry-After delay with "
            "exponential backoff, and send events in bulk (up to 1000 per request) rather than one by one.",
            retry_after=RATE_WINDOW_SECONDS,
            code="RATE_LIMITED",
            limit=exceeded,
        )
