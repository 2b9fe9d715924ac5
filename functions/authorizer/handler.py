"""API Gateway REQUEST authorizer: headers -> principal (thin adapter over tollgate.usecases.authorize).

It always allows and passes the decision in the context: the API answers 401 with the specific cause
(``auth_error``), or serves the request as the resolved caller. API Gateway caches the result on the
identity headers for at most 60 s, which bounds how long a revoked key keeps working.
"""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)

from tollgate import wiring, wiring_portal
from tollgate.observability import logger, metrics, tracer
from tollgate.usecases.authorize import authorize, credential_header_for


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context) -> dict:
    request = APIGatewayAuthorizerRequestEvent(event)
    decision = authorize(
        wiring.tenancy_repository(),
        request.headers,
        platform_key_sha256=wiring.platform_key_sha256,
        credential_header=credential_header_for(event.get("resource")),
        portal_sessions=wiring_portal.portal_session_repository(),
    )
    arn = request.parsed_arn
    policy = APIGatewayAuthorizerResponse(
        principal_id=decision.caller.key_id if decision.caller else "anonymous",
        context=decision.context(),
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
    )
    policy.allow_all_routes()
    return policy.asdict()
