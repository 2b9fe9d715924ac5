"""Builds the AWS adapters from settings, once per process (the composition root of the functions)."""

from __future__ import annotations

from functools import lru_cache

from tollgate.settings import get_settings
from tollgate.wiring_gateways import integration_deps as integration_deps  # built there (issue 19)


@lru_cache(maxsize=1)
def tenancy_repository():
    from tollgate.adapters.dynamodb.tenancy import DynamoTenancyRepository

    return DynamoTenancyRepository(get_settings().main_table)


@lru_cache(maxsize=1)
def event_publisher():
    from tollgate.adapters.eventbridge import EventBridgePublisher

    return EventBridgePublisher(get_settings().event_bus)


@lru_cache(maxsize=1)
def event_log():
    from tollgate.adapters.dynamodb.event_log import DynamoEventLog

    return DynamoEventLog(get_settings().main_table)


@lru_cache(maxsize=1)
def platform_key_sha256() -> str | None:
    """The platform-admin credential's SHA-256: from Secrets Manager on AWS, from the env locally."""
    settings = get_settings()
    if settings.platform_admin_key_sha256:
        return settings.platform_admin_key_sha256
    if settings.platform_admin_secret_id:
        import hashlib

        from tollgate.adapters import aws
        from tollgate.domain.keys import PLATFORM_PREFIX

        # The credential is "tgp_" followed by the secret's value.
        secret = aws.client("secretsmanager").get_secret_value(SecretId=settings.platform_admin_secret_id)
        return hashlib.sha256((PLATFORM_PREFIX + secret["SecretString"]).encode()).hexdigest()
    return None


def manifests():
    from tollgate.adapters.s3 import S3ManifestStore

    return S3ManifestStore(get_settings().manifest_bucket)


def bill_run_deps():
    from tollgate.usecases.bill_runs import Deps

    return Deps(
        runs=bill_run_repository(),
        tenants=tenancy_repository(),
        subscriptions=subscription_repository(),
        manifests=manifests(),
    )


def biller():
    """Bill one subscription for one period: the billing pipeline (tollgate.usecases.billing). Built once
    per page of a bill run: ``prefetch`` reads the page's customers, invoices and wallets in bulk into a
    page snapshot; plan versions, meters and settings are read once for the page."""
    from tollgate.usecases.billing import PageBiller

    return PageBiller(billing_repos())


@lru_cache(maxsize=1)
def bill_run_repository():
    from tollgate.adapters.dynamodb.bill_runs import DynamoBillRunRepository

    return DynamoBillRunRepository(get_settings().main_table)


@lru_cache(maxsize=1)
def catalog_repository():
    from tollgate.adapters.dynamodb.catalog import DynamoCatalogRepository

    return DynamoCatalogRepository(get_settings().main_table)


@lru_cache(maxsize=1)
def customer_repository():
    from tollgate.adapters.dynamodb.customers import DynamoCustomerRepository

    return DynamoCustomerRepository(get_settings().main_table)


@lru_cache(maxsize=1)
def subscription_repository():
    from tollgate.adapters.dynamodb.subscriptions import DynamoSubscriptionRepository

    return DynamoSubscriptionRepository(get_settings().main_table)


@lru_cache(maxsize=1)
def migration_repository():
    from tollgate.adapters.dynamodb.migrations import DynamoMigrationRepository

    return DynamoMigrationRepository(get_settings().main_table)


@lru_cache(maxsize=1)
def workflow_starter():
    from tollgate.adapters.stepfunctions import StepFunctionsStarter

    return StepFunctionsStarter()


@lru_cache(maxsize=1)
def usage_event_store():
    from tollgate.adapters.dynamodb.usage_events import DynamoUsageEventStore

    settings = get_settings()
    return DynamoUsageEventStore(settings.events_table, settings.event_retention_days)


@lru_cache(maxsize=1)
def usage_store():
    from tollgate.adapters.dynamodb.usage import DynamoUsageStore

    return DynamoUsageStore(get_settings().usage_table)


@lru_cache(maxsize=1)
def ingest_rate_limiter():
    """One per process: it remembers the rate-counter shards found full in the current second."""
    from tollgate.adapters.dynamodb.usage import DynamoRateLimiter

    return DynamoRateLimiter(get_settings().usage_table)


