"""Builds the AWS adapters from settings, once per process (the composition root of the functions)."""

from __future__ import annotations

from functools import lru_cache

from tollgate.settings import get_settings


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


def subscription_repos():
    from tollgate.usecases.subscriptions import Repos

    return Repos(
        subscriptions=subscription_repository(),
        customers=customer_repository(),
        catalog=catalog_repository(),
        tenancy=tenancy_repository(),
        migrations=migration_repository(),
    )


def reset() -> None:
    for f in (
        tenancy_repository,
        event_publisher,
        event_log,
        platform_key_sha256,
        bill_run_repository,
        catalog_repository,
        customer_repository,
        subscription_repository,
        migration_repository,
        workflow_starter,
    ):
        f.cache_clear()
