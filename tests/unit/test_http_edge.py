"""The HTTP edge (tollgate.api.entry + the shared resolver): bytes that are not UTF-8, JSON nested too
deep, lone surrogates, arrays sent for objects and booleans sent for numbers are each a clear 4xx
problem+json, answered within a second, before any route runs; the function stays healthy."""

import base64
import gzip
import json
import time
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.timing import assert_prompt
from tollgate.api.entry import lambda_entry
from tollgate.api.grouped import GroupedApi
from tollgate.api.json_body import MAX_DECODED_BYTES, MAX_DEPTH, nesting_depth_exceeds

handler = lambda_entry(GroupedApi())
TENANT = "ten_edge"
OWNER = {"tenant_id": TENANT, "kind": "operator", "role": "OWNER", "key_id": "k1", "key_display": "afo_…1"}


def event(method: str, path: str, body: str | None = None, *, base64_encoded: bool = False) -> dict:
    headers = {"X-Tenant-Id": TENANT, "X-Request-Id": "rid-edge", "Content-Type": "application/json"}
    return {
        "resource": "/v1/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "body": body,
        "isBase64Encoded": base64_encoded,
        "requestContext": {"requestId": "gw-1", "authorizer": dict(OWNER)},
    }


def answer(ev: dict) -> tuple[dict, dict, float]:
    started = time.monotonic()
    response = handler(ev, None)
    elapsed = time.monotonic() - started
    return response, json.loads(response["body"]), elapsed


def header_of(response: dict, name: str) -> str | None:
    if name in (response.get("headers") or {}):
        return response["headers"][name]
    values = (response.get("multiValueHeaders") or {}).get(name)
    return ", ".join(values) if values else None


def assert_problem(response: dict, body: dict, elapsed: float, status: int, code: str) -> None:
    assert response["statusCode"] == status, body
    assert header_of(response, "Content-Type") == "application/problem+json"
    assert header_of(response, "X-Request-Id") == "rid-edge"
    assert body["code"] == code and body["status"] == status and body["detail"]
    assert_prompt(elapsed)


def assert_healthy() -> None:
    response = handler({**event("GET", "/health"), "requestContext": {"requestId": "h"}}, None)
    assert response["statusCode"] == 200


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=1, max_size=200).filter(lambda b: not _is_utf8(b)))
def test_a_body_that_is_not_utf8_is_a_400_body_not_utf8(raw):
    ev = event("POST", "/v1/products", base64.b64encode(raw).decode(), base64_encoded=True)
    assert_problem(*answer(ev), 400, "BODY_NOT_UTF8")
    assert_healthy()


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@settings(max_examples=25, deadline=None)
@given(depth=st.integers(min_value=MAX_DEPTH + 1, max_value=200_000), opener=st.sampled_from(["[", '{"a":']))
def test_json_nested_deeper_than_the_limit_is_a_400_json_too_deep(depth, opener):
    closer = "]" if opener == "[" else "}"
    ev = event("POST", "/v1/products", opener * depth + "1" + closer * depth)
    assert_problem(*answer(ev), 400, "JSON_TOO_DEEP")
    assert_healthy()


def test_unbalanced_deep_nesting_is_refused_in_linear_time():
    response, body, elapsed = answer(event("POST", "/v1/ingest/events", "[" * 5_000_000))
    assert_problem(response, body, elapsed, 400, "JSON_TOO_DEEP")


@given(depth=st.integers(min_value=0, max_value=MAX_DEPTH))
def test_nesting_up_to_the_limit_is_allowed_and_brackets_in_strings_do_not_count(depth):
    text = "[" * depth + '"[[[{{{\\"]]"' + "]" * depth
    assert not nesting_depth_exceeds(text)


def test_an_unterminated_string_is_invalid_json_not_a_hang():
    response, body, elapsed = answer(event("POST", "/v1/products", '{"name": "' + "a\\" * 200_000))
    assert_problem(response, body, elapsed, 400, "INVALID_JSON")


def test_nan_and_infinity_are_not_json():
    assert_problem(*answer(event("POST", "/v1/products", '{"name": NaN}')), 400, "INVALID_JSON")


@settings(max_examples=30, deadline=None)
@given(surrogate=st.integers(min_value=0xD800, max_value=0xDFFF), as_key=st.booleans())
def test_a_lone_surrogate_in_a_model_body_is_a_400_invalid_unicode(surrogate, as_key):
    escaped = f'"\\u{surrogate:04x}x"'
    body = "{" + escaped + ': "v"}' if as_key else '{"name": ' + escaped + "}"
    assert_problem(*answer(event("POST", "/v1/products", body)), 400, "INVALID_UNICODE")
    assert_healthy()


