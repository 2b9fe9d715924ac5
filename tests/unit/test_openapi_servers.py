"""The OpenAPI document's ``servers``: on API Gateway's own endpoint the URLs carry the stage
(``https://<id>.execute-api.<region>.amazonaws.com/prod/v1/...``), so Swagger's "Try it out" must call
``/prod/...``; on a custom domain and on the local stack the paths start at ``/``."""

from __future__ import annotations

import json

from tollgate.api.app import create_app
from tollgate.api.entry import lambda_entry


def servers(**request_context) -> list[dict]:
    event = {
        "path": "/openapi.json",
        "httpMethod": "GET",
        "headers": {"Host": request_context.pop("host", "127.0.0.1:8000")},
        "requestContext": request_context,
    }
    return json.loads(lambda_entry(create_app())(event, None)["body"])["servers"]


def test_on_the_execute_api_endpoint_the_server_is_the_stage() -> None:
    assert servers(stage="prod", domainName="abc123.execute-api.eu-west-1.amazonaws.com") == [{"url": "/prod"}]
    assert servers(stage="dev", host="abc123.execute-api.us-east-1.amazonaws.com") == [{"url": "/dev"}]


def test_locally_and_on_a_custom_domain_the_server_is_the_root() -> None:
    assert servers(stage="local") == [{"url": "/"}]
    assert servers(stage="prod", domainName="api.example.com") == [{"url": "/"}]
