"""The contract tier: schemathesis over every operation of the OpenAPI document, against the local stack.

For each operation and each caller (an OWNER operator key, a customer key, no key) schemathesis sends
valid and invalid requests generated from the document, and every answer must:
- not be a server error (5xx is always a bug);
- use a status code the operation documents, with the documented content type;
- match the documented schema (the Problem schema for every 4xx).

Bounded and deterministic: MAX_EXAMPLES per operation and caller, derandomized, so CI is stable and
the tier takes a few minutes. Run it alone with ``pytest tests/e2e/test_schemathesis.py -q``; a failure
names the operation, the caller, the check that failed and a curl command reproducing the request.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass

import httpx
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e import builders
from tollgate.api.grouped import GroupedApi

MAX_EXAMPLES = int(os.environ.get("TOLLGATE_CONTRACT_MAX_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CALLERS = ("OWNER", "customer", "anonymous")
# Operations that read their raw body themselves (no pydantic body parameter): each must declare it with
# tollgate.api.contract.json_body_schema, or fuzzers never reach past its first line.
RAW_BODY_OPERATIONS = (
    "POST /v1/ingest/events",
    "POST /compat/openmeter/api/v1/events",
    "POST /compat/lago/api/v1/events",
    "POST /compat/lago/api/v1/events/batch",
    "POST /v1/webhooks/stripe/{tenant_id}",
    "POST /compat/stripe/v1/billing/meter_events",
    "POST /compat/stripe/v2/billing/meter_event_stream",
)
# Bodies Tollgate reads (Stripe's v1 meter events are form-encoded, as Stripe's clients send them).
JSON_MEDIA_TYPES = (
    "application/json",
    "application/cloudevents+json",
    "application/cloudevents-batch+json",
    "application/x-www-form-urlencoded",
)


def published_document() -> dict:
    """The document /openapi.json serves, built in-process (the tier checks below that it is the same)."""
    response = (
        GroupedApi()
        .app_for("*")
        .resolve({"path": "/openapi.json", "httpMethod": "GET", "headers": {}, "requestContext": {}}, None)
    )
    return json.loads(response["body"])


DOCUMENT = published_document()
CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "with-security-parameters": False,
        },
        # The stateful phase would chain operations through links the document does not declare.
        "phases": {"stateful": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


@dataclass
class ContractTenant:
    """A tenant of its own (the fuzzer fills it with junk), each caller's headers, and real resources
    whose ids replace half of the generated path parameters, so the fuzzer reaches past the 404."""

    headers: dict[str, dict[str, str]]
    ids: dict[str, str]


@pytest.fixture(scope="module")
def contract_tenant(server) -> ContractTenant:
    served = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
    assert served == DOCUMENT, f"the server at {server.url} does not serve this checkout's document"
    boot = server.stack.bootstrap_tenant("Contract tier tenant")
    owner = {"Authorization": f"Bearer {boot.operator_key}", "X-Tenant-Id": boot.tenant_id}
    with httpx.Client(base_url=server.url, headers=owner, timeout=30) as c:
        customer = builders.customer(c)
        plan = builders.plan(c)
        subscription = builders.subscribe(c, customer["id"], plan["id"])
        product = builders.ok(c.post("/v1/products", json={"name": "Contract product"}), 201)
        meter = builders.ok(
            c.post("/v1/meters", json={"event_name": "contract.calls", "aggregation": {"function": "COUNT"}}), 201
        )
        key = builders.ok(c.post("/v1/api-keys", json={"kind": "customer", "customer_id": customer["id"]}), 201)
        endpoint = builders.ok(c.post("/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/contract"}), 201)
        delivery = builders.ok(c.post(f"/v1/webhook-endpoints/{endpoint['id']}/test"), 202)
        role = "arn:aws:iam::111111111111:role/ContractNoSuchRole"  # its Test Connection answers ERROR at once
        integration = builders.ok(
            c.post(
                "/v1/integrations",
                json={
                    "type": "aws_api_gateway",
                    "name": "contract",
                    "config": {"role_arn": role, "region": "us-east-1"},
                },
            ),
            201,
        )
    customer_headers = {"Authorization": f"Bearer {key['secret']}", "X-Tenant-Id": boot.tenant_id}
    ids = {
        "customer_id": customer["id"],
        "external_id": customer["external_id"],
        "plan_id": plan["id"],
        "version": "1",
        "subscription_id": subscription["id"],
        "product_id": product["id"],
        "meter_id": meter["id"],
        "tenant_id": boot.tenant_id,
        "endpoint_id": endpoint["id"],
        "delivery_id": delivery["id"],
        "integration_id": integration["id"],
    }
    return ContractTenant({"OWNER": owner, "customer": customer_headers, "anonymous": {}}, ids)


def use_real_ids(case, ids: dict[str, str]) -> None:
    """Replace generated path parameters by real ids for half of the cases (chosen deterministically)."""
    for name, value in list((case.path_parameters or {}).items()):
        if name in ids and zlib.crc32(repr(value).encode()) % 2 == 0:
            case.path_parameters[name] = ids[name]


def test_the_served_document_is_the_one_under_test(anonymous):
    assert anonymous.get("/openapi.json").json() == DOCUMENT


def test_every_operation_with_a_json_body_documents_its_request_schema():
    missing = []
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            name = f"{method.upper()} {path}"
            if "requestBody" not in operation and name not in RAW_BODY_OPERATIONS:
                continue  # an action without a body (publish, archive, ...)
            content = (operation.get("requestBody") or {}).get("content") or {}
            schemas = [content[m].get("schema") for m in JSON_MEDIA_TYPES if m in content]
            if not schemas or not all(schemas):
                missing.append(name)
    assert not missing, "operations without a documented JSON request body:\n" + "\n".join(missing)


def test_every_operation_documents_every_problem_as_problem_json():
    wrong = []
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            for status in ("400", "401", "403", "404", "409", "413", "415", "422", "429", "503"):
                content = operation["responses"].get(status, {}).get("content", {})
                # The Stripe-compatible routes also answer ingestion's refusals in Stripe's error shape.
                other = {"application/json"} if path.startswith("/compat/stripe/") else set()
                if (
                    content.get("application/problem+json", {}).get("schema")
                    != {"$ref": "#/components/schemas/Problem"}
                    or not set(content) - {"application/problem+json"} <= other
                ):
                    wrong.append(f"{method.upper()} {path} {status}")
    assert not wrong, "problems not documented as application/problem+json Problem:\n" + "\n".join(wrong)


def send(case, base_url: str, headers: dict[str, str]) -> tuple[httpx.Response, dict]:
    """Send the generated request with httpx: moto's mock (active in this process for the local stack)
    intercepts `requests`, schemathesis' own transport, for any URL that merely contains an AWS host
    name (a path parameter "lambda.amazonaws.com" was answered by moto, not by Tollgate)."""
    kwargs = case.as_transport_kwargs(base_url=base_url, headers=headers)
    body: dict = {}
    if kwargs.get("json") is not None:
        body["json"] = kwargs["json"]
    elif isinstance(kwargs.get("data"), (str, bytes)):
        body["content"] = kwargs["data"]
    elif kwargs.get("data") is not None:
        body["data"] = kwargs["data"]
    response = httpx.request(
        kwargs["method"],
        kwargs["url"],
        headers=kwargs.get("headers"),
        params=kwargs.get("params"),
        cookies=kwargs.get("cookies"),
        timeout=30,
        **body,
    )
    return response, kwargs


@pytest.mark.parametrize("caller", CALLERS)
@schema.parametrize()
def test_every_operation_keeps_its_contract(case, caller, server, contract_tenant):
    use_real_ids(case, contract_tenant.ids)
    headers = contract_tenant.headers[caller]
    response, sent = send(case, server.url, headers)
    case.validate_response(response, checks=CHECKS, headers=headers, transport_kwargs=sent)
