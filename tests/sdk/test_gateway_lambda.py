"""The Lambda surfaces: the Powertools middleware, the REQUEST authorizer (with API Gateway's event
shape) and access-log metering, against the fake gateway API."""

from __future__ import annotations

import base64
import gzip
import json
from decimal import Decimal

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from tollgate_sdk.gateway import GatewayClient, TollgateGatewayMiddleware, access_log_handler, authorizer_handler

from tests.sdk.gateway_fake import FakeGateway, policy

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/GET/v1/widgets"


def rest_event(method: str, path: str, headers: dict | None = None, request_id: str = "req-1") -> dict:
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers or {},
        "multiValueHeaders": {k: [v] for k, v in (headers or {}).items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {
            "requestId": request_id,
            "stage": "prod",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/prod{path}",
            "accountId": "123456789012",
            "apiId": "abcdef123",
            "identity": {"sourceIp": "127.0.0.1"},
        },
    }


def authorizer_event(headers: dict) -> dict:
    """A REQUEST authorizer event as API Gateway (REST) sends it."""
    return {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "resource": "/v1/widgets",
        "path": "/v1/widgets",
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {},
        "multiValueQueryStringParameters": {},
        "pathParameters": {},
        "stageVariables": {},
        "requestContext": {
            "path": "/prod/v1/widgets",
            "accountId": "123456789012",
            "resourceId": "05c7jb",
            "stage": "prod",
            "requestId": "a1b2",
            "identity": {"sourceIp": "10.0.0.1"},
            "resourcePath": "/v1/widgets",
            "httpMethod": "GET",
            "apiId": "abcdef123",
        },
    }


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway(policies=[policy(), policy("pol_2", ("POST /v1/orders",), meters={"api_requests": 2})])


def app_for(fake: FakeGateway) -> APIGatewayRestResolver:
    gw = GatewayClient("http://tollgate.test", "afo_gw", "ten_1", transport=fake.transport())
    app = APIGatewayRestResolver()
    app.use(middlewares=[TollgateGatewayMiddleware(gw)])

    @app.get("/v1/widgets")
    def widgets():
        return Response(200, "application/json", json.dumps([]), headers={"X-Tollgate-Meter-api_requests": "3"})

    @app.get("/v1/widgets/boom")
    def boom():
        return Response(500, "application/json", "{}")

    @app.get("/health")
    def health():
        return {"ok": True}

    return app


def test_middleware_allows_meters_and_strips_meter_headers(fake):
    app = app_for(fake)
    out = app.resolve(rest_event("GET", "/v1/widgets", {"Authorization": "Bearer sk_live_good"}, "req-9"), None)
    assert out["statusCode"] == 200
    assert not any(h.lower().startswith("x-tollgate-meter") for h in (out.get("multiValueHeaders") or {}))
    assert fake.meters == [
        {
            "request_id": "req-9",
            "api_key": "sk_live_good",
            "method": "GET",
            "path": "/v1/widgets",
            "status_code": 200,
            "response_meters": {"api_requests": "3"},
        }
    ]


def test_middleware_denial_is_the_servers_problem_and_the_handler_does_not_run(fake):
    fake.used = fake.limit
    out = app_for(fake).resolve(rest_event("GET", "/v1/widgets", {"authorization": "Bearer sk_live_good"}), None)
    body = json.loads(out["body"])
    assert out["statusCode"] == 403 and body["code"] == "USAGE_LIMIT_REACHED" and body["meter"] == "api_requests"
    headers = {k: v[0] for k, v in out["multiValueHeaders"].items()}
    assert headers["Content-Type"] == "application/problem+json" and headers["X-Request-Id"] == "req-1"
    assert fake.meters == []
    missing = app_for(fake).resolve(rest_event("GET", "/v1/widgets", {"Authorization": "Basic abc"}), None)
    assert missing["statusCode"] == 401 and json.loads(missing["body"])["code"] == "KEY_MISSING"


