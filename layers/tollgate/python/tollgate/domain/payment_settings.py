"""A tenant's payment settings (``PUT /v1/settings/payments``): the provider, Stripe's mode and secrets,
the dunning retry schedule, the final state after the last failed attempt and the grace period.
Pure: no I/O. The rules that use them are in ``tollgate.domain.payments``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from tollgate.domain.clock import parse_rfc3339, to_rfc3339
from tollgate.domain.errors import InvalidInput

DEFAULT_RETRY_SCHEDULE = (timedelta(days=3), timedelta(days=5), timedelta(days=7))
DEFAULT_GRACE_PERIOD_DAYS = 3
MAX_RETRIES = 10
PROVIDERS = ("sandbox", "stripe")


class FinalStatus(StrEnum):
    CANCELLED = "CANCELLED"
    PAST_DUE = "PAST_DUE"


# ASCII digits only (no "P٣D"), the whole string (no trailing newline).
_DURATION = re.compile(r"P(?:(?P<d>[0-9]+)D)?(?:T(?:(?P<h>[0-9]+)H)?(?:(?P<m>[0-9]+)M)?(?:(?P<s>[0-9]+)S)?)?")
MAX_DURATION_CHARS = 40  # "P365D" needs 5; a longer string is refused before any digit is converted
MAX_RETRY_WAIT = timedelta(days=365)  # the longest wait before a retry
# A dunning run is one Step Functions execution, which ends after a year: the whole schedule must fit,
# with room for the pauses after task errors (a day at most per execution).
MAX_SCHEDULE_TOTAL = timedelta(days=360)
STORED_RETRY_WAIT = timedelta(days=100_000)  # what a stored schedule may hold (older settings had no bound)


def parse_duration(value: Any, field_name: str, *, longest: timedelta = MAX_RETRY_WAIT) -> timedelta:
    """A retry interval: a whole number of days (``3``) or an ISO 8601 duration (``"P3D"``, ``"PT2S"``),
    longer than zero and at most ``longest``; checked on integers before any date arithmetic."""
    too_long = InvalidInput(
        f"{field_name} must be at most {longest.days} days (e.g. 'P30D' or 30)", field=field_name, maximum=longest.days
    )
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise InvalidInput(f"{field_name} must be more than 0 days", field=field_name)
        if value > longest.days:
            raise too_long
        return timedelta(days=value)
    text = value if isinstance(value, str) and len(value) <= MAX_DURATION_CHARS else ""
    match = _DURATION.fullmatch(text)
    if not match or not any(match.groupdict().values()):
        raise InvalidInput(
            f"{field_name} must be a number of days or an ISO 8601 duration such as 'P3D' or 'PT1H'", field=field_name
        )
    parts = {k: int(v or 0) for k, v in match.groupdict().items()}  # at most 40 digits: cheap, exact
    seconds = parts["d"] * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]
    if seconds <= 0:
        raise InvalidInput(f"{field_name} must be longer than zero", field=field_name)
    if seconds > longest.total_seconds():
        raise too_long
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "") if (days or time) else "PT0S"


def _mask(secret: str | None) -> str | None:
    return f"{secret[:6]}…{secret[-4:]}" if secret else None


@dataclass(frozen=True)
class PaymentSettings:
    """A tenant's payment settings (``PUT /v1/settings/payments``).

    - ``provider``: ``sandbox`` (test payment methods, no money moves) or ``stripe``;
    - ``livemode``: whether the tenant's Stripe account is used in live mode; Stripe webhook events of
      the other mode are refused (seed 002: test and live modes do not see each other);
    - ``stripe_secret_key`` / ``webhook_secret``: write-only (shown masked);
    - ``retry_schedule``: the wait before each retry after a failed attempt;
    - ``final_subscription_status``: what the subscription becomes after the last failed attempt;
    - ``grace_period_days``: the tenant's default grace period (plan and customer metadata
      ``max_payment_overdue_days`` override it)."""

    tenant_id: str
    provider: str = "sandbox"
    livemode: bool = False
    stripe_secret_key: str | None = None
    webhook_secret: str | None = None
    retry_schedule: tuple[timedelta, ...] = DEFAULT_RETRY_SCHEDULE
    final_subscription_status: FinalStatus = FinalStatus.CANCELLED
    grace_period_days: int = DEFAULT_GRACE_PERIOD_DAYS
    updated_at: datetime | None = None
    revision: int = 0

    @property
    def max_attempts(self) -> int:
        return 1 + len(self.retry_schedule)

    def to_json(self, *, reveal: bool = True) -> dict[str, Any]:
        """Stored form (``reveal``) or the public form (secrets masked)."""
        show = (lambda s: s) if reveal else _mask
        return {
            "provider": self.provider,
            "livemode": self.livemode,
            "stripe_secret_key": show(self.stripe_secret_key),
            "webhook_secret": show(self.webhook_secret),
            "retry_schedule": [format_duration(d) for d in self.retry_schedule],
            "final_subscription_status": self.final_subscription_status.value,
            "grace_period_days": self.grace_period_days,
            "max_attempts": self.max_attempts,
            "updated_at": to_rfc3339(self.updated_at) if self.updated_at else None,
            "revision": self.revision,
        }

    @classmethod
    def from_json(cls, tenant_id: str, d: dict[str, Any]) -> PaymentSettings:
        return cls(
            tenant_id=tenant_id,
            provider=d.get("provider") or "sandbox",
            livemode=bool(d.get("livemode", False)),
            stripe_secret_key=d.get("stripe_secret_key"),
            webhook_secret=d.get("webhook_secret"),
            retry_schedule=tuple(
                parse_duration(x, "retry_schedule", longest=STORED_RETRY_WAIT) for x in d.get("retry_schedule") or []
            ),
            final_subscription_status=FinalStatus(d.get("final_subscription_status") or FinalStatus.CANCELLED),
            grace_period_days=int(d.get("grace_period_days", DEFAULT_GRACE_PERIOD_DAYS)),
            updated_at=parse_rfc3339(d["updated_at"]) if d.get("updated_at") else None,
            revision=int(d.get("revision") or 0),
        )


def parse_payment_settings(
    tenant_id: str, data: dict[str, Any], *, current: PaymentSettings, at: datetime
) -> PaymentSettings:
    """Validate a PUT body. Omitted secrets keep their stored value; everything else omitted takes its default."""
    provider = data.get("provider", "sandbox")
    if provider not in PROVIDERS:
        raise InvalidInput(f"provider must be one of {', '.join(PROVIDERS)}", field="provider")
    livemode = data.get("livemode", False)
    if not isinstance(livemode, bool):
        raise InvalidInput("livemode must be true or false", field="livemode")
    secret_key = data.get("stripe_secret_key", current.stripe_secret_key)
    webhook_secret = data.get("webhook_secret", current.webhook_secret)
    if provider == "stripe":
        if not secret_key:
            raise InvalidInput(
                "provider stripe needs stripe_secret_key (sk_test_… or sk_live_…, or a restricted rk_ key)",
                field="stripe_secret_key",
            )
        key_live = "_live_" in secret_key
        if key_live != livemode:
            raise InvalidInput(
                f"stripe_secret_key is a {'live' if key_live else 'test'}-mode key but livemode is "
                f"{str(livemode).lower()}: "
                "Stripe's test and live modes do not see each other's customers, payments or webhooks.",
                field="stripe_secret_key",
            )
    if webhook_secret is not None and not str(webhook_secret).startswith("whsec_"):
        raise InvalidInput(
            "webhook_secret is the endpoint's signing secret and starts with whsec_", field="webhook_secret"
        )
    raw_schedule = data.get("retry_schedule", [format_duration(d) for d in DEFAULT_RETRY_SCHEDULE])
    if not isinstance(raw_schedule, list) or len(raw_schedule) > MAX_RETRIES:
        raise InvalidInput(f"retry_schedule must be a list of at most {MAX_RETRIES} intervals", field="retry_schedule")
    schedule = tuple(parse_duration(x, f"retry_schedule[{i}]") for i, x in enumerate(raw_schedule))
    total = sum(schedule, timedelta())
    if total > MAX_SCHEDULE_TOTAL:
        raise InvalidInput(
            f"retry_schedule adds up to {format_duration(total)}; all its waits together may last at most "
            f"{MAX_SCHEDULE_TOTAL.days} days (a dunning run is one Step Functions execution, which ends after a "
            "year): shorten or remove intervals.",
            field="retry_schedule",
        )
    try:
        final = FinalStatus(str(data.get("final_subscription_status", FinalStatus.CANCELLED)).upper())
    except ValueError:
        raise InvalidInput(
            "final_subscription_status must be CANCELLED or PAST_DUE", field="final_subscription_status"
        ) from None
    grace = data.get("grace_period_days", DEFAULT_GRACE_PERIOD_DAYS)
    if not isinstance(grace, int) or isinstance(grace, bool) or not 0 <= grace <= 365:
        raise InvalidInput(
            "grace_period_days must be a whole number of days between 0 and 365", field="grace_period_days"
        )
    return PaymentSettings(
        tenant_id=tenant_id,
        provider=provider,
        livemode=livemode,
        stripe_secret_key=secret_key,
        webhook_secret=webhook_secret,
        retry_schedule=schedule,
        final_subscription_status=final,
        grace_period_days=grace,
        updated_at=at,
        revision=current.revision + 1,
    )
