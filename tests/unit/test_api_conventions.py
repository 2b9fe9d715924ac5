"""API conventions every route follows: placeholders, problem+json, X-Request-Id."""

import json

import pytest

from tollgate.api.entry import find_placeholder, lambda_entry, request_id_of


@pytest.mark.parametrize(
    "path, placeholder",
    [
        ("/v1/products/{id}", "{id}"),
        ("/v1/products/%7Bid%7D", "{id}"),
        ("/v1/customers/%7bcustomerId%7d/usage", "{customerId}"),
        ("/v1/products/prod_a1b2c3", None),
    ],
)
def test_unsubstituted_placeholders_are_detected_in_raw_and_encoded_paths(path, placeholder):
    assert find_placeholder(path) == placeholder


def test_the_clients_request_id_is_echoed():
    assert request_id_of({"headers": {"x-request-id": "abc-123"}}) == "abc-123"
    assert request_id_of({"headers": {}, "requestContext": {"requestId": "gw-1"}}) == "gw-1"


class Exploding:
    def resolve(self, event, context):
        raise RuntimeError("boom")


def test_an_unhandled_error_is_a_500_problem_with_the_request_id():
    response = lambda_entry(Exploding())({"path": "/v1/x", "headers": {"X-Request-Id": "rid-9"}}, None)
    body = json.loads(response["body"])
    assert response["statusCode"] == 500
    assert response["headers"]["Content-Type"] == "application/problem+json"
    assert response["headers"]["X-Request-Id"] == "rid-9"
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()
    assert "rid-9" in body["detail"]


def test_a_placeholder_path_is_a_404_naming_the_placeholder_before_any_route_runs():
    response = lambda_entry(Exploding())({"path": "/v1/products/{id}", "headers": {}}, None)
    body = json.loads(response["body"])
    assert response["statusCode"] == 404
    assert "{id}" in body["detail"] and "placeholder" in body["detail"]
    assert body["instance"] == "/v1/products/%7Bid%7D"


def test_echoed_input_is_bounded_in_a_problem():
    from tollgate.api.problems import MAX_DETAIL_CHARS, MAX_INSTANCE_CHARS, problem_body

    body = problem_body(401, "Unauthorized", "tenant " + "x" * 100_000, "/v1/" + "y" * 100_000, "UNAUTHORIZED")
    assert len(body["detail"]) == MAX_DETAIL_CHARS and body["detail"].endswith("…")
    assert len(body["instance"]) == MAX_INSTANCE_CHARS