def ingest_deps():
    from tollgate.adapters.dynamodb.usage import DynamoIngestSettingsRepository, DynamoOutbox
    from tollgate.ports.usage import IngestSettings
    from tollgate.usecases.ingest import IngestDeps

    settings = get_settings()
    return IngestDeps(
        events=usage_event_store(),
        customers=customer_repository(),
        subscriptions=subscription_repository(),
        catalog=catalog_repository(),
        limiter=ingest_rate_limiter(),
        settings=DynamoIngestSettingsRepository(settings.main_table),
        outbox=DynamoOutbox(settings.main_table),
        defaults=IngestSettings(
            rate_limit_per_second=settings.ingest_rate_limit_per_second,
            key_rate_limit_per_second=settings.ingest_key_rate_limit_per_second,
            retention_days=settings.event_retention_days,
        ),
    )


def subscription_repos():
    from tollgate.usecases.subscriptions import Repos

    return Repos(
        subscriptions=subscription_repository(),
        customers=customer_repository(),
        catalog=catalog_repository(),
        tenancy=tenancy_repository(),
        migrations=migration_repository(),
    )


@lru_cache(maxsize=1)
def billing_repository():
    """Invoices, credit notes, wallets and billing settings (one adapter: one transaction spans them)."""
    from tollgate.adapters.dynamodb.billing import DynamoBillingRepository

    return DynamoBillingRepository(get_settings().main_table)


@lru_cache(maxsize=1)
def mailer():
    from tollgate.adapters.ses import SesMailer

    return SesMailer()


@lru_cache(maxsize=1)
def tax_providers() -> dict:
    """Tax engines by name. "builtin" (the tenant's own rates) always; Avalara AvaTax and Stripe Tax when
    their credentials are configured (``tollgate.adapters.tax``); tests add fakes to this dict."""
    from tollgate.adapters.tax import configured_providers
    from tollgate.domain.billing.tax import BUILTIN, BuiltinTaxProvider

    return {BUILTIN: BuiltinTaxProvider(), **configured_providers()}


@lru_cache(maxsize=1)
def usage_reader():
    """Billing reads usage from the hourly buckets the usage aggregator maintains."""
    from tollgate.adapters.dynamodb.usage_reader import BucketUsageReader

    return BucketUsageReader(usage_store())


def billing_repos():
    from tollgate.usecases.billing import BillingRepos

    billing = billing_repository()
    return BillingRepos(
        subscriptions=subscription_repository(),
        customers=customer_repository(),
        catalog=catalog_repository(),
        invoices=billing,
        credit_notes=billing,
        wallets=billing,
        settings=billing,
        usage=usage_reader(),
        mailer=mailer(),
        tax_providers=tax_providers(),
        watermarks=usage_watermarks(),
    )


def usage_watermarks():
    """The aggregator's per-partition watermarks (the bill run waits for them)."""
    from tollgate.adapters.dynamodb.usage_watermarks import DynamoUsageWatermarks

    settings = get_settings()
    return DynamoUsageWatermarks(settings.events_table, settings.usage_table)


def reconciliation_repos():
    """Reconciliation reads invoices, the usage buckets and the raw events."""
    from tollgate.adapters.dynamodb.reconciliation import DynamoRawUsage
    from tollgate.usecases.reconciliation import ReconciliationRepos

    raw = DynamoRawUsage(get_settings().events_table)
    return ReconciliationRepos(billing_repository(), usage_reader(), catalog_repository(), raw, billing_repos())


@lru_cache(maxsize=1)
def coupon_repository():
    from tollgate.adapters.dynamodb.coupons import DynamoCouponRepository

    return DynamoCouponRepository(get_settings().main_table)


@lru_cache(maxsize=1)
def payment_repository():
    from tollgate.adapters.dynamodb.payments import DynamoPaymentRepository

    return DynamoPaymentRepository(get_settings().main_table)


def payment_provider_factory():
    """The tenant's payment provider, from its payment settings (tests swap this for a fake)."""
    from tollgate.adapters.payments import provider_for

    return provider_for


def webhook_verifier():
    from tollgate.adapters.payments.stripe import verify_webhook

    return verify_webhook


