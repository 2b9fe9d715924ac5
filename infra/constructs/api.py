"""The REST API, from ``infra/definitions/api.json``.

- Every declared route becomes a resource path with an ``ANY`` method proxied to the declared
  function (``LambdaIntegration``, proxy): routing inside a path is the function's job (Powertools
  resolver).
- Each declared authorizer is a ``RequestAuthorizer`` on the authorizer function, its identity sources
  the declared headers, its results cached for the declared TTL. A request without one of those headers
  never reaches the authorizer: API Gateway answers 401 (the ``UNAUTHORIZED`` gateway response below).
- Methods behind an authorizer also declare those headers as required request parameters and use a
  request validator (parameters + body; bodies have no models, the resolver validates them).
- The stage: access logs (JSON) to a log group, execution logs at ERROR level (no request/response
  data) to API Gateway's own ``API-Gateway-Execution-Logs_<api id>/<stage>`` group, created here with the
  stack's log retention (API Gateway would otherwise create it on first use, never expiring), X-Ray
  tracing, detailed metrics, stage-wide throttling.
- Gateway responses answer ``application/problem+json`` bodies shaped like the function's own problems
  (``type``, ``title``, ``status``, ``detail``, ``instance``, ``code``) with an ``X-Request-Id`` header
  (``context.requestId``), for every response type API Gateway can produce (so ``status`` always matches
  the HTTP status), including the ``DEFAULT_4XX`` / ``DEFAULT_5XX`` catch-alls.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import definitions
from infra.constructs import cors
from infra.constructs.naming import acknowledge, pascal

PROBLEM_JSON = "application/problem+json"
# The function that implements every declared authorizer (api.json names no function for them).


@dataclass(frozen=True)
class Problem:
    response_type: apigw.ResponseType
    code: str
    status: int
    title: str
    detail: str


_SUPPORT = "Contact support with the request id from the X-Request-Id header."

#: Every gateway response type, with the status API Gateway uses for it (MISSING_AUTHENTICATION_TOKEN,
#: which REST APIs answer for an unknown path, is turned into the 404 it really is).
PROBLEMS: tuple[Problem, ...] = (
    Problem(
        apigw.ResponseType.UNAUTHORIZED,
        "UNAUTHORIZED",
        401,
        "Unauthorized",
        "The Authorization or X-Tenant-Id header is missing or invalid. Send 'Authorization: Bearer <api key>' "
        "and, on tenant routes (/v1/...), 'X-Tenant-Id: <tenant id>'.",
    ),
    Problem(
        apigw.ResponseType.ACCESS_DENIED,
        "ACCESS_DENIED",
        403,
        "Forbidden",
        "The credentials were recognised but are not allowed to perform this request.",
    ),
    Problem(
        apigw.ResponseType.DEFAULT_4_XX,
        "BAD_REQUEST",
        400,
        "Bad request",
        "The request could not be accepted by the API gateway.",
    ),
    Problem(
        apigw.ResponseType.DEFAULT_5_XX,
        "INTERNAL_ERROR",
        500,
        "Internal error",
        f"Something went wrong on our side. {_SUPPORT}",
    ),
    Problem(
        apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
        "NOT_FOUND",
        404,
        "Not found",
        "No API route matches this method and path. Check the path against the API reference (GET /openapi.json).",
    ),
    Problem(
        apigw.ResponseType.RESOURCE_NOT_FOUND,
        "NOT_FOUND",
        404,
        "Not found",
        "No API route matches this method and path. Check the path against the API reference (GET /openapi.json).",
    ),
    Problem(
        apigw.ResponseType.BAD_REQUEST_PARAMETERS,
        "BAD_REQUEST_PARAMETERS",
        400,
        "Bad request",
        "A required request header or parameter is missing or invalid.",
    ),
    Problem(
        apigw.ResponseType.BAD_REQUEST_BODY,
        "BAD_REQUEST_BODY",
        400,
        "Bad request",
        "The request body is not valid.",
    ),
    Problem(
        apigw.ResponseType.REQUEST_TOO_LARGE,
        "REQUEST_TOO_LARGE",
        413,
        "Payload too large",
        "The request is larger than the API accepts (10 MB).",
    ),
    Problem(
        apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
        415,
        "Unsupported media type",
        "The request's Content-Type is not supported by this route.",
    ),
    Problem(
        apigw.ResponseType.THROTTLED,
        "THROTTLED",
        429,
        "Too many requests",
        "The request rate limit was exceeded. Retry with exponential backoff.",
    ),
    Problem(
        apigw.ResponseType.QUOTA_EXCEEDED,
        "QUOTA_EXCEEDED",
        429,
        "Too many requests",
        "The request quota was exceeded.",
    ),
    Problem(
        apigw.ResponseType.EXPIRED_TOKEN,
        "EXPIRED_TOKEN",
        403,
        "Forbidden",
        "The authentication token has expired.",
    ),
    Problem(
        apigw.ResponseType.INVALID_API_KEY,
        "INVALID_API_KEY",
        403,
        "Forbidden",
        "The API key is not valid for this API.",
    ),
    Problem(
        apigw.ResponseType.INVALID_SIGNATURE,
        "INVALID_SIGNATURE",
        403,
        "Forbidden",
        "The request signature is not valid.",
    ),
    Problem(
        apigw.ResponseType.WAF_FILTERED,
        "WAF_FILTERED",
        403,
        "Forbidden",
        "The request was blocked by the web application firewall.",
    ),
    Problem(
        apigw.ResponseType.AUTHORIZER_FAILURE,
        "AUTHORIZER_FAILURE",
        500,
        "Internal error",
        f"The request could not be authorized because the authorizer failed. {_SUPPORT}",
    ),
    Problem(
        apigw.ResponseType.AUTHORIZER_CONFIGURATION_ERROR,
        "AUTHORIZER_CONFIGURATION_ERROR",
        500,
        "Internal error",
        f"The request could not be authorized because the authorizer is misconfigured. {_SUPPORT}",
    ),
    Problem(
        apigw.ResponseType.API_CONFIGURATION_ERROR,
        "API_CONFIGURATION_ERROR",
        500,
        "Internal error",
        f"The API is misconfigured. {_SUPPORT}",
    ),
    Problem(
        apigw.ResponseType.INTEGRATION_FAILURE,
        "INTEGRATION_FAILURE",
        504,
        "Gateway timeout",
        f"The API function failed to answer. {_SUPPORT}",
    ),
    Problem(
        apigw.ResponseType.INTEGRATION_TIMEOUT,
        "INTEGRATION_TIMEOUT",
        504,
        "Gateway timeout",
        f"The API function did not answer in time (29 s). {_SUPPORT}",
    ),
)


def problem_template(problem: Problem) -> str:
    """The gateway response body (a mapping template: ``$context.path`` is filled in by API Gateway)."""
    body = {
        "type": f"/problems/{problem.code.lower().replace('_', '-')}",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": "$context.path",
        "code": problem.code,
    }
    return json.dumps(body, ensure_ascii=False)


ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "extendedRequestId": "$context.extendedRequestId",
        "requestTime": "$context.requestTime",
        "ip": "$context.identity.sourceIp",
        "userAgent": "$context.identity.userAgent",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "path": "$context.path",
        "protocol": "$context.protocol",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "responseLatency": "$context.responseLatency",
        "integrationLatency": "$context.integrationLatency",
        "integrationStatus": "$context.integrationStatus",
        "errorResponseType": "$context.error.responseType",
        "errorMessage": "$context.error.message",
        "principalId": "$context.authorizer.principalId",
        "authorizerError": "$context.authorizer.error",
        "authorizerLatency": "$context.authorizer.latency",
        "xrayTraceId": "$context.xrayTraceId",
    }
)


class RestApi(Construct):
    """``api``; ``authorizers[name]``; ``methods[path]`` (the ``ANY`` method of each declared route)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        functions: Mapping[str, lambda_.IFunction],
        throttling_rate_limit: float,
        throttling_burst_limit: int,
        log_retention: logs.RetentionDays,
        retain_logs: bool,
        cors_origins: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        decl = definitions.api()
        self.cors_origins = list(cors_origins)  # the console/portal origins (infra/constructs/cors.py)
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN if retain_logs else RemovalPolicy.DESTROY,
        )
        self.api = self._api(stage, decl.description, throttling_rate_limit, throttling_burst_limit)
        # API Gateway writes execution logs to a group it names and would create itself, kept forever;
        # created here first, with the stack's retention (the stage waits for it).
        self.execution_logs = logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=f"API-Gateway-Execution-Logs_{self.api.rest_api_id}/{stage}",
            retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN if retain_logs else RemovalPolicy.DESTROY,
        )
        self.api.deployment_stage.node.add_dependency(self.execution_logs)
        self.validator = self.api.add_request_validator(
            "RequestValidator",
            request_validator_name="parameters-and-body",
            validate_request_parameters=True,
            validate_request_body=True,
        )
        self.authorizers: dict[str, apigw.RequestAuthorizer] = {
            name: apigw.RequestAuthorizer(
                self,
                f"{pascal(name)}Authorizer",
                authorizer_name=f"tollgate-{stage}-{name}",
                handler=functions[auth.function],
                identity_sources=[apigw.IdentitySource.header(h) for h in auth.identity_headers],
                results_cache_ttl=Duration.seconds(auth.cache_ttl_seconds),
            )
            for name, auth in decl.authorizers.items()
        }
        self.methods: dict[str, apigw.Method] = self._routes(decl, functions)
        self._gateway_responses()
        self._acknowledge()
        cors.finish_preflight(self.api)

    def _api(self, stage: str, description: str, rate_limit: float, burst_limit: int) -> apigw.RestApi:
        """The REST API and its stage: JSON access logs, ERROR execution logs, X-Ray, throttling."""
        return apigw.RestApi(
            self,
            "Api",
            rest_api_name=f"tollgate-{stage}",
            description=description,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Every body reaches the function as bytes (base64), so a gzip/deflate body
            # (Content-Encoding) arrives intact; the API's edge decodes it (tollgate.api.json_body).
            binary_media_types=["*/*"],
            default_cors_preflight_options=cors.preflight_options(self.cors_origins),
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=stage,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(ACCESS_LOG_FORMAT),
                throttling_rate_limit=rate_limit,
                throttling_burst_limit=burst_limit,
            ),
        )

    def _routes(self, decl: definitions.Api, functions: Mapping[str, lambda_.IFunction]) -> dict[str, apigw.Method]:
        """An ``ANY`` method per declared path, proxied to its function (one integration per function)."""
        integrations: dict[str, apigw.LambdaIntegration] = {}
        methods: dict[str, apigw.Method] = {}
        for route in decl.routes:
            if route.function not in integrations:
                integrations[route.function] = apigw.LambdaIntegration(
                    functions[route.function], proxy=True, allow_test_invoke=False
                )
            resource = self.api.root.resource_for_path(route.path)
            if route.authorizer is None:
                method = resource.add_method(
                    "ANY", integrations[route.function], authorization_type=apigw.AuthorizationType.NONE
                )
                acknowledge(
                    method,
                    "AwsSolutions-APIG4",
                    f"{route.path} is public by design (declared with no authorizer in api.json): health check "
                    "and API documentation, which expose no tenant data.",
                )
            else:
                auth = decl.authorizers[route.authorizer]
                method = resource.add_method(
                    "ANY",
                    integrations[route.function],
                    authorizer=self.authorizers[route.authorizer],
                    authorization_type=apigw.AuthorizationType.CUSTOM,
                    request_validator=self.validator,
                    request_parameters={f"method.request.header.{h}": True for h in auth.identity_headers},
                )
            methods[route.path] = method
        return methods

    def _gateway_responses(self) -> None:
        for problem in PROBLEMS:
            self.api.add_gateway_response(
                f"{pascal(problem.response_type.response_type.lower())}Response",
                type=problem.response_type,
                status_code=str(problem.status),
                response_headers={
                    "Content-Type": f"'{PROBLEM_JSON}'",
                    "X-Request-Id": "context.requestId",
                    **cors.gateway_response_headers(self.cors_origins),
                },
                templates={"application/json": problem_template(problem)},
            )

    def _acknowledge(self) -> None:
        acknowledge(
            self.api,
            "AwsSolutions-COG4",
            "Tollgate authenticates API keys (and the tenant header) with its own Lambda REQUEST authorizers "
            "declared in api.json, not with Cognito user pools: callers are machines holding API keys.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-APIG3",
            "No WAF web ACL yet: the stage is throttled, every non-public route goes through the Lambda "
            "authorizer, and payloads are validated by the function; attach a regional WAFv2 web ACL when "
            "the API is exposed beyond early tenants.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-IAM4",
            "API Gateway's account-level CloudWatch role (needed for access/execution logging) uses the AWS "
            "managed policy AmazonAPIGatewayPushToCloudWatchLogs, which is the documented policy for it.",
            applies_to=[
                "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
            ],
        )
