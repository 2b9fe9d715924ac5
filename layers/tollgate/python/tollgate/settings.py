"""Runtime settings, read once from the environment (set by CDK on AWS, by the local stack locally).

A plain pydantic model over ``TOLLGATE_*`` variables: pydantic ships in the Powertools layer, so the
functions need nothing else at run time.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: str = "local"
    main_table: str = "tollgate-main"
    events_table: str = "tollgate-events"
    usage_table: str = "tollgate-usage"
    event_bus: str = "tollgate"
    manifest_bucket: str = "tollgate-manifests"
    bill_run_state_machine_arn: str = ""
    dunning_state_machine_arn: str = ""
    bulk_migration_state_machine_arn: str = ""
    subscription_clock_state_machine_arn: str = ""
    # The platform-admin credential: a Secrets Manager secret on AWS; its SHA-256 directly locally.
    platform_admin_secret_id: str = ""
    platform_admin_key_sha256: str = ""
    # How long an authorizer decision may be cached (API Gateway caches on the auth headers): <= 60 s.
    auth_cache_ttl_seconds: int = 60
    # Usage ingestion defaults; each tenant may override them (PUT /v1/ingest/settings).
    ingest_rate_limit_per_second: int = 20_000  # events per second, per tenant
    ingest_key_rate_limit_per_second: int = 10_000  # events per second, per API key
    event_retention_days: int = 90  # raw events and the event log (usage buckets are kept)
    # Outbound webhooks: the delivery queue; a factor compressing the retry schedule (the local stack
    # uses less than 1 so a test sees a retry in seconds); http:// and private addresses allowed (local only).
    webhook_queue_url: str = ""
    webhook_retry_scale: float = 1.0
    webhook_allow_private_urls: bool = False
    # Per-tenant API request limit (requests per second, every authenticated route), enforced by the API
    # function when ``tenant_throttle`` is on (CDK and the local stack turn it on); the platform admin sets a
    # tenant's own limit (PUT /v1/tenants/{tenant_id}/rate-limit), at most ``tenant_rate_limit_max``.
    tenant_throttle: bool = False
    tenant_rate_limit_per_second: int = 500
    tenant_rate_limit_max: int = 20_000
    # Where the customer portal is served (CloudFront's URL on AWS): portal session links are
    # ``{portal_base_url}/portal/#session=…``. Empty: the request's own origin (the local stack serves both).
    portal_base_url: str = ""
    # The web origins allowed to call the API from a browser (CORS), comma-separated: on AWS, the console/portal
    # CloudFront origin (tollgate.api.cors); empty locally, where the console is on the API's own origin.
    cors_origins: str = ""

    @classmethod
    def from_env(cls) -> Settings:
        prefix = "TOLLGATE_"
        values = {
            name: os.environ[prefix + name.upper()] for name in cls.model_fields if prefix + name.upper() in os.environ
        }
        return cls.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
