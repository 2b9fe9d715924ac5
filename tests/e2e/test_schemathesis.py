"""The contract tier: schemathesis over every operation of the OpenAPI document, against the local stack.

For each operation and each caller (an OWNER operator key here; a customer key, a customer portal session and
no key in tests/e2e/test_schemathesis_*.py, one file per caller so pytest-xdist spreads them; the shared parts
are in tests/e2e/contract_kit.py) schemathesis sends valid and invalid requests generated from the document,
and every answer must:
- not be a server error (5xx is always a bug);
- use a status code the operation documents, with the documented content type;
- match the documented schema (the Problem schema for every 4xx).

Bounded and deterministic: MAX_EXAMPLES per operation and caller, derandomized, so CI is stable and
the tier takes a few minutes. Run it alone with ``pytest tests/e2e/test_schemathesis*.py -q``; a failure
names the operation, the caller, the check that failed and a curl command reproducing the request.
"""

from __future__ import annotations

from tests.e2e.contract_kit import (
    DOCUMENT,
    JSON_MEDIA_TYPES,
    RAW_BODY_OPERATIONS,
    contract_tenant,  # noqa: F401 - the module-scoped fixture of the test below
    contract_test,
)

test_every_operation_keeps_its_contract = contract_test("OWNER")


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
