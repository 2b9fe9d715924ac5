"""CORS on the API function (tollgate.api.cors): with TOLLGATE_CORS_ORIGINS (set by CDK to the console/portal
CloudFront origin) a listed origin is allowed and may read X-Request-Id; any other origin gets no CORS header;
without the variable (the local stack: same origin) there is no CORS at all."""

from __future__ import annotations

import pytest

from tollgate.api.cors import cors_config, origins_of
from tollgate.settings import get_settings

CONSOLE = "https://d111111abcdef8.cloudfront.net"
HEALTH = {
    "resource": "/health",
    "path": "/health",
    "httpMethod": "GET",
    "queryStringParameters": None,
    "multiValueQueryStringParameters": None,
    "pathParameters": None,
    "body": None,
    "isBase64Encoded": False,
    "requestContext": {"requestId": "gw-1"},
}


def answer(monkeypatch, origins: str | None, origin: str) -> dict[str, str]:
    from tollgate.api.app import create_app

    if origins is None:
        monkeypatch.delenv("TOLLGATE_CORS_ORIGINS", raising=False)
    else:
        monkeypatch.setenv("TOLLGATE_CORS_ORIGINS", origins)
    get_settings.cache_clear()
    try:
        app = create_app()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    response = app.resolve({**HEALTH, "headers": {"Origin": origin}, "multiValueHeaders": {"Origin": [origin]}}, None)
    assert response["statusCode"] == 200
    headers = {k: v[0] for k, v in (response.get("multiValueHeaders") or {}).items()}
    return {**headers, **(response.get("headers") or {})}


@pytest.mark.parametrize("origin", [CONSOLE, "https://console.example.com"])
def test_a_listed_origin_is_allowed_and_may_read_the_request_id(monkeypatch, origin):
    headers = answer(monkeypatch, f"{CONSOLE}, https://console.example.com/", origin)
    assert headers["Access-Control-Allow-Origin"] == origin
    assert "X-Request-Id" in headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in headers


def test_another_origin_and_the_local_stack_get_no_cors_headers(monkeypatch):
    assert "Access-Control-Allow-Origin" not in answer(monkeypatch, CONSOLE, "https://evil.example")
    assert "Access-Control-Allow-Origin" not in answer(monkeypatch, None, CONSOLE)


def test_the_origin_list_is_read_strictly():
    assert origins_of(" https://a.example/ ,,https://b.example") == ["https://a.example", "https://b.example"]
    assert cors_config("") is None and cors_config(" , ") is None
