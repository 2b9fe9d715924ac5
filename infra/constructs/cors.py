"""API Gateway's side of CORS for the console/portal origin (the function's side: ``tollgate.api.cors``).

- Preflight: every resource of the REST API answers ``OPTIONS`` itself (a mock integration, no authorizer: a
  browser's preflight never carries credentials), allowing the listed origins, every method, the API's
  request headers (``tollgate.api.cors.ALLOW_HEADERS``). The mock integration converts to text
  (``CONVERT_TO_TEXT``): the API's binary media types are ``*/*``, with which a plain mock preflight fails (500).
- Gateway responses (a 401 API Gateway answers before any function runs, a 429, ...) carry
  ``Access-Control-Allow-Origin`` for the console's origin, so the console can read their problem body.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw

from infra.constructs.naming import acknowledge
from tollgate.api.cors import ALLOW_HEADERS, MAX_AGE_SECONDS


def preflight_options(origins: Sequence[str]) -> apigw.CorsOptions | None:
    if not origins:
        return None
    return apigw.CorsOptions(
        allow_origins=list(origins),
        allow_methods=apigw.Cors.ALL_METHODS,
        allow_headers=list(ALLOW_HEADERS),
        max_age=Duration.seconds(MAX_AGE_SECONDS),
    )


def gateway_response_headers(origins: Sequence[str]) -> dict[str, str]:
    """Headers of API Gateway's own responses: the console's origin (a single value: API Gateway's responses
    are static; the function's own answers echo whichever listed origin asked)."""
    if not origins:
        return {}
    return {"Access-Control-Allow-Origin": f"'{origins[0]}'", "Access-Control-Expose-Headers": "'X-Request-Id'"}


def finish_preflight(api: apigw.RestApi) -> None:
    """Each preflight method's mock integration converts to text: with the API's binary media types ``*/*`` an
    OPTIONS request is otherwise read as binary, its mapping template cannot apply and API Gateway answers 500."""
    for child in api.node.find_all():
        if isinstance(child, apigw.Method) and child.http_method == "OPTIONS":
            cfn = child.node.default_child
            assert isinstance(cfn, apigw.CfnMethod)
            cfn.add_property_override("Integration.ContentHandling", "CONVERT_TO_TEXT")
            cfn.add_property_override("Integration.IntegrationResponses.0.ContentHandling", "CONVERT_TO_TEXT")
            acknowledge(
                child,
                "AwsSolutions-APIG4",
                "CORS preflight (OPTIONS) answered by API Gateway's mock integration: browsers send preflights "
                "without credentials, it returns only the CORS headers and never reaches a function or data.",
            )
