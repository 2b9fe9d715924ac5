"""What the API reference shows on each operation beyond its schema (issue 18, seed 000: "Check the
endpoint's required role in the API Reference"): who may call it, from the route's access rule, and a
request example built from the request body's schema (its own examples and defaults first).

Called once per operation by ``tollgate.api.contract.complete_document``."""

from __future__ import annotations

from typing import Any

from tollgate.domain.access import AccessRule, KeyKind, roles_with

ACCESS_EXTENSION = "x-tollgate-access"
_REF = "#/components/schemas/"
_MAX_DEPTH = 6

# The first requests of "Your first invoice" (README): written out, not derived from the schema.
CURATED: dict[tuple[str, str], Any] = {
    ("post", "/v1/meters"): {"event_name": "api.calls", "aggregation": {"function": "COUNT"}},
    ("post", "/v1/plans"): {
        "name": "Starter",
        "currency": "USD",
        "billing_interval": "MONTH",
        "fees": [{"name": "Platform fee", "amount": "10.00", "timing": "in_arrears"}],
        "usage_prices": [
            {"meter_id": "mtr_123", "price": {"model": "per_unit", "currency": "USD", "unit_amount": "0.50"}}
        ],
    },
    ("post", "/v1/customers"): {"external_id": "acme", "name": "Acme", "email": "billing@acme.example"},
    ("post", "/v1/subscriptions"): {"customer_id": "cus_123", "plan_id": "plan_123"},
    ("post", "/v1/ingest/events"): {
        "event_id": "call-0001",
        "event_name": "api.calls",
        "external_customer_id": "acme",
        "properties": {"tokens": 1200},
    },
    ("post", "/v1/bill-runs"): {},
}


def who_may_call(extension: dict[str, Any] | None) -> str | None:
    """One line naming the keys and roles the route's access rule lets in."""
    if not extension:
        return None
    rule = AccessRule.from_extension(extension)
    if rule.public:
        return "**Who may call:** anyone (public, no key)."
    parts = []
    for kind in rule.kinds:
        if kind is KeyKind.OPERATOR:
            roles = ", ".join(r.value for r in roles_with(rule.permission)) if rule.permission else "any role"
            parts.append(f"an operator key (`afo_`) with role {roles}")
        elif kind is KeyKind.CUSTOMER:
            parts.append("a customer API key (`sk_live_`/`sk_test_`), for its own customer")
        elif kind is KeyKind.PLATFORM:
            parts.append("the platform-admin credential (`tgp_`)")
    permission = f" (permission `{rule.permission.value}`)" if rule.permission else ""
    return f"**Who may call:** {'; or '.join(parts)}{permission}."


def example_of(schema: dict[str, Any], schemas: dict[str, Any], depth: int = 0) -> Any:
    """A plausible value for ``schema``: its examples, default or const first, then one built by type."""
    if depth > _MAX_DEPTH:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF):
        return example_of(schemas.get(ref[len(_REF) :], {}), schemas, depth + 1)
    for key in ("examples", "example", "default", "const"):
        if key in schema and schema[key] is not None:
            value = schema[key]
            return value[0] if key == "examples" and isinstance(value, list) and value else value
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key, []) if o.get("type") != "null"]
        if options:
            return example_of(options[0], schemas, depth + 1)
    return _by_type(schema, schemas, depth)


def _by_type(schema: dict[str, Any], schemas: dict[str, Any], depth: int) -> Any:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        required = schema.get("required") or list(properties)[:3]
        return {name: example_of(properties[name], schemas, depth + 1) for name in required if name in properties}
    if kind == "array":
        item = example_of(schema.get("items", {}), schemas, depth + 1)
        return [] if item is None else [item]
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    if kind == "string":
        return _string_example(schema)
    return None


def _string_example(schema: dict[str, Any]) -> str:
    if schema.get("format") == "date-time":
        return "2026-04-17T10:00:00Z"
    if schema.get("format") == "email":
        return "billing@example.com"
    title = str(schema.get("title", "")).lower()
    if title.endswith("id"):
        return "id_123"
    if any(word in title for word in ("amount", "price", "limit", "value", "quantity")):
        return "10.00"
    if "currency" in title:
        return "USD"
    return "string"


def document_operation(operation: dict[str, Any], schemas: dict[str, Any], method: str = "", path: str = "") -> None:
    """Add who may call the operation to its description, and a request example to its request body."""
    line = who_may_call(operation.get(ACCESS_EXTENSION))
    if line and line not in operation.get("description", ""):
        operation["description"] = f"{operation.get('description', '').rstrip()}\n\n{line}".lstrip()
    for content in (operation.get("requestBody") or {}).get("content", {}).values():
        if "example" in content or "examples" in content:
            continue
        curated = CURATED.get((method, path))
        example = curated if curated is not None else example_of(content.get("schema") or {}, schemas)
        if example is not None:
            content["example"] = example
