"""The tenant's billing settings (``tollgate.domain.billing.settings``): saving a sender asks the email
provider to verify it (again, if it was verified before)."""

from __future__ import annotations

from typing import Any

from tollgate.domain.billing.events import billing_settings_updated
from tollgate.domain.billing.settings import BillingSettings, parse_settings
from tollgate.domain.errors import InvalidInput
from tollgate.ports.billing import MailRejected
from tollgate.usecases.billing import BillingRepos


def get_billing_settings(repos: BillingRepos, tenant_id: str) -> BillingSettings:
    return repos.settings.get_settings(tenant_id)


def put_billing_settings(repos: BillingRepos, tenant_id: str, data: dict[str, Any]) -> BillingSettings:
    """Replace the tenant's billing settings. The sender is submitted to the email provider for
    verification on every save (on SES: a verification email to that address until it is verified)."""
    current = repos.settings.get_settings(tenant_id)
    now = repos.clock()
    settings = parse_settings(
        tenant_id, data, providers=repos.tax_provider_names(), at=now, revision=current.revision + 1
    )
    if settings.sender_email:  # (re)submitted on every save: a lost verification is fixed by saving again
        try:
            repos.mailer.verify_sender(settings.sender_email)
        except MailRejected as exc:
            raise InvalidInput(
                f"The email provider refused sender {settings.sender_email}: {exc}", field="sender_email"
            ) from None
    repos.settings.save_settings(settings, current.revision, [billing_settings_updated(settings, now)])
    return settings
