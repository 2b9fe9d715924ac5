"""AWS API Gateway as a gateway provider: Tollgate assumes a role in the tenant's account (STS AssumeRole with
the integration's ExternalId) and calls API Gateway with the role's temporary credentials.

``PERMISSIONS`` is the one list of the API Gateway calls this provider makes, each with the IAM action and
resource it needs (API Gateway's IAM actions are HTTP verbs on resource paths: ``GetUsagePlans`` is
``apigateway:GET`` on ``arn:aws:apigateway:<region>::/usageplans``). The role template
(``GET /v1/integrations/aws/role-template``, :func:`role_template`) grants exactly these, and a call
the role refuses is reported naming its action and resource. Sync, drift and restore add their calls
to ``PERMISSIONS`` (integ-sync: same list, same module or ``aws_sync.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.gateways.aws_sync import SYNC_CALLS, TAG_CALL, AwsGatewaySync
from tollgate.domain.integrations.desired import DesiredGateway
from tollgate.domain.integrations.integration import FIXES, Integration, external_id_prefix
from tollgate.ports.gateway_providers import ConnectionCheck, ProviderFailure

TIMEOUT_SECONDS = 10
SESSION_SECONDS = 900  # the shortest session STS grants: one Test Connection or one sync
TENANT_ROLE_AGENT = "tollgate-tenant-role"  # in the User-Agent of every call made as a tenant's role
DENIED = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "UnrecognizedClientException"}


@dataclass(frozen=True)
class ApiGatewayPermission:
    """One API Gateway operation the provider calls: boto3's method name, the IAM action, the resource path."""

    operation: str  # boto3 client method, e.g. "get_usage_plans"
    action: str  # "apigateway:GET"
    path: str  # "/usageplans" ("*" stands for an id)

    def arn(self, region: str) -> str:
        return f"arn:aws:apigateway:{region}::{self.path}"


GET_REST_APIS = ApiGatewayPermission("get_rest_apis", "apigateway:GET", "/restapis")
GET_USAGE_PLANS = ApiGatewayPermission("get_usage_plans", "apigateway:GET", "/usageplans")

#: Test Connection reads these (the account's APIs and usage plans): a role missing one is reported.
CONNECTION_PROBES: tuple[ApiGatewayPermission, ...] = (GET_REST_APIS, GET_USAGE_PLANS)

#: Sync, drift check and restore (``aws_sync``): their calls, by boto3 operation.
SYNC_PERMISSIONS: tuple[ApiGatewayPermission, ...] = tuple(ApiGatewayPermission(*c) for c in SYNC_CALLS)
_SYNC_BY_OPERATION = {p.operation: p for p in SYNC_PERMISSIONS}

#: Every API Gateway call the provider makes (the role template grants exactly these).
PERMISSIONS: tuple[ApiGatewayPermission, ...] = (
    *CONNECTION_PROBES,
    *(p for p in SYNC_PERMISSIONS if p not in CONNECTION_PROBES),
    ApiGatewayPermission(*TAG_CALL),
)


@cache
def tollgate_account_id() -> str:
    """The AWS account Tollgate runs in (the role template's trusted principal)."""
    return str(aws.client("sts").get_caller_identity()["Account"])


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def unreachable(detail: str) -> ProviderFailure:
    return ProviderFailure("GATEWAY_UNREACHABLE", detail, FIXES["GATEWAY_UNREACHABLE"])