def payment_repos():
    from tollgate.adapters.stepfunctions import DunningWorkflow
    from tollgate.usecases.payments import PaymentRepos

    return PaymentRepos(
        invoices=billing_repository(),
        subscriptions=subscription_repository(),
        customers=customer_repository(),
        catalog=catalog_repository(),
        payments=payment_repository(),
        providers=payment_provider_factory(),
        dunning=DunningWorkflow(workflow_starter()),
        verify_webhook=lambda payload, signature, secret: webhook_verifier()(payload, signature, secret),
    )


@lru_cache(maxsize=1)
def gateway_store():
    from tollgate.adapters.dynamodb.gateway import DynamoGatewayStore

    return DynamoGatewayStore(get_settings().main_table)


def gateway_repos():
    from tollgate.usecases.gateway.repos import GatewayRepos
    from tollgate.wiring_gateway_sync import gateway_link_repository

    return GatewayRepos(
        store=gateway_store(),
        tenancy=tenancy_repository(),
        customers=customer_repository(),
        subscriptions=subscription_repository(),
        catalog=catalog_repository(),
        invoices=billing_repository(),
        wallets=billing_repository(),
        payments=payment_repository(),
        usage=usage_reader(),
        ingest=ingest_deps,
        links=gateway_link_repository(),
    )


def webhook_deps():
    """Endpoints, deliveries, the delivery queue, the HTTP sender, and SES for the disable email."""
    from tollgate.adapters.dynamodb.webhooks import DynamoWebhookRepository
    from tollgate.adapters.webhooks import SqsDeliveryQueue, Urllib3Sender, resolve
    from tollgate.usecases.webhook_delivery import WebhookDeps

    settings = get_settings()
    return WebhookDeps(
        repo=DynamoWebhookRepository(settings.main_table),
        queue=SqsDeliveryQueue(settings.webhook_queue_url),
        sender=Urllib3Sender(),
        mailer=mailer(),
        billing_settings=billing_repository(),
        retry_scale=settings.webhook_retry_scale,
        allow_private_urls=settings.webhook_allow_private_urls,
        resolve=resolve,
    )


def reset() -> None:
    """Forget every adapter built so far (each ``lru_cache`` of this module): the next call rebuilds it."""
    for value in list(globals().values()):
        if callable(getattr(value, "cache_clear", None)) and getattr(value, "__module__", None) == __name__:
            value.cache_clear()
    from tollgate import wiring_gateways, wiring_portal

    wiring_gateways.reset()
    wiring_portal.reset()


@lru_cache(maxsize=1)
def tenant_rate_limits():
    from tollgate.adapters.dynamodb.tenant_limits import DynamoTenantRateLimits

    return DynamoTenantRateLimits(get_settings().main_table)


@lru_cache(maxsize=1)
def tenant_throttle():
    """The per-tenant API request limit the API function applies to every authenticated request (None when
    the stack does not turn it on: unit tests call the API without AWS)."""
    from functools import partial

    from tollgate.adapters.dynamodb.usage import DynamoRateLimiter
    from tollgate.usecases.tenant_throttle import LimitCache, throttle

    settings = get_settings()
    if not settings.tenant_throttle:
        return None
    limiter = DynamoRateLimiter(settings.usage_table, counter="APIRATE")
    return partial(
        throttle, tenant_rate_limits(), limiter, LimitCache(), default_limit=settings.tenant_rate_limit_per_second
    )


def replay_deps():
    """What the stream replay needs (tollgate.usecases.stream_replay)."""
    from functools import partial

    from tollgate.adapters.dynamodb.outbox_replay import publish_outbox_between, publish_outbox_records
    from tollgate.adapters.dynamodb.usage_events import decode_stream_record
    from tollgate.adapters.dynamodb.usage_rebuild import DynamoBucketRebuilder, stream_records
    from tollgate.usecases.stream_replay import ReplayDeps, buckets_received_between

    settings = get_settings()

    def between(first, last):
        return buckets_received_between(tenancy_repository().list_tenant_ids(), usage_event_store(), first, last)

    return ReplayDeps(
        rebuilder=DynamoBucketRebuilder(settings.events_table, settings.usage_table),
        usage_store=usage_store(),
        watermarks=usage_watermarks(),
        read_stream=stream_records,
        decode=decode_stream_record,
        buckets_received_between=between,
        publish_records=partial(publish_outbox_records, event_publisher()),
        publish_outbox_between=lambda first, last: publish_outbox_between(
            event_publisher(), settings.main_table, tenancy_repository().list_tenant_ids(), first, last
        ),
    )
