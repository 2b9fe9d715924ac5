"""Per-tenant API request limits: each tenant has its own requests-per-second budget, so one noisy tenant
gets 429s and the others do not (the stage throttle is only the platform's ceiling).

The API function counts every authenticated request of a tenant in a one-second window (the sharded rate
counter of the usage table, ``APIRATE``); over the tenant's limit it answers 429 TENANT_RATE_LIMITED with
``Retry-After`` and a detail naming the tenant's limit. A tenant's limit is read at most once a minute per
function instance (a change applies within 60 s, like the authorizer cache).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from tollgate.domain.access import Caller, KeyKind
from tollgate.domain.errors import InvalidInput, NotFound, TooManyRequests
from tollgate.ports.usage import RateLimiter

WINDOW_SECONDS = 1
LIMIT_CACHE_SECONDS = 60.0


class TenantRateLimits(Protocol):
    def get(self, tenant_id: str) -> int | None: ...

    def put(self, tenant_id: str, requests_per_second: int) -> None: ...


class LimitCache:
    """Each tenant's limit, re-read after LIMIT_CACHE_SECONDS (per function instance)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[str, tuple[float, int | None]] = {}

    def limit(self, repo: TenantRateLimits, tenant_id: str) -> int | None:
        now = self._clock()
        entry = self._entries.get(tenant_id)
        if entry is None or now - entry[0] > LIMIT_CACHE_SECONDS:
            if len(self._entries) > 10_000:
                self._entries.clear()
            entry = (now, repo.get(tenant_id))
            self._entries[tenant_id] = entry
        return entry[1]


def throttle(
    repo: TenantRateLimits,
    limiter: RateLimiter,
    cache: LimitCache,
    caller: Caller | None,
    default_limit: int,
    at: datetime,
) -> None:
    """Count one request of the caller's tenant; 429 when the tenant's limit for this second is used up."""
    if caller is None or caller.kind is KeyKind.PLATFORM:
        return
    limit = cache.limit(repo, caller.tenant_id) or default_limit
    window = int(at.timestamp()) // WINDOW_SECONDS * WINDOW_SECONDS
    if limiter.take(caller.tenant_id, "api", 1, window, limit, limit, WINDOW_SECONDS) is None:
        return
    raise TooManyRequests(
        f"Too many requests: tenant {caller.tenant_id}'s API rate limit ({limit} requests per second) is used up "
        "for this second; other tenants are not affected. Retry after the Retry-After delay with exponential "
        "backoff, or ask the platform admin to raise the tenant's limit (PUT /v1/tenants/{tenant_id}/rate-limit).",
        retry_after=WINDOW_SECONDS,
        code="TENANT_RATE_LIMITED",
        limit="tenant",
        requests_per_second=limit,
    )


def set_limit(
    repo: TenantRateLimits, tenant_exists: Callable[[str], bool], tenant_id: str, rps: object, top: int
) -> int:
    """Store a tenant's limit: a whole number of requests per second from 1 to ``top``."""
    if isinstance(rps, bool) or not isinstance(rps, int) or not 1 <= rps <= top:
        raise InvalidInput(f"requests_per_second must be a whole number from 1 to {top}.", field="requests_per_second")
    if not tenant_exists(tenant_id):
        raise NotFound(f"No tenant {tenant_id!r}: check the id (it starts with ten_).")
    repo.put(tenant_id, rps)
    return rps
