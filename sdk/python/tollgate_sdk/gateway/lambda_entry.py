"""Lambda entry points used by the CDK construct (``infra/constructs/gateway_authorizer.py``).

Environment: ``TOLLGATE_API_URL``, ``TOLLGATE_TENANT_ID``, ``TOLLGATE_GATEWAY_KEY_SECRET_ARN`` (a Secrets
Manager secret holding the tenant's GATEWAY operator key, read once per execution environment),
``TOLLGATE_AUTH_HEADER`` / ``TOLLGATE_AUTH_SCHEME`` (default ``Authorization`` / ``Bearer``) and
``TOLLGATE_FAIL_POLICY`` (default ``allow_known``). The check client and its cache live as long as the
execution environment, so warm invocations reuse cached answers.
"""

from __future__ import annotations

import os
from typing import Any, cast

from tollgate_sdk.gateway.access_logs import access_log_handler
from tollgate_sdk.gateway.authorizer import authorizer_handler
from tollgate_sdk.gateway.client import GatewayClient
from tollgate_sdk.gateway.decision import FailPolicy

_client: GatewayClient | None = None


def gateway_client() -> GatewayClient:
    global _client
    if _client is None:
        import boto3

        secret = boto3.client("secretsmanager").get_secret_value(SecretId=os.environ["TOLLGATE_GATEWAY_KEY_SECRET_ARN"])
        _client = GatewayClient(
            os.environ["TOLLGATE_API_URL"],
            secret["SecretString"].strip(),
            os.environ.get("TOLLGATE_TENANT_ID") or None,
            fail_policy=cast(FailPolicy, os.environ.get("TOLLGATE_FAIL_POLICY", "allow_known")),
        )
    return _client


def authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    handler = authorizer_handler(
        gateway_client(),
        auth_header=os.environ.get("TOLLGATE_AUTH_HEADER", "Authorization"),
        auth_scheme=os.environ.get("TOLLGATE_AUTH_SCHEME", "Bearer"),
    )
    return handler(event, context)


def access_logs(event: dict[str, Any], context: Any) -> dict[str, int]:
    return access_log_handler(gateway_client())(event, context)
