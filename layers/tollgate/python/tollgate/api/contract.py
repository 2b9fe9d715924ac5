"""The published contract: what the OpenAPI document says every operation may answer and accept.

Powertools documents each route's success response and a 422 of its own shape. ``complete_document``
post-processes the generated document in one place, so every operation documents:

- every problem it can answer (``PROBLEM_RESPONSES``) as ``application/problem+json`` with the one
  ``Problem`` schema (Tollgate's RFC 7807 shape, ``tollgate.api.problems``);
- its request body, including routes that read their raw body themselves (ingestion, compat,
  webhooks): such a route declares its body with ``json_body_schema(Model)`` in its
  ``openapi_extensions``, and the body's schema becomes the operation's ``requestBody``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import TypeAdapter

from tollgate.api.operation_docs import document_operation
from tollgate.api.problems import PROBLEM_JSON

PROBLEM_SCHEMA_NAME = "Problem"
PROBLEM_REF = f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"
REQUEST_BODY_EXTENSION = "x-tollgate-request-body"
_REF_TEMPLATE = "#/components/schemas/{model}"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": PROBLEM_SCHEMA_NAME,
    "type": "object",
    "description": "RFC 7807 problem details. `code` is stable and machine-readable; `detail` says what to fix.",
    "required": ["type", "title", "status", "detail", "instance", "code"],
    "properties": {
        "type": {"type": "string", "description": "A URI reference naming the problem type, e.g. /problems/not-found"},
        "title": {"type": "string", "description": "A short summary of the problem type."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What went wrong with this request and how to fix it."},
        "instance": {"type": "string", "description": "The request path."},
        "code": {"type": "string", "description": "A stable error code, e.g. INVALID_INPUT, NOT_FOUND."},
        "errors": {
            "type": "array",
            "description": "For invalid input: one entry per invalid field.",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}

# Every status a problem can carry, with what it means for any operation.
PROBLEM_RESPONSES: dict[int, str] = {
    400: "Bad request: the body is not UTF-8 JSON, is nested too deep, or breaks a rule of the operation.",
    401: "Unauthorized: no key, an unknown or revoked key, or X-Tenant-Id not the key's tenant.",
    403: "Forbidden: the key's kind or role does not allow this operation.",
    404: "Not found: no such resource in this tenant (or no such route).",
    409: "Conflict: the resource's state does not allow this change, or it already exists.",
    413: "Payload too large: the body or a batch exceeds the documented limit.",
    415: "Unsupported media type: a Content-Encoding other than gzip, deflate or identity.",
    422: "Invalid input: a field is missing, of the wrong type or out of range (see `errors`).",
    429: "Too many requests: retry after the number of seconds in Retry-After.",
    503: "Service unavailable: a dependency is temporarily unavailable; nothing was changed; retry.",
}

# Schemas that ``json_body_schema`` declared, by component name.
_BODY_TYPES: dict[str, TypeAdapter[Any]] = {}


def json_body_schema(
    body_type: Any,
    *,
    name: str | None = None,
    media_types: Iterable[str] = ("application/json",),
    description: str | None = None,
) -> dict[str, Any]:
    """``openapi_extensions`` entry documenting the JSON body of a route that parses its raw body itself.

    ``body_type`` is a pydantic model (or any type pydantic can describe, with ``name``); its JSON
    schema becomes the component ``name`` (default: the model's name) and the operation's
    ``requestBody`` for each of ``media_types``. Combine with the access rule:
    ``openapi_extensions={**requires(...), **json_body_schema(IngestBatch)}``.
    """
    component = name or getattr(body_type, "__name__", None)
    if not component:
        raise ValueError("json_body_schema needs a name for a type that is not a class")
    _BODY_TYPES[component] = TypeAdapter(body_type)
    spec: dict[str, Any] = {"schema": component, "media_types": list(media_types)}
    if description:
        spec["description"] = description
    return {REQUEST_BODY_EXTENSION: spec}


def _add_body_component(name: str, schemas: dict[str, Any]) -> None:
    if name in schemas:
        return
    schema = _BODY_TYPES[name].json_schema(ref_template=_REF_TEMPLATE, mode="validation")
    for def_name, definition in schema.pop("$defs", {}).items():
        schemas.setdefault(def_name, definition)
    schemas[name] = schema


def _document_request_body(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    spec = operation.pop(REQUEST_BODY_EXTENSION, None)
    if spec is None:
        return
    _add_body_component(spec["schema"], schemas)
    ref = {"$ref": f"#/components/schemas/{spec['schema']}"}
    body: dict[str, Any] = {"required": True, "content": {media: {"schema": ref} for media in spec["media_types"]}}
    if spec.get("description"):
        body["description"] = spec["description"]
    operation["requestBody"] = body


_POWERTOOLS_SHAPES = ("HTTPValidationError", "ResponseValidationError", "ValidationError")


def _declared_model(content: dict[str, Any]) -> bool:
    ref = str((content.get("schema") or {}).get("$ref", ""))
    return bool(ref) and not ref.endswith(_POWERTOOLS_SHAPES)


def _document_problems(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for status, description in PROBLEM_RESPONSES.items():
        declared = responses.get(str(status)) or {}
        own = declared.get("description")
        # A route that answers some problems in another shape (the Stripe-compatible routes answer in
        # Stripe's error shape) documents that content; it is kept beside the Problem.
        # (Only a declared model counts: Powertools fills a bare description with a generic object, and its
        # 422 with its own validation-error shape, which is never sent.)
        own_content = {k: v for k, v in (declared.get("content") or {}).items() if _declared_model(v)}
        headers = {"X-Request-Id": {"$ref": "#/components/headers/RequestId"}}
        if status in (429, 503):
            headers["Retry-After"] = {"$ref": "#/components/headers/RetryAfter"}
        responses[str(status)] = {
            # A route's own description of the status (e.g. which codes it uses) wins over the generic one.
            "description": own if own and own != "Validation Error" else description,
            "headers": headers,
            "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}, **own_content},
        }


def complete_document(document: dict[str, Any]) -> dict[str, Any]:
    """Document every problem response and every request body of every operation (in place)."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                _document_request_body(item[method], schemas)
                _document_problems(item[method])
                document_operation(item[method], schemas, method, path)  # who may call it, a request example
                # A 204 has no body (RFC 9110); Powertools gives every response a JSON content entry.
                item[method].get("responses", {}).get("204", {}).pop("content", None)
    # Powertools' own validation-error shapes are never sent: every 4xx is a Problem.
    for unused in ("HTTPValidationError", "ResponseValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas[PROBLEM_SCHEMA_NAME] = PROBLEM_SCHEMA
    components.setdefault("headers", {}).update(
        {
            "RequestId": {
                "description": "The request's id (yours, from X-Request-Id, or Tollgate's). Quote it to support.",
                "schema": {"type": "string"},
            },
            "RetryAfter": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}},
        }
    )
    return document
