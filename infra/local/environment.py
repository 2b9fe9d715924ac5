"""The local stack's account, region, process environment and resource naming."""

from __future__ import annotations

REGION = "us-east-1"
ACCOUNT = "123456789012"

#: Set in the process when the local stack starts (fake credentials; Powertools quiet and local).
LOCAL_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    # botocore >= 1.44 sends DynamoDB Streams calls to an account endpoint moto does not route.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "MOTO_ALLOW_NONEXISTENT_REGION": "true",
    "POWERTOOLS_SERVICE_NAME": "tollgate",
    "POWERTOOLS_METRICS_NAMESPACE": "Tollgate",
    # Powertools 3.37 honours both: Metrics prints no EMF blob to stdout, Tracer never imports or calls
    # the X-Ray SDK (there is no X-Ray daemon locally).
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
    "TOLLGATE_STAGE": "local",
    # Webhooks may go to a receiver on this machine (http://, 127.0.0.1); retries come 100 times sooner
    # (5 s -> 0.05 s, 5 min -> 3 s) so a retry is seen in seconds.
    "TOLLGATE_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
    "TOLLGATE_WEBHOOK_RETRY_SCALE": "0.01",
    # Per-tenant API request limits, as on AWS (infra/constructs/functions.py); the local default is higher
    # so test suites that hammer one tenant never meet it (set a tenant's own: PUT /v1/tenants/{id}/rate-limit).
    "TOLLGATE_TENANT_THROTTLE": "true",
    "TOLLGATE_TENANT_RATE_LIMIT_PER_SECOND": "1000",
}


def function_name(name: str) -> str:
    """The local Lambda function name of a declared function (``bill_run_tasks`` -> ``tollgate-bill-run-tasks``)."""
    return f"tollgate-{name.replace('_', '-')}"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name(name)}"
