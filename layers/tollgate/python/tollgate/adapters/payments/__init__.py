"""Payment providers: ``sandbox`` (test payment methods by name) and ``stripe``. ``provider_for`` picks
the tenant's, from its payment settings."""

from __future__ import annotations

from tollgate.domain.payment_settings import PaymentSettings
from tollgate.ports.payments import PaymentProvider


def provider_for(settings: PaymentSettings) -> PaymentProvider:
    if settings.provider == "stripe" and settings.stripe_secret_key:
        from tollgate.adapters.payments.stripe import StripeProvider

        return StripeProvider(settings.stripe_secret_key, livemode=settings.livemode)
    from tollgate.adapters.payments.sandbox import SandboxProvider

    return SandboxProvider(livemode=settings.livemode)
