"""One batch over HTTP: the request, what an answer means, and when to try again.

Shared by :class:`~tollgate_sdk.Client` (httpx.Client on a thread) and :class:`~tollgate_sdk.AsyncClient`
(httpx.AsyncClient in the loop). Retried: network errors, 5xx and 429, with exponential backoff and full
jitter, never sooner than the server's ``Retry-After``. Not retried: any other 4xx. Retrying is safe
because every event carries its ``event_id`` from the moment it was queued.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from tollgate_sdk._events import Event
from tollgate_sdk._version import __version__
from tollgate_sdk.errors import ApiError

INGEST_PATH = "/v1/ingest/events"

OnRejected = Callable[[Event, str, str], None]
OnError = Callable[[Exception, list[Event]], None]
OnDrop = Callable[[Event, str], None]


@dataclass
class RetryPolicy:
    max_retries: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**attempt)], and never before Retry-After."""
        jittered = self.rng.uniform(0, min(self.backoff_max, self.backoff_base * (2**attempt)))
        return max(jittered, retry_after) if retry_after is not None else jittered


def headers(api_key: str, tenant_id: str | None, use_gzip: bool) -> dict[str, str]:
    out = {
        "Authorization": f"Bearer {api_key}",
        "Content-Type": "application/json",
        "User-Agent": f"tollgate-sdk-python/{__version__}",
    }
    if tenant_id:
        out["X-Tenant-Id"] = tenant_id
    if use_gzip:
        out["Content-Encoding"] = "gzip"
    return out


def body_for(raw: bytes, use_gzip: bool) -> bytes:
    return gzip.compress(raw, compresslevel=5) if use_gzip else raw


def retry_after_seconds(value: str | None, cap: float = 300.0) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), bounded to ``cap``."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            from datetime import UTC, datetime

            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), cap)


@dataclass
class Outcome:
    """What one attempt came to: done (``result`` or ``error``), or retry after ``retry_after``."""

    retry: bool
    result: dict[str, Any] | None = None
    error: ApiError | None = None
    retry_after: float | None = None


def _problem(response: httpx.Response) -> tuple[str | None, str]:
    try:
        body = response.json()
    except ValueError:
        return None, response.text[:500]
    if isinstance(body, dict):
        return body.get("code"), str(body.get("detail") or body.get("title") or "")
    return None, response.text[:500]


def judge(response: httpx.Response) -> Outcome:
    status = response.status_code
    if 200 <= status < 300:
        try:
            body = response.json()
        except ValueError:
            body = {}
        return Outcome(retry=False, result=body if isinstance(body, dict) else {})
    code, detail = _problem(response)
    error = ApiError(f"HTTP {status} {code or ''}: {detail}".strip(), status=status, code=code, detail=detail)
    if status == 429 or status >= 500:
        return Outcome(retry=True, error=error, retry_after=retry_after_seconds(response.headers.get("Retry-After")))
    return Outcome(retry=False, error=error)


def network_failure(exc: Exception) -> Outcome:
    return Outcome(retry=True, error=ApiError(f"network error: {type(exc).__name__}: {exc}", detail=str(exc)))


RETRYABLE_NETWORK_ERRORS: tuple[type[Exception], ...] = (httpx.TransportError,)