def test_middleware_meters_a_500_with_its_status_and_skips_uncovered_routes(fake):
    app = app_for(fake)
    assert (
        app.resolve(rest_event("GET", "/v1/widgets/boom", {"Authorization": "Bearer sk_live_good"}), None)["statusCode"]
        == 500
    )
    assert [m["status_code"] for m in fake.meters] == [500]  # the server's status filter leaves it out
    assert fake.used == Decimal(0)
    assert app.resolve(rest_event("GET", "/health"), None)["statusCode"] == 200
    assert len(fake.meters) == 1


def statements(result: dict) -> dict[str, list[str]]:
    return {s["Effect"]: s["Resource"] for s in result["policyDocument"]["Statement"]}


def test_authorizer_allows_the_api_and_carries_ids(fake):
    handler = authorizer_handler(GatewayClient("http://t", "afo_gw", transport=fake.transport()))
    result = handler(authorizer_event({"Authorization": "Bearer sk_live_good"}), None)
    assert statements(result) == {"Allow": ["arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/*/*"]}
    assert result["principalId"] == "cus_1"
    assert result["context"] == {"subscription_id": "sub_cus_1", "customer_id": "cus_1"}
    assert fake.checks == [{"api_key": "sk_live_good"}]  # all-policies mode: no method, no path
    assert "usageIdentifierKey" not in result  # the product is not synced to a gateway


def test_authorizer_returns_the_usage_identifier_of_a_synced_product_also_from_its_cache(fake):
    fake.usage_identifiers = {"cus_1": "tgu_0123456789abcdef0123456789"}
    handler = authorizer_handler(GatewayClient("http://t", "afo_gw", transport=fake.transport()))
    first = handler(authorizer_event({"Authorization": "Bearer sk_live_good"}), None)
    assert first["usageIdentifierKey"] == "tgu_0123456789abcdef0123456789"
    again = handler(authorizer_event({"Authorization": "Bearer sk_live_good"}), None)
    assert again["usageIdentifierKey"] == first["usageIdentifierKey"] and len(fake.checks) == 1  # cached
    refused = handler(authorizer_event({"Authorization": "Bearer sk_live_old"}), None)
    assert "usageIdentifierKey" not in refused


def test_authorizer_denies_per_method_arn_for_a_denied_policy(fake):
    fake.policies[1]["meters"] = {"api_requests": 2}
    fake.used = fake.limit - 1  # GET (1) still fits, POST /v1/orders (2) does not
    handler = authorizer_handler(GatewayClient("http://t", "afo_gw", transport=fake.transport()))
    result = handler(authorizer_event({"Authorization": "Bearer sk_live_good"}), None)
    prefix = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod"
    assert statements(result) == {"Allow": [f"{prefix}/*/*"], "Deny": [f"{prefix}/POST/v1/orders"]}
    assert result["context"]["code"] == "USAGE_LIMIT_REACHED" and result["context"]["status"] == 403


def test_authorizer_refuses_wrong_keys_and_missing_credentials(fake):
    handler = authorizer_handler(GatewayClient("http://t", "afo_gw", transport=fake.transport()))
    refused = handler(authorizer_event({"Authorization": "Bearer sk_live_old"}), None)
    prefix = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod"
    assert statements(refused)["Deny"] == [f"{prefix}/GET/v1/widgets*", f"{prefix}/POST/v1/orders"]
    assert refused["context"]["code"] == "KEY_INVALID"
    with pytest.raises(Exception, match="Unauthorized"):
        handler(authorizer_event({"Authorization": "Basic x"}), None)


def test_authorizer_backend_down_keeps_known_customers_in(fake):
    handler = authorizer_handler(GatewayClient("http://t", "afo_gw", transport=fake.transport()))
    handler(authorizer_event({"Authorization": "Bearer sk_live_good"}), None)
    fake.down = True
    assert "Deny" not in statements(handler(authorizer_event({"Authorization": "Bearer sk_live_good"}), None))
    assert statements(handler(authorizer_event({"Authorization": "Bearer sk_live_new"}), None)).keys() == {"Deny"}


def awslogs(lines: list[dict], message_type: str = "DATA_MESSAGE") -> dict:
    payload = {
        "messageType": message_type,
        "logEvents": [{"id": str(i), "timestamp": 0, "message": json.dumps(x)} for i, x in enumerate(lines)],
    }
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()}}


