"""The local HTTP front, as a client sees it: bytes that are not UTF-8, JSON nested too deep, a lone
surrogate, an array for an object, an unsupported method and an oversized payload are each a 4xx
problem+json with X-Request-Id, within a second; nothing is stored and the server stays healthy."""

from __future__ import annotations

import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.local.http import MAX_PAYLOAD_BYTES
from tests.timing import assert_prompt


def timed(send) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = send()
    return response, time.monotonic() - started


def assert_problem(response: httpx.Response, elapsed: float, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"]
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["detail"]
    assert_prompt(elapsed)
    return body


def product_count(owner: httpx.Client) -> int:
    return len(owner.get("/v1/products", params={"limit": 100}).json()["data"])


@pytest.fixture(scope="module")
def products_before(owner) -> int:
    return product_count(owner)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(min_size=1, max_size=100).map(lambda b: b"\xff" + b))
def test_a_body_that_is_not_utf8_is_a_400_after_authentication(owner, anonymous, products_before, raw):
    assert_problem(*timed(lambda: owner.post("/v1/products", content=raw)), 400, "BODY_NOT_UTF8")
    # Without a key the gateway answers first: 401, whatever the body.
    assert_problem(*timed(lambda: anonymous.post("/v1/products", content=raw)), 401, "UNAUTHORIZED")
    assert owner.get("/health").status_code == 200
    assert product_count(owner) == products_before


@pytest.mark.parametrize("depth", [65, 1_000, 100_000])
def test_json_nested_too_deep_is_a_400(owner, products_before, depth):
    body = '{"name": ' + "[" * depth + "]" * depth + "}"
    response, elapsed = timed(lambda: owner.post("/v1/products", content=body))
    assert_problem(response, elapsed, 400, "JSON_TOO_DEEP")
    assert owner.get("/health").status_code == 200
    assert product_count(owner) == products_before


def test_a_lone_surrogate_is_a_400(owner, products_before):
    response, elapsed = timed(lambda: owner.post("/v1/products", content='{"name": "\\udc00x"}'))
    assert_problem(response, elapsed, 400, "INVALID_UNICODE")
    assert product_count(owner) == products_before


def test_an_array_is_not_a_product(owner, products_before):
    response, elapsed = timed(lambda: owner.post("/v1/products", json=[{"name": "From an array"}]))
    assert_problem(response, elapsed, 422, "BODY_NOT_AN_OBJECT")
    assert product_count(owner) == products_before


def test_an_unsupported_method_is_a_405_naming_the_allowed_ones(owner):
    response, elapsed = timed(lambda: owner.put("/v1/products"))
    assert_problem(response, elapsed, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET, POST"


def test_a_payload_over_the_gateway_limit_is_a_413(owner):
    response, _ = timed(lambda: owner.post("/v1/products", content=b"x" * (MAX_PAYLOAD_BYTES + 1)))
    assert_problem(response, 0.0, 413, "PAYLOAD_TOO_LARGE")