class AwsApiGatewayProvider:
    """One tenant's AWS account, reached through its role (config: ``role_arn``, ``external_id``, ``region``)."""

    def __init__(self, integration: Integration, credentials: dict[str, Any], http: Any = None) -> None:
        self.integration = integration
        self.role_arn = integration.config["role_arn"]
        self.external_id = integration.config.get("external_id", "")
        self.region = integration.config["region"]
        self._client: Any = None

    # -- the role's session ---------------------------------------------------------------------------

    def _assume(self) -> dict[str, str]:
        from botocore.exceptions import BotoCoreError, ClientError

        if not self.external_id.startswith(external_id_prefix(self.integration.tenant_id)):
            raise ProviderFailure(  # never another tenant's ExternalId (only Tollgate sets it; checked again here)
                "AWS_ROLE_NOT_ASSUMABLE",
                "AWS: this integration's ExternalId is not bound to its tenant, so Tollgate will not assume the role.",
                FIXES["AWS_ROLE_NOT_ASSUMABLE"],
            )
        try:
            answer = aws.client("sts").assume_role(
                RoleArn=self.role_arn,
                RoleSessionName=f"tollgate-{self.integration.integration_id}"[:64],
                ExternalId=self.external_id,
                DurationSeconds=SESSION_SECONDS,
            )
        except ClientError as exc:
            raise ProviderFailure(
                "AWS_ROLE_NOT_ASSUMABLE",
                f"AWS: Tollgate cannot assume the role {self.role_arn} with this integration's ExternalId "
                f"({_code(exc) or 'refused'}): the role does not exist, or its trust policy does not name Tollgate's "
                "account with this ExternalId.",
                FIXES["AWS_ROLE_NOT_ASSUMABLE"],
            ) from None
        except BotoCoreError as exc:
            raise unreachable(f"AWS STS could not be reached: {exc}.") from None
        return dict(answer["Credentials"])

    def client(self) -> Any:
        """The API Gateway client acting as the tenant's role (assumed once per provider)."""
        if self._client is None:
            import boto3
            from botocore.config import Config

            creds = self._assume()
            session = boto3.session.Session(
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
                region_name=self.region,
            )
            config = Config(
                connect_timeout=TIMEOUT_SECONDS,
                read_timeout=TIMEOUT_SECONDS,
                retries={"max_attempts": 2},
                user_agent_extra=TENANT_ROLE_AGENT,  # marks the calls made as the tenant's role (CloudTrail, tests)
            )
            self._client = session.client("apigateway", config=config)
        return self._client

    def call(self, permission: ApiGatewayPermission, **kwargs: Any) -> Any:
        """Call one operation of ``PERMISSIONS`` as the role; a refusal names the action and resource."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client(), permission.operation)(**kwargs)
        except ClientError as exc:
            if _code(exc) in DENIED or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403:
                raise ProviderFailure(
                    "AWS_ROLE_PERMISSIONS_INSUFFICIENT",
                    f"AWS: IAM role permissions insufficient: the role {self.role_arn} may not perform "
                    f"{permission.action} on {permission.arn(self.region)} (API Gateway {permission.operation}).",
                    FIXES["AWS_ROLE_PERMISSIONS_INSUFFICIENT"],
                ) from None
            if _code(exc) == "NotFoundException":
                raise ProviderFailure(
                    "GATEWAY_NOT_FOUND",
                    f"AWS: API Gateway answered NotFound to {permission.operation}: {exc}.",
                    FIXES["GATEWAY_NOT_FOUND"],
                ) from None
            raise unreachable(f"AWS: API Gateway {permission.operation} failed: {exc}.") from None
        except BotoCoreError as exc:
            raise unreachable(f"AWS: API Gateway in {self.region} could not be reached: {exc}.") from None

    # -- GatewayProvider ------------------------------------------------------------------------------

    def test_connection(self) -> ConnectionCheck:
        """Assume the role, then read the account's REST APIs and usage plans (one item each)."""
        try:
            for probe in CONNECTION_PROBES:
                self.call(probe, limit=1)
        except ProviderFailure as failure:
            return failure.check()
        return ConnectionCheck(True)

    def _sync(self) -> AwsGatewaySync:
        """Render/read/apply (``aws_sync``) with each call made as the role (a refusal names its permission)."""
        return AwsGatewaySync(lambda operation, **kwargs: self.call(_SYNC_BY_OPERATION[operation], **kwargs))

    def render(self, desired: DesiredGateway) -> dict[str, Any]:
        return self._sync().render(desired)

    def read(self, desired: DesiredGateway) -> dict[str, Any]:
        return self._sync().read(desired)

    def apply(self, desired: DesiredGateway) -> None:
        self._sync().apply(desired)


def role_template(account_id: str, external_id: str | None = None) -> dict[str, Any]:
    """The CloudFormation template a tenant applies in its account: a role Tollgate's account may assume
    only with the ExternalId, allowed exactly ``PERMISSIONS`` (grouped by action, resources per region)."""
    by_action: dict[str, list[Any]] = {}
    for p in PERMISSIONS:
        arn = {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::" + p.path}
        if arn not in by_action.setdefault(p.action, []):
            by_action[p.action].append(arn)
    statements = [
        {"Sid": action.split(":")[1].title(), "Effect": "Allow", "Action": action, "Resource": resources}
        for action, resources in sorted(by_action.items())
    ]
    external: dict[str, Any] = {
        "Type": "String",
        "MinLength": 2,
        "Description": "The integration's external_id (GET /v1/integrations/{integration_id}).",
    }
    if external_id:
        external["Default"] = external_id
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}},
            }
        ],
    }
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": {"Ref": "RoleName"},
            "Description": "Lets Tollgate manage API Gateway usage plans and keys for its products.",
            "MaxSessionDuration": 3600,
            "AssumeRolePolicyDocument": trust,
            "Policies": [
                {
                    "PolicyName": "TollgateApiGateway",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ],
        },
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Tollgate gateway integration: the role Tollgate assumes (with an ExternalId) in this account.",
        "Parameters": {
            "ExternalId": external,
            "RoleName": {"Type": "String", "Default": "TollgateGatewayAccess"},
        },
        "Resources": {"TollgateRole": role},
        "Outputs": {"RoleArn": {"Value": {"Fn::GetAtt": ["TollgateRole", "Arn"]}}},
    }
