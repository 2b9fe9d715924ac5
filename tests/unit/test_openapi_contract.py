"""The published contract: every operation documents every problem as application/problem+json with one
Problem schema, and a route that reads its raw body documents it with json_body_schema."""

import json

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel

from tollgate.api.access import public
from tollgate.api.app import create_app
from tollgate.api.contract import PROBLEM_RESPONSES, json_body_schema
from tollgate.api.entry import lambda_entry


class Item(BaseModel):
    sku: str


class Batch(BaseModel):
    items: list[Item]


router = Router()


@router.post(
    "/v1/raw",
    openapi_extensions={**public(), **json_body_schema(Batch, media_types=("application/json", "text/x-batch+json"))},
)
def raw_body_route() -> dict:
    return {}


@router.post("/v1/modelled", openapi_extensions=public(), responses={409: {"description": "Already there (DUP)"}})
def modelled_route(body: Item) -> dict:
    return {}


def published(app) -> dict:
    """What GET /openapi.json answers (through the Lambda entry, as API Gateway calls it)."""
    response = lambda_entry(app)({"path": "/openapi.json", "httpMethod": "GET", "headers": {}}, None)
    return json.loads(response["body"])


def document() -> dict:
    return published(create_app(router))


PROBLEM = "application/problem+json"
STRIPE_ERROR = "#/components/schemas/StripeErrorBody"


def test_every_operation_documents_every_problem_with_the_one_problem_schema():
    doc = document()
    for path, item in doc["paths"].items():
        for operation in item.values():
            for status in PROBLEM_RESPONSES:
                content = dict(operation["responses"][str(status)]["content"])
                assert content.pop(PROBLEM) == {"schema": {"$ref": "#/components/schemas/Problem"}}
                # Only the Stripe-compatible routes also answer in another shape (Stripe's own errors).
                if content:
                    assert content == {"application/json": {"schema": {"$ref": STRIPE_ERROR}}}, (path, status)
    problem = doc["components"]["schemas"]["Problem"]
    assert set(problem["properties"]) == {"type", "title", "status", "detail", "instance", "code", "errors"}
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def test_a_routes_own_description_of_a_problem_is_kept():
    responses = document()["paths"]["/v1/modelled"]["post"]["responses"]
    assert responses["409"]["description"] == "Already there (DUP)"
    assert responses["422"]["description"].startswith("Invalid input")


def test_a_raw_body_route_documents_its_body_schema_for_each_media_type():
    doc = document()
    operation = doc["paths"]["/v1/raw"]["post"]
    assert "x-tollgate-request-body" not in operation
    ref = {"$ref": "#/components/schemas/Batch"}
    example = {"items": [{"sku": "string"}]}  # built from the schema (issue 18: every body has an example)
    assert operation["requestBody"]["content"] == {
        "application/json": {"schema": ref, "example": example},
        "text/x-batch+json": {"schema": ref, "example": example},
    }
    assert doc["components"]["schemas"]["Batch"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/Item"
    }
    assert "sku" in doc["components"]["schemas"]["Item"]["properties"]


def test_the_whole_published_document_is_valid_openapi_3_1():
    from openapi_spec_validator import validate

    from tollgate.api.grouped import GroupedApi

    validate(published(GroupedApi()))


def test_a_204_documents_no_body():
    from tollgate.api.routers import routers_of

    doc = published(create_app(*routers_of("ingest")))
    no_content = doc["paths"]["/compat/openmeter/api/v1/events"]["post"]["responses"]["204"]
    assert "content" not in no_content


def test_every_operation_says_who_may_call_it_and_every_body_has_an_example():
    """Issue 18 (seed 000: "Check the endpoint's required role in the API Reference")."""
    from tollgate.api.grouped import GroupedApi

    response = (
        GroupedApi()
        .app_for("*")
        .resolve({"path": "/openapi.json", "httpMethod": "GET", "headers": {}, "requestContext": {}}, None)
    )
    doc = json.loads(response["body"])
    operations = [(p, m, op) for p, item in doc["paths"].items() for m, op in item.items() if isinstance(op, dict)]
    assert len(operations) > 50
    for path, method, op in operations:
        assert "**Who may call:**" in op.get("description", ""), f"{method.upper()} {path}"
        for media, content in (op.get("requestBody") or {}).get("content", {}).items():
            assert "example" in content or "examples" in content, f"{method.upper()} {path} {media}"
    plans = doc["paths"]["/v1/plans"]["post"]
    assert "role OWNER, ADMIN" in plans["description"] and "customer API key" not in plans["description"]
    assert plans["requestBody"]["content"]["application/json"]["example"]["name"]