@settings(max_examples=20, deadline=None)
@given(
    st.one_of(
        st.lists(st.fixed_dictionaries({"name": st.text(min_size=1, max_size=10)}), min_size=1, max_size=3),
        st.integers(),
        st.text(max_size=5),
        st.booleans(),
    )
)
def test_a_json_value_that_is_not_an_object_is_a_422_for_an_object_body(value):
    response, body, elapsed = answer(event("POST", "/v1/products", json.dumps(value)))
    assert_problem(response, body, elapsed, 422, "BODY_NOT_AN_OBJECT")


def test_an_unsupported_method_on_an_existing_path_is_a_405_with_allow():
    response, body, elapsed = answer(event("PUT", "/v1/products"))
    assert_problem(response, body, elapsed, 405, "METHOD_NOT_ALLOWED")
    assert header_of(response, "Allow") == "GET, POST"


def test_an_unknown_path_is_still_a_404():
    assert_problem(*answer(event("PUT", "/v1/nothing-here")), 404, "ROUTE_NOT_FOUND")


@settings(max_examples=10, deadline=None)
@given(st.booleans())
def test_a_boolean_is_not_a_number(flag):
    # "retention_days": true used to be stored as 1 day (pydantic reads true as 1 in lax mode).
    body = json.dumps({"retention_days": flag})
    response, problem, elapsed = answer(event("PUT", "/v1/ingest/settings", body))
    assert_problem(response, problem, elapsed, 422, "INVALID_INPUT")
    assert problem["errors"] == [{"field": "retention_days", "message": "Value error, must be a number, not a boolean"}]


@given(st.sampled_from(["/v1/plans/", "/v1/products/", "/v1/customers/"]), st.characters(max_codepoint=0x1F))
def test_a_path_with_a_control_character_is_a_404_not_another_route(prefix, control):
    response, body, elapsed = answer(event("GET", prefix + control))
    assert_problem(response, body, elapsed, 404, "ROUTE_NOT_FOUND")


# -- Content-Encoding: gzip / deflate bodies (the SDKs' gzip option) ---------------------------------------


def _compressed(ev: dict, raw: bytes, encoding: str) -> dict:
    ev["body"], ev["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    ev["headers"]["Content-Encoding"] = encoding
    ev["multiValueHeaders"]["Content-Encoding"] = [encoding]
    return ev


def _reached_the_route(response: dict, body: dict) -> None:
    """The route's own model validation answered (422 naming `name`): the decoded JSON reached it."""
    assert response["statusCode"] == 422, body
    assert "name" in json.dumps(body.get("errors") or body["detail"])


@pytest.mark.parametrize("encoding", ["gzip", "GZIP", "x-gzip", "deflate"])
def test_a_compressed_body_reaches_the_route_as_its_json(encoding):
    body = json.dumps({"name": 5}).encode()
    raw = gzip.compress(body) if "gzip" in encoding.lower() else zlib.compress(body)
    response, problem, _ = answer(_compressed(event("POST", "/v1/products", None), raw, encoding))
    _reached_the_route(response, problem)


def test_a_body_api_gateway_already_inflated_is_taken_as_it_is():
    ev = event("POST", "/v1/products", json.dumps({"name": 5}))
    ev["headers"]["Content-Encoding"] = "gzip"
    _reached_the_route(*answer(ev)[:2])


@pytest.mark.parametrize(
    ("raw", "encoding", "status", "code"),
    [
        (b"\x1f\x8b\x08\x00garbage", "gzip", 400, "INVALID_CONTENT_ENCODING"),
        (gzip.compress(b'{"name": "x"}')[:-12], "gzip", 400, "INVALID_CONTENT_ENCODING"),
        (b'{"name": "x"}', "br", 415, "UNSUPPORTED_CONTENT_ENCODING"),
        (gzip.compress(b"\xff\xfe not utf-8"), "gzip", 400, "BODY_NOT_UTF8"),
        (gzip.compress(b"[" * 1000), "gzip", 400, "JSON_TOO_DEEP"),
    ],
    ids=["not-gzip", "truncated", "brotli", "not-utf8", "too-deep"],
)
def test_a_body_that_does_not_decode_is_a_clear_problem(raw, encoding, status, code):
    assert_problem(*answer(_compressed(event("POST", "/v1/products", None), raw, encoding)), status, code)


def test_a_zip_bomb_is_a_413_without_inflating_it_all():
    bomb = gzip.compress(b" " * (MAX_DECODED_BYTES + 1024 * 1024), compresslevel=9)
    assert len(bomb) < 64 * 1024
    response, body, elapsed = answer(_compressed(event("POST", "/v1/ingest/events", None), bomb, "gzip"))
    assert_problem(response, body, elapsed, 413, "PAYLOAD_TOO_LARGE")
    assert_healthy()
