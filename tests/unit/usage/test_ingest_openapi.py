"""The ingestion and compatibility routes declare their request bodies and their true success codes in the
OpenAPI document (issue 13 class 9), although they read their bodies themselves."""

from __future__ import annotations

import json

import pytest

from tollgate.api.app import create_app
from tollgate.api.routers import compat, ingest


@pytest.fixture(scope="module")
def doc() -> dict:
    return json.loads(create_app(ingest.router, compat.router).get_openapi_json_schema(openapi_version="3.1.0"))


@pytest.mark.parametrize(
    ("path", "content_types", "success"),
    [
        ("/v1/ingest/events", ["application/json"], "202"),
        (
            "/compat/openmeter/api/v1/events",
            ["application/cloudevents+json", "application/cloudevents-batch+json", "application/json"],
            "204",
        ),
        ("/compat/lago/api/v1/events", ["application/json"], "200"),
        ("/compat/lago/api/v1/events/batch", ["application/json"], "200"),
        ("/v1/ingest/settings", ["application/json"], "200"),
    ],
)
def test_ingestion_routes_declare_their_request_body_and_success_code(doc, path, content_types, success):
    operation = doc["paths"][path]["post" if "settings" not in path else "put"]
    body = operation["requestBody"]
    assert sorted(body["content"]) == sorted(content_types)
    assert all(c["schema"] for c in body["content"].values())
    assert [code for code in operation["responses"] if code.startswith("2")] == [success]


def test_the_native_body_is_one_event_or_a_batch_of_up_to_1000(doc):
    schema = doc["paths"]["/v1/ingest/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    event, batch = schema["oneOf"]
    assert {"event_id", "external_customer_id", "event_name", "timestamp", "quantity", "properties"} <= set(
        event["properties"]
    )
    assert batch["properties"]["events"]["maxItems"] == 1000


def test_settings_bounds_are_documented(doc):
    schema = doc["paths"]["/v1/ingest/settings"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    ref = schema["$ref"].rsplit("/", 1)[-1]
    retention = doc["components"]["schemas"][ref]["properties"]["retention_days"]
    assert "3650" in json.dumps(retention) and "true" not in json.dumps(retention)
