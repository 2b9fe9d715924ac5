"""A tenant's payment settings (``GET/PUT /v1/settings/payments``)."""

from __future__ import annotations

from typing import Any

from tollgate.domain.event_types import PaymentSettingsData
from tollgate.domain.events import DomainEvent
from tollgate.domain.payment_settings import PaymentSettings, parse_payment_settings
from tollgate.usecases.payments.repos import PaymentRepos


def get_payment_settings(repos: PaymentRepos, tenant_id: str) -> PaymentSettings:
    return repos.payments.get_payment_settings(tenant_id)


def put_payment_settings(repos: PaymentRepos, tenant_id: str, data: dict[str, Any]) -> PaymentSettings:
    current = repos.payments.get_payment_settings(tenant_id)
    settings = parse_payment_settings(tenant_id, data, current=current, at=repos.clock())
    event = DomainEvent(
        "payment_settings.updated",
        tenant_id,
        settings.updated_at or repos.clock(),
        {
            **PaymentSettingsData(
                provider=settings.provider, livemode=settings.livemode, max_attempts=settings.max_attempts
            )
        },
    ).with_id("payment_settings", str(settings.revision))
    repos.payments.save_payment_settings(settings, current.revision, [event])
    return settings
