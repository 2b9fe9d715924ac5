"""The SDK's Lambda REQUEST authorizer (``tollgate_sdk.gateway.authorizer_handler``) against the real check
API on the local stack, with events shaped as API Gateway (REST) sends them: one policy document right
for every route (all-policies mode), denials per method ARN, ids in the context."""

from __future__ import annotations

import pytest

from tests.e2e import gateway_kit
from tests.e2e.billing_kit import tenant_of
from tests.e2e.builders import wait_for

pytestmark = pytest.mark.e2e
PREFIX = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod"


def event(key: str | None) -> dict:
    headers = {"Authorization": f"Bearer {key}"} if key else {"Authorization": "Basic x"}
    return {
        "type": "REQUEST",
        "methodArn": f"{PREFIX}/GET/api/widgets/7",
        "resource": "/api/widgets/{id}",
        "path": "/api/widgets/7",
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {},
        "multiValueQueryStringParameters": {},
        "pathParameters": {"id": "7"},
        "stageVariables": {},
        "requestContext": {
            "path": "/prod/api/widgets/7",
            "accountId": "123456789012",
            "resourceId": "r1",
            "stage": "prod",
            "requestId": "req-1",
            "identity": {"sourceIp": "10.0.0.1"},
            "resourcePath": "/api/widgets/{id}",
            "httpMethod": "GET",
            "apiId": "abcdef123",
        },
    }


def handler_for(s: gateway_kit.Setup):
    from tollgate_sdk.gateway import GatewayClient, authorizer_handler

    from infra.local import demo_api

    assert demo_api.ACTIVE is not None
    transport = demo_api.InProcessTransport(demo_api.ACTIVE.transport.gateway)
    key = s.gateway.headers["Authorization"].removeprefix("Bearer ")
    return authorizer_handler(GatewayClient("http://local", key, tenant_of(s.owner), transport=transport))


def statements(result: dict) -> dict[str, list[str]]:
    return {st["Effect"]: st["Resource"] for st in result["policyDocument"]["Statement"]}


def test_the_authorizer_allows_a_subscriber_and_denies_the_routes_of_an_exhausted_policy(server):
    s = gateway_kit.setup(server, limit="1")
    allowed = handler_for(s)(event(s.key), None)
    assert statements(allowed) == {"Allow": [f"{PREFIX}/*/*"]}
    assert allowed["context"]["subscription_id"] == s.subscription["id"]
    assert allowed["principalId"] == s.customer["id"]
    assert s.meter_call()["reason"] == "METERED"
    wait_for(lambda: not s.check()["allowed"], timeout=15)
    denied = handler_for(s)(event(s.key), None)  # a new execution environment: an empty cache
    routes = [route.split(" ", 1) for route in s.policy["routes"]]
    assert statements(denied) == {
        "Allow": [f"{PREFIX}/*/*"],
        "Deny": sorted(f"{PREFIX}/{method}{path}" for method, path in routes),
    }
    assert denied["context"]["code"] == "USAGE_LIMIT_REACHED"


def test_the_authorizer_refuses_a_wrong_key_and_a_missing_credential(server):
    s = gateway_kit.setup(server)
    refused = handler_for(s)(event("sk_live_nope"), None)
    assert statements(refused) == {"Deny": [f"{PREFIX}/*/*"]}  # a key refused outright: the whole API
    assert refused["context"]["code"] == "KEY_INVALID"
    with pytest.raises(Exception, match="Unauthorized"):
        handler_for(s)(event(None), None)
