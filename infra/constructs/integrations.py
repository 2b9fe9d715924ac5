"""The grants of a function declared with ``gateway_integrations`` (issue 19): the integrations' credentials
and the tenants' roles.

- ``secretsmanager:CreateSecret``/``PutSecretValue``/``GetSecretValue``/``DeleteSecret`` (``"manage"``: the
  API, which stores and rotates them) or ``GetSecretValue`` only (``"use"``: the hourly drift check) on
  ``secret:tollgate/*/integrations/*`` of this account and region only (one secret per integration,
  ``tollgate/{tenant_id}/integrations/{integration_id}``; nothing else of Secrets Manager);
- ``sts:AssumeRole`` on IAM roles (``arn:aws:iam::*:role/*``): the tenants' roles are in the tenants' own
  accounts, named by the tenants, so they are not known at deploy time; each role trusts Tollgate's account
  only with its integration's ExternalId (the role template, ``GET /v1/integrations/aws/role-template``).
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from cdk_nag import RegexAppliesTo

from infra.constructs.naming import acknowledge

SECRETS_REGEX = "/^Resource::arn:<AWS::Partition>:secretsmanager:.*:secret:tollgate\\/\\*\\/integrations\\/\\*$/g"
SECRET_ACTIONS = {
    "manage": [
        "secretsmanager:CreateSecret",
        "secretsmanager:PutSecretValue",
        "secretsmanager:GetSecretValue",
        "secretsmanager:DeleteSecret",
    ],
    "use": ["secretsmanager:GetSecretValue"],
}


def grant_gateway_integrations(role: iam.Role, mode: str) -> None:
    secrets = Stack.of(role).format_arn(
        service="secretsmanager",
        resource="secret",
        resource_name="tollgate/*/integrations/*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    role.add_to_policy(iam.PolicyStatement(actions=SECRET_ACTIONS[mode], resources=[secrets]))
    role.add_to_policy(iam.PolicyStatement(actions=["sts:AssumeRole"], resources=["arn:aws:iam::*:role/*"]))
    acknowledge(
        role,
        "AwsSolutions-IAM5",
        "Gateway integration credentials: one secret per integration, named by tenant and integration id at run "
        "time; scoped to tollgate/*/integrations/* of this account and region.",
        applies_to=[RegexAppliesTo(regex=SECRETS_REGEX)],
    )
    acknowledge(
        role,
        "AwsSolutions-IAM5",
        "sts:AssumeRole of the roles tenants create in their own accounts for a gateway integration (not known at "
        "deploy time); each trusts Tollgate's account only with the integration's ExternalId.",
        applies_to=["Resource::arn:aws:iam::*:role/*"],
    )
