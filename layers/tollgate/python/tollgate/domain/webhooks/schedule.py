"""When a failed attempt is tried again (the Standard Webhooks schedule), and what disables an endpoint.

Attempts: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after the previous one (eight
in all), each delay with +/-10 % jitter, never sooner than a 429/503's ``Retry-After``. 410 Gone disables
the endpoint at once; an endpoint whose attempts have all failed for 5 days is disabled.
``scale`` compresses the schedule (the local stack and tests; 1.0 on AWS)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

DELAYS = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(DELAYS)
JITTER = 0.1
MAX_RETRY_AFTER = timedelta(hours=24)
DISABLE_AFTER = timedelta(days=5)


class Outcome:
    SUCCEEDED = "succeeded"
    RETRYING = "retrying"
    FAILED = "failed"


@dataclass(frozen=True)
class Verdict:
    outcome: str
    next_attempt_in: timedelta | None = None
    disable_reason: str | None = None


def succeeded(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A ``Retry-After`` header (seconds or an HTTP date), bounded to 24 h; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        wait = timedelta(seconds=int(value[:9]))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        wait = when.astimezone(UTC) - now if when.tzinfo else timedelta(0)
    return min(max(wait, timedelta(0)), MAX_RETRY_AFTER)


def next_delay(
    attempt: int, *, scale: float = 1.0, wait_at_least: timedelta | None = None, rng: random.Random | None = None
) -> timedelta:
    """The wait before attempt ``attempt + 1`` (``attempt`` is 1-based and < MAX_ATTEMPTS)."""
    base = DELAYS[attempt] * scale
    jitter = (rng or random).uniform(-JITTER, JITTER)
    delay = base * (1 + jitter)
    return max(delay, wait_at_least or timedelta(0))


def judge(
    *,
    status: int | None,
    attempt: int,
    manual: bool,
    failing_since: datetime | None,
    now: datetime,
    retry_after_header: str | None = None,
    scale: float = 1.0,
    rng: random.Random | None = None,
) -> Verdict:
    """What follows an attempt that answered ``status`` (None: no answer: timeout, refused, DNS...)."""
    if succeeded(status):
        return Verdict(Outcome.SUCCEEDED)
    if status == 410:
        return Verdict(Outcome.FAILED, disable_reason="The endpoint answered 410 Gone.")
    if failing_since is not None and now - failing_since >= DISABLE_AFTER:
        return Verdict(
            Outcome.FAILED,
            disable_reason=f"Every attempt failed for 5 days (since {failing_since.isoformat()}).",
        )
    if manual or attempt >= MAX_ATTEMPTS:
        return Verdict(Outcome.FAILED)
    wait = retry_after(retry_after_header, now) if status in (429, 503) else None
    return Verdict(Outcome.RETRYING, next_attempt_in=next_delay(attempt, scale=scale, wait_at_least=wait, rng=rng))
