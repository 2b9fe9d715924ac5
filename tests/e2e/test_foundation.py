"""Foundation over HTTP: health, docs, conventions, and the EventBridge -> SQS -> consumer path."""

import pytest
from openapi_spec_validator import validate

from tests.e2e.conftest import wait_until

pytestmark = pytest.mark.e2e


def test_health_is_public_and_carries_a_request_id(anonymous):
    r = anonymous.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert r.headers["X-Request-Id"]


def test_the_clients_request_id_comes_back(owner):
    r = owner.get("/v1/api-keys", headers={"X-Request-Id": "trace-abc-123"})
    assert r.headers["X-Request-Id"] == "trace-abc-123"


def test_openapi_json_is_a_valid_openapi_3_1_document(anonymous):
    r = anonymous.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    validate(doc)  # raises if the document is not valid OpenAPI
    assert "/v1/api-keys" in doc["paths"]


def test_swagger_ui_renders_the_api_reference(anonymous):
    r = anonymous.get("/swagger")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "SwaggerUIBundle" in r.text
    spec = anonymous.get("/swagger", params={"format": "json"})
    assert spec.status_code == 200 and spec.json()["info"]["title"] == "Tollgate API"


@pytest.mark.parametrize("path", ["/v1/products/{id}", "/v1/products/%7Bid%7D"])
def test_a_literal_placeholder_in_the_path_is_a_404_naming_it(owner, path):
    r = owner.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert "{id}" in body["detail"] and "placeholder" in body["detail"]
    assert body["instance"] == "/v1/products/%7Bid%7D"
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()


def test_an_unknown_route_is_a_404_problem(owner):
    r = owner.get("/v1/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert "/swagger" in r.json()["detail"]


def test_validation_errors_are_422_problems_naming_the_field(owner):
    r = owner.post("/v1/api-keys", json={"kind": "operator", "role": "SUPERUSER"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["errors"][0]["field"] == "role"
    assert "role" in body["detail"]


def test_a_body_that_is_not_json_is_a_400_problem(owner):
    r = owner.post(
        "/v1/api-keys", content=b"kind=operator", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 400 and "not valid JSON" in r.json()["detail"]


def test_a_domain_event_reaches_its_consumer_through_the_rule_and_queue(server, owner):
    created = owner.post("/v1/api-keys", json={"kind": "operator", "role": "MEMBER", "name": "event path"})
    assert created.status_code == 201
    key_id = created.json()["id"]

    def delivered():
        return [
            d
            for d in server.stack.delivered
            if d["rule"] == "event-log" and d["body"]["detail"]["data"].get("key_id") == key_id
        ]

    deliveries = wait_until(delivered, timeout=10)
    assert deliveries[0]["consumer"] == "event_log_consumer"
    assert deliveries[0]["body"]["detail-type"] == "api_key.created"  # an EventBridge envelope, via SQS
    log = owner.get("/v1/billing-events", params={"type": "api_key."}).json()["data"]
    assert any(e["data"].get("key_id") == key_id for e in log)
