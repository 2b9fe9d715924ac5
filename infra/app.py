"""The CDK app: one stack, ``Tollgate``, checked by cdk-nag's AwsSolutions and Serverless packs.

Run from the repository root with the virtualenv's ``python3`` first on ``PATH``::

    npx cdk synth                 # cdk.json runs `python3 -m infra.app`
    npx cdk synth -c stage=prod -c deletion_protection=true

Context values (``-c name=value`` or ``cdk.json``):

- ``stage`` (default ``dev``): goes into resource names, ``TOLLGATE_STAGE`` and the API stage name.
- ``deletion_protection`` (default: on unless the stage is ``dev``).
- ``powertools_layer_version``: version of the public Powertools layer (see ``infra.constructs.functions``).
- ``log_retention_days`` (default 30): one of CloudWatch Logs' allowed retention values.
- ``api_throttling_rate_limit`` / ``api_throttling_burst_limit``: stage-wide throttling.
- ``alarm_email``: subscribed to the alarm topic (every alarm notifies it).
- ``web_assets`` (default on): upload ``web/dist`` (when built: ``make web/dist/.built``) to the console/portal
  bucket behind CloudFront; ``-c web_assets=false`` deploys the bucket and distribution without uploading.
- ``console_origin``: more browser origins allowed by the API's CORS (comma-separated, e.g. a custom domain of
  the console); the CloudFront distribution's origin is always allowed.
- ``sample_tenant_api`` (default on): also synthesize ``TollgateSampleTenantApi``, a tenant's REST API
  behind the gateway authorizer construct (``sample_tollgate_api_url``, ``sample_tenant_id``). Deploy the
  platform alone with ``npx cdk deploy Tollgate``.

Synth needs no AWS account or network: the stack is environment-agnostic (region and account are
resolved by CloudFormation) unless ``CDK_DEFAULT_ACCOUNT``/``CDK_DEFAULT_REGION`` are set.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if __package__ in (None, ""):
    # Run as a script (`python3 infra/app.py`): sys.path[0] is infra/, where the `constructs`
    # package of this repo would shadow the `constructs` library. Use the repository root instead.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    sys.path.insert(0, str(_HERE.parent))

from aws_cdk import App, Aspects, Environment  # noqa: E402
from aws_cdk import aws_logs as logs  # noqa: E402
from cdk_nag import AwsSolutionsChecks, ServerlessChecks  # noqa: E402

from infra.constructs.web_hosting import web_dist  # noqa: E402
from infra.examples.tenant_api import SampleTenantApiStack  # noqa: E402
from infra.stack import TollgateSettings, TollgateStack  # noqa: E402

STACK_NAME = "Tollgate"
SAMPLE_STACK_NAME = "TollgateSampleTenantApi"


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def _retention(days: object) -> logs.RetentionDays:
    try:
        return _RETENTION[int(str(days))]
    except (KeyError, ValueError):
        raise ValueError(f"log_retention_days={days!r}: use one of {sorted(_RETENTION)}") from None


def settings_from_context(app: App) -> TollgateSettings:
    ctx = app.node.try_get_context
    stage = str(ctx("stage") or "dev")
    defaults = TollgateSettings()
    protection = ctx("deletion_protection")
    return TollgateSettings(
        stage=stage,
        deletion_protection=_bool(protection) if protection is not None else stage != "dev",
        powertools_layer_version=int(ctx("powertools_layer_version") or defaults.powertools_layer_version),
        log_retention=_retention(ctx("log_retention_days")) if ctx("log_retention_days") else defaults.log_retention,
        api_throttling_rate_limit=float(ctx("api_throttling_rate_limit") or defaults.api_throttling_rate_limit),
        api_throttling_burst_limit=int(ctx("api_throttling_burst_limit") or defaults.api_throttling_burst_limit),
        alarm_email=str(ctx("alarm_email")) if ctx("alarm_email") else None,
        web_dist=web_dist(_HERE.parent) if _bool(True if ctx("web_assets") is None else ctx("web_assets")) else None,
        console_origins=tuple(o.strip().rstrip("/") for o in str(ctx("console_origin") or "").split(",") if o.strip()),
    )


def build(app: App | None = None) -> tuple[App, TollgateStack]:
    """The app with the Tollgate stack and cdk-nag's AwsSolutions and Serverless packs attached (unsynthesized)."""
    app = app or App()
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    stack = TollgateStack(
        app,
        STACK_NAME,
        settings=settings_from_context(app),
        env=Environment(account=account, region=region) if account and region else None,
        description="Tollgate: usage-based billing and API monetization (API, functions, tables, events, workflows).",
    )
    ctx = app.node.try_get_context
    if _bool(ctx("sample_tenant_api") if ctx("sample_tenant_api") is not None else True):
        SampleTenantApiStack(
            app,
            SAMPLE_STACK_NAME,
            tollgate_api_url=str(ctx("sample_tollgate_api_url") or "https://api.tollgate.example"),
            tenant_id=str(ctx("sample_tenant_id") or "ten_sample"),
            env=Environment(account=account, region=region) if account and region else None,
            description="Sample: a tenant REST API behind the Tollgate gateway authorizer (not needed by Tollgate).",
        )
    Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    Aspects.of(app).add(ServerlessChecks(verbose=True))
    return app, stack


def main() -> None:
    app, _ = build()
    app.synth()


if __name__ == "__main__":
    main()
