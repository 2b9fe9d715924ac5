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


def reset() -> None:
    for f in (tenancy_repository, event_publisher, event_log, platform_key_sha256, bill_run_repository):
        f.cache_clear()
