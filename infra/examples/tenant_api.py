"""``TollgateSampleTenantApi``: a tenant's own REST API protected by :class:`GatewayAuthorizer`.

Synthesized by the CDK app next to the ``Tollgate`` stack (``npx cdk synth`` builds both; deploy only
the platform with ``npx cdk deploy Tollgate``). Context: ``sample_tollgate_api_url``,
``sample_tenant_id``; put the tenant's GATEWAY operator key into the secret the stack creates. To have
API Gateway throttle and count per subscription, link a product to this REST API and sync it
(``PUT /v1/products/{product_id}/gateway``, ``POST /v1/products/{product_id}/gateway/sync``): the
authorizer then returns each subscription's usage identifier as ``usageIdentifierKey``.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.constructs.gateway_authorizer import ARCHITECTURE, RUNTIME, GatewayAuthorizer
from infra.constructs.naming import acknowledge

UPSTREAM_CODE = """
import json
def handler(event, context):
    status = 201 if event["httpMethod"] == "POST" else 200
    customer = event["requestContext"]["authorizer"].get("customer_id")
    body = json.dumps({"path": event["path"], "customer": customer})
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": body}
"""


class SampleTenantApiStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, tollgate_api_url: str, tenant_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        secret = secretsmanager.Secret(
            self,
            "GatewayKey",
            description="The tenant's Tollgate GATEWAY operator key (afo_...): paste it in after deploying.",
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "The value is a Tollgate operator key issued by Tollgate (POST /v1/api-keys), not a database "
            "password: it is rotated by issuing a new GATEWAY key there and revoking the old one.",
        )
        self.gateway = GatewayAuthorizer(
            self, "Tollgate", api_url=tollgate_api_url, tenant_id=tenant_id, gateway_key_secret=secret
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name="sample-tenant-api",
            description="A tenant's API behind Tollgate's gateway authorizer (sample).",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.DESTROY,
            deploy_options=apigw.StageOptions(
                stage_name="prod",
                tracing_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                access_log_destination=self.gateway.access_log_destination,
                access_log_format=self.gateway.access_log_format,
            ),
        )
        self.upstream = self._upstream()
        integration = apigw.LambdaIntegration(self.upstream, proxy=True, allow_test_invoke=False)
        validator = self.api.add_request_validator(
            "Validator", validate_request_parameters=True, validate_request_body=True
        )
        for path, method in (("widgets", "GET"), ("orders", "POST")):
            self.api.root.add_resource(path).add_method(
                method,
                integration,
                authorizer=self.gateway.authorizer,
                authorization_type=apigw.AuthorizationType.CUSTOM,
                request_validator=validator,
                request_parameters={"method.request.header.Authorization": True},
            )
        self.gateway.add_problem_responses(self.api)
        self._acknowledge()
        CfnOutput(self, "ApiUrl", value=self.api.url)

    def _upstream(self) -> lambda_.Function:
        role = iam.Role(self, "UpstreamRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        log_group = logs.LogGroup(
            self, "UpstreamLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
        )
        fn = lambda_.Function(
            self,
            "Upstream",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="index.handler",
            code=lambda_.Code.from_inline(UPSTREAM_CODE),
            timeout=Duration.seconds(5),
            role=role,
            log_group=log_group,
        )
        log_group.grant_write(role)
        acknowledge(fn, "AwsSolutions-L1", "Python 3.12 on purpose: the same runtime as the Tollgate functions.")
        return fn

    def _acknowledge(self) -> None:
        acknowledge(
            self.api,
            "AwsSolutions-COG4",
            "Callers are machines holding Tollgate customer API keys, checked by the Tollgate gateway "
            "authorizer (a Lambda REQUEST authorizer), not Cognito users.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-APIG3",
            "A sample tenant API: attach the tenant's regional WAFv2 web ACL when it is exposed for real.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-IAM4",
            "API Gateway's account-level CloudWatch role uses the AWS managed policy "
            "AmazonAPIGatewayPushToCloudWatchLogs, which is the documented policy for it.",
            applies_to=[
                "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
            ],
        )