def test_access_logs_are_metered_in_batches_by_request_id(fake):
    handler = access_log_handler(GatewayClient("http://t", "afo_gw", transport=fake.transport()))
    line = {
        "requestId": "r-1",
        "httpMethod": "GET",
        "path": "/prod/v1/widgets",
        "stage": "prod",
        "status": "200",
        "requestTimeEpoch": "1764460800000",
        "subscriptionId": "sub_1",
        "customerId": "cus_1",
    }
    lines = [line, line | {"requestId": "r-2", "status": "500"}, line | {"requestId": "r-3", "subscriptionId": "-"}]
    assert handler(awslogs(lines), None) == {"lines": 2, "metered": 1}
    assert fake.meters[0] == {
        "request_id": "r-1",
        "subscription_id": "sub_1",
        "method": "GET",
        "path": "/v1/widgets",
        "status_code": 200,
        "timestamp": "2025-11-30T00:00:00.000Z",
    }
    assert handler(awslogs([], "CONTROL_MESSAGE"), None) == {"lines": 0, "metered": 0}
    fake.down = True
    with pytest.raises(RuntimeError, match="could not be sent"):
        handler(awslogs(lines), None)


def test_the_sqs_mode_queues_meter_requests_and_the_consumer_meters_them_in_batches(fake):
    from tollgate_sdk.gateway import SqsMeterSink, sqs_meter_consumer

    class FakeSqs:
        def __init__(self) -> None:
            self.sent: list[dict] = []

        def send_message(self, **kwargs) -> None:
            self.sent.append(kwargs)

    sqs = FakeSqs()
    gw = GatewayClient("http://tollgate.test", "afo_gw", "ten_1", transport=fake.transport())
    app = APIGatewayRestResolver()
    app.use(middlewares=[TollgateGatewayMiddleware(gw, SqsMeterSink("https://sqs/q", sqs))])
    app.get("/v1/widgets")(lambda: {"ok": True})
    for n in range(3):
        assert (
            app.resolve(rest_event("GET", "/v1/widgets", {"Authorization": "Bearer sk_live_good"}, f"r{n}"), None)[
                "statusCode"
            ]
            == 200
        )
    assert fake.meters == [] and len(sqs.sent) == 3  # nothing sent to Tollgate in the request path
    records = [{"messageId": f"m{i}", "body": m["MessageBody"]} for i, m in enumerate(sqs.sent)]
    records.append({"messageId": "bad", "body": "not json"})
    assert sqs_meter_consumer(gw)({"Records": records}, None) == {"batchItemFailures": []}
    assert [m["request_id"] for m in fake.meters] == ["r0", "r1", "r2"]
    fake.down = True
    failed = sqs_meter_consumer(gw)({"Records": records[:2]}, None)
    assert failed == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}


def test_the_constructs_lambda_entry_reads_the_gateway_key_secret_once(fake, monkeypatch):
    import boto3
    from tollgate_sdk.gateway import lambda_entry

    reads: list[str] = []

    class FakeSecrets:
        def get_secret_value(self, SecretId: str) -> dict:
            reads.append(SecretId)
            return {"SecretString": "afo_from_secret\n"}

    # Not moto: a nested mock_aws would change the session's local stack configuration.
    monkeypatch.setattr(boto3, "client", lambda service, **kw: FakeSecrets())
    monkeypatch.setenv("TOLLGATE_GATEWAY_KEY_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:gw")
    monkeypatch.setenv("TOLLGATE_API_URL", "http://tollgate.test")
    monkeypatch.setenv("TOLLGATE_TENANT_ID", "ten_1")
    monkeypatch.setattr(lambda_entry, "_client", None)
    client = lambda_entry.gateway_client()
    assert lambda_entry.gateway_client() is client and reads == ["arn:aws:secretsmanager:us-east-1:1:secret:gw"]
    assert client._http.headers["Authorization"] == "Bearer afo_from_secret"
    assert client._http.headers["X-Tenant-Id"] == "ten_1"
    monkeypatch.setattr(lambda_entry, "_client", GatewayClient("http://t", "afo", transport=fake.transport()))
    result = lambda_entry.authorizer(authorizer_event({"Authorization": "Bearer sk_live_good"}), None)
    assert statements(result) == {"Allow": ["arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/*/*"]}
