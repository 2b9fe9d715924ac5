"""The contract tier's shared parts (tests/e2e/test_schemathesis*.py): the served OpenAPI document, the
schemathesis schema, a tenant of the tier's own with each caller's headers, and the test every operation
meets. The tier is split into one file per caller so that pytest-xdist spreads it over the workers."""

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
CALLERS = ("OWNER", "customer", "portal", "anonymous")
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
        portal = builders.ok(c.post("/v1/portal-sessions", json={"customer_id": customer["id"]}), 201)
    portal_headers = {"Authorization": f"Bearer {portal['url'].partition('#session=')[2]}"}
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
    callers = {"OWNER": owner, "customer": customer_headers, "portal": portal_headers, "anonymous": {}}
    return ContractTenant(callers, ids)


def use_real_ids(case, ids: dict[str, str]) -> None:
    """Replace generated path parameters by real ids for half of the cases (chosen deterministically)."""
    for name, value in list((case.path_parameters or {}).items()):
        if name in ids and zlib.crc32(repr(value).encode()) % 2 == 0:
            case.path_parameters[name] = ids[name]


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


def contract_test(caller: str):
    """The test of every operation for ``caller``: schemathesis' valid and invalid requests, each answer
    checked against the document (no 5xx, documented status and content type, schema)."""

    @schema.parametrize()
    def test_every_operation_keeps_its_contract(case, server, contract_tenant):
        use_real_ids(case, contract_tenant.ids)
        headers = contract_tenant.headers[caller]
        response, sent = send(case, server.url, headers)
        case.validate_response(response, checks=CHECKS, headers=headers, transport_kwargs=sent)

    return test_every_operation_keeps_its_contract
