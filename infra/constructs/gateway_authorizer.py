"""``GatewayAuthorizer``: Tollgate's gateway enforcement in front of a tenant's own API Gateway REST API.

    gateway = GatewayAuthorizer(self, "Tollgate", api_url="https://api.tollgate.example", tenant_id="ten_…",
                                gateway_key_secret=secret, cache_ttl_seconds=60)
    api = apigw.RestApi(self, "Api", deploy_options=apigw.StageOptions(
        access_log_destination=gateway.access_log_destination, access_log_format=gateway.access_log_format))
    api.root.add_resource("widgets").add_method("GET", integration, authorizer=gateway.authorizer)
    gateway.add_problem_responses(api)

- ``authorizer``: a ``RequestAuthorizer`` on a Lambda running
  :func:`tollgate_sdk.gateway.authorizer_handler` (all-policies mode: one cached policy document right for
  every route), identity source the customer's key header, results cached for ``cache_ttl_seconds``
  (use the policies' ``cache_ttl_seconds``; API Gateway allows 0-3600). When the customer's product is
  synced to this API (``POST /v1/products/{product_id}/gateway/sync``: a usage plan per plan version, an
  API key per subscription, ``apiKeySource=AUTHORIZER``) it returns the subscription's usage identifier as
  ``usageIdentifierKey``, so API Gateway throttles and counts the request under that usage plan.
- ``access_logs``: the stage's access log group (JSON lines with the authorizer's ``subscription_id``);
  a subscription filter sends them to a metering Lambda (:func:`tollgate_sdk.gateway.access_log_handler`),
  which meters in batches of up to 100 with API Gateway's ``requestId``, after the response.
- ``add_problem_responses(api)``: 401/403 gateway responses as ``application/problem+json`` carrying the
  denial's ``code`` and ``detail`` from the authorizer's context.

Both functions read the tenant's GATEWAY operator key from ``gateway_key_secret`` (read access only).
"""

from __future__ import annotations

import json

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_logs_destinations as log_destinations
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import gateway_bundle
from infra.constructs.naming import acknowledge
from infra.definitions import REPO_ROOT

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
ENTRY = "tollgate_sdk.gateway.lambda_entry"
PROBLEM_JSON = "application/problem+json"


def _access_log_format() -> str:
    import sys

    sdk = str(REPO_ROOT / "sdk" / "python")
    if sdk not in sys.path:
        sys.path.append(sdk)
    from tollgate_sdk.gateway.access_logs import ACCESS_LOG_FORMAT

    return ACCESS_LOG_FORMAT


class GatewayAuthorizer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api_url: str,
        tenant_id: str,
        gateway_key_secret: secretsmanager.ISecret,
        cache_ttl_seconds: int = 60,
        auth_header: str = "Authorization",
        auth_scheme: str = "Bearer",
        fail_policy: str = "allow_known",
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
    ) -> None:
        super().__init__(scope, construct_id)
        if not 0 <= cache_ttl_seconds <= 3600:
            raise ValueError(f"cache_ttl_seconds={cache_ttl_seconds}: API Gateway caches authorizer results 0-3600 s")
        self.code = lambda_.Code.from_asset(str(gateway_bundle.build()))
        environment = {
            "TOLLGATE_API_URL": api_url,
            "TOLLGATE_TENANT_ID": tenant_id,
            "TOLLGATE_GATEWAY_KEY_SECRET_ARN": gateway_key_secret.secret_arn,
            "TOLLGATE_AUTH_HEADER": auth_header,
            "TOLLGATE_AUTH_SCHEME": auth_scheme,
            "TOLLGATE_FAIL_POLICY": fail_policy,
        }
        self.authorizer_function = self._function(
            "AuthorizerFunction", "authorizer", environment, gateway_key_secret, log_retention, removal_policy
        )
        self.authorizer = apigw.RequestAuthorizer(
            self,
            "Authorizer",
            handler=self.authorizer_function,
            identity_sources=[apigw.IdentitySource.header(auth_header)],
            results_cache_ttl=Duration.seconds(cache_ttl_seconds),
        )
        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=log_retention, removal_policy=removal_policy)
        self.access_log_destination = apigw.LogGroupLogDestination(self.access_logs)
        self.access_log_format = apigw.AccessLogFormat.custom(_access_log_format())
        self.metering_function = self._function(
            "MeteringFunction", "access_logs", environment, gateway_key_secret, log_retention, removal_policy
        )
        self.subscription = logs.SubscriptionFilter(
            self,
            "MeterAccessLogs",
            log_group=self.access_logs,
            destination=log_destinations.LambdaDestination(self.metering_function),
            filter_pattern=logs.FilterPattern.all_events(),
        )

    def _function(
        self,
        cid: str,
        handler: str,
        environment: dict[str, str],
        secret: secretsmanager.ISecret,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> lambda_.Function:
        role = iam.Role(
            self,
            f"{cid}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Tollgate gateway {handler}: reads the GATEWAY key secret and writes its own logs.",
        )
        log_group = logs.LogGroup(self, f"{cid}Logs", retention=log_retention, removal_policy=removal_policy)
        fn = lambda_.Function(
            self,
            cid,
            description=f"Tollgate gateway enforcement: {handler} ({ENTRY}.{handler}).",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=f"{ENTRY}.{handler}",
            code=self.code,
            memory_size=256,
            timeout=Duration.seconds(10 if handler == "authorizer" else 60),
            role=role,
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
            environment=environment,
        )
        log_group.grant_write(role)
        secret.grant_read(role)
        acknowledge(
            fn,
            "AwsSolutions-L1",
            "Python 3.12 on purpose: the SDK is tested on 3.11-3.12 and the arm64 python3.12 runtime is the "
            "one the rest of Tollgate runs on.",
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5",
            "X-Ray tracing is active: xray:PutTraceSegments and xray:PutTelemetryRecords do not support "
            "resource-level permissions, so Resource '*' is the only possible scope for them.",
            applies_to=["Resource::*"],
        )
        return fn

    def add_problem_responses(self, api: apigw.RestApi) -> None:
        """401 (no key) and 403 (a denial) as problem+json with the denial's code and detail."""
        denied = {
            "type": "https://docs.tollgate.dev/problems/$context.authorizer.code",
            "title": "Forbidden",
            "status": 403,
            "code": "$context.authorizer.code",
            "detail": "$context.authorizer.detail",
            "instance": "$context.path",
        }
        missing = {
            "type": "https://docs.tollgate.dev/problems/key-missing",
            "title": "API key missing",
            "status": 401,
            "code": "KEY_MISSING",
            "detail": "Send your API key in the Authorization header: 'Authorization: Bearer sk_live_...'.",
            "instance": "$context.path",
        }
        for cid, response_type, status, body in (
            ("AccessDenied", apigw.ResponseType.ACCESS_DENIED, "403", denied),
            ("Unauthorized", apigw.ResponseType.UNAUTHORIZED, "401", missing),
        ):
            api.add_gateway_response(
                f"Tollgate{cid}",
                type=response_type,
                status_code=status,
                response_headers={"Content-Type": f"'{PROBLEM_JSON}'", "X-Request-Id": "context.requestId"},
                templates={"application/json": json.dumps(body)},
            )
