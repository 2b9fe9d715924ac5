"""Integration credentials in Secrets Manager: one secret per integration, its value the credentials' JSON.

Named ``tollgate/{tenant_id}/integrations/{integration_id}`` (``integration_keys.integration_secret_name``):
the API function's role may touch only ``tollgate/*/integrations/*``. Deleting an integration deletes its
secret at once (no recovery window: the tenant asked for the credentials to be gone).
"""

from __future__ import annotations

import json
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.integration_keys import integration_secret_name


def _missing(exc: Exception) -> bool:
    return getattr(exc, "response", {}).get("Error", {}).get("Code") == "ResourceNotFoundException"


class SecretsManagerIntegrationCredentials:
    def get(self, tenant_id: str, integration_id: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            answer = aws.client("secretsmanager").get_secret_value(
                SecretId=integration_secret_name(tenant_id, integration_id)
            )
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        value = json.loads(answer["SecretString"])
        return value if isinstance(value, dict) else None

    def put(self, tenant_id: str, integration_id: str, credentials: dict[str, Any]) -> None:
        from botocore.exceptions import ClientError

        client = aws.client("secretsmanager")
        name = integration_secret_name(tenant_id, integration_id)
        text = json.dumps(credentials, sort_keys=True)
        try:
            client.put_secret_value(SecretId=name, SecretString=text)
        except ClientError as exc:
            if not _missing(exc):
                raise
            client.create_secret(Name=name, SecretString=text, Description="Tollgate gateway integration credentials")

    def delete(self, tenant_id: str, integration_id: str) -> None:
        from botocore.exceptions import ClientError

        try:
            aws.client("secretsmanager").delete_secret(
                SecretId=integration_secret_name(tenant_id, integration_id), ForceDeleteWithoutRecovery=True
            )
        except ClientError as exc:
            if not _missing(exc):
                raise
